"""Proportional Rate Reduction (RFC 6937) as Linux does it (tcp_cwnd_reduction), counted in segments."""

from __future__ import annotations

__all__ = ["PRR"]


class PRR:
    """One recovery episode: what the ACKs delivered and what was sent, to spread the cwnd reduction over an RTT."""

    __slots__ = ("delivered", "out", "prior_cwnd", "reno_sacked", "ssthresh")

    def __init__(self, ssthresh: int, prior_cwnd: int) -> None:
        self.ssthresh = ssthresh            # segments: the cwnd recovery ends with
        self.prior_cwnd = max(prior_cwnd, 1)  # RFC 6937 RecoverFS (Linux uses the cwnd before the reduction)
        self.delivered = 0                  # prr_delivered
        self.out = 0                        # prr_out: segments sent (new or retransmitted) since recovery began
        self.reno_sacked = 0                # without SACK: bytes the duplicate ACKs said left the network

    def send_count(self, delivered: int, pipe: int, una_advanced: bool) -> int | None:
        """Segments this ACK may send (RFC 6937 §3); None when it delivered nothing (cwnd stays as it is)."""
        if delivered <= 0:
            return None
        self.delivered += delivered
        room = self.ssthresh - pipe
        if room < 0:  # proportional part: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out
            count = (self.ssthresh * self.delivered + self.prior_cwnd - 1) // self.prior_cwnd - self.out
        else:  # slow-start reduction bound (PRR-SSRB); Linux adds the extra segment only when SND.UNA advanced
            count = max(self.delivered - self.out, delivered) + (1 if una_advanced else 0)
            count = min(room, count)
        return max(count, 0 if self.out else 1)  # Linux: the first ACK of recovery always sends (fast retransmit)
