"""The runtime's fast paths for plain UDP datagrams and TCP segments on hosts with no hook installed: straight to
and from bytes.

They build and read exactly the bytes the general path does (the tests send the same datagrams both ways and
compare the captures), skipping the layer objects, and give up (returning False) on anything out of the ordinary
(options, fragments, broadcasts, unknown MACs, a socket-less port, a bad checksum), which the general path then
handles and explains.

A frame sent here leaves with its transport checksum marked known good ("checksum unnecessary", as Linux marks
an skb a veth pair carries between namespaces): the mark travels with the frame through switches, fast-path
router hops and fault-free links, and the receiving fast path then skips verifying what this module computed.
Everything else arrives unmarked and is verified: frames a link corrupted, frames the general path or a hook
sent, frames from raw sends or captures.
"""

from __future__ import annotations

import struct
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol

from layersim.errors import DecodeError
from layersim.net.host.datagram_sockets import Datagram
from layersim.net.trace.details import EventKind
from layersim.wire.checksum import internet_checksum, ones_complement_sum
from layersim.wire.packet import DecodeState
from layersim.wire.tcp import TCP

if TYPE_CHECKING:
    from layersim.net.engine.clock import Clock
    from layersim.net.engine.interface import Interface
    from layersim.net.host.datagram_sockets import DatagramSocket, SocketTable
    from layersim.net.ip.neighbours import ArpCache
    from layersim.net.ipv4.output import Plan
    from layersim.net.trace.log import Trace

__all__ = ["PackerHost", "SegmentInput", "tcp_receive", "tcp_send", "udp_receive", "udp_send"]

_IP_UDP = struct.Struct("!BBHHHBBH4s4sHHHH")  # IPv4 header without options, then the UDP header
_IP = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")
_ETH_IPV4 = b"\x08\x00"
_SEND, _DELIVER, _APP = EventKind.SEND, EventKind.DELIVER, EventKind.APP
_UDP_FACTS = "udp"


class SegmentInput(Protocol):
    """Where a checked TCP segment goes (a host's TCP stack is one)."""

    def segment_in(self, iface: Interface, src: int, dst: int, tcp: TCP, payload: bytes, packet_id: int | None,
                   now: int, ip_bytes: bytes | None = None, ce: bool = False) -> list[Any]: ...


class PackerHost(Protocol):
    """What the fast paths use of their host (a Host is one): name, clock, trace, addresses, ARP, sockets."""

    name: str
    clock: Clock
    trace: Trace
    own_ints: frozenset[int]
    arp: ArpCache
    sockets: SocketTable
    tcp: SegmentInput


def udp_send(host: PackerHost, plan: Plan, sock: DatagramSocket, dst: int, port: int, data: bytes) -> bool:
    """Pack and send one datagram as `plan` says, when nothing needs the general path; False leaves it to that
    path (with the same plan)."""
    total = 28 + len(data)
    if plan.hooked or total > plan.path_mtu or not port:
        return False  # hooks to run, fragments to cut, or port 0 (the general path explains it)
    now = host.clock.now
    mac = host.arp.lookup_int(plan.next_hop, now)
    if mac is None:
        return False
    out, src = plan.out, plan.src
    tos, ttl = sock.tos, sock.ttl
    sport = sock.local[1]
    length = total - 20
    pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)
    checksum = internet_checksum(data, pseudo + 17 + length + length + sport + port) or 0xFFFF  # RFC 768: 0 -> ffff
    ip = _ip_header(tos, total, plan.ident, 0x4000 if plan.df_bit(total) else 0, ttl, 17, src, dst, pseudo)
    _emit(host, out, b"".join((mac, out.mac, _ETH_IPV4, ip, _UDP.pack(sport, port, length, checksum), data)),
          ("udp", sport, IPv4Address(dst), port), now)
    return True


def _ip_header(tos: int, total: int, ident: int, fragment: int, ttl: int, protocol: int, src: int, dst: int,
               pseudo: int) -> bytes:
    """A 20-byte IPv4 header; its RFC 1071 checksum from the field words (`pseudo`: the address words' sum)."""
    header_sum = 0x4500 + tos + total + ident + fragment + (ttl << 8) + protocol + pseudo
    header_sum = (header_sum & 0xFFFF) + (header_sum >> 16)
    header_sum = (header_sum & 0xFFFF) + (header_sum >> 16)
    return _IP.pack(0x45, tos, total, ident, fragment, ttl, protocol, ~header_sum & 0xFFFF, src.to_bytes(4, "big"),
                    dst.to_bytes(4, "big"))


def _emit(host: PackerHost, out: Interface, frame: bytes, note: tuple[Any, ...], now: int) -> None:
    """Record the SEND (when events are kept) and put the frame on the interface, under a new packet id, its
    transport checksum known good (this module computed it from the bytes it sends)."""
    trace = host.trace
    packet_id = trace.new_packet_id()
    if trace.keep_events:
        trace.add(now, host.name, out.name, _SEND, frame, packet_id, (note,))
    out.send(frame, packet_id, note, True)


