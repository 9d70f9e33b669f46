"""IPv4 fragmentation (RFC 791 §3.2, RFC 1812 §5.2.6) and reassembly at the destination (RFC 815's hole list
reduced to a sorted byte map)."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from layersim.errors import LayersimError
from layersim.wire.ipv4 import IPv4, IPv4Flags
from layersim.wire.packet import decode

__all__ = ["Reassembler", "fragment"]


def _copied_options(options: bytes) -> bytes:
    """The options whose copy flag is set (RFC 791: copied into every fragment), padded to 4 bytes."""
    out, at = bytearray(), 0
    while at < len(options):
        kind = options[at]
        if kind == 0:
            break
        if kind == 1:
            at += 1
            continue
        length = options[at + 1] if at + 1 < len(options) else 0
        if length < 2:
            break
        if kind & 0x80:
            out += options[at:at + length]
        at += length
    out += bytes(-len(out) % 4)
    return bytes(out)


def fragment(packet: bytes, mtu: int) -> list[bytes]:
    """Split an IPv4 packet into fragments of at most `mtu` bytes each."""
    ip = decode(packet, IPv4, until=IPv4)[IPv4]
    header_length = ip.header_length
    payload = packet[header_length:ip.total_length]
    first_room = (mtu - header_length) // 8 * 8
    later_options = _copied_options(ip.options)
    later_room = (mtu - 20 - len(later_options)) // 8 * 8
    if first_room < 8 or later_room < 8:
        raise LayersimError(f"MTU {mtu} leaves no room for fragment data after a {header_length}-byte header")
    pieces, at = [], 0
    more = bool(ip.flags & IPv4Flags.MF)
    while at < len(payload):
        room = first_room if at == 0 else later_room
        chunk = payload[at:at + room]
        last = at + len(chunk) >= len(payload)
        flags = IPv4Flags(int(ip.flags) & ~IPv4Flags.MF & ~IPv4Flags.DF | (0 if last and not more else
                                                                          IPv4Flags.MF))
        header = IPv4(version=4, dscp=ip.dscp, ecn=ip.ecn, identification=ip.identification, flags=flags,
                      fragment_offset=ip.fragment_offset + at // 8, ttl=ip.ttl, protocol=ip.protocol,
                      src=ip.src, dst=ip.dst, options=ip.options if at == 0 else later_options)
        pieces.append((header / chunk).encode())
        at += len(chunk)
    return pieces


@dataclass(slots=True)
class _Datagram:
    """Fragments of one datagram received so far."""

    first_seen_ns: int
    parts: dict[int, bytes] = field(default_factory=dict)  # byte offset -> data
    total: int | None = None  # payload length, known once the last fragment arrives
    header: bytes = b""  # the first fragment's header (offset 0)
    first: bytes = b""  # the whole first fragment, quoted by a Time Exceeded message if reassembly fails
    context: Any = None  # what the caller gave with fragment zero (the arrival interface), else with the earliest


class Reassembler:
    """Collects fragments per (src, dst, protocol, id) and returns whole datagrams (RFC 791 §3.2)."""

    def __init__(self, timeout_ns: int = 30_000_000_000) -> None:
        self.timeout_ns = timeout_ns
        self._datagrams: dict[tuple[IPv4Address, IPv4Address, int, int], _Datagram] = {}

    def add(self, packet: bytes, now: int, context: Any = None) -> bytes | None:
        """Add one fragment; returns the reassembled packet once every byte has arrived."""
        ip = decode(packet, IPv4, until=IPv4, truncated=True)[IPv4]
        key = (ip.src, ip.dst, int(ip.protocol or 0), ip.identification)
        datagram = self._datagrams.setdefault(key, _Datagram(now))
        offset = ip.fragment_offset * 8
        data = packet[ip.header_length:ip.total_length]
        datagram.parts[offset] = data
        if offset == 0:
            datagram.header = packet[:ip.header_length]
            datagram.first = packet
            datagram.context = context
        elif datagram.context is None:  # fragment zero may never come: the timeout still needs a context
            datagram.context = context
        if not ip.flags & IPv4Flags.MF:
            datagram.total = offset + len(data)
        if datagram.total is None or not datagram.header:
            return None
        payload, at = bytearray(), 0
        for start in sorted(datagram.parts):
            part = datagram.parts[start]
            if start > at:
                return None  # a hole remains
            payload += part[at - start:]
            at = max(at, start + len(part))
        if at < datagram.total:
            return None
        del self._datagrams[key]
        first = decode(datagram.header + bytes(payload[:datagram.total]), IPv4, until=IPv4,
                       truncated=True)[IPv4]
        whole = first.replace(flags=IPv4Flags(int(first.flags) & ~IPv4Flags.MF), fragment_offset=0,
                              total_length=None, header_checksum=None, ihl=None)
        return (whole / bytes(payload[:datagram.total])).encode()

    def expire(self, now: int) -> list[tuple[tuple[IPv4Address, IPv4Address, int, int], bytes, Any]]:
        """Forget datagrams older than the timeout: (key, first fragment or b"", its context) for each."""
        old = [k for k, d in self._datagrams.items() if now - d.first_seen_ns >= self.timeout_ns]
        return [(key, (d := self._datagrams.pop(key)).first, d.context) for key in old]
