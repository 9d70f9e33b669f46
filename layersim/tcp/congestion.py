"""NewReno congestion control (RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery), in bytes."""

from __future__ import annotations

from layersim.tcp.profile import Profile

__all__ = ["NewReno"]


class NewReno:
    """cwnd and ssthresh in bytes, the fast-recovery point `recover`, and the duplicate-ACK count."""

    __slots__ = ("_acked", "_count_bytes", "cwnd", "dupacks", "in_recovery", "recover", "ssthresh")

    def __init__(self, profile: Profile, mss: int) -> None:
        self._count_bytes = profile.slow_start_counts_bytes
        self.cwnd = profile.initial_cwnd_segments * mss
        self.ssthresh = 1 << 30  # RFC 5681 §3.1: arbitrarily high
        self.recover = 0
        self.in_recovery = False
        self.dupacks = 0
        self._acked = 0  # bytes acked since cwnd last grew in congestion avoidance (RFC 3465)

    def on_ack(self, acked: int, mss: int, now: int, srtt_ns: int | None) -> bool:
        """New data acknowledged outside recovery: grow cwnd; True when congestion avoidance added a segment."""
        if self.cwnd < self.ssthresh:  # slow start
            self.cwnd += acked if self._count_bytes else min(acked, mss)
            return False
        self._acked += acked
        if self._acked >= self.cwnd:
            self._acked -= self.cwnd
            self.cwnd += mss
            return True
        return False

    def on_sample(self, now: int, snd_una: int, snd_nxt: int, rtt_ns: int | None, mss: int,
                  srtt_ns: int | None) -> bool:
        """An ACK's RTT sample before cwnd grows (Reno: nothing to do); True when slow start ended here."""
        return False

    def on_tx_start(self, idle_ns: int, now: int) -> None:
        """The application writes with nothing in flight, after `idle_ns` without sending (Reno: nothing to do)."""

    def enter_recovery(self, flight: int, mss: int, snd_max: int) -> None:
        """Three duplicate ACKs: halve, inflate by the three segments that left (RFC 6582 §3.2 step 2)."""
        self.ssthresh = max(flight // 2, 2 * mss)
        self.cwnd = self.ssthresh + 3 * mss
        self.recover = snd_max
        self.in_recovery = True
        self._acked = 0

    def partial_ack(self, acked: int, mss: int) -> None:
        """An ACK below `recover`: deflate by what it acked, add back one segment (RFC 6582 §3.2 step 5)."""
        self.cwnd = max(self.cwnd - acked + (mss if acked >= mss else 0), mss)

    def full_ack(self, flight: int, mss: int) -> None:
        """The ACK that covers `recover` ends recovery (RFC 6582 §3.2 step 3, option 1)."""
        self.cwnd = min(self.ssthresh, max(flight, mss) + mss)
        self.in_recovery = False
        self.dupacks = 0

    def on_timeout(self, flight: int, mss: int) -> None:
        """The retransmission timer fired: one segment of window (RFC 5681 §3.1 eq. 4)."""
        self.ssthresh = max(flight // 2, 2 * mss)
        self.cwnd = mss
        self.in_recovery = False
        self.dupacks = 0
        self._acked = 0
