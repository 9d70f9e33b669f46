"""The per-destination token bucket both ICMP versions limit their errors with (Linux's inet_peer_xrlim_allow)."""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["XRLIM_BURST", "ErrorRateLimit"]

XRLIM_BURST = 6  # net/ipv4/inetpeer.c XRLIM_BURST_FACTOR: a burst of 6 messages, then one per interval


class ErrorRateLimit:
    """Tokens per destination: each message takes one, one comes back per `interval_ns`, at most `burst` kept."""

    def __init__(self, burst: int = XRLIM_BURST) -> None:
        self.burst = burst
        self._tokens: dict[Hashable, tuple[float, int]] = {}

    def allow(self, dst: Hashable, interval_ns: int, now: int) -> bool:
        """Whether a message to `dst` may go now; takes a token when it may."""
        tokens, last = self._tokens.get(dst, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) / interval_ns) if interval_ns > 0 else self.burst
        if tokens < 1:
            self._tokens[dst] = (tokens, now)
            return False
        self._tokens[dst] = (tokens - 1, now)
        return True
