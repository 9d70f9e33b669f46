"""Fast recovery on the linux profile: limited transmit (RFC 3042) and proportional rate reduction (RFC 6937,
Linux tcp_cwnd_reduction), checked segment by segment on real bytes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from layersim.tcp import LINUX
from tests.tcp.pair import MS, TCPPair, drop_where

MSS = 1448
ISS = 1001  # the client's first data byte
# Reno's halving keeps the numbers round (RFC 6937's own examples use it); cwnd starts at 20 segments.
RENO = replace(LINUX, congestion_control="newreno", initial_cwnd_segments=20)
BIG_WINDOW = {"rcvbuf": 1 << 20}  # the receiver's window never limits these transfers


def acks_and_answers(p: TCPPair, until: int) -> list[tuple[object, list]]:
    """Every segment the client receives before `until`, with the data segments it sent in answer."""
    answers = []
    while True:
        at = p._next_time()
        if at is None or at > until:
            return answers
        arriving = p._queue[0] if p._queue and p._queue[0][0] <= at else None
        n = len(p.log)
        p.step()
        if arriving is not None and arriving[2] == "s>c":
            answers.append((arriving[3], [s.segment for s in p.log[n:] if s.direction == "c>s" and s.segment.payload]))


def first_segment_lost(profile=RENO, segments: int = 60) -> tuple[TCPPair, list]:
    """The client writes `segments` full segments with cwnd 20; the first is lost and the other 19 draw SACKs."""
    p = TCPPair(client_profile=profile, wire=True, server_kwargs=BIG_WINDOW).open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and s.payload and not s.retransmission))
    p.send("c", bytes(segments * MSS))
    return p, acks_and_answers(p, p.now + 14 * MS)  # the 19 duplicate ACKs, before anything sent in answer returns


def new_data(seg, k: int) -> bool:
    """Whether `seg` is the first transmission of data segment k (0-based)."""
    return seg.tcp.seq == ISS + k * MSS and not seg.retransmission and len(seg.payload) == MSS


def test_limited_transmit_sends_one_new_segment_on_each_of_the_first_two_duplicate_acks():
    p, answers = first_segment_lost()
    assert len(answers) == 19 and all(ack.tcp.ack == ISS for ack, _ in answers)
    (_, one), (_, two) = answers[:2]
    assert len(one) == 1 and new_data(one[0], 20)
    assert len(two) == 1 and new_data(two[0], 21)
    assert not [e for e in p.events if e.kind == "recovery" and e.time_ns < answers[2][0].tcp.ack]


def test_without_limited_transmit_the_first_two_duplicate_acks_send_nothing():
    _, answers = first_segment_lost(replace(RENO, limited_transmit=False))
    assert answers[0][1] == answers[1][1] == []


def test_limited_transmit_needs_new_data_and_the_receivers_window():
    """Nothing beyond the 20 written segments: the duplicate ACKs have nothing to let out."""
    _, answers = first_segment_lost(segments=20)
    assert answers[0][1] == answers[1][1] == []


def test_prr_retransmits_first_then_sends_in_proportion_ssthresh_over_recoverfs():
    """RFC 6937 §3: while the pipe is above ssthresh, after the k-th segment delivered in recovery the sender has
    sent ceil(k * ssthresh / RecoverFS) segments. Reno: ssthresh = 22 / 2 = 11 (22 in flight with the two limited
    transmit segments), RecoverFS = the cwnd before, 20: about one segment per two ACKs, not Reno's burst."""
    p, answers = first_segment_lost()
    recovery = answers[2:]
    first = recovery[0][1]
    assert len(first) == 1 and first[0].retransmission and first[0].tcp.seq == ISS  # the fast retransmit
    # k = 1..16: the proportional part; at k = 17 the pipe (30 sent - 19 SACKed) has come down to ssthresh, where
    # Linux switches to the slow-start reduction bound (delta = ssthresh - pipe = 0: nothing more)
    expected = [max(-(-k * 11 // 20), 1) for k in range(1, 17)] + [9]
    sent, totals, next_new = 0, [], 22
    for k, (_, segs) in enumerate(recovery, start=1):
        sent += len(segs)
        totals.append(sent)
        for seg in segs if k > 1 else ():
            assert new_data(seg, next_new)
            next_new += 1
    assert totals == expected
    assert p.client.cwnd == 11 * MSS
    cwnd = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "fast retransmit")
    # cwnd = pipe + sndcnt: 22 sent - 3 SACKed - the lost head + its retransmission
    assert cwnd.details == {"cwnd": 19 * MSS, "ssthresh": 11 * MSS, "reason": "fast retransmit"}


def test_prr_ends_recovery_at_ssthresh_and_the_stream_arrives_whole():
    p, _ = first_segment_lost()
    p.run(stop=lambda: p.client.snd_una == p.client.snd_max)
    assert [e.details["phase"] for e in p.events if e.kind == "recovery"] == ["enter", "exit"]
    exit_cwnd = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "recovery exit")
    assert exit_cwnd.details["cwnd"] == exit_cwnd.details["ssthresh"] == 11 * MSS
    assert not [e for e in p.events if e.kind == "rto"]
    assert p.recv("s") == bytes(60 * MSS)


@pytest.mark.parametrize("lost", [2, 6])
def test_prr_ssrb_grows_back_towards_ssthresh_when_the_pipe_falls_below_it(lost):
    """Many losses (RFC 6937 §3, PRR-SSRB): once the pipe is below ssthresh each ACK sends what it delivered
    plus one segment when SND.UNA advanced, so the repair does not wait for an RTO."""
    p = TCPPair(client_profile=RENO, wire=True, server_kwargs=BIG_WINDOW).open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and s.payload and not s.retransmission
                              and (s.tcp.seq - ISS) // MSS % 3 == 0, times=lost))
    data = bytes(60 * MSS)
    p.send("c", data)
    p.run(stop=lambda: p.client.snd_una == p.client.snd_max)
    assert not [e for e in p.events if e.kind == "rto"]
    assert p.recv("s") == data
