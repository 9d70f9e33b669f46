"""Loss recovery: RTO with backoff (RFC 6298), fast retransmit and NewReno (RFC 6582), SACK (RFC 2018)."""

from __future__ import annotations

import errno
import itertools
from dataclasses import replace

from layersim.tcp import LINUX, State
from layersim.wire.tcp_options import SACK
from tests.tcp.pair import MS, TCPPair, drop_where

S = 1_000_000_000
NO_SACK = replace(LINUX, sack=False, congestion_control="newreno", prr=False,  # RFC 5681/6582 NewReno numbers
                  limited_transmit=False)


def data_index(k: int):
    """A predicate for drop_where: the k-th (0-based) first transmission of a client data segment."""
    seen = {"n": -1}

    def match(direction, index, seg):
        if direction == "c>s" and seg.payload and not seg.retransmission:
            seen["n"] += 1
            return seen["n"] == k
        return False
    return match


def test_rto_doubles_until_etimedout():
    """Every retransmission waits twice as long (capped at 120 s); after 15 (tcp_retries2) the connection fails."""
    p = TCPPair().open()
    p.rules.append(lambda d, i, s: "drop" if d == "c>s" else None)
    p.send("c", b"lost")
    p.run()
    times = [s.time for s in p.sent("c>s") if s.segment.payload]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] == 210 * MS  # srtt 10 ms + Linux's 200 ms floor on the variance term
    assert [min(g, 120 * S) for g in gaps] == [min(210 * MS * 2**i, 120 * S) for i in range(15)]
    assert len(times) == 16 and all(s.segment.retransmission for s in p.sent("c>s")[-15:])
    assert p.client.state is State.CLOSED and p.client.error == errno.ETIMEDOUT
    backoffs = [e.details["backoff"] for e in p.events if e.kind == "rto"]
    assert backoffs == list(range(1, 16))


def test_rto_collapses_cwnd_and_slow_starts_again():
    """RFC 5681 §3.1: after a timeout cwnd is one segment and ssthresh half the flight."""
    p = TCPPair(client_profile=NO_SACK).open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and bool(s.payload), times=10))
    p.send("c", bytes(14480))
    p.run_for(215 * MS)
    timeout = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "timeout")
    assert timeout.details == {"cwnd": 1448, "ssthresh": 7240, "reason": "timeout"}
    p.run_for(2 * S)
    assert p.recv("s") == bytes(14480)


def test_fast_retransmit_after_three_duplicate_acks():
    """One segment lost with exactly three behind it: the three duplicate ACKs bring it back before the RTO,
    with ssthresh = flight / 2 and cwnd inflated by the three segments that left (RFC 6582 §3.2)."""
    p = TCPPair(client_profile=NO_SACK, server_profile=NO_SACK).open()
    p.rules.append(drop_where(data_index(1)))
    p.send("c", bytes(5 * 1448))
    p.run_for(100 * MS)
    retrans = [e for e in p.events if e.kind == "retransmit"]
    assert [(e.details["reason"], e.details["seq"]) for e in retrans] == [("fast", 1001 + 1448)]
    dupacks = [s for s in p.sent("s>c") if s.segment.tcp.ack == 1001 + 1448]
    assert len(dupacks) == 4  # the ACK of the first segment, then three duplicates
    assert retrans[0].time_ns == dupacks[3].time + 5 * MS
    enter = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "fast retransmit")
    assert enter.details["ssthresh"] == 4 * 1448 // 2  # four segments were in flight (the first was acked)
    assert enter.details["cwnd"] == 4 * 1448 // 2 + 3 * 1448
    assert not [e for e in p.events if e.kind == "rto"]
    assert p.recv("s") == bytes(5 * 1448)


def test_two_duplicate_acks_are_not_enough():
    """Only two segments behind the loss: no fast retransmit, the RTO repairs it."""
    p = TCPPair(client_profile=NO_SACK, server_profile=NO_SACK).open()
    p.rules.append(drop_where(data_index(1)))
    p.send("c", bytes(4 * 1448))
    p.run_for(1000 * MS)
    assert [e.details["reason"] for e in p.events if e.kind == "retransmit"] == ["rto"]


def test_newreno_partial_ack_retransmits_the_next_hole():
    """Two losses in one window without SACK: the partial ACK retransmits the second at once (RFC 6582)."""
    p = TCPPair(client_profile=NO_SACK, server_profile=NO_SACK).open()
    p.rules.append(drop_where(data_index(2)))
    p.rules.append(drop_where(data_index(5)))
    p.send("c", bytes(14480))
    p.run_for(200 * MS)
    reasons = [(e.details["reason"], e.details["seq"]) for e in p.events if e.kind == "retransmit"]
    assert reasons == [("fast", 1001 + 2 * 1448), ("recovery", 1001 + 5 * 1448)]
    phases = [e.details["phase"] for e in p.events if e.kind == "recovery"]
    assert phases == ["enter", "exit"]
    assert not [e for e in p.events if e.kind == "rto"]
    exit_cwnd = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "recovery exit")
    assert exit_cwnd.details["cwnd"] <= exit_cwnd.details["ssthresh"]
    assert p.recv("s") == bytes(14480)


def test_receiver_sends_sack_blocks_most_recent_first():
    """Out-of-order data is acknowledged at once with SACK blocks, the newest block first (RFC 2018 §4)."""
    p = TCPPair().open()
    p.rules.append(drop_where(data_index(1)))
    p.rules.append(drop_where(data_index(4)))
    p.send("c", bytes(8 * 1448))
    p.run_for(6 * MS)
    sacks = [next(o for o in s.segment.tcp.options if type(o) is SACK).blocks for s in p.sent("s>c")
             if any(type(o) is SACK for o in s.segment.tcp.options)]
    base = 1001
    seg = 1448
    assert sacks[0] == ((base + 2 * seg, base + 3 * seg),)
    assert sacks[1] == ((base + 2 * seg, base + 4 * seg),)
    assert sacks[2] == ((base + 5 * seg, base + 6 * seg), (base + 2 * seg, base + 4 * seg))
    assert sacks[-1] == ((base + 5 * seg, base + 8 * seg), (base + 2 * seg, base + 4 * seg))


