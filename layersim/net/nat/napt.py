"""NAPT for a home router, behaving like Linux's `iptables -t nat -A POSTROUTING -o OUT -j MASQUERADE`.

A sans-IO object working on whole IPv4 packets in a `bytearray`, rewritten in place: the router calls
`outbound()` in POSTROUTING on the outside interface and `inbound()` in PREROUTING on it.

- Outbound TCP and UDP take the outside address. The source port is kept when the connection it makes is unique
  (no other mapping to the same remote address and port uses it), else a free one is searched from a random
  offset as nf_nat does: 1-511 for ports below 512, 600-1023 below 1024, else 1024-65535, or always within
  `port_range` (iptables' `--to-ports`: a port already in the range and free is kept). A second connection from
  an inside endpoint that already has a mapping first tries that mapping's outside port. ICMP echo and
  timestamp identifiers are mapped the same way over 0-65535 (`port_range` does not apply to them: iptables
  takes `--to-ports` only with `-p tcp/udp/...`). Other IP protocols get the address only.
- Inbound replies are translated back; a TCP/UDP packet or ICMP reply to the outside address that belongs to no
  mapping is dropped ("no mapping"). ICMP echo requests to the outside address, and anything to another
  address, are not NAT's business (ACCEPT).
- ICMP errors (destination unreachable, time exceeded, ...) about a translated packet are translated in both
  directions, the quoted datagram's address, port and checksums included; they neither refresh nor answer the
  mapping, as in conntrack.
- Mappings time out as conntrack's do (see nat_conntrack); TCP state follows the flags. An outbound TCP segment
  that cannot open a connection (FIN, RST, SYN-ACK without a mapping) is dropped: conntrack calls it INVALID,
  and Linux would let it out untranslated, with the inside address.
- Fragments: Linux reassembles before conntrack; here a first fragment is translated like a whole datagram (its
  TCP/UDP checksum still covers the whole, and the RFC 1624 update is exact) and remembered for 30 s by IP
  identification, so later fragments of the same datagram get the same addresses. A later fragment that comes
  before its first is dropped ("fragment without its first fragment").
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from enum import Enum, StrEnum
from ipaddress import IPv4Address

from layersim.errors import LayersimError
from layersim.net.nat.conntrack import (
    ECHO_REPLY_TYPE,
    FRAGMENT_TIMEOUT_NS,
    LINUX_TIMEOUTS,
    NS_PER_S,
    OPENING,
    ORIGINAL,
    REPLY,
    Mapping,
    NatEvent,
    NatTimeouts,
    segment_class,
)
from layersim.net.nat.rewrite import rewrite_endpoint, rewrite_quoted
from layersim.net.nat.table import MappingTable
from layersim.wire.checksum import internet_checksum

__all__ = ["LINUX_TIMEOUTS", "Mapping", "Nat", "NatEvent", "NatReason", "NatResult", "NatTimeouts", "NatVerdict"]


class NatVerdict(Enum):
    """What NAT did with a packet."""

    ACCEPT = "accept"  # not NAT's business, or a mapping that changes nothing: bytes untouched
    TRANSLATED = "translated"  # rewritten in place
    DROP = "drop"  # to be dropped; NatResult.reason says why


class NatReason(StrEnum):
    """Why NAT dropped a packet."""

    NO_MAPPING = "no mapping"
    PORTS_EXHAUSTED = "ports exhausted"
    INVALID_TCP = "TCP segment that cannot open a connection"
    FRAGMENT = "fragment without its first fragment"
    TRUNCATED = "truncated header"
    BAD_CHECKSUM = "bad ICMP checksum"


@dataclass(frozen=True, slots=True)
class NatResult:
    """The verdict on one packet and, for a drop, the reason."""

    verdict: NatVerdict
    reason: str | None = None


ACCEPTED = NatResult(NatVerdict.ACCEPT)
TRANSLATED = NatResult(NatVerdict.TRANSLATED)
_DROPS = {reason: NatResult(NatVerdict.DROP, reason) for reason in NatReason}

_IP = struct.Struct("!BxH2xHxBxxII")  # version+IHL, total length, flags+offset, protocol, src, dst
_PORTS = struct.Struct("!HH")
_QUERY_TYPES = frozenset(ECHO_REPLY_TYPE)  # ICMP requests with an identifier: echo, timestamp
_REPLY_TYPES = {reply: request for request, reply in ECHO_REPLY_TYPE.items()}
_ERROR_TYPES = frozenset({3, 4, 5, 11, 12})


class Nat:
    """Linux MASQUERADE-style NAPT on one outside address: translate, track, time out."""

    def __init__(self, outside: IPv4Address | str, *, port_range: tuple[int, int] | None = None,
                 timeouts: NatTimeouts = LINUX_TIMEOUTS, rng: random.Random) -> None:
        self.outside = IPv4Address(outside)
        if port_range is not None:
            low, high = port_range
            if not 1 <= low <= high <= 65535:
                raise LayersimError(f"NAT port_range {port_range!r}: need 1 <= low <= high <= 65535")
        self.port_range = port_range
        self.timeouts = timeouts
        self.rng = rng
        self._outside = int(self.outside)
        self._table = MappingTable(self.outside, port_range, timeouts, rng)
        self._by_original = self._table.by_original
        self._by_reply = self._table.by_reply
        self._fragments: dict[tuple[int, int, int, int, int], tuple[Mapping, int]] = {}

    # ---- the two hooks -------------------------------------------------------------------------------------

    def outbound(self, packet: bytearray, now: int) -> NatResult:
        """Translate a packet leaving by the outside interface (POSTROUTING); creates mappings."""
        header = self._header(packet, ORIGINAL, None, now)
        if isinstance(header, NatResult):
            return header
        ihl, end, fragment, protocol, src, dst = header
        if protocol == 6 or protocol == 17:
            sport, dport = _PORTS.unpack_from(packet, ihl)
            mapping = self._table.live(self._by_original.get((protocol, src, sport, dst, dport)), now)
            if protocol == 6:
                kind = segment_class(packet[ihl + 13])
                if mapping is None:
                    if kind not in OPENING:
                        return _DROPS[NatReason.INVALID_TCP]
                    mapping = self._table.create(protocol, src, sport, dst, dport, now, OPENING[kind])
                    if mapping is None:
                        return _DROPS[NatReason.PORTS_EXHAUSTED]
                else:
                    self._table.track_tcp(mapping, ORIGINAL, kind, now)
            elif mapping is None:
                mapping = self._table.create(protocol, src, sport, dst, dport, now, None)
                if mapping is None:
                    return _DROPS[NatReason.PORTS_EXHAUSTED]
            else:
                self._table.track_udp(mapping, ORIGINAL, now)
            changed = rewrite_endpoint(packet, 0, 12, self._outside, ihl, mapping.outside_port,
                                       ihl + (16 if protocol == 6 else 6), pseudo=True, udp=protocol == 17)
        elif protocol == 1:
            if ihl + 8 > end:
                return _DROPS[NatReason.TRUNCATED]
            kind = packet[ihl]
            if kind in _ERROR_TYPES:
                return self._error(packet, ihl, end, ORIGINAL, now)
            if kind not in _QUERY_TYPES:
                return ACCEPTED  # an echo reply from the router itself, or to a host reached directly
            ident = packet[ihl + 4] << 8 | packet[ihl + 5]
            mapping = self._table.live(self._by_original.get((1, src, ident, dst, kind)), now)
            if mapping is None:
                mapping = self._table.create(1, src, ident, dst, kind, now, None)
                if mapping is None:
                    return _DROPS[NatReason.PORTS_EXHAUSTED]
            else:
                self._table.refresh(mapping, self.timeouts.icmp * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 12, self._outside, ihl + 4, mapping.outside_port, ihl + 2,
                                       pseudo=False, udp=False)
        else:
            mapping = self._table.live(self._by_original.get((protocol, src, 0, dst, 0)), now)
            if mapping is None:
                mapping = self._table.create(protocol, src, 0, dst, 0, now, None)
                if mapping is None:
                    return _DROPS[NatReason.PORTS_EXHAUSTED]
            else:
                self._table.refresh(mapping, self.timeouts.generic * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 12, self._outside, -1, 0, -1, pseudo=False, udp=False)
        if fragment & 0x2000:
            self._remember_fragment((ORIGINAL, src, dst, protocol, _ident(packet)), mapping, now)
        return TRANSLATED if changed else ACCEPTED

    def inbound(self, packet: bytearray, now: int) -> NatResult:
        """Translate a packet arriving on the outside interface (PREROUTING) back to the inside host."""
        header = self._header(packet, REPLY, self._outside, now)
        if isinstance(header, NatResult):
            return header
        ihl, end, fragment, protocol, src, dst = header
        if protocol == 6 or protocol == 17:
            sport, dport = _PORTS.unpack_from(packet, ihl)
            mapping = self._table.live(self._by_reply.get((protocol, src, sport, dport)), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            if protocol == 6:
                self._table.track_tcp(mapping, REPLY, segment_class(packet[ihl + 13]), now)
            else:
                self._table.track_udp(mapping, REPLY, now)
            changed = rewrite_endpoint(packet, 0, 16, mapping.inside_int, ihl + 2, mapping.inside_port,
                                       ihl + (16 if protocol == 6 else 6), pseudo=True, udp=protocol == 17)
        elif protocol == 1:
            if ihl + 8 > end:
                return _DROPS[NatReason.TRUNCATED]
            kind = packet[ihl]
            if kind in _ERROR_TYPES:
                return self._error(packet, ihl, end, REPLY, now)
            request = _REPLY_TYPES.get(kind)
            if request is None:
                return ACCEPTED  # an echo request to the router itself, which answers it
            ident = packet[ihl + 4] << 8 | packet[ihl + 5]
            mapping = self._table.live(self._by_reply.get((1, src, request, ident)), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            mapping.replied = True
            self._table.refresh(mapping, self.timeouts.icmp * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 16, mapping.inside_int, ihl + 4, mapping.inside_port, ihl + 2,
                                       pseudo=False, udp=False)
        else:
            mapping = self._table.live(self._by_reply.get((protocol, src, 0, 0)), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            mapping.replied = True
            self._table.refresh(mapping, self.timeouts.generic * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 16, mapping.inside_int, -1, 0, -1, pseudo=False, udp=False)
        if fragment & 0x2000:
            self._remember_fragment((REPLY, src, dst, protocol, _ident(packet)), mapping, now)
        return TRANSLATED if changed else ACCEPTED

    def _header(self, packet: bytearray, direction: int, to: int | None,
                now: int) -> NatResult | tuple[int, int, int, int, int, int]:
        """What both hooks read first: (header length, end, fragment field, protocol, src, dst), or the verdict when
        there is no more to do: accepted (not IPv4, or not sent `to` that address), dropped (a header or ports cut
        short), or a later fragment's (translated as its first fragment was)."""
        if len(packet) < 20:
            return _DROPS[NatReason.TRUNCATED]
        version_ihl, total, fragment, protocol, src, dst = _IP.unpack_from(packet)
        if version_ihl >> 4 != 4 or (to is not None and dst != to):
            return ACCEPTED
        ihl = (version_ihl & 0x0F) * 4
        end = min(total, len(packet))
        if ihl < 20 or ihl > end:
            return _DROPS[NatReason.TRUNCATED]
        if fragment & 0x1FFF:
            return self._later_fragment(packet, direction, (direction, src, dst, protocol, _ident(packet)), now)
        if (protocol == 6 or protocol == 17) and ihl + (18 if protocol == 6 else 8) > end:
            return _DROPS[NatReason.TRUNCATED]
        return ihl, end, fragment, protocol, src, dst

    # ---- ICMP errors and fragments --------------------------------------------------------------------------

    def _error(self, packet: bytearray, icmp: int, end: int, direction: int, now: int) -> NatResult:
        """An ICMP error quoting a packet of a mapping: translate the quote and the outer address."""
        quote = icmp + 8
        if quote + 20 > end:
            return _DROPS[NatReason.TRUNCATED]
        if direction == REPLY and internet_checksum(packet[icmp:end]):
            return _DROPS[NatReason.BAD_CHECKSUM]  # conntrack checks it in PREROUTING (nf_conntrack_checksum)
        transport = quote + (packet[quote] & 0x0F) * 4
        if transport < quote + 20 or transport > end:
            return _DROPS[NatReason.TRUNCATED]
        protocol = packet[quote + 9]
        qsrc, qdst = struct.unpack_from("!II", packet, quote + 12)
        request = 0  # for a quoted ICMP query: its request type, which keys the mapping in place of a port
        if protocol in (6, 17, 1) and transport + 8 > end:
            return _DROPS[NatReason.TRUNCATED]
        if protocol == 6 or protocol == 17:
            qsport, qdport = _PORTS.unpack_from(packet, transport)
        elif protocol == 1:
            if packet[transport] not in _QUERY_TYPES and packet[transport] not in _REPLY_TYPES:
                return _DROPS[NatReason.NO_MAPPING]  # never an error about an error (RFC 1122 §3.2.2)
            ident = packet[transport + 4] << 8 | packet[transport + 5]
            request = packet[transport] if packet[transport] in _QUERY_TYPES else _REPLY_TYPES[packet[transport]]
            qsport = qdport = ident
        else:
            qsport = qdport = 0
        if direction == REPLY:
            # The quote is a packet we sent out: from the outside endpoint to the remote one.
            if qsrc != self._outside:
                return _DROPS[NatReason.NO_MAPPING]
            key = (protocol, qdst, request if protocol == 1 else qdport, qsport)
            mapping = self._table.live(self._by_reply.get(key), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            port_field = 0 if protocol != 1 else 4
            rewrite_quoted(packet, icmp, end, 12, mapping.inside_int, port_field if protocol in (6, 17, 1) else -1,
                           mapping.inside_port)
            rewrite_endpoint(packet, 0, 16, mapping.inside_int, -1, 0, -1, pseudo=False, udp=False)
        else:
            # An inside host (or the router) reports on a packet that came in translated: remote -> inside.
            key = (protocol, qdst, qdport, qsrc, request if protocol == 1 else qsport)
            mapping = self._table.live(self._by_original.get(key), now)
            if mapping is None:
                return ACCEPTED if struct.unpack_from("!I", packet, 12)[0] == self._outside else \
                    _DROPS[NatReason.NO_MAPPING]
            port_field = 2 if protocol != 1 else 4
            rewrite_quoted(packet, icmp, end, 16, self._outside, port_field if protocol in (6, 17, 1) else -1,
                           mapping.outside_port)
            rewrite_endpoint(packet, 0, 12, self._outside, -1, 0, -1, pseudo=False, udp=False)
        return TRANSLATED

    def _remember_fragment(self, key: tuple[int, int, int, int, int], mapping: Mapping, now: int) -> None:
        """A first fragment went through: its later fragments take the same mapping for a while."""
        if len(self._fragments) >= 64:
            for old in [k for k, (_, until) in self._fragments.items() if until <= now]:
                del self._fragments[old]
        self._fragments[key] = (mapping, now + FRAGMENT_TIMEOUT_NS)

    def _later_fragment(self, packet: bytearray, direction: int, key: tuple[int, int, int, int, int],
                        now: int) -> NatResult:
        """A fragment with a non-zero offset: only its address changes, as its first fragment's did."""
        entry = self._fragments.get(key)
        if entry is None or entry[1] <= now:
            return _DROPS[NatReason.FRAGMENT]
        mapping = entry[0]
        if direction == ORIGINAL:
            changed = rewrite_endpoint(packet, 0, 12, self._outside, -1, 0, -1, pseudo=False, udp=False)
        else:
            changed = rewrite_endpoint(packet, 0, 16, mapping.inside_int, -1, 0, -1, pseudo=False, udp=False)
        return TRANSLATED if changed else ACCEPTED

    # ---- time and inspection ------------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        """When the next mapping times out (simulated ns), or None without mappings."""
        return self._table.next_deadline()

    def expire(self, now: int) -> list[Mapping]:
        """Remove and return the mappings that have timed out by `now` (a mapping is gone at its deadline)."""
        return self._table.expire(now)

    def mappings(self) -> list[Mapping]:
        """The mappings held now, oldest first (timed-out ones stay until expire() or a packet finds them)."""
        return list(self._by_original.values())

    def table(self, now: int) -> str:
        """The live mappings as `conntrack -L` prints them, one per line."""
        return "\n".join(m.line(now) for m in self._by_original.values() if m.expires > now)

    def drain_events(self) -> list[NatEvent]:
        """The events since the last call (mapping created, expired, reset), oldest first."""
        return self._table.drain_events()


def _ident(packet: bytearray) -> int:
    """The IPv4 identification field."""
    return packet[4] << 8 | packet[5]
