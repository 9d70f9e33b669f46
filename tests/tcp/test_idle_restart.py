"""Slow start after idle (net.ipv4.tcp_slow_start_after_idle; Linux tcp_cwnd_restart, RFC 5681 §4.1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from layersim.tcp import LINUX, RFC
from layersim.tcp.idle import restart_after_idle
from tests.tcp.pair import MS, TCPPair

MSS = 1448
IW = 10 * MSS
RTO = 210 * MS  # srtt 10 ms + Linux's 200 ms floor on the variance term


@pytest.mark.parametrize(("idle", "cwnd"), [
    (RTO, 40 * MSS),              # exactly one RTO: not idle yet (Linux: delta > icsk_rto)
    (RTO + 1, 20 * MSS),          # just over: halved once
    (2 * RTO, 20 * MSS),          # (delta - rto) > 0 once, then 0: still one halving
    (2 * RTO + 1, 10 * MSS),      # two halvings reach the restart window
    (10 * RTO, 10 * MSS),         # never below min(initial window, cwnd)
])
def test_cwnd_halves_per_rto_of_idle_down_to_the_initial_window(idle, cwnd):
    assert restart_after_idle(40 * MSS, 1 << 30, IW, idle, RTO) == (cwnd, 1 << 30)


def test_ssthresh_keeps_three_quarters_and_a_small_cwnd_stays():
    """tcp_current_ssthresh: max(ssthresh, 3/4 cwnd); a cwnd below the initial window is not raised."""
    assert restart_after_idle(40 * MSS, 8 * MSS, IW, 5 * RTO, RTO) == (IW, 30 * MSS)
    assert restart_after_idle(4 * MSS, 2 * MSS, IW, 5 * RTO, RTO) == (4 * MSS, 3 * MSS)


def grown_pair(profile=LINUX) -> TCPPair:
    """A pair whose client has sent 200 kB (cwnd well above the initial window) and is now quiet."""
    p = TCPPair(client_profile=profile).open()
    p.transfer(bytes(200_000), b"")
    p.run()
    return p


def last_data_sent(p: TCPPair) -> int:
    return max(s.time for s in p.sent("c>s") if s.segment.payload)


@pytest.mark.parametrize(("idle", "segments"), [(RTO, 40), (RTO + 1, 20), (5 * RTO, 10)])
def test_a_write_after_idle_sends_the_restarted_window(idle, segments):
    """Segments on the wire: after more than an RTO of silence one write sends only the restarted cwnd."""
    p = grown_pair()
    p.client.cc.cwnd = 40 * MSS  # a known window to restart from
    assert p.client.rto_ns == RTO
    p.now = last_data_sent(p) + idle
    _, out = p.client.send(bytes(100 * MSS), p.now)
    assert len([s for s in out if s.payload]) == segments
    assert p.client.cwnd == segments * MSS
    if idle > RTO:
        assert p.client.ssthresh >= 30 * MSS
        assert any(e.details["reason"] == "restart after idle" for e in p.client.drain_events() if e.kind == "cwnd")


def test_the_knob_off_and_the_rfc_profile_keep_the_window():
    for profile in (replace(LINUX, tcp_slow_start_after_idle=False), RFC):
        p = grown_pair(profile)
        cwnd = p.client.cwnd
        p.now = last_data_sent(p) + 10 * p.client.rto_ns
        p.client.send(bytes(10 * MSS), p.now)
        assert p.client.cwnd == cwnd