def test_sender_uses_sack_to_repair_several_holes_in_one_recovery():
    """Three losses in one window: with SACK every hole is retransmitted in the first recovery, no RTO."""
    p = TCPPair().open()
    for k in (1, 4, 7):
        p.rules.append(drop_where(data_index(k)))
    p.send("c", bytes(14480))
    p.run_for(300 * MS)
    retrans = [(e.details["reason"], e.details["seq"]) for e in p.events if e.kind == "retransmit"]
    assert sorted(seq for _, seq in retrans) == [1001 + k * 1448 for k in (1, 4, 7)]
    assert {r for r, _ in retrans} <= {"fast", "sack", "recovery"} and "sack" in {r for r, _ in retrans}
    assert not [e for e in p.events if e.kind == "rto"]
    assert p.recv("s") == bytes(14480)
    assert p.client.scoreboard.blocks == []


def test_without_sack_three_holes_take_longer():
    """The same three losses without SACK need one round trip per hole (NewReno), so SACK is really used."""
    times = {}
    for name, profile in (("sack", LINUX), ("nosack", NO_SACK)):
        p = TCPPair(client_profile=profile, server_profile=profile).open()
        for k in (1, 4, 7):
            p.rules.append(drop_where(data_index(k)))
        p.send("c", bytes(14480))
        p.run(stop=lambda p=p: p.client.unacked == 0)
        times[name] = p.now
    assert times["sack"] < times["nosack"]


def test_rtt_samples_and_cwnd_growth_in_the_trace():
    """Each RTT sample is a trace event with srtt/rttvar/rto, and cwnd events follow slow start."""
    p = TCPPair(delay_ns=20 * MS).open()
    p.send("c", bytes(200_000))
    p.run_for(1 * S)
    rtts = [e.details for e in p.events if e.kind == "rtt"]
    assert all(d["sample_ns"] == 40 * MS for d in rtts[:3])
    assert p.client.srtt_ns == 40 * MS
    cwnds = [e.details["cwnd"] for e in p.events if e.kind == "cwnd"]
    assert cwnds == sorted(cwnds) and cwnds[-1] > 10 * 1448


def test_karn_no_rtt_sample_from_a_retransmission():
    """A retransmitted segment's ACK gives no RTT sample (Karn's algorithm, RFC 6298 §3)."""
    p = TCPPair().open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and bool(s.payload)))
    p.events.clear()
    p.send("c", b"once")
    p.run_for(1 * S)
    assert [e.kind for e in p.events if e.kind in ("rtt", "retransmit")] == ["retransmit"]


def test_duplicates_and_reordering_keep_the_stream_intact():
    """Every data segment duplicated and every third delayed: bytes arrive once, in order."""
    p = TCPPair(rules=[lambda d, i, s: "dup" if i % 2 else (("delay", 7 * MS) if i % 3 == 0 else None)]).open()
    data = bytes(range(256)) * 400
    assert p.transfer(data, data) == (data, data)


def test_rfc_profile_measures_rtt_from_timestamp_echoes():
    """RFC 7323 §4: with the RFC profile every ACK of new data echoing a TSval gives a sample (1 ms ticks)."""
    from layersim.tcp import RFC

    p = TCPPair(client_profile=RFC, server_profile=RFC, delay_ns=7 * MS).open()
    p.events.clear()
    p.send("c", bytes(6 * 1448))
    p.run_for(500 * MS)
    samples = [e.details["sample_ns"] for e in p.events if e.kind == "rtt"]
    assert samples[0] == 14 * MS  # TSecr echoes the TSval of the segment that was acknowledged
    assert len(samples) >= 3  # every ACK of new data, not one timed segment per round trip
    assert min(samples) == 14 * MS
    # RFC 7323 §4.3: TS.Recent only moves for a segment at or below Last.ACK.sent, so an ACK covering a delayed
    # segment echoes the TSval of the earliest unacknowledged one and the sample includes the delay.
    ack = next(s.segment.tcp for s in p.sent("s>c") if s.segment.tcp.ack == 1001 + 4 * 1448)
    first_unacked = next(s.segment.tcp for s in p.sent("c>s") if s.segment.tcp.seq == 1001 + 2 * 1448)
    assert ack.options[-1].tsecr == first_unacked.options[-1].tsval


def test_every_linux_segment_has_df_and_only_the_synack_has_ip_id_zero():
    p = TCPPair().open()
    p.transfer(bytes(5000), bytes(5000))
    p.call("c", "close")
    p.run()
    assert all(s.segment.df for s in p.log)
    assert [s.flags for s in p.log if s.segment.ip_id_zero] == ["S."]


def test_linux_profile_runs_cubic_and_backs_off_by_beta() -> None:
    """Linux's default congestion control is CUBIC (RFC 9438): after a timeout ssthresh is 0.7 of the flight
    (β_cubic), where NewReno halves it (the test above)."""
    assert LINUX.congestion_control == "cubic"
    p = TCPPair(client_profile=replace(LINUX, sack=False)).open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and bool(s.payload), times=10))
    p.send("c", bytes(14480))
    p.run_for(215 * MS)
    timeout = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "timeout")
    assert timeout.details == {"cwnd": 1448, "ssthresh": 14480 * 7 // 10, "reason": "timeout"}
    p.run_for(2 * S)
    assert p.recv("s") == bytes(14480)
