"""When each segment left, for an RTT sample from every ACK (Linux takes one from each skb's send time)."""

from __future__ import annotations

from collections import deque

from layersim.tcp.seq import seq_le, seq_lt

__all__ = ["SendTimes"]


class SendTimes:
    """First transmissions in sequence order as (end, time); a range retransmitted gives no sample (Karn)."""

    __slots__ = ("_q", "rexmit_high")

    def __init__(self, una: int) -> None:
        self._q: deque[tuple[int, int]] = deque()
        self.rexmit_high = una  # everything below this has been retransmitted at least once since it was sent

    def sent(self, end: int, now: int) -> None:
        """New data up to `end` left at `now`."""
        self._q.append((end, now))

    def retransmitted(self, end: int) -> None:
        """Data up to `end` went again: the ACK for it cannot say which transmission it answers."""
        if seq_lt(self.rexmit_high, end):
            self.rexmit_high = end

    def acked(self, ack: int, now: int) -> int | None:
        """Forget what `ack` covers; the RTT of the newest segment it covers, unless that one was retransmitted
        (Linux tcp_clean_rtx_queue: the last acknowledged skb's send time, ca_rtt_us)."""
        q = self._q
        last = None
        while q and seq_le(q[0][0], ack):
            last = q.popleft()
        if last is None or seq_le(last[0], self.rexmit_high):
            return None
        return now - last[1]

    def clear(self) -> None:
        """After a timeout everything outstanding goes again."""
        self._q.clear()
