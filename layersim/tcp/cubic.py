"""CUBIC congestion avoidance (RFC 9438), on top of NewReno's slow start and fast recovery."""

from __future__ import annotations

from layersim.tcp.congestion import NewReno
from layersim.tcp.profile import Profile

__all__ = ["Cubic", "controller"]

C = 0.4                              # RFC 9438 §5.1: segments / s**3
BETA = 0.7                           # RFC 9438 §4.6: multiplicative decrease
ALPHA = 3 * (1 - BETA) / (1 + BETA)  # RFC 9438 §4.3: Reno-friendly additive increase
_S = 1e9


class Cubic(NewReno):
    """cwnd follows W(t) = C (t - K)**3 + W_max after a loss, never below the Reno-friendly estimate."""

    __slots__ = ("_epoch", "_k", "_last_event_cwnd", "_origin", "_w_est", "w_max")

    def __init__(self, profile: Profile, mss: int) -> None:
        super().__init__(profile, mss)
        self.w_max = 0.0            # segments, at the last congestion event
        self._epoch: int | None = None
        self._k = 0.0
        self._origin = 0.0
        self._w_est = 0.0
        self._last_event_cwnd = self.cwnd

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


def controller(profile: Profile, mss: int) -> NewReno:
    """The congestion controller the profile names: "newreno" or "cubic"."""
    if profile.congestion_control == "cubic":
        return Cubic(profile, mss)
    if profile.congestion_control != "newreno":
        from layersim.errors import LayersimError

        raise LayersimError(f"TCP profile {profile.name!r}: unknown congestion control "
                            f"{profile.congestion_control!r} (use 'newreno' or 'cubic')")
    return NewReno(profile, mss)
