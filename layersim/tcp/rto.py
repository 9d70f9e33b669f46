"""Round-trip time estimation and the retransmission timeout (RFC 6298), with exponential backoff."""

from __future__ import annotations

from layersim.tcp.profile import Profile

__all__ = ["RttEstimator"]


class RttEstimator:
    """SRTT, RTTVAR and RTO from RTT samples; `backoff()` doubles the RTO after a timeout (RFC 6298 §5.5)."""

    __slots__ = ("_base_rto", "_g", "_linux", "_max", "_min", "backoffs", "rto_ns", "rttvar_ns", "srtt_ns")

    def __init__(self, profile: Profile) -> None:
        self.srtt_ns: int | None = None
        self.rttvar_ns: int | None = None
        self._min = profile.min_rto_ns
        self._max = profile.max_rto_ns
        self._g = profile.clock_granularity_ns
        self._linux = profile.rto_formula == "linux"
        self._base_rto = profile.initial_rto_ns  # RFC 6298 §2.1: 1 s until the first sample
        self.rto_ns = self._base_rto
        self.backoffs = 0

    def sample(self, r: int) -> None:
        """Fold in one RTT measurement in ns (RFC 6298 §2.2/§2.3) and reset the backoff."""
        r = max(r, 1)
        srtt = self.srtt_ns
        if srtt is None:
            srtt, rttvar = r, r // 2
        else:
            rttvar = self.rttvar_ns or 0
            rttvar = (3 * rttvar + abs(srtt - r)) // 4
            srtt = (7 * srtt + r) // 8
        self.srtt_ns, self.rttvar_ns = srtt, rttvar
        # Linux tcp_set_rto: the variance term is at least the minimum RTO; RFC 6298 §2.4: RTO at least the minimum
        rto = (srtt + max(4 * rttvar, self._min) if self._linux
               else max(self._min, srtt + max(self._g, 4 * rttvar)))
        self._base_rto = min(rto, self._max)
        self.backoffs = 0
        self.rto_ns = self._base_rto

    def backoff(self) -> None:
        """Double the RTO, up to the maximum (RFC 6298 §5.5)."""
        self.backoffs += 1
        self.rto_ns = min(self.rto_ns * 2, self._max)

    def reset_backoff(self) -> None:
        """Back to the estimated RTO once new data is acknowledged."""
        self.backoffs = 0
        self.rto_ns = self._base_rto
