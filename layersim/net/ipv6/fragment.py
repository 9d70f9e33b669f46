"""IPv6 source fragmentation and reassembly (RFC 8200 §4.5): only the source fragments, with a Fragment header.

A node makes packets with no extension headers of its own, so the unfragmentable part is the 40-byte header.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from layersim.errors import LayersimError

__all__ = ["FRAGMENT_HEADER", "REASSEMBLY_TIMEOUT_NS", "Reassembler6", "fragment6"]

FRAGMENT_HEADER = 44  # the Fragment header's next-header value
REASSEMBLY_TIMEOUT_NS = 60_000_000_000  # RFC 8200 §4.5: 60 s (Linux net.ipv6.ip6frag_time)


def fragment6(packet: bytes, mtu: int, identification: int) -> list[bytes]:
    """`packet` (a 40-byte header and its payload) cut into fragments of at most `mtu` bytes: each carries the
    header with next header 44 and a Fragment header; every piece but the last holds a multiple of 8 bytes."""
    if packet[6] == FRAGMENT_HEADER:
        raise LayersimError("IPv6 fragmentation: the packet is already a fragment")
    step = (mtu - 40 - 8) & ~7
    if step < 8:
        raise LayersimError(f"IPv6 fragmentation: an MTU of {mtu} leaves no room for fragment data")
    header, payload = bytearray(packet[:40]), packet[40:]
    next_header = header[6]
    header[6] = FRAGMENT_HEADER
    pieces = []
    for offset in range(0, len(payload), step):
        chunk = payload[offset:offset + step]
        more = offset + step < len(payload)
        header[4:6] = (8 + len(chunk)).to_bytes(2, "big")
        fragment = bytes((next_header, 0)) + (offset | more).to_bytes(2, "big") + identification.to_bytes(4, "big")
        pieces.append(bytes(header) + fragment + chunk)
    return pieces


@dataclass(slots=True)
class _Pending:
    """The fragments of one packet received so far."""

    header: bytes
    next_header: int
    started: int
    pieces: dict[int, bytes] = field(default_factory=dict)
    total: int | None = None


class Reassembler6:
    """Fragments waiting for their siblings, keyed by (source, destination, identification) (RFC 8200 §4.5)."""

    def __init__(self, timeout_ns: int = REASSEMBLY_TIMEOUT_NS) -> None:
        self.timeout_ns = timeout_ns
        self.pending: dict[tuple[bytes, bytes, int], _Pending] = {}

    def add(self, packet: bytes, now: int) -> bytes | None:
        """Take a fragment (Fragment header right after the 40-byte header); the whole packet once complete."""
        fragment = packet[40:48]
        offset_flags = int.from_bytes(fragment[2:4], "big")
        offset, more = offset_flags & 0xFFF8, offset_flags & 1
        key = (packet[8:24], packet[24:40], int.from_bytes(fragment[4:8], "big"))
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = _Pending(packet[:40], fragment[0], now)
        data = packet[48:]
        entry.pieces[offset] = data
        if not more:
            entry.total = offset + len(data)
        if entry.total is None:
            return None
        payload = bytearray()
        for start in sorted(entry.pieces):
            if start != len(payload):  # a hole (or an overlap, which RFC 8200 §4.5 discards)
                return None
            payload += entry.pieces[start]
        if len(payload) != entry.total:
            return None
        del self.pending[key]
        header = bytearray(entry.header)
        header[4:6] = len(payload).to_bytes(2, "big")
        header[6] = entry.next_header
        return bytes(header) + bytes(payload)

    def expire(self, now: int) -> int:
        """Forget packets whose first fragment came more than the timeout ago; how many were forgotten."""
        old = [key for key, entry in self.pending.items() if now - entry.started >= self.timeout_ns]
        for key in old:
            del self.pending[key]
        return len(old)
