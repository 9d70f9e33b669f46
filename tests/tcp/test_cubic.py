"""CUBIC (RFC 9438): the window curve after a loss, fast convergence, and whole transfers with it."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

from layersim.tcp import LINUX
from layersim.tcp.cubic import BETA, C, Cubic
from tests.tcp.pair import MS, TCPPair, drop_where, lossy

MSS = 1000
RTT = 100 * MS
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
    assert loss.details["ssthresh"] == loss.details["cwnd"] - 3 * 1448


def test_cubic_stream_integrity_under_faults():
    for seed in range(4):
        rng = random.Random(seed)
        p = TCPPair(client_profile=CUBIC, server_profile=CUBIC,
                    rules=[lossy(random.Random(seed), rng.uniform(0, 0.2), 0.05, 0.1)]).open()
        up, down = rng.randbytes(80_000), rng.randbytes(80_000)
        assert p.transfer(up, down) == (up, down)
