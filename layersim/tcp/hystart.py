"""HyStart (RFC 9438 §4.10 refers to it; this is Linux's, tcp_cubic.c): leave slow start before the first loss."""

from __future__ import annotations

from layersim.tcp.profile import Profile
from layersim.tcp.seq import seq_lt

__all__ = ["ACK_TRAIN", "DELAY", "HyStart"]

ACK_TRAIN = 0x1          # HYSTART_ACK_TRAIN: a round's ACKs keep coming back-to-back for half the minimum RTT
DELAY = 0x2              # HYSTART_DELAY: the round's smallest RTT has grown past the minimum by a threshold
MIN_SAMPLES = 8          # HYSTART_MIN_SAMPLES: delay samples per round before the delay test decides
DELAY_MIN_NS = 4_000_000   # HYSTART_DELAY_MIN 4 ms
DELAY_MAX_NS = 16_000_000  # HYSTART_DELAY_MAX 16 ms
_US = 1000


class HyStart:
    """Per-round state (a round ends when the ACK passes the SND.NXT it started with); `found` once it fired."""

    __slots__ = ("_ack_delta", "_detect", "curr_rtt", "delay_min", "end_seq", "found", "last_ack", "round_start",
                 "sample_cnt", "started")

    def __init__(self, profile: Profile) -> None:
        self._detect = profile.hystart_detect
        self._ack_delta = profile.hystart_ack_delta_ns
        self.found = False
        self.started = False     # the first round begins with the first ACK sample
        self.delay_min = 0       # ns; the smallest RTT sample seen (Linux ca->delay_min)
        self.round_start = 0
        self.last_ack = 0
        self.end_seq = 0
        self.curr_rtt = 0
        self.sample_cnt = 0

    def reset(self, now: int, snd_nxt: int) -> None:
        """A new round starts (Linux bictcp_hystart_reset)."""
        self.started = True
        self.round_start = self.last_ack = now
        self.end_seq = snd_nxt
        self.curr_rtt = 1 << 62
        self.sample_cnt = 0

    def update(self, now: int, snd_una: int, snd_nxt: int, delay: int, ack_delay: int) -> bool:
        """One ACK's RTT sample in slow start (Linux hystart_update); True when slow start should end here.
        `ack_delay` is Linux's hystart_ack_delay: how much a GSO burst at the pacing rate may stretch a train."""
        if seq_lt(self.end_seq, snd_una):
            self.reset(now, snd_nxt)
        if self._detect & ACK_TRAIN and now - self.last_ack <= self._ack_delta:
            self.last_ack = now
            # the train must last half the minimum RTT (no pacing: SK_PACING_NONE halves the threshold);
            # Linux counts in microseconds
            threshold = (self.delay_min // _US + ack_delay // _US) >> 1
            if (now - self.round_start) // _US > threshold:
                self.found = True
        if self._detect & DELAY:
            if self.curr_rtt > delay:
                self.curr_rtt = delay
            if self.sample_cnt < MIN_SAMPLES:
                self.sample_cnt += 1
            elif self.curr_rtt > self.delay_min + min(max(self.delay_min >> 3, DELAY_MIN_NS), DELAY_MAX_NS):
                self.found = True
        return self.found
