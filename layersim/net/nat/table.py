"""The mapping table behind Nat: lookups both ways, outside port choice as nf_nat makes it, connection state
and timeouts as conntrack keeps them, and expiry in deadline order."""

from __future__ import annotations

import heapq
import random
from ipaddress import IPv4Address

from layersim.net.nat.conntrack import (
    ACK,
    NS_PER_S,
    REPLY,
    RST,
    SYN,
    UDP_STREAM_AFTER_NS,
    Mapping,
    NatEvent,
    NatTimeouts,
    TcpState,
    tcp_transition,
)

__all__ = ["MappingTable"]

_MAX_ATTEMPTS = 128  # nf_nat: tries per round before a new random offset and half as many tries


class MappingTable:
    """Mappings keyed by their inside (original) and outside (reply) endpoints, with an expiry heap.

    Keys hold addresses as integers: (protocol, inside, inside port, remote, remote port) and
    (protocol, remote, remote port, outside port); for ICMP the remote port is the request type and the ports are
    identifiers, for other protocols the ports are 0.
    """

    def __init__(self, outside: IPv4Address, port_range: tuple[int, int] | None, timeouts: NatTimeouts,
                 rng: random.Random) -> None:
        self.outside = outside
        self.outside_int = int(outside)
        self.port_range = port_range
        self.timeouts = timeouts
        self.rng = rng
        self.tcp_ns = {state: getattr(timeouts, state.timeout_name) * NS_PER_S for state in TcpState}
        self.established_ns = self.tcp_ns[TcpState.ESTABLISHED]
        self.by_original: dict[tuple[int, int, int, int, int], Mapping] = {}
        self.by_reply: dict[tuple[int, int, int, int], Mapping] = {}
        self.by_source: dict[tuple[int, int, int], list[Mapping]] = {}  # protocol, inside, inside port
        self.heap: list[tuple[int, int, Mapping]] = []
        self.seq = 0
        self.events: list[NatEvent] = []

    def track_tcp(self, mapping: Mapping, direction: int, kind: str, now: int) -> None:
        """Move the TCP state on one segment and refresh the timeout for the new state (conntrack's tcp_packet)."""
        old = mapping.state
        if old is TcpState.ESTABLISHED and kind == ACK and mapping.assured:
            mapping.expires = now + self.established_ns  # the common case: nothing changes but the deadline
            return
        assert old is not None
        if not mapping.replied and kind == RST:
            self.remove(mapping, "reset", now)  # only an RST so far: never a connection (Linux kills it)
            return
        new = tcp_transition(old, direction, kind)
        mapping.state = new
        # ASSURED: the handshake completed, or a picked-up connection was answered (after a reply was seen).
        if mapping.replied and new is TcpState.ESTABLISHED and old in (TcpState.SYN_RECV, TcpState.ESTABLISHED):
            mapping.assured = True
        if direction == REPLY:
            mapping.replied = True
        if kind == SYN and old is TcpState.SYN_SENT and not mapping.replied:
            return  # a retransmitted SYN does not extend the SYN_SENT timeout
        self.refresh(mapping, self.tcp_ns[TcpState.CLOSE] if kind == RST else self.tcp_ns[new], now)

    def track_udp(self, mapping: Mapping, direction: int, now: int) -> None:
        """Refresh a UDP mapping: 30 s, or 120 s and ASSURED once replied and still active after 2 s."""
        if direction == REPLY:
            mapping.replied = True
        if mapping.replied and now > mapping.created + UDP_STREAM_AFTER_NS:
            mapping.assured = True
            self.refresh(mapping, self.timeouts.udp_stream * NS_PER_S, now)
        else:
            self.refresh(mapping, self.timeouts.udp * NS_PER_S, now)

    def refresh(self, mapping: Mapping, timeout_ns: int, now: int) -> None:
        """The mapping now expires `timeout_ns` after `now` (sooner or later than before)."""
        mapping.expires = now + timeout_ns
        if mapping.expires < mapping.queued:
            self.queue(mapping)

    def queue(self, mapping: Mapping) -> None:
        """File the mapping in the expiry heap under its current deadline."""
        mapping.queued = mapping.expires
        self.seq += 1
        heapq.heappush(self.heap, (mapping.expires, self.seq, mapping))

    def live(self, mapping: Mapping | None, now: int) -> Mapping | None:
        """The mapping if it has not timed out; a timed-out one is removed here even before expire() runs."""
        if mapping is not None and mapping.expires <= now:
            self.remove(mapping, "expired", now)
            return None
        return mapping

    def create(self, protocol: int, src: int, sport: int, dst: int, dport: int, now: int,
               state: TcpState | None) -> Mapping | None:
        """A new mapping for a connection from inside, or None when no outside port is free for it."""
        port = self.choose_port(protocol, src, sport, dst, dport, now)
        if port is None:
            return None
        if state is not None:
            timeout = self.tcp_ns[state]
        else:
            seconds = {17: self.timeouts.udp, 1: self.timeouts.icmp}.get(protocol, self.timeouts.generic)
            timeout = seconds * NS_PER_S
        mapping = Mapping(protocol, IPv4Address(src), sport, IPv4Address(dst), dport, self.outside, port, now,
                          now + timeout, state)
        self.by_original[protocol, src, sport, dst, dport] = mapping
        self.by_reply[protocol, dst, dport, port] = mapping
        self.by_source.setdefault((protocol, src, sport), []).append(mapping)
        self.queue(mapping)
        self.events.append(NatEvent(now, "created", mapping))
        return mapping

    def free(self, protocol: int, remote: int, remote_port: int, port: int, now: int) -> bool:
        """Whether outside `port` makes a connection to remote:remote_port that no live mapping has."""
        return self.live(self.by_reply.get((protocol, remote, remote_port, port)), now) is None

    def choose_port(self, protocol: int, src: int, sport: int, dst: int, dport: int, now: int) -> int | None:
        """The outside port (or ICMP identifier) for a new connection, chosen as nf_nat's get_unique_tuple does."""
        if protocol not in (6, 17, 1):
            return 0 if self.free(protocol, dst, 0, 0, now) else None
        ranged = self.port_range if protocol != 1 else None
        # 1) The inside endpoint already has a mapping (to another remote endpoint): reuse its outside port.
        #    (The router's own packets, already from the outside address, skip this as they do in Linux.)
        for other in list(self.by_source.get((protocol, src, sport), ())) if src != self.outside_int else ():
            port = other.outside_port
            if self.live(other, now) is None or (ranged is not None and not ranged[0] <= port <= ranged[1]):
                continue
            if self.free(protocol, dst, dport, port, now):
                return port
            break
        # 2) Keep the inside port if it is in the range and free.
        if (ranged is None or ranged[0] <= sport <= ranged[1]) and self.free(protocol, dst, dport, sport, now):
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
                if self.free(protocol, dst, dport, port, now):
                    return port
            if attempts >= size or attempts < 16:
                return None
            attempts //= 2

    def remove(self, mapping: Mapping, kind: str, now: int) -> None:
        """Forget a mapping and record why."""
        src, dst = int(mapping.inside), int(mapping.remote)
        protocol, sport, dport = mapping.protocol, mapping.inside_port, mapping.remote_port
        if self.by_original.get((protocol, src, sport, dst, dport)) is mapping:
            del self.by_original[protocol, src, sport, dst, dport]
        if self.by_reply.get((protocol, dst, dport, mapping.outside_port)) is mapping:
            del self.by_reply[protocol, dst, dport, mapping.outside_port]
        same_source = self.by_source.get((protocol, src, sport))
        if same_source is not None and mapping in same_source:
            same_source.remove(mapping)
            if not same_source:
                del self.by_source[protocol, src, sport]
        mapping.queued = -1
        self.events.append(NatEvent(mapping.expires if kind == "expired" else now, kind, mapping))

    def next_deadline(self) -> int | None:
        """When the next mapping times out (simulated ns), or None without mappings."""
        heap = self.heap
        while heap:
            deadline, _, mapping = heap[0]
            if deadline != mapping.queued:  # removed, or filed again under a sooner deadline
                heapq.heappop(heap)
            elif mapping.expires > deadline:  # refreshed since: file it under its new deadline
                heapq.heappop(heap)
                self.queue(mapping)
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
            mapping = heapq.heappop(self.heap)[2]
            self.remove(mapping, "expired", now)
            expired.append(mapping)

    def drain_events(self) -> list[NatEvent]:
        """The events since the last call (mapping created, expired, reset), oldest first."""
        events, self.events = self.events, []
        return events
