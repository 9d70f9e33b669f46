"""The ARP cache of a host or router (RFC 826, RFC 1122 §2.3.2): entries, pending packets, retries, timeouts.

Protocol logic without I/O: the owner calls `lookup`, `queue`, `learn` and `on_timeout` with the current time, and
gets back what to send or what failed; the owner sends frames and schedules timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from layersim.wire.addresses import MAC

__all__ = ["ArpCache", "Pending"]


@dataclass(slots=True)
class Pending:
    """Packets waiting for one next hop's MAC, and how many requests were sent."""

    interface: str
    packets: list[Any] = field(default_factory=list)
    requests_sent: int = 0


class ArpCache:
    """Neighbour entries with an expiry time, plus the queue of packets waiting for resolution."""

    def __init__(self, *, reachable_ns: int = 30_000_000_000, retransmit_ns: int = 1_000_000_000,
                 max_requests: int = 3, queue_limit: int = 100) -> None:
        self.reachable_ns = reachable_ns
        self.retransmit_ns = retransmit_ns
        self.max_requests = max_requests
        self.queue_limit = queue_limit
        self.entries: dict[IPv4Address, tuple[MAC, int]] = {}
        self.pending: dict[IPv4Address, Pending] = {}
        self._by_int: dict[int, tuple[MAC, int]] = {}  # the same entries keyed by int, for the per-frame path

    def lookup(self, ip: IPv4Address, now: int) -> MAC | None:
        """The MAC for `ip` if known and not expired."""
        entry = self.entries.get(ip)
        if entry is None:
            return None
        mac, expires = entry
        if expires <= now:
            del self.entries[ip]
            self._by_int.pop(int(ip), None)
            return None
        return mac

    def lookup_int(self, ip: int, now: int) -> MAC | None:
        """`lookup` for an address given as an int (no address object on the per-frame path)."""
        entry = self._by_int.get(ip)
        if entry is None:
            return None
        if entry[1] <= now:
            return self.lookup(IPv4Address(ip), now)
        return entry[0]

    def queue(self, ip: IPv4Address, interface: str, packet: Any) -> tuple[bool, bool]:
        """Hold a packet until `ip` resolves: returns (queued, first) — `first` means send a request now."""
        pending = self.pending.get(ip)
        first = pending is None
        if pending is None:
            pending = self.pending[ip] = Pending(interface)
        if len(pending.packets) >= self.queue_limit:
            return False, first
        pending.packets.append(packet)
        return True, first

    def learn(self, ip: IPv4Address, mac: MAC, now: int, *, create: bool = True) -> list[Any]:
        """Record ip -> mac (only update an existing entry unless `create`); returns packets now sendable."""
        if create or ip in self.entries or ip in self.pending:
            self.entries[ip] = self._by_int[int(ip)] = (mac, now + self.reachable_ns)
        pending = self.pending.pop(ip, None)
        return pending.packets if pending is not None else []

    def on_timeout(self, ip: IPv4Address) -> tuple[bool, list[Any]]:
        """A retransmit timer fired: returns (send another request, packets that failed for good)."""
        pending = self.pending.get(ip)
        if pending is None:
            return False, []
        if pending.requests_sent < self.max_requests:
            return True, []
        del self.pending[ip]
        return False, pending.packets

    def __str__(self) -> str:
        lines = [f"{ip} lladdr {mac} expires {expires} ns" for ip, (mac, expires) in sorted(self.entries.items())]
        lines += [f"{ip} INCOMPLETE ({len(p.packets)} queued)" for ip, p in sorted(self.pending.items())]
        return "\n".join(lines)
