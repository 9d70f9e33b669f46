"""Shared fixtures for the network tests: the client - r1 - r2 - server chain, a switched LAN, and helpers that
read frames (real bytes) from the trace and from capture files."""

from __future__ import annotations

import contextlib
import socket
import struct
from collections import defaultdict
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from layersim.capture import CaptureRecord, read_capture
from layersim.net.engine.interface import Interface
from layersim.net.engine.switch import Switch
from layersim.net.host.host import Host
from layersim.net.ipv4.router import Router
from layersim.net.network import Network
from layersim.net.trace.log import EventKind, TraceEvent
from tests.tools import rfc1071_sum

CLIENT_IP, SERVER_IP = "10.0.1.10", "10.0.2.20"
R1_LEFT, R1_RIGHT, R2_LEFT, R2_RIGHT = "10.0.1.1", "10.0.12.1", "10.0.12.2", "10.0.2.1"
ETH_IPV4, ETH_ARP = b"\x08\x00", b"\x08\x06"
ICMP_ERROR_TYPES = {3, 4, 5, 11, 12}

# The three links of the chain, client side first: (sending end, receiving end) for client -> server traffic.
CHAIN_LINKS = (("client:eth0", "r1:eth0"), ("r1:eth1", "r2:eth0"), ("r2:eth1", "server:eth0"))


@dataclass
class Chain:
    """client - r1 - r2 - server on three point-to-point links with static routes."""

    net: Network
    client: Host
    r1: Router
    r2: Router
    server: Host

    def iface(self, full_name: str) -> Interface:
        """An interface by "node:iface"."""
        return self.net.interface(full_name)

    def path(self, reverse: bool = False) -> list[tuple[Interface, Interface]]:
        """(sender, receiver) interface pairs of the links, in the order a packet crosses them."""
        pairs = [(self.iface(a), self.iface(b)) for a, b in CHAIN_LINKS]
        return [(b, a) for a, b in reversed(pairs)] if reverse else pairs


def build_chain(seed: int = 7, *, link_a: dict[str, Any] | None = None, link_b: dict[str, Any] | None = None,
                link_c: dict[str, Any] | None = None, trace: str = "all", trace_limit: int | None = None) -> Chain:
    """The chain with each link's options (delay, bandwidth, mtu, queue, faults...) given per link."""
    net = Network(seed=seed, trace=trace, trace_limit=trace_limit)
    client, r1 = net.add_host("client"), net.add_router("r1")
    r2, server = net.add_router("r2"), net.add_host("server")
    net.link(client, r1, a_ip=f"{CLIENT_IP}/24", b_ip=f"{R1_LEFT}/24", **(link_a or {}))
    net.link(r1, r2, a_ip=f"{R1_RIGHT}/24", b_ip=f"{R2_LEFT}/24", **(link_b or {}))
    net.link(r2, server, a_ip=f"{R2_RIGHT}/24", b_ip=f"{SERVER_IP}/24", **(link_c or {}))
    client.routes.add("0.0.0.0/0", via=R1_LEFT, interface="eth0")
    server.routes.add("0.0.0.0/0", via=R2_RIGHT, interface="eth0")
    r1.routes.add("10.0.2.0/24", via=R2_LEFT, interface="eth1")
    r2.routes.add("10.0.1.0/24", via=R1_RIGHT, interface="eth0")
    return Chain(net, client, r1, r2, server)


@pytest.fixture
def chain() -> Chain:
    """A fresh chain with default links (1 ms, 100 Mbit/s, MTU 1500)."""
    return build_chain()


@dataclass
class Lan:
    """h1, h2 and router gw on switch sw (10.0.1.0/24); gw also links to host far (10.0.9.0/24)."""

    net: Network
    h1: Host
    h2: Host
    gw: Router
    far: Host
    sw: Switch


@pytest.fixture
def lan() -> Lan:
    """A switched LAN with a router to one more subnet."""
    net = Network(seed=7)
    h1, h2, gw, far = net.add_host("h1"), net.add_host("h2"), net.add_router("gw"), net.add_host("far")
    sw = net.add_switch("sw")
    net.link(h1, sw, a_ip="10.0.1.11/24")
    net.link(h2, sw, a_ip="10.0.1.12/24")
    net.link(gw, sw, a_ip="10.0.1.1/24")
    net.link(gw, far, a_ip="10.0.9.1/24", b_ip="10.0.9.9/24")
    for host in (h1, h2):
        host.routes.add("0.0.0.0/0", via="10.0.1.1", interface="eth0")
    far.routes.add("0.0.0.0/0", via="10.0.9.1", interface="eth0")
    return Lan(net, h1, h2, gw, far, sw)


