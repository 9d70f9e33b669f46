"""HyStart in CUBIC (Linux tcp_cubic.c hystart_update; RFC 9438 §4.10): slow start ends on an ACK train or a
rising delay, before the first loss."""

from __future__ import annotations

from dataclasses import replace

import pytest

from layersim.tcp import LINUX
from layersim.tcp.hystart import HyStart
from tests.tcp.pair import MS, TCPPair

US = 1000
TRAIN_ONLY = replace(LINUX, hystart_detect=1)
DELAY_ONLY = replace(LINUX, hystart_detect=2)


def round_of(profile=TRAIN_ONLY, delay_min: int = 10 * MS) -> HyStart:
    hs = HyStart(profile)
    hs.delay_min = delay_min
    hs.reset(0, 100_000)
    return hs


@pytest.mark.parametrize(("last", "found"), [(5500 * US, False), (5501 * US, True)])
def test_ack_train_fires_past_half_the_minimum_rtt_plus_the_ack_delay(last, found):
    """threshold = (delay_min + ack_delay) / 2 = (10 ms + 1 ms) / 2 = 5.5 ms, strictly exceeded, in whole us."""
    hs = round_of()
    t = 0
    while t < last:
        t = min(t + 500 * US, last)
        assert hs.update(t, 50_000, 200_000, 10 * MS, 1 * MS) is (found and t == last)


@pytest.mark.parametrize(("gap", "found"), [(2000 * US, True), (2000 * US + 1, False)])
def test_an_ack_gap_over_hystart_ack_delta_breaks_the_train(gap, found):
    hs = round_of()
    hs.update(1 * MS, 1, 200_000, 10 * MS, 1 * MS)
    t = 1 * MS + gap
    for _ in range(10):
        hs.update(t, 1, 200_000, 10 * MS, 1 * MS)
        t += 500 * US if found else gap + 1
    assert hs.found is found


def test_a_new_round_starts_when_the_ack_passes_end_seq():
    hs = round_of()
    hs.update(5 * MS, 100_000, 300_000, 10 * MS, 1 * MS)
    assert hs.round_start == 0
    hs.update(5200 * US, 100_001, 300_000, 10 * MS, 1 * MS)
    assert (hs.round_start, hs.end_seq, hs.found) == (5200 * US, 300_000, False)


@pytest.mark.parametrize(("rtt", "samples", "found"), [
    (14 * MS, 9, False),        # delay_min + max(delay_min / 8, 4 ms): not above it
    (14 * MS + 1, 9, True),     # just above, on the 9th sample
    (14 * MS + 1, 8, False),    # HYSTART_MIN_SAMPLES = 8 samples are only collected
])
def test_delay_detection_after_eight_samples_of_a_risen_minimum(rtt, samples, found):
    hs = round_of(DELAY_ONLY)
    for k in range(samples):
        hs.update(k * 3 * MS, 1, 200_000, rtt, 1 * MS)
    assert hs.found is found


def test_delay_threshold_is_clamped_to_16_ms():
    """delay_min 200 ms: 200 / 8 = 25 ms, clamped to HYSTART_DELAY_MAX 16 ms."""
    hs = round_of(DELAY_ONLY, delay_min=200 * MS)
    for k in range(9):
        hs.update(k * 3 * MS, 1, 200_000, 216 * MS + 1, 1 * MS)
    assert hs.found


def bottleneck(p: TCPPair, bits_per_s: int = 100_000_000):
    """A rule: client data queues for a link of this rate (no drops), like a router before a slower link."""
    free = [0]

    def rule(direction, index, seg):
        if direction != "c>s":
            return None
        start = max(p.now, free[0])
        free[0] = start + (len(seg.payload) + 52) * 8 * 1_000_000_000 // bits_per_s
        return ("delay", free[0] - p.now)
    return rule


def bulk(profile) -> TCPPair:
    p = TCPPair(client_profile=profile, wire=True, server_kwargs={"rcvbuf": 4 << 20})
    p.rules.append(bottleneck(p))
    p.open()
    p.transfer(bytes(3_000_000), b"")
    return p


def test_hystart_leaves_slow_start_near_the_path_capacity_without_a_loss():
    """100 Mb/s and 10 ms: the path holds 86 segments. HyStart sets ssthresh = cwnd once a round's ACKs stream
    back for more than half the RTT; without it slow start runs on, and the queue (the RTT) grows far more."""
    on = bulk(LINUX)
    exits = [e for e in on.events if e.kind == "cwnd" and e.details["reason"] == "hystart"]
    assert len(exits) == 1
    at = exits[0].details
    assert at["cwnd"] == at["ssthresh"] and 16 * 1448 <= at["cwnd"] <= 2 * 86 * 1448
    off = bulk(replace(LINUX, hystart=False))
    assert not [e for e in off.events if e.kind == "cwnd" and e.details["reason"] == "hystart"]
    worst = {name: max(e.details["sample_ns"] for e in p.events if e.kind == "rtt")
             for name, p in (("on", on), ("off", off))}
    assert worst["on"] < worst["off"]
    assert not [e for e in on.events if e.kind == "retransmit"]


def test_no_hystart_below_the_low_window():
    """hystart_low_window 16: with a path of 8 segments slow start is left by queueing and loss, never HyStart."""
    p = TCPPair(client_profile=replace(LINUX, hystart_low_window=1000), wire=True)
    p.rules.append(bottleneck(p))
    p.open()
    p.transfer(bytes(1_000_000), b"")
    assert not [e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "hystart"]
