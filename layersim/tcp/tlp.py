"""The tail loss probe timeout (RFC 8985 §7.2 as Linux computes it: tcp_schedule_loss_probe)."""

from __future__ import annotations

__all__ = ["probe_timeout"]

_MS = 1_000_000
INITIAL_PTO_NS = 1000 * _MS   # TCP_TIMEOUT_INIT: no RTT sample yet
DELACK_ALLOWANCE_NS = 200 * _MS  # TCP_RTO_MIN: one segment out may wait for the peer's delayed ACK
MIN_EXTRA_NS = 2 * _MS        # TCP_TIMEOUT_MIN: two jiffies


def probe_timeout(srtt_ns: int | None, one_segment: bool, rto_left_ns: int) -> int:
    """PTO: 2 SRTT, plus the delayed-ACK allowance when a single segment is out, never later than the RTO."""
    extra = DELACK_ALLOWANCE_NS if one_segment else MIN_EXTRA_NS
    pto = INITIAL_PTO_NS if srtt_ns is None else 2 * srtt_ns + extra
    return min(pto, max(rto_left_ns, 1))
