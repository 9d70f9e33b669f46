"""RFC 6298 SRTT, RTTVAR and RTO against values worked out by hand, Linux's tcp_set_rto variant, and backoff."""

from __future__ import annotations

from dataclasses import replace

from layersim.tcp import LINUX, RFC
from layersim.tcp.rto import RttEstimator

MS = 1_000_000
S = 1000 * MS
RFC_NO_FLOOR = replace(RFC, min_rto_ns=0)  # the RFC formula with nothing hiding the 4 * RTTVAR term


def test_before_any_sample():
    """RFC 6298 §2.1: RTO 1 s, no SRTT or RTTVAR yet, no backoff."""
    rtt = RttEstimator(RFC)
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns, rtt.backoffs) == (None, None, 1 * S, 0)


def test_first_second_and_third_sample_rfc():
    """RFC 6298 §2.2-2.3 by hand: R=100 ms gives SRTT 100, RTTVAR 50, RTO 100 + 4*50 = 300 ms; then R'=180 ms gives
    RTTVAR (3*50 + |100-180|)/4 = 57.5, SRTT (7*100 + 180)/8 = 110, RTO 340 ms; then R'=20 ms gives
    RTTVAR (3*57.5 + |110-20|)/4 = 65.625, SRTT (7*110 + 20)/8 = 98.75, RTO 361.25 ms."""
    rtt = RttEstimator(RFC_NO_FLOOR)
    rtt.sample(100 * MS)
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (100 * MS, 50 * MS, 300 * MS)
    rtt.sample(180 * MS)
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (110 * MS, 57_500_000, 340 * MS)
    rtt.sample(20 * MS)
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (98_750_000, 65_625_000, 361_250_000)


def test_rfc_floor_granularity_and_ceiling():
    """RFC 6298 §2.4: RTO at least 1 s; §2.3: the variance term at least G; §2.5: a maximum (60 s here)."""
    rtt = RttEstimator(RFC)
    rtt.sample(100 * MS)
    assert rtt.rto_ns == 1 * S
    rtt = RttEstimator(RFC_NO_FLOOR)
    rtt.sample(1)  # RTTVAR 0: the clock granularity G = 1 ms stands in for 4 * RTTVAR
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (1, 0, 1 + 1 * MS)
    rtt = RttEstimator(RFC)
    rtt.sample(30 * S)
    assert rtt.rto_ns == 60 * S  # 30 + 4 * 15 = 90 s, capped


def test_nanosecond_samples_round_down_and_a_zero_sample_counts_as_one():
    """A sample of 0 ns is taken as 1 ns; RTTVAR from a 1 ns SRTT rounds down to 0, then grows from 0."""
    rtt = RttEstimator(replace(RFC_NO_FLOOR, clock_granularity_ns=1))
    rtt.sample(0)
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (1, 0, 2)
    rtt.sample(3)  # RTTVAR (3*0 + |1-3|)/4 = 0 (an RTTVAR of 0 is a value, not "none yet"), SRTT (7*1 + 3)/8 = 1
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (1, 0, 2)
    rtt.sample(5)  # RTTVAR (3*0 + |1-5|)/4 = 1, SRTT (7*1 + 5)/8 = 1
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (1, 1, 5)


def test_linux_variance_term_has_a_200_ms_floor():
    """Linux tcp_set_rto: RTO = SRTT + max(4 * RTTVAR, 200 ms): R=200 ms gives 200 + 400 = 600 ms, R=10 ms 210 ms."""
    rtt = RttEstimator(LINUX)
    rtt.sample(200 * MS)
    assert (rtt.srtt_ns, rtt.rttvar_ns, rtt.rto_ns) == (200 * MS, 100 * MS, 600 * MS)
    rtt = RttEstimator(LINUX)
    rtt.sample(10 * MS)
    assert rtt.rto_ns == 210 * MS


def test_backoff_doubles_to_the_maximum_and_resets():
    """RFC 6298 §5.5: each timeout doubles the RTO up to the maximum; new data acked restores the estimate."""
    rtt = RttEstimator(RFC)
    seen = []
    for _ in range(7):
        rtt.backoff()
        seen.append(rtt.rto_ns // S)
    assert seen == [2, 4, 8, 16, 32, 60, 60] and rtt.backoffs == 7
    rtt.reset_backoff()
    assert (rtt.rto_ns, rtt.backoffs) == (1 * S, 0)
    rtt.backoff()
    rtt.sample(100 * MS)  # a fresh sample also ends the backoff (RFC 6298 §5.7)
    assert (rtt.rto_ns, rtt.backoffs) == (1 * S, 0)
