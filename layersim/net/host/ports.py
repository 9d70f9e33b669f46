"""The ports of one protocol on one host, in a table keyed by port, and the ephemeral port choice that reads it.

Each port knows who holds it, counted by a key the protocol chooses (UDP: the local address; TCP: whether a
bind() or a connection holds it, and on which address), so whether a port is free under a rule is a few dict
look-ups, never a scan over the host's sockets. The ports of the ephemeral range that nobody holds are kept in a
pool (a list and each port's slot in it) once the first choice collides, so a collision is resolved in O(1).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from random import Random

__all__ = ["EPHEMERAL_PORTS", "PortTable"]

EPHEMERAL_PORTS = (32768, 60999)  # Linux net.ipv4.ip_local_port_range
_NOBODY: dict[Hashable, int] = {}  # what `holders_of` returns for a free port (never written to)


class PortTable:
    """Who holds each port of one protocol on one host, and a free ephemeral port in O(1) amortised."""

    __slots__ = ("_pool", "_slot", "high", "holders", "low", "probes")

    def __init__(self, ports: tuple[int, int] = EPHEMERAL_PORTS) -> None:
        self.low, self.high = ports
        self.holders: dict[int, dict[Hashable, int]] = {}  # port -> {holder key: how many hold it so}
        self._pool: list[int] | None = None  # the ephemeral ports nobody holds, built at the first collision
        self._slot: dict[int, int] = {}  # port -> its index in _pool
        self.probes = 0  # candidate ports tried so far, for tests that count the work of a choice

    def holders_of(self, port: int) -> dict[Hashable, int]:
        """The keys holding `port` and their counts (empty when it is free); do not modify it."""
        return self.holders.get(port, _NOBODY)

    def hold(self, port: int, key: Hashable) -> None:
        """Record one more holder of `port` under `key`."""
        keys = self.holders.get(port)
        if keys is None:
            keys = self.holders[port] = {}
            if self._pool is not None and port in self._slot:
                self._take(port)
        keys[key] = keys.get(key, 0) + 1

    def release(self, port: int, key: Hashable) -> None:
        """Forget one holder of `port` under `key` (as many releases as holds)."""
        keys = self.holders.get(port)
        if keys is None or key not in keys:
            return
        if keys[key] > 1:
            keys[key] -= 1
            return
        del keys[key]
        if not keys:
            del self.holders[port]
            if self._pool is not None and self.low <= port <= self.high:
                self._slot[port] = len(self._pool)
                self._pool.append(port)

    def choose(self, rng: Random, acceptable: Callable[[int], bool]) -> int | None:
        """An ephemeral port that `acceptable` allows, or None when none does.

        The first candidate is Linux's: a random offset into ip_local_port_range (__inet_hash_connect,
        udp_lib_get_port), one draw of the host's generator. Linux walks on from a taken offset, which costs more
        the fuller the range is; here a taken candidate is replaced by a port nobody holds, picked from the pool
        by the same offset (no further draw, so the generator's sequence and the choice stay seeded). Only when
        every port of the range has a holder does it walk the range, since a rule may still allow a held port
        (one bound on another address, or used by a connection to another peer)."""
        low = self.low
        span = self.high - low + 1
        offset = rng.randrange(span)
        self.probes += 1
        if acceptable(low + offset):
            return low + offset
        pool = self._free_pool()
        if pool:
            self.probes += 1
            return pool[offset % len(pool)]
        for step in range(1, span):
            port = low + (offset + step) % span
            self.probes += 1
            if acceptable(port):
                return port
        return None

    def _free_pool(self) -> list[int]:
        if self._pool is None:
            self._pool = [port for port in range(self.low, self.high + 1) if port not in self.holders]
            self._slot = {port: index for index, port in enumerate(self._pool)}
        return self._pool

    def _take(self, port: int) -> None:
        """Remove `port` from the pool: the last port moves into its slot."""
        assert self._pool is not None
        index = self._slot.pop(port)
        last = self._pool.pop()
        if last != port:
            self._pool[index] = last
            self._slot[last] = index