# Reading frames ----------------------------------------------------------------------------------------------
def events(net: Network, kind: EventKind, where: str | Interface | None = None) -> list[TraceEvent]:
    """Trace events of one kind, at "node" or "node:iface" (or an Interface) if given."""
    if isinstance(where, Interface):
        where = where.full_name
    node, _, iface = (where or "").partition(":")
    return net.trace.select(kind, node=node or None, interface=iface or None)


def ipv4_frames(net: Network, kind: EventKind, where: str | Interface | None = None) -> list[bytes]:
    """The IPv4 frames of SEND or RECEIVE events at a node or interface, in trace order."""
    return [e.frame for e in events(net, kind, where) if e.frame is not None and e.frame[12:14] == ETH_IPV4]


def arp_frames(net: Network, kind: EventKind, where: str | Interface | None = None) -> list[bytes]:
    """The ARP frames of SEND or RECEIVE events at a node or interface, in trace order."""
    return [e.frame for e in events(net, kind, where) if e.frame is not None and e.frame[12:14] == ETH_ARP]


def ip_key(frame: bytes, offset: int = 14) -> tuple[Any, ...]:
    """What identifies one IPv4 packet hop to hop: src, dst, identification, protocol, flags+fragment offset."""
    ident, frag, proto = struct.unpack_from("!HHxB", frame, offset + 4)
    src, dst = frame[offset + 12:offset + 16], frame[offset + 16:offset + 20]
    return IPv4Address(src), IPv4Address(dst), ident, proto, frag


def ip_header(frame: bytes, offset: int = 14) -> bytes:
    """The IPv4 header bytes (IHL * 4) of a frame."""
    return frame[offset:offset + (frame[offset] & 0x0F) * 4]


def ip_packet(frame: bytes) -> bytes:
    """The IPv4 packet of an Ethernet frame, without any Ethernet padding."""
    return frame[14:14 + struct.unpack_from("!H", frame, 16)[0]]


def ip_payload(frame: bytes) -> bytes:
    """What follows the IPv4 header of a frame, up to the IPv4 total length."""
    packet = ip_packet(frame)
    return packet[(packet[0] & 0x0F) * 4:]


def header_checksum_ok(frame: bytes, offset: int = 14) -> bool:
    """Whether the IPv4 header checksum of a frame is right (the header sums to 0xFFFF)."""
    return rfc1071_sum(ip_header(frame, offset)) == 0xFFFF


def frame_on(net: Network, kind: EventKind, where: str | Interface, key: tuple[Any, ...]) -> bytes:
    """The one IPv4 frame with packet `key` in SEND or RECEIVE events at an interface."""
    found = [f for f in ipv4_frames(net, kind, where) if ip_key(f) == key]
    assert len(found) == 1, f"{len(found)} frames of packet {key} at {where} ({kind.name})"
    return found[0]


def first_ipv4_sent(net: Network, where: str, protocol: int) -> bytes:
    """The first IPv4 frame a node or interface sent carrying `protocol` (1 ICMP, 17 UDP)."""
    return next(f for f in ipv4_frames(net, EventKind.SEND, where) if f[23] == protocol)


def eth_src(frame: bytes) -> bytes:
    """The source MAC of a frame."""
    return frame[6:12]


def eth_dst(frame: bytes) -> bytes:
    """The destination MAC of a frame."""
    return frame[0:6]


# ICMP errors --------------------------------------------------------------------------------------------------
def icmp_errors_sent(net: Network, node: str) -> list[bytes]:
    """The frames carrying ICMP error messages that `node` sent."""
    out = []
    for frame in ipv4_frames(net, EventKind.SEND, node):
        header_length = (frame[14] & 0x0F) * 4
        if frame[23] == 1 and frame[14 + header_length] in ICMP_ERROR_TYPES:
            out.append(frame)
    return out