def udp_receive(host: PackerHost, iface: Interface, frame: bytes, packet_id: int | None, now: int,
                checksum_unnecessary: bool = False) -> bool:
    """Deliver a plain unicast UDP datagram for this host to its socket; False leaves it to the general path.

    The UDP checksum is verified unless `checksum_unnecessary` says the frame comes unchanged from a fast-path
    send (see the module's note)."""
    if len(frame) < 42 or frame[14] != 0x45 or frame[23] != 17:
        return False
    _, _, total, _, frag, ttl, _, _, src4, dst4, sport, dport, length, checksum = _IP_UDP.unpack_from(frame, 14)
    if frag & 0x3FFF or total > len(frame) - 14 or length != total - 20 or not checksum:
        return False
    dst = int.from_bytes(dst4, "big")
    if dst not in host.own_ints or int.from_bytes(frame[14:34], "big") % 0xFFFF:
        return False  # not ours, or a header whose RFC 1071 sum is not 0xffff (the general path says why)
    src = int.from_bytes(src4, "big")
    sock = host.sockets.find_udp(dst, dport, src, sport)
    if sock is None or len(sock.queue) >= sock.queue_limit:
        return False
    end = 14 + total
    if not checksum_unnecessary:
        pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 17 + length
        if ones_complement_sum(memoryview(frame)[34:end], pseudo) != 0xFFFF:
            return False
    trace = host.trace
    if trace.keep_events:
        trace.add(now, host.name, iface.name, _DELIVER, frame[14:end] if trace.keep_frames else None, packet_id,
                  ("UDP",))
        trace.add(now, host.name, iface.name, _APP, None, packet_id,
                  (_UDP_FACTS, (("port", dport), ("size", length - 8), ("source", (src, sport)))))
    source = sock.last_source
    if source[0] != src:
        source = sock.last_source = (src, IPv4Address(src))
    sock.deliver(Datagram(frame[42:end], (source[1], sport), now, ttl))
    return True


_TCP = struct.Struct("!HHIIBBHHH")
_NO_STATE = DecodeState()  # the TCP header alone: its checksum is verified here, not by the layer


def tcp_send(host: PackerHost, plan: Plan, tcp: TCP, payload: bytes, dst: int, note: tuple[Any, ...],
             ecn: int = 0) -> bool:
    """Pack and send one TCP segment as `plan` says (as `udp_send`), with IP ECN codepoint `ecn` (the TOS byte's
    low bits); False leaves it to the general path."""
    options = b"".join([o.encode() for o in tcp[10]]) if tcp[10] else b""
    if len(options) & 3:
        options += bytes(4 - (len(options) & 3))
    tcp_length = 20 + len(options) + len(payload)
    total = 20 + tcp_length
    if plan.hooked or total > plan.path_mtu or len(options) > 40:
        return False
    now = host.clock.now
    mac = host.arp.lookup_int(plan.next_hop, now)
    if mac is None:
        return False
    out, src = plan.out, plan.src
    sport, dport, seq, ack, _, reserved, flags, window, _, urgent = tcp[:10]
    offset_flags = (5 + len(options) // 4) << 4 | reserved
    pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)
    # RFC 1071 sums add up part by part (the header and options are a whole number of words): no copy of the data
    head_sum = sport + dport + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF) + (offset_flags << 8) \
        + int(flags) + window + urgent + (int.from_bytes(options, "big") % 0xFFFF if options else 0)
    checksum = internet_checksum(payload, pseudo + 6 + tcp_length + head_sum)
    header = _TCP.pack(sport, dport, seq, ack, offset_flags, int(flags), window, checksum, urgent)
    ip = _ip_header(ecn, total, plan.ident, 0x4000 if plan.df_bit(total) else 0, 64, 6, src, dst, pseudo)
    _emit(host, out, b"".join((mac, out.mac, _ETH_IPV4, ip, header, options, payload)), note, now)
    return True


def tcp_receive(host: PackerHost, iface: Interface, frame: bytes, packet_id: int | None, now: int,
                checksum_unnecessary: bool = False) -> bool:
    """Hand a plain unicast TCP segment for this host to its stack; False leaves it to the general path (the TCP
    checksum is verified as in `udp_receive`)."""
    if len(frame) < 54 or frame[14] != 0x45 or frame[23] != 6:
        return False
    total, frag = _IP.unpack_from(frame, 14)[2:5:2]
    if frag & 0x3FFF or total > len(frame) - 14 or total < 40:
        return False
    dst = int.from_bytes(frame[30:34], "big")
    if dst not in host.own_ints or int.from_bytes(frame[14:34], "big") % 0xFFFF:
        return False
    src = int.from_bytes(frame[26:30], "big")
    end = 14 + total
    if not checksum_unnecessary:
        pseudo = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 + total - 20
        if ones_complement_sum(memoryview(frame)[34:end], pseudo) != 0xFFFF:
            return False
    try:
        tcp, payload_start = TCP.decode_layer(frame, 34, end, _NO_STATE)[:2]
    except DecodeError:
        return False
    trace = host.trace
    if trace.keep_events:
        trace.add(now, host.name, iface.name, _DELIVER, frame[14:end] if trace.keep_frames else None, packet_id,
                  ("TCP",))
    host.tcp.segment_in(iface, src, dst, tcp, frame[payload_start:end], packet_id, now,  # type: ignore[arg-type]
                        ce=frame[15] & 3 == 3)
    return True
