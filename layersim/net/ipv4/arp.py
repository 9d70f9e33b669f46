"""ARP as a node runs it (RFC 826, RFC 1122 §2.3.2): resolve next hops, answer requests, retry, give up.

Protocol logic without I/O: each method takes what happened and the time and returns actions for the runtime.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from layersim.net.ip.actions import EVENT, ICMP_ERROR, TIMER, TRANSMIT, Action
from layersim.net.ip.neighbours import ArpCache
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.arp import ARP, ARPOp
from layersim.wire.ethernet import BROADCAST, Ethernet, EtherType
from layersim.wire.icmp import ICMPType, UnreachableCode

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface

__all__ = ["ArpProtocol"]

_ETH_IPV4 = EtherType.IPv4.to_bytes(2, "big")
_DROP = EventKind.DROP


class ArpProtocol:
    """Next-hop resolution for one node: frames out when the MAC is known, else queue, ask, retry, fail."""

    def __init__(self, cache: ArpCache) -> None:
        self.cache = cache

    def output(self, out: Interface, next_hop: IPv4Address, ip_bytes: bytes, packet_id: int | None, note: Any,
               source: Interface | None, received: bytes | None, now: int) -> list[Action]:
        """Frame an IPv4 packet for `next_hop`, or queue it and ask who has it.

        `source` and `received` (a forwarded packet's arrival interface and bytes as received) let an ARP failure
        be reported with an ICMP error quoting the packet as it arrived.
        """
        mac = self.cache.lookup(next_hop, now)
        if mac is not None:
            return [(TRANSMIT, out, mac + out.mac + _ETH_IPV4 + ip_bytes, packet_id, note)]
        queued, first = self.cache.queue(next_hop, out.name, (ip_bytes, packet_id, note, source, received))
        if not queued:
            return [(EVENT, _DROP, out, ip_bytes, packet_id,
                     (DropReason.ARP_QUEUE_FULL.value, (("next_hop", str(next_hop)),)))]
        actions: list[Action] = [(EVENT, EventKind.ARP_MISS, out, ip_bytes, packet_id, (str(next_hop),))]
        if first:
            actions += self.request(out, next_hop)
        return actions

    def request(self, out: Interface, target: IPv4Address) -> list[Action]:
        """Broadcast a request for `target` and set the retransmit timer."""
        pending = self.cache.pending.get(target)
        if pending is None or out.address is None:
            return []
        pending.requests_sent += 1
        frame = (Ethernet(dst=BROADCAST, src=out.mac) / ARP(opcode=ARPOp.REQUEST, sender_mac=out.mac,
                                                            sender_ip=out.address.ip, target_ip=target)).encode()
        return [(TRANSMIT, out, frame, None, ("arp_request", target, pending.requests_sent)),
                (TIMER, self.cache.retransmit_ns, self.on_timeout, (out, target))]

    def on_timeout(self, out: Interface, target: IPv4Address) -> list[Action]:
        """The retransmit timer fired: ask again, or fail every packet that waited."""
        again, failed = self.cache.on_timeout(target)
        if again:
            return self.request(out, target)
        actions: list[Action] = []
        for ip_bytes, packet_id, _note, source, received in failed:
            actions.append((EVENT, _DROP, out, ip_bytes, packet_id,
                            (DropReason.ARP_FAILED.value, (("next_hop", str(target)),))))
            if source is not None:  # host unreachable (RFC 1812 §5.2.7.1)
                actions.append((ICMP_ERROR, source, received or ip_bytes, ICMPType.DEST_UNREACHABLE,
                                UnreachableCode.HOST_UNREACHABLE, {}, packet_id))
        return actions

    def receive(self, iface: Interface, arp: ARP, now: int) -> list[Action]:
        """An ARP packet arrived: learn, release what waited, answer a request for our address."""
        if iface.address is None:
            return [(EVENT, _DROP, iface, None, None,
                     (DropReason.NOT_FOR_ME.value, (("reason_detail", "no address on interface"),)))]
        if arp.sender_ip == arp.target_ip:  # gratuitous ARP: refresh an entry we have, create none, answer none
            waiting = self.cache.learn(arp.sender_ip, arp.sender_mac, now, create=False)
            return [(EVENT, EventKind.ARP_RESOLVED, iface, None, None, (str(arp.sender_ip), None, None, True)),
                    *self._release(iface, arp, waiting)]
        for_me = arp.target_ip == iface.address.ip
        # RFC 826's merge: update an entry we have; create one only for a request to us or an answer we awaited
        # (Linux's arp_accept=0 ignores unsolicited replies).
        create = for_me and (arp.opcode == ARPOp.REQUEST or arp.sender_ip in self.cache.pending)
        actions = self._release(iface, arp, self.cache.learn(arp.sender_ip, arp.sender_mac, now, create=create))
        if not for_me:
            actions.append((EVENT, _DROP, iface, None, None,
                            (DropReason.NOT_FOR_ME.value, (("arp_target", str(arp.target_ip)),))))
            return actions
        if arp.opcode == ARPOp.REQUEST:
            reply = (Ethernet(dst=arp.sender_mac, src=iface.mac)
                     / ARP(opcode=ARPOp.REPLY, sender_mac=iface.mac, sender_ip=iface.address.ip,
                           target_mac=arp.sender_mac, target_ip=arp.sender_ip)).encode()
            actions.append((TRANSMIT, iface, reply, None, ("arp_reply", iface.address.ip, iface.mac)))
        return actions

    def _release(self, iface: Interface, arp: ARP, waiting: list[Any]) -> list[Action]:
        """Send the packets that waited for the MAC `arp` just told us."""
        if not waiting:
            return []
        actions: list[Action] = [(EVENT, EventKind.ARP_RESOLVED, iface, None, None,
                                  (str(arp.sender_ip), str(arp.sender_mac), len(waiting)))]
        for ip_bytes, packet_id, note, _source, _received in waiting:
            actions.append((TRANSMIT, iface, arp.sender_mac + iface.mac + _ETH_IPV4 + ip_bytes, packet_id, note))
        return actions
