"""Slow start after idle (RFC 5681 §4.1, RFC 7661's reading of it as Linux does it: tcp_cwnd_restart)."""

from __future__ import annotations

__all__ = ["restart_after_idle"]


def restart_after_idle(cwnd: int, ssthresh: int, initial: int, idle_ns: int, rto_ns: int) -> tuple[int, int]:
    """(cwnd, ssthresh) when the application writes after `idle_ns` with nothing in flight and idle_ns > rto_ns.

    Linux tcp_cwnd_restart: ssthresh keeps 3/4 of the old cwnd (tcp_current_ssthresh), and cwnd halves once per
    RTO of idle time, never below the restart window min(initial window, cwnd). RFC 5681 §4.1 would drop straight
    to the restart window; Linux's halving is the RFC 2861 decay."""
    ssthresh = max(ssthresh, (cwnd >> 1) + (cwnd >> 2))
    restart = min(initial, cwnd)
    idle_ns -= rto_ns
    while idle_ns > 0 and cwnd > restart:
        cwnd >>= 1
        idle_ns -= rto_ns
    return max(cwnd, restart), ssthresh
