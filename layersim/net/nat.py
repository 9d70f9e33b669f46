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
- Mappings time out as conntrack's do (see nat_conntrack); TCP state follows the flags.
- Fragments: Linux reassembles before conntrack; here a first fragment is translated like a whole datagram (its
  TCP/UDP checksum still covers the whole, and the RFC 1624 update is exact) and remembered for 30 s by IP
  identification, so later fragments of the same datagram get the same addresses. A later fragment that comes
  before its first is dropped ("fragment without its first fragment").
"""

from __future__ import annotations

import heapq
import random
import struct
from dataclasses import dataclass
from enum import Enum, StrEnum
from ipaddress import IPv4Address

from layersim.errors import LayersimError
from layersim.net.nat_conntrack import (
    ECHO_REPLY_TYPE,
    FRAGMENT_TIMEOUT_NS,
    LINUX_TIMEOUTS,
    NS_PER_S,
    OPENING,
    ORIGINAL,
    REPLY,
    RST,
    UDP_STREAM_AFTER_NS,
    Mapping,
    NatEvent,
    NatTimeouts,
    TcpState,
    segment_class,
    tcp_transition,
)
from layersim.net.nat_rewrite import rewrite_endpoint, rewrite_quoted
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
_MAX_ATTEMPTS = 128  # nf_nat: tries per round before a new random offset and half as many tries


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
        self._tcp_ns = {state: getattr(timeouts, state.timeout_name) * NS_PER_S for state in TcpState}
        self._by_original: dict[tuple[int, int, int, int, int], Mapping] = {}  # proto, inside, port, remote, rport
        self._by_reply: dict[tuple[int, int, int, int], Mapping] = {}  # proto, remote, rport, outside port
        self._by_source: dict[tuple[int, int, int], list[Mapping]] = {}  # proto, inside, port
        self._fragments: dict[tuple[int, int, int, int, int], tuple[Mapping, int]] = {}
        self._heap: list[tuple[int, int, Mapping]] = []
        self._seq = 0
        self._events: list[NatEvent] = []

    # ---- the two hooks -------------------------------------------------------------------------------------

    def outbound(self, packet: bytearray, now: int) -> NatResult:
        """Translate a packet leaving by the outside interface (POSTROUTING); creates mappings."""
        if len(packet) < 20:
            return _DROPS[NatReason.TRUNCATED]
        version_ihl, total, fragment, protocol, src, dst = _IP.unpack_from(packet)
        if version_ihl >> 4 != 4:
            return ACCEPTED
        ihl = (version_ihl & 0x0F) * 4
        end = min(total, len(packet))
        if fragment & 0x1FFF:
            return self._later_fragment(packet, ORIGINAL, (ORIGINAL, src, dst, protocol, _ident(packet)), now)
        if protocol == 6 or protocol == 17:
            if ihl + (18 if protocol == 6 else 8) > end:
                return _DROPS[NatReason.TRUNCATED]
            sport, dport = _PORTS.unpack_from(packet, ihl)
            mapping = self._live(self._by_original.get((protocol, src, sport, dst, dport)), now)
            if protocol == 6:
                kind = segment_class(packet[ihl + 13])
                if mapping is None:
                    if kind not in OPENING:
                        return _DROPS[NatReason.INVALID_TCP]
                    mapping = self._create(protocol, src, sport, dst, dport, now, OPENING[kind])
                    if mapping is None:
                        return _DROPS[NatReason.PORTS_EXHAUSTED]
                else:
                    self._track_tcp(mapping, ORIGINAL, kind, now)
            elif mapping is None:
                mapping = self._create(protocol, src, sport, dst, dport, now, None)
                if mapping is None:
                    return _DROPS[NatReason.PORTS_EXHAUSTED]
            else:
                self._track_udp(mapping, ORIGINAL, now)
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
            mapping = self._live(self._by_original.get((1, src, ident, dst, kind)), now)
            if mapping is None:
                mapping = self._create(1, src, ident, dst, kind, now, None)
                if mapping is None:
                    return _DROPS[NatReason.PORTS_EXHAUSTED]
            else:
                self._refresh(mapping, self.timeouts.icmp * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 12, self._outside, ihl + 4, mapping.outside_port, ihl + 2,
                                       pseudo=False, udp=False)
        else:
            mapping = self._live(self._by_original.get((protocol, src, 0, dst, 0)), now)
            if mapping is None:
                mapping = self._create(protocol, src, 0, dst, 0, now, None)
                if mapping is None:
                    return _DROPS[NatReason.PORTS_EXHAUSTED]
            else:
                self._refresh(mapping, self.timeouts.generic * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 12, self._outside, -1, 0, -1, pseudo=False, udp=False)
        if fragment & 0x2000:
            self._remember_fragment((ORIGINAL, src, dst, protocol, _ident(packet)), mapping, now)
        return TRANSLATED if changed else ACCEPTED

    def inbound(self, packet: bytearray, now: int) -> NatResult:
        """Translate a packet arriving on the outside interface (PREROUTING) back to the inside host."""
        if len(packet) < 20:
            return _DROPS[NatReason.TRUNCATED]
        version_ihl, total, fragment, protocol, src, dst = _IP.unpack_from(packet)
        if version_ihl >> 4 != 4 or dst != self._outside:
            return ACCEPTED
        ihl = (version_ihl & 0x0F) * 4
        end = min(total, len(packet))
        if fragment & 0x1FFF:
            return self._later_fragment(packet, REPLY, (REPLY, src, dst, protocol, _ident(packet)), now)
        if protocol == 6 or protocol == 17:
            if ihl + (18 if protocol == 6 else 8) > end:
                return _DROPS[NatReason.TRUNCATED]
            sport, dport = _PORTS.unpack_from(packet, ihl)
            mapping = self._live(self._by_reply.get((protocol, src, sport, dport)), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            if protocol == 6:
                self._track_tcp(mapping, REPLY, segment_class(packet[ihl + 13]), now)
            else:
                self._track_udp(mapping, REPLY, now)
            changed = rewrite_endpoint(packet, 0, 16, int(mapping.inside), ihl + 2, mapping.inside_port,
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
            mapping = self._live(self._by_reply.get((1, src, request, ident)), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            mapping.replied = True
            self._refresh(mapping, self.timeouts.icmp * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 16, int(mapping.inside), ihl + 4, mapping.inside_port, ihl + 2,
                                       pseudo=False, udp=False)
        else:
            mapping = self._live(self._by_reply.get((protocol, src, 0, 0)), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            mapping.replied = True
            self._refresh(mapping, self.timeouts.generic * NS_PER_S, now)
            changed = rewrite_endpoint(packet, 0, 16, int(mapping.inside), -1, 0, -1, pseudo=False, udp=False)
        if fragment & 0x2000:
            self._remember_fragment((REPLY, src, dst, protocol, _ident(packet)), mapping, now)
        return TRANSLATED if changed else ACCEPTED

    # ---- ICMP errors and fragments --------------------------------------------------------------------------

    def _error(self, packet: bytearray, icmp: int, end: int, direction: int, now: int) -> NatResult:
        """An ICMP error quoting a packet of a mapping: translate the quote and the outer address."""
        quote = icmp + 8
        if quote + 20 > end:
            return _DROPS[NatReason.TRUNCATED]
        if direction == REPLY and internet_checksum(packet[icmp:end]):
            return _DROPS[NatReason.BAD_CHECKSUM]  # conntrack checks it in PREROUTING (nf_conntrack_checksum)
        transport = quote + (packet[quote] & 0x0F) * 4
        protocol = packet[quote + 9]
        qsrc, qdst = struct.unpack_from("!II", packet, quote + 12)
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
            mapping = self._live(self._by_reply.get(key), now)
            if mapping is None:
                return _DROPS[NatReason.NO_MAPPING]
            port_field = 0 if protocol != 1 else 4
            rewrite_quoted(packet, icmp, end, 12, int(mapping.inside), port_field if protocol in (6, 17, 1) else -1,
                           mapping.inside_port)
            rewrite_endpoint(packet, 0, 16, int(mapping.inside), -1, 0, -1, pseudo=False, udp=False)
        else:
            # An inside host (or the router) reports on a packet that came in translated: remote -> inside.
            key = (protocol, qdst, qdport, qsrc, request if protocol == 1 else qsport)
            mapping = self._live(self._by_original.get(key), now)
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
            changed = rewrite_endpoint(packet, 0, 16, int(mapping.inside), -1, 0, -1, pseudo=False, udp=False)
        return TRANSLATED if changed else ACCEPTED

    # ---- connection tracking ----------------------------------------------------------------------------------

    def _track_tcp(self, mapping: Mapping, direction: int, kind: str, now: int) -> None:
        """Move the TCP state on one segment and refresh the timeout for the new state (conntrack's tcp_packet)."""
        old = mapping.state
        assert old is not None
        if not mapping.replied and kind == RST:
            self._remove(mapping, "reset", now)  # only an RST so far: never a connection (Linux kills it)
            return
        new = tcp_transition(old, direction, kind)
        mapping.state = new
        # ASSURED: the handshake completed, or a picked-up connection was answered (after a reply was seen).
        if mapping.replied and new is TcpState.ESTABLISHED and old in (TcpState.SYN_RECV, TcpState.ESTABLISHED):
            mapping.assured = True
        if direction == REPLY:
            mapping.replied = True
        if kind == "syn" and old is TcpState.SYN_SENT and not mapping.replied:
            return  # a retransmitted SYN does not extend the SYN_SENT timeout
        self._refresh(mapping, self._tcp_ns[TcpState.CLOSE] if kind == RST else self._tcp_ns[new], now)

    def _track_udp(self, mapping: Mapping, direction: int, now: int) -> None:
        """Refresh a UDP mapping: 30 s, or 120 s and ASSURED once replied and still active after 2 s."""
        if direction == REPLY:
            mapping.replied = True
        if mapping.replied and now > mapping.created + UDP_STREAM_AFTER_NS:
            mapping.assured = True
            self._refresh(mapping, self.timeouts.udp_stream * NS_PER_S, now)
        else:
            self._refresh(mapping, self.timeouts.udp * NS_PER_S, now)

    def _refresh(self, mapping: Mapping, timeout_ns: int, now: int) -> None:
        """The mapping now expires `timeout_ns` after `now` (sooner or later than before)."""
        mapping.expires = now + timeout_ns
        if mapping.expires < mapping.queued:
            self._queue(mapping)

    def _queue(self, mapping: Mapping) -> None:
        mapping.queued = mapping.expires
        self._seq += 1
        heapq.heappush(self._heap, (mapping.expires, self._seq, mapping))

    def _live(self, mapping: Mapping | None, now: int) -> Mapping | None:
        """The mapping if it has not timed out; a timed-out one is removed here even before expire() runs."""
        if mapping is not None and mapping.expires <= now:
            self._remove(mapping, "expired", now)
            return None
        return mapping

    def _create(self, protocol: int, src: int, sport: int, dst: int, dport: int, now: int,
                state: TcpState | None) -> Mapping | None:
        """A new mapping for a connection from inside, or None when no outside port is free for it."""
        port = self._choose_port(protocol, src, sport, dst, dport, now)
        if port is None:
            return None
        if state is not None:
            timeout = self._tcp_ns[state]
        else:
            seconds = {17: self.timeouts.udp, 1: self.timeouts.icmp}.get(protocol, self.timeouts.generic)
            timeout = seconds * NS_PER_S
        mapping = Mapping(protocol, IPv4Address(src), sport, IPv4Address(dst), dport, self.outside, port, now,
                          now + timeout, state)
        self._by_original[protocol, src, sport, dst, dport] = mapping
        self._by_reply[protocol, dst, dport, port] = mapping
        self._by_source.setdefault((protocol, src, sport), []).append(mapping)
        self._queue(mapping)
        self._events.append(NatEvent(now, "created", mapping))
        return mapping

    def _free(self, protocol: int, remote: int, remote_port: int, port: int, now: int) -> bool:
        """Whether outside `port` makes a connection to remote:remote_port that no live mapping has."""
        return self._live(self._by_reply.get((protocol, remote, remote_port, port)), now) is None

    def _choose_port(self, protocol: int, src: int, sport: int, dst: int, dport: int, now: int) -> int | None:
        """The outside port (or ICMP identifier) for a new connection, chosen as nf_nat's get_unique_tuple does."""
        if protocol not in (6, 17, 1):
            return 0 if self._free(protocol, dst, 0, 0, now) else None
        ranged = self.port_range if protocol != 1 else None
        # 1) The inside endpoint already has a mapping (to another remote endpoint): reuse its outside port.
        for other in list(self._by_source.get((protocol, src, sport), ())):
            if self._live(other, now) is None:
                continue
            port = other.outside_port
            if (ranged is None or ranged[0] <= port <= ranged[1]) and self._free(protocol, dst, dport, port, now):
                return port
            break
        # 2) Keep the inside port if it is in the range and free.
        if (ranged is None or ranged[0] <= sport <= ranged[1]) and self._free(protocol, dst, dport, sport, now):
            return sport
        # 3) Search from a random offset: up to 128 tries, then a new offset and half as many, down to 16.
        if protocol == 1:
            low, size = 0, 65536
        elif ranged is not None:
            low, size = ranged[0], ranged[1] - ranged[0] + 1
        elif sport < 512:
            low, size = 1, 511
        elif sport < 1024:
            low, size = 600, 424
        else:
            low, size = 1024, 64512
        attempts = min(size, _MAX_ATTEMPTS)
        while True:
            offset = self.rng.getrandbits(16)
            for i in range(attempts):
                port = low + (offset + i) % size
                if self._free(protocol, dst, dport, port, now):
                    return port
            if attempts >= size or attempts < 16:
                return None
            attempts //= 2

    def _remove(self, mapping: Mapping, kind: str, now: int) -> None:
        """Forget a mapping and record why."""
        src, dst = int(mapping.inside), int(mapping.remote)
        protocol, sport, dport = mapping.protocol, mapping.inside_port, mapping.remote_port
        if self._by_original.get((protocol, src, sport, dst, dport)) is mapping:
            del self._by_original[protocol, src, sport, dst, dport]
        if self._by_reply.get((protocol, dst, dport, mapping.outside_port)) is mapping:
            del self._by_reply[protocol, dst, dport, mapping.outside_port]
        same_source = self._by_source.get((protocol, src, sport))
        if same_source is not None and mapping in same_source:
            same_source.remove(mapping)
            if not same_source:
                del self._by_source[protocol, src, sport]
        mapping.queued = -1
        self._events.append(NatEvent(mapping.expires if kind == "expired" else now, kind, mapping))

    # ---- time and inspection ------------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        """When the next mapping times out (simulated ns), or None without mappings."""
        heap = self._heap
        while heap:
            deadline, _, mapping = heap[0]
            if deadline != mapping.queued:  # removed, or filed again under a sooner deadline
                heapq.heappop(heap)
            elif mapping.expires > deadline:  # refreshed since: file it under its new deadline
                heapq.heappop(heap)
                self._queue(mapping)
            else:
                return deadline
        return None

    def expire(self, now: int) -> list[Mapping]:
        """Remove and return the mappings that have timed out by `now` (a mapping is gone at its deadline)."""
        expired = []
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > now:
                return expired
            mapping = heapq.heappop(self._heap)[2]
            self._remove(mapping, "expired", now)
            expired.append(mapping)

    def mappings(self) -> list[Mapping]:
        """The mappings held now, oldest first (timed-out ones stay until expire() or a packet finds them)."""
        return list(self._by_original.values())

    def table(self, now: int) -> str:
        """The live mappings as `conntrack -L` prints them, one per line."""
        return "\n".join(m.line(now) for m in self._by_original.values() if m.expires > now)

    def drain_events(self) -> list[NatEvent]:
        """The events since the last call (mapping created, expired, reset), oldest first."""
        events, self._events = self._events, []
        return events


def _ident(packet: bytearray) -> int:
    """The IPv4 identification field."""
    return packet[4] << 8 | packet[5]