@dataclass(frozen=True)
class IcmpError:
    """An ICMP error read from frame bytes: where it came from, type and code, rest of header, the quote."""

    src: IPv4Address
    dst: IPv4Address
    ip_total_length: int
    type: int
    code: int
    rest: int
    quote: bytes


def read_icmp_error(frame: bytes) -> IcmpError:
    """Pick an ICMP error apart by byte offsets, checking both checksums on the way."""
    packet = ip_packet(frame)
    header_length = (packet[0] & 0x0F) * 4
    message = packet[header_length:]
    assert header_checksum_ok(frame), "ICMP error's own IPv4 header checksum is wrong"
    assert rfc1071_sum(message) == 0xFFFF, "ICMP checksum is wrong"
    kind, code, _, rest = struct.unpack_from("!BBHI", message)
    return IcmpError(IPv4Address(packet[12:16]), IPv4Address(packet[16:20]), len(packet), kind, code, rest,
                     message[8:])


def assert_quotes(error: IcmpError, offending: bytes) -> None:
    """RFC 1812 §4.3.2.3: the quote is the offending packet as received, at least its header + 8 bytes, and the
    whole ICMP datagram is at most 576 bytes."""
    header_length = (offending[0] & 0x0F) * 4
    assert len(error.quote) >= min(len(offending), header_length + 8)
    assert error.ip_total_length <= 576
    assert error.quote[:header_length] == offending[:header_length], "quoted IPv4 header differs from the packet"
    assert offending.startswith(error.quote), "the quote is not a prefix of the offending packet"


# Sending raw bytes --------------------------------------------------------------------------------------------
def inject(iface: Interface, dst_mac: bytes, ip_bytes: bytes) -> None:
    """Send an IPv4 packet in an Ethernet frame from `iface`, as-is (recorded as a SEND event)."""
    iface.node.transmit(iface, bytes(dst_mac) + bytes(iface.mac) + ETH_IPV4 + ip_bytes)


# Capture files ------------------------------------------------------------------------------------------------
def records_by_interface(path: Path) -> dict[str, list[CaptureRecord]]:
    """The frames of a capture file grouped by interface name, in file order."""
    grouped: dict[str, list[CaptureRecord]] = defaultdict(list)
    for record in read_capture(path):
        grouped[record.interface or ""].append(record)
    return dict(grouped)


def send_over_tcp(chain: Chain, data: bytes) -> bytes:
    """What the server's socket program reads when the client's sends `data` to port 80 and closes (stdlib socket
    calls on the simulated hosts, the network run until idle)."""
    import socket

    def server() -> bytes:
        with socket.socket() as lst:
            lst.bind(("", 80))
            lst.listen(1)
            conn, _ = lst.accept()
            got = bytearray()
            while chunk := conn.recv(65536):
                got += chunk
            return bytes(got)

    def client() -> None:
        with socket.create_connection((SERVER_IP, 80)) as sock:
            sock.sendall(data)

    received = chain.server.spawn(server)
    chain.client.spawn(client)
    chain.net.run_until_idle()
    return received.result  # type: ignore[no-any-return]


class GaveUp(Exception):
    """The application's own idle timeout: all sent, and nothing more to read for `idle_s` of simulated time."""


def exchange(sock: Any, data: bytes, idle_s: float | None = None) -> bytes:
    """Send `data` and read the peer's stream at the same time (select), then half-close; what was read.

    With `idle_s`, once everything is sent and nothing comes for that long, give up (GaveUp), as an application
    with an idle timeout would."""
    import select

    sock.setblocking(False)
    view, got = memoryview(data), bytearray()
    eof = False
    while not eof or view:
        readable, writable, _ = select.select([sock] if not eof else [], [sock] if view else [], [],
                                              None if view else idle_s)
        if not readable and not writable:
            raise GaveUp(f"no progress for {idle_s} s after {len(got)} bytes read, {len(data) - len(view)} sent")
        if readable:
            chunk = sock.recv(65536)
            got += chunk
            eof = not chunk
        if writable:
            with contextlib.suppress(BlockingIOError):  # select said writable; a full buffer waits again
                view = view[sock.send(view[:65536]):]
            if not view:
                sock.shutdown(socket.SHUT_WR)
    return bytes(got)
