"""Tail loss probes (RFC 8985 §7; net.ipv4.tcp_early_retrans; Linux tcp_schedule_loss_probe, tcp_send_loss_probe,
tcp_process_tlp_ack), on real bytes."""

from __future__ import annotations

from dataclasses import replace

from layersim.tcp import LINUX
from tests.tcp.pair import MS, TCPPair, drop_where

MSS = 1448
ISS = 1001


def tail_lost(segments: int, lost: int, profile=LINUX) -> TCPPair:
    """The client writes `segments` full segments; the last `lost` of them are dropped once."""
    p = TCPPair(client_profile=profile, wire=True).open()
    first_lost = ISS + (segments - lost) * MSS
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and s.payload and not s.retransmission
                              and s.tcp.seq >= first_lost, times=lost))
    p.send("c", bytes(segments * MSS))
    return p


def last_ack_time(p: TCPPair, before: int) -> int:
    return max(s.time + p.delay_ns for s in p.sent("s>c") if s.time + p.delay_ns <= before)


def test_probe_retransmits_the_last_segment_two_rtts_after_the_last_ack():
    """Three of ten lost at the tail: PTO = 2 SRTT + 2 ms (TCP_TIMEOUT_MIN) after the last ACK, well before the
    RTO, and the probe is the last segment (RFC 8985 §7.3: no new data to send)."""
    p = tail_lost(10, 3)
    p.run_for(100 * MS)
    probes = [s for s in p.sent("c>s") if s.segment.retransmission]
    assert probes, "no probe"
    probe = probes[0]
    assert probe.segment.tcp.seq == ISS + 9 * MSS and len(probe.segment.payload) == MSS
    srtt = p.client.srtt_ns
    assert srtt == 10 * MS
    assert probe.time - last_ack_time(p, probe.time) == 2 * srtt + 2 * MS
    tlp = [e for e in p.events if e.kind == "tlp"]
    assert [e.details for e in tlp] == [{"seq": ISS + 9 * MSS, "new": False}]
    assert not [e for e in p.events if e.kind == "rto" and e.time_ns <= probe.time]


def test_one_segment_out_waits_for_a_delayed_ack_but_not_past_the_rto():
    """One segment out: 2 SRTT + 200 ms (the peer may delay its ACK), capped by the RTO bound: 200 ms."""
    p = tail_lost(2, 1)
    p.run_for(400 * MS)
    probe = next(s for s in p.sent("c>s") if s.segment.retransmission)
    assert probe.time - last_ack_time(p, probe.time) == 200 * MS
    assert next(e.details["reason"] for e in p.events if e.kind == "retransmit") == "tlp"


def test_no_probe_when_the_knob_is_off():
    p = tail_lost(10, 3, replace(LINUX, tcp_early_retrans=0))
    p.run_for(100 * MS)
    assert not [s for s in p.sent("c>s") if s.segment.retransmission]
    p.run_for(1000 * MS)
    assert next(e.details["reason"] for e in p.events if e.kind == "retransmit") == "rto"


def test_one_probe_per_episode():
    """The probe's ACK only SACKs it: no second probe; the RTO repairs the rest (RACK would mark it lost)."""
    p = tail_lost(10, 3)
    p.run_for(150 * MS)
    assert len([e for e in p.events if e.kind == "tlp"]) == 1
    p.run_for(2000 * MS)
    assert p.recv("s") == bytes(10 * MSS)


def test_a_repaired_tail_loss_reduces_cwnd_once_later_data_is_acked():
    """Only the last segment lost: the probe repairs it. Linux (tcp_process_tlp_ack) counts that as a loss once an
    ACK passes the probe's SND.NXT: CUBIC's reduction, cwnd = ssthresh = 0.7 cwnd, no recovery."""
    p = tail_lost(10, 1)
    p.run_for(250 * MS)  # one segment out: the probe comes 200 ms after the last ACK, before the RTO
    assert [e.details["new"] for e in p.events if e.kind == "tlp"] == [False]
    before = p.client.cwnd
    assert not [e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "tlp recovery"]
    p.send("c", bytes(MSS))
    p.run_for(100 * MS)
    reduced = [e.details for e in p.events if e.kind == "cwnd" and e.details["reason"] == "tlp recovery"]
    assert reduced == [{"cwnd": int(before * 0.7), "ssthresh": int(before * 0.7), "reason": "tlp recovery"}]
    assert not [e for e in p.events if e.kind == "recovery"]
