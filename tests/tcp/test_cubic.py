"""CUBIC (RFC 9438): the window curve after a loss, fast convergence, and whole transfers with it."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from layersim.errors import LayersimError
from layersim.tcp import LINUX, RFC
from layersim.tcp.cubic import BETA, C, Cubic, controller
from tests.tcp.pair import MS, TCPPair, drop_where, lossy

MSS = 1000
RTT = 100 * MS
S = 1000 * MS
CUBIC = replace(LINUX, congestion_control="cubic")


def after_loss(w_max_segments: int) -> Cubic:
    """A controller just out of recovery from a loss at w_max_segments."""
    cc = Cubic(CUBIC, MSS)
    cc.cwnd = w_max_segments * MSS
    cc.enter_recovery(cc.cwnd, MSS, 0)
    cc.full_ack(10**9, MSS)
    return cc


def grow(cc: Cubic, rtts: int, start: int = 0) -> list[float]:
    """cwnd (segments) after each round trip in which a whole window is acknowledged, one segment per ACK."""
    out = []
    now = start
    for _ in range(rtts):
        for _ in range(cc.cwnd // MSS):
            cc.on_ack(MSS, MSS, now, RTT)
        now += RTT
        out.append(cc.cwnd / MSS)
    return out


def test_reduction_is_beta():
    cc = after_loss(100)
    assert cc.ssthresh == 70 * MSS and cc.cwnd == 70 * MSS and cc.w_max == 100


def test_window_returns_to_w_max_after_k_seconds():
    """RFC 9438 eq. 2: K = cbrt(W_max (1 - beta) / C): 4.22 s for W_max = 100 segments."""
    cc = after_loss(100)
    k = (100 * (1 - BETA) / C) ** (1 / 3)
    curve = grow(cc, 80)
    at_k = curve[round(k * 1e9 / RTT) - 2]  # W(t + RTT) is the target one round trip ahead
    assert 97 <= at_k <= 103
    steps = [b - a for a, b in itertools.pairwise(curve)]
    before = steps[5:int(k * 10) - 8]
    assert all(x >= y - 0.01 for x, y in itertools.pairwise(before))  # concave: growth slows
    after = steps[int(k * 10) + 5:]
    assert after[-1] > after[0] > 0  # convex: probing faster again beyond W_max
    assert min(steps[int(k * 10) - 3:int(k * 10) + 3]) < 1.0  # a plateau around W_max


def test_fast_convergence_lowers_w_max():
    """RFC 9438 §4.7: a loss below the previous W_max releases bandwidth: W_max = cwnd (1 + beta) / 2."""
    cc = after_loss(100)
    cc.cwnd = 80 * MSS
    cc.enter_recovery(cc.cwnd, MSS, 0)
    assert abs(cc.w_max - 80 * (1 + BETA) / 2) < 1e-9


def test_cubic_transfer_with_a_loss():
    """In a connection: fast retransmit leaves ssthresh at 0.7 cwnd, and the stream arrives whole."""
    p = TCPPair(client_profile=CUBIC, server_profile=CUBIC).open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and len(s.payload) > 0 and i == 30))
    data = random.Random(5).randbytes(400_000)
    assert p.transfer(data, b"") == (data, b"")
    loss = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "fast retransmit")
    assert abs(loss.details["ssthresh"] - BETA * p.client.cc.w_max * 1448) <= 1  # W_max: cwnd at the loss
    assert p.client.cc.w_max * 1448 > 10 * 1448  # it had grown past the initial window
    # Linux: PRR (RFC 6937) rather than NewReno's inflation sets cwnd in recovery, and recovery ends at ssthresh
    exit_cwnd = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "recovery exit")
    assert exit_cwnd.details["cwnd"] == exit_cwnd.details["ssthresh"] == loss.details["ssthresh"]
    assert loss.details["ssthresh"] < loss.details["cwnd"] < p.client.cc.w_max * 1448  # the pipe + 1 (PRR's first)


def test_cubic_stream_integrity_under_faults():
    for seed in range(4):
        rng = random.Random(seed)
        p = TCPPair(client_profile=CUBIC, server_profile=CUBIC,
                    rules=[lossy(random.Random(seed), rng.uniform(0, 0.2), 0.05, 0.1)]).open()
        up, down = rng.randbytes(80_000), rng.randbytes(80_000)
        assert p.transfer(up, down) == (up, down)


# Single ACKs against values worked out by hand from RFC 9438 (C = 0.4, beta = 0.7, alpha = 3 (1 - beta) / (1 + beta)
# = 0.5294); MSS 1000 so one segment is 1000 bytes.

def fresh(profile=CUBIC) -> Cubic:
    """A controller in congestion avoidance without any loss yet: cwnd = ssthresh = 10 segments, W_max = 0."""
    cc = Cubic(profile, MSS)
    cc.ssthresh = cc.cwnd = 10 * MSS
    return cc


def test_first_ack_without_a_loss_follows_the_cubic_from_cwnd():
    """No W_max above cwnd: K = 0 and the origin is cwnd (RFC 9438 §4.2), so one ACK at t = RTT = 1.2 s aims at
    W_cubic = 10 + 0.4 * 1.2**3 = 10.6912 (above W_est = 10 + 0.5294/10) and cwnd grows by
    (10.6912 - 10) / 10 segments = 69.12 bytes."""
    cc = fresh()
    assert cc.on_ack(MSS, MSS, 0, 1_200 * MS) is False
    assert cc.cwnd == 10_069


def test_reno_friendly_estimate_wins_early():
    """RFC 9438 §4.3: at t = 0.1 s W_cubic = 10.0004, but W_est = 10 + 0.5294 * 2/10 = 10.1059 after an ACK of two
    segments, so cwnd grows by (0.1059 / 10) * 2 segments = 21 bytes."""
    cc = fresh()
    assert cc.on_ack(2 * MSS, MSS, 0, RTT) is False
    assert cc.cwnd == 10_021


def test_target_is_capped_at_one_and_a_half_cwnd():
    """RFC 9438 §4.2: W_cubic(10 s) = 410 segments, but the target is at most 1.5 cwnd = 15: an ACK of two segments
    adds (15 - 10) / 10 * 2 = exactly one segment, which is a congestion-avoidance step (True)."""
    cc = fresh()
    assert cc.on_ack(2 * MSS, MSS, 0, 10 * S) is True
    assert cc.cwnd == 11 * MSS
    assert cc.on_ack(MSS, MSS, 0, 10 * S) is False  # 11 segments: +(16.5 - 11) / 11 = half a segment, no new step
    assert cc.cwnd == 11_500


def test_first_ack_after_a_loss_in_the_concave_region():
    """After a loss at W_max = 100: cwnd 70, K = cbrt((100 - 70) / 0.4) = 4.2172 s (RFC 9438 eq. 2); one ACK at the
    epoch start with RTT 0.1 s aims at W_cubic(0.1) = 100 + 0.4 (0.1 - 4.2172)**3 = 72.084, so cwnd grows by
    (72.084 - 70) / 70 segments = 29.8 bytes; the time since the epoch counts too (0.1 s later: 60.7 bytes)."""
    cc = after_loss(100)
    assert (cc.cwnd, cc.ssthresh) == (70 * MSS, 70 * MSS)
    assert cc.on_ack(MSS, MSS, 5 * S, RTT) is False
    assert cc.cwnd == 70_029
    cc = after_loss(100)
    cc.on_ack(MSS, MSS, 5 * S, RTT)
    cc.on_ack(MSS, MSS, 5 * S + RTT, RTT)  # W_cubic(0.2) = 100 + 0.4 (0.2 - 4.2172)**3 = 74.069 for cwnd 70.029:
    assert cc.cwnd == 70_086                 # + (74.069 - 70.029) / 70.029 = 0.0577 segments


def test_slow_start_below_ssthresh_uses_the_profile_counting():
    """Below ssthresh CUBIC slow-starts as NewReno does: one SMSS per ACK at most with the RFC profile."""
    cc = Cubic(replace(RFC, congestion_control="cubic"), MSS)
    assert cc.on_ack(2500, MSS, 0, RTT) is False
    assert cc.cwnd == 4 * MSS


def test_loss_at_exactly_w_max_keeps_w_max():
    """RFC 9438 §4.7: fast convergence only when cwnd is below the previous W_max; at W_max, W_max stays."""
    cc = after_loss(100)
    cc.cwnd = 100 * MSS
    cc.enter_recovery(cc.cwnd, MSS, 0)
    assert cc.w_max == 100


def test_timeout_sets_w_max_and_one_segment():
    """RFC 9438 §4.8: an RTO is a congestion event (W_max, ssthresh = beta cwnd, at least 2 SMSS), cwnd 1 SMSS,
    recovery over."""
    cc = after_loss(100)
    cc.enter_recovery(cc.cwnd, MSS, 0)  # cwnd 70 < W_max 100: W_max 70 * 0.85 = 59.5, ssthresh 49000, cwnd 52000
    assert (cc.in_recovery, cc.ssthresh, cc.cwnd) == (True, 49_000, 52_000)
    cc.dupacks = 3
    cc.on_timeout(0, MSS)  # cwnd 52 < 59.5: W_max 52 * 0.85 = 44.2, ssthresh 0.7 * 52000
    assert (cc.cwnd, cc.ssthresh, cc.in_recovery, cc.dupacks) == (MSS, 36_400, False, 0)
    assert abs(cc.w_max - 44.2) < 1e-9
    cc = fresh()
    cc.cwnd = 2 * MSS
    cc.on_timeout(0, MSS)
    assert (cc.ssthresh, cc.w_max) == (2 * MSS, 2)  # 0.7 * 2 segments is below the 2-segment floor


def test_unknown_congestion_control_is_named():
    with pytest.raises(LayersimError, match="TCP profile 'linux': unknown congestion control 'bbr'"):
        controller(replace(LINUX, congestion_control="bbr"), MSS)
