"""ICMP as a node runs it: echo replies (RFC 1122 §3.2.2.6), errors with Linux's rate limit (RFC 1812 §4.3.2),
and incoming errors handed to the socket that sent the quoted datagram, with path MTU learning (RFC 1191).

Protocol logic without I/O: methods take what happened and the time and return actions.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol

from layersim.errors import DecodeError
from layersim.net.ip.actions import DELIVER, DELIVER_ERROR, EVENT, Action
from layersim.net.ip.ratelimit import ErrorRateLimit
from layersim.net.ipv4.icmp_reports import EchoReply, IcmpReport, report_errno
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.icmp import ERROR_TYPES, ICMP, ICMPType, UnreachableCode
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode
from layersim.wire.udp import UDP

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface
    from layersim.net.ipv4.output import Output
    from layersim.net.ipv4.pmtu import PathMtuCache
    from layersim.net.trace.log import Trace

__all__ = ["ICMP_QUOTE_LIMIT", "IcmpNode", "IcmpProtocol", "IcmpSockets"]

ICMP_QUOTE_LIMIT = 576  # RFC 1812 §4.3.2.3: an ICMP error holds as much of the datagram as fits in 576 bytes
_DSCP_CS6 = 0x30  # Linux sends ICMP errors with TOS 0xc0 (network control)


class IcmpNode(Protocol):
    """What ICMP reads from the node it runs on (an IPNode is one): its addresses, trace, output and path MTUs."""

    own_ints: frozenset[int]  # this node's own addresses
    pmtu: PathMtuCache | None  # a host learns path MTUs from errors; a router keeps none
    error_handlers: dict[int, Callable[[Any], None]]  # errors about protocol N go to its transport
    output: Output

    @property
    def trace(self) -> Trace: ...

    def is_broadcast(self, address: IPv4Address | int) -> bool: ...

    def is_local(self, dst: IPv4Address | int) -> bool: ...


class IcmpSockets(Protocol):
    """Where ICMP finds the socket an echo reply or an error belongs to (a host's socket table is one)."""

    ping: dict[int, Any]  # echo identifier -> ping socket

    def find_udp_sender(self, src: int, sport: int, dst: int, dport: int) -> Any: ...


class IcmpProtocol:
    """One node's ICMP: answers, errors, and the demultiplexing of errors to sockets."""

    def __init__(self, node: IcmpNode, sockets: IcmpSockets | None = None) -> None:
        self.node = node  # read for addresses and routes; all I/O goes back as actions
        self.sockets = sockets  # a host gives its socket table; a router has none (replies and errors stop here)
        self.interval_ns = 1_000_000_000  # Linux: 6-message burst per destination, then one per icmp_ratelimit (1 s)
        self.rate_limit = ErrorRateLimit()

    # Errors this node sends --------------------------------------------------------------------------------
    def error(self, arrived_on: Interface, offending: bytes, icmp_type: int, code: int, extra: dict[str, Any],
              about: int | None, now: int) -> list[Action]:
        """An ICMP error about `offending` to its source, unless RFC 1812 §4.3.2.7 forbids it."""
        node = self.node
        try:
            ip = decode(offending, IPv4, until=IPv4, truncated=True)[IPv4]
        except DecodeError:
            return []
        src = ip.src
        # RFC 1812 §4.3.2.7: only about a first fragment, only to a source that names one host.
        if ip.fragment_offset or src.is_multicast or src.is_unspecified or src.is_loopback or src.is_reserved \
                or node.is_broadcast(src):
            return []
        if node.is_local(ip.dst) and int(ip.dst) not in node.own_ints:  # sent to a broadcast or multicast
            return []
        if ip.protocol == 1 and len(offending) > ip.header_length and offending[ip.header_length] in ERROR_TYPES:
            return []  # never an ICMP error about an ICMP error (read from the bytes: fragments are not decoded)
        if not self._allowed(src, now):
            return [(EVENT, EventKind.ICMP_ERROR, arrived_on, None, about,
                     (int(icmp_type), int(code), str(src), about, "rate limit"))]
        source = arrived_on.address.ip if arrived_on.address is not None else None
        message = ICMP(type=icmp_type, code=code, **extra) / offending[:ICMP_QUOTE_LIMIT - 28]
        packet_id = node.trace.new_packet_id()
        return [(EVENT, EventKind.ICMP_ERROR, arrived_on, None, packet_id, (int(icmp_type), int(code), str(src),
                                                                            about, None)),
                *node.output.send(src, message, packet_id, now, src=source, dscp=_DSCP_CS6, df=False,
                                  note=("icmp_error", int(icmp_type), int(code), src))]

    def _allowed(self, dst: IPv4Address, now: int) -> bool:
        """A token bucket per destination, as Linux's icmp_ratelimit (burst 6, one per second)."""
        return self.rate_limit.allow(dst, self.interval_ns, now)

    # What arrives ----------------------------------------------------------------------------------------
    def receive(self, iface: Interface, packet: Packet, ip_bytes: bytes, packet_id: int | None,
                now: int) -> list[Action]:
        """Answer echo requests; hand echo replies and errors to the sockets they belong to."""
        node = self.node
        icmp = packet[ICMP]
        ip = packet[IPv4]
        if icmp.type == ICMPType.ECHO_REQUEST:
            if ip.dst.is_multicast or node.is_broadcast(ip.dst):
                # Linux's icmp_echo_ignore_broadcasts=1; RFC 1122 §3.2.1.3 forbids a reply from a broadcast source.
                return [(EVENT, EventKind.DROP, iface, ip_bytes, packet_id,
                         (DropReason.NOT_FOR_ME.value, (("detail", "echo request to a broadcast address"),)))]
            reply = ICMP(type=ICMPType.ECHO_REPLY, code=0, rest_of_header=icmp.rest_of_header) / packet.payload_of(ICMP)
            # Linux answers with DF clear (the reply must reach the source whatever the path MTU).
            return node.output.send(ip.src, reply, node.trace.new_packet_id(), now, src=ip.dst, df=False,
                                    note=("echo_reply", ip.src))
        sockets = self.sockets
        if sockets is None:
            return []
        if icmp.type == ICMPType.ECHO_REPLY:
            sock = sockets.ping.get(icmp.identifier)
            if sock is None:
                return []
            return [(DELIVER, sock, EchoReply(ip.src, icmp.sequence, packet.payload_of(ICMP), ip.ttl, now))]
        if icmp.is_error and len(packet.layers) > 2 and isinstance(packet.layers[2], IPv4):
            return self._error_in(icmp, ip, packet, now)
        return []

    def _error_in(self, icmp: ICMP, ip: IPv4, packet: Packet, now: int) -> list[Action]:
        """An ICMP error about a datagram this host sent: learn the path MTU, tell the sending socket."""
        node = self.node
        quoted = packet.layers[2]
        inner = packet.layers[3] if len(packet.layers) > 3 else None
        actions: list[Action] = []
        mtu = None
        if (icmp.type, icmp.code) == (ICMPType.DEST_UNREACHABLE, UnreachableCode.FRAGMENTATION_NEEDED):
            mtu = icmp.next_hop_mtu
            pmtu = node.pmtu
            if pmtu is not None and mtu >= 68 and pmtu.learn(int(quoted.dst), mtu, now):
                actions.append((EVENT, EventKind.PMTU, None, None, None,
                                (str(quoted.dst), pmtu.get(int(quoted.dst), now))))
        sockets = self.sockets
        assert sockets is not None  # receive() hands errors on only where there are sockets
        owner: Any = None
        sequence = None
        if isinstance(inner, UDP):
            owner = sockets.find_udp_sender(int(quoted.src), inner.sport, int(quoted.dst), inner.dport)
            ports = (inner.sport, inner.dport)
        elif isinstance(inner, ICMP) and inner.type == ICMPType.ECHO_REQUEST:
            owner = sockets.ping.get(inner.identifier)
            ports = (inner.identifier, inner.identifier)
            sequence = inner.sequence
        else:
            handler = node.error_handlers.get(int(quoted.protocol or 0))
            ports = (0, 0)
            if quoted.protocol in (6, 17, 132):  # the ports are the quoted transport header's first 4 bytes
                data = packet.payload_of(ICMP)
                start = quoted.header_length
                if len(data) >= start + 4:
                    ports = (int.from_bytes(data[start:start + 2], "big"), int.from_bytes(data[start + 2:start + 4],
                                                                                          "big"))
            if handler is not None:
                owner = handler
        report = IcmpReport(now, ip.src, int(icmp.type), int(icmp.code), int(quoted.protocol or 0),
                            (quoted.dst, ports[1]), ports[0], sequence, mtu, report_errno(icmp.type, icmp.code))
        if owner is not None:
            actions.append((DELIVER_ERROR, _Call(owner) if callable(owner) else owner, report))
        return actions


class _Call:
    """Adapts a plain function (a transport's error handler) to the DELIVER_ERROR action's method."""

    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def deliver_error(self, item: Any) -> None:
        """Call the function."""
        self.fn(item)
