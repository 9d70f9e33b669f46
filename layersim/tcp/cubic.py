"""CUBIC congestion avoidance (RFC 9438), on top of NewReno's slow start and fast recovery."""

from __future__ import annotations

from layersim.tcp.congestion import NewReno
from layersim.tcp.hystart import HyStart
from layersim.tcp.profile import Profile
from layersim.tcp.seq import seq_lt

__all__ = ["Cubic", "controller"]

C = 0.4                              # RFC 9438 §5.1: segments / s**3
BETA = 0.7                           # RFC 9438 §4.6: multiplicative decrease
ALPHA = 3 * (1 - BETA) / (1 + BETA)  # RFC 9438 §4.3: Reno-friendly additive increase
_S = 1e9


class Cubic(NewReno):
    """cwnd follows W(t) = C (t - K)**3 + W_max after a loss, never below the Reno-friendly estimate."""

    __slots__ = ("_epoch", "_gso_max_size", "_hs_low", "_k", "_last_event_cwnd", "_origin", "_w_est", "hystart",
                 "w_max")

    def __init__(self, profile: Profile, mss: int) -> None:
        super().__init__(profile, mss)
        self.w_max = 0.0            # segments, at the last congestion event
        self._epoch: int | None = None
        self._k = 0.0
        self._origin = 0.0
        self._w_est = 0.0
        self._last_event_cwnd = self.cwnd
        self.hystart = HyStart(profile) if profile.hystart else None
        self._hs_low = profile.hystart_low_window
        self._gso_max_size = profile.gso_max_size

    def on_sample(self, now: int, snd_una: int, snd_nxt: int, rtt_ns: int | None, mss: int,
                  srtt_ns: int | None) -> bool:
        """An ACK's RTT sample, before cwnd grows (Linux cubictcp_acked); True when HyStart ended slow start."""
        hs = self.hystart
        if hs is None or rtt_ns is None:
            return False
        if self._epoch is not None and now - self._epoch < 1_000_000_000:
            return False  # Linux: no delay samples in the second after a congestion epoch began
        delay = rtt_ns if rtt_ns > 0 else 1
        if hs.delay_min == 0 or hs.delay_min > delay:
            hs.delay_min = delay
        cwnd = self.cwnd
        if hs.found or cwnd >= self.ssthresh:
            return False
        if not hs.started:
            hs.reset(now, snd_nxt)  # cubictcp_init: the first round starts with the first ACK
        if cwnd < self._hs_low * mss:
            if seq_lt(hs.end_seq, snd_una):  # cubictcp_cong_avoid still starts new rounds
                hs.reset(now, snd_nxt)
            return False
        # hystart_ack_delay: a GSO burst (4 x gso_max_size) at the slow-start pacing rate (2 cwnd / srtt), <= 1 ms
        ack_delay = min(1_000_000, self._gso_max_size * 4 * srtt_ns // (2 * cwnd)) if srtt_ns else 0
        if hs.update(now, snd_una, snd_nxt, delay, ack_delay):
            self.ssthresh = cwnd
            return True
        return False

    def on_ack(self, acked: int, mss: int, now: int, srtt_ns: int | None) -> bool:
        """Slow start below ssthresh, else grow towards W_cubic(t + RTT) (RFC 9438 §4.2)."""
        if self.cwnd < self.ssthresh:
            return super().on_ack(acked, mss, now, srtt_ns)
        cwnd = self.cwnd / mss
        if self._epoch is None:  # the first ACK of congestion avoidance starts the epoch
            self._epoch = now
            if cwnd < self.w_max:
                self._k = ((self.w_max - cwnd) / C) ** (1 / 3)
                self._origin = self.w_max
            else:
                self._k = 0.0
                self._origin = cwnd
            self._w_est = cwnd
        t = (now - self._epoch + (srtt_ns or 0)) / _S
        target = self._origin + C * (t - self._k) ** 3
        target = min(max(target, cwnd), 1.5 * cwnd)  # RFC 9438 §4.2: target within [cwnd, 1.5 cwnd]
        self._w_est += ALPHA * (acked / mss) / cwnd   # RFC 9438 §4.3
        if self._w_est > target:
            target = self._w_est
        grown = cwnd + (target - cwnd) / cwnd * (acked / mss)
        self.cwnd = max(int(grown * mss), self.cwnd)
        if self.cwnd - self._last_event_cwnd >= mss:
            self._last_event_cwnd = self.cwnd
            return True
        return False

    def on_tx_start(self, idle_ns: int, now: int) -> None:
        """Linux bictcp_cwnd_event(CA_EVENT_TX_START): idle time does not count as growth time (RFC 9438 §5.8)."""
        if self._epoch is not None and idle_ns > 0:
            self._epoch = min(self._epoch + idle_ns, now)

    def _congestion_event(self, mss: int) -> None:
        """RFC 9438 §4.6-4.7: remember W_max (with fast convergence), ssthresh = beta * cwnd."""
        cwnd = self.cwnd / mss
        self.w_max = cwnd * (1 + BETA) / 2 if cwnd < self.w_max else cwnd
        self.ssthresh = max(int(self.cwnd * BETA), 2 * mss)
        self._epoch = None

    def enter_recovery(self, flight: int, mss: int, snd_max: int) -> None:
        """Fast retransmit: reduce to beta * cwnd, then NewReno's recovery with that ssthresh."""
        self._congestion_event(mss)
        self.cwnd = self.ssthresh + 3 * mss
        self.recover = snd_max
        self.in_recovery = True
        self._last_event_cwnd = self.ssthresh

    def on_timeout(self, flight: int, mss: int) -> None:
        """RTO: W_max and ssthresh as for a fast retransmit, cwnd one segment (RFC 9438 §4.8)."""
        self._congestion_event(mss)
        self.cwnd = mss
        self.in_recovery = False
        self.dupacks = 0
        self._last_event_cwnd = mss
        if self.hystart is not None:  # Linux cubictcp_state(TCP_CA_Loss): bictcp_reset and a new HyStart round
            self.hystart.found = self.hystart.started = False
            self.hystart.delay_min = 0


def controller(profile: Profile, mss: int) -> NewReno:
    """The congestion controller the profile names: "newreno" or "cubic"."""
    if profile.congestion_control == "cubic":
        return Cubic(profile, mss)
    if profile.congestion_control != "newreno":
        from layersim.errors import LayersimError

        raise LayersimError(f"TCP profile {profile.name!r}: unknown congestion control "
                            f"{profile.congestion_control!r} (use 'newreno' or 'cubic')")
    return NewReno(profile, mss)
