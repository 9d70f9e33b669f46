"""NewReno by hand (RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery), values worked out from
the RFC formulas, and fast recovery ending on a full ACK and on a timeout in a real exchange."""

from __future__ import annotations

from dataclasses import replace

import pytest

from layersim.tcp import LINUX, RFC
from layersim.tcp.congestion import NewReno
from tests.tcp.pair import MS, TCPPair, drop_where

MSS = 1000
NO_SACK = replace(LINUX, sack=False, congestion_control="newreno", prr=False,  # RFC 5681/6582 NewReno tests
                  limited_transmit=False)


def in_avoidance(cwnd: int = 10 * MSS) -> NewReno:
    """A NewReno controller at the end of slow start (cwnd == ssthresh), its byte counter at zero."""
    cc = NewReno(LINUX, MSS)
    cc.cwnd = cc.ssthresh = cwnd
    return cc


def test_initial_state():
    """RFC 5681 §3.1 / Linux: IW of 10 (linux) or 3 (rfc) segments, ssthresh arbitrarily high, no dupacks."""
    cc = NewReno(LINUX, MSS)
    assert cc.cwnd == 10 * MSS and cc.ssthresh >= 1 << 30
    assert cc.dupacks == 0 and cc.in_recovery is False
    assert NewReno(RFC, MSS).cwnd == 3 * MSS


def test_slow_start_linux_counts_bytes_rfc_one_segment_per_ack():
    """Linux grows cwnd by every byte acked; RFC 3465 with L=1 by at most one SMSS per ACK (RFC 5681 eq. 2)."""
    linux, rfc = NewReno(LINUX, MSS), NewReno(RFC, MSS)
    assert linux.on_ack(2500, MSS, 0, None) is False
    assert rfc.on_ack(2500, MSS, 0, None) is False
    assert (linux.cwnd, rfc.cwnd) == (12500, 4000)
    assert rfc.on_ack(400, MSS, 0, None) is False and rfc.cwnd == 4400  # less than one SMSS: what was acked


def test_slow_start_ends_at_ssthresh():
    """RFC 5681 §3.1: slow start while cwnd < ssthresh; at cwnd == ssthresh congestion avoidance takes over."""
    cc = NewReno(LINUX, MSS)
    cc.ssthresh = 10 * MSS + 1
    cc.on_ack(MSS, MSS, 0, None)
    assert cc.cwnd == 11 * MSS  # one byte below ssthresh: still slow start
    cc = in_avoidance()
    cc.on_ack(MSS, MSS, 0, None)
    assert cc.cwnd == 10 * MSS  # at ssthresh: one ACK of one segment does not grow cwnd


def test_congestion_avoidance_one_segment_per_window_of_bytes():
    """RFC 5681 §3.1 / RFC 3465: cwnd grows by one SMSS once a whole cwnd of bytes has been acked, and the
    remainder counts towards the next window."""
    cc = in_avoidance()
    results = [cc.on_ack(MSS, MSS, 0, None) for _ in range(9)]
    assert results == [False] * 9 and cc.cwnd == 10 * MSS  # 9000 of 10000 bytes
    assert cc.on_ack(MSS + 300, MSS, 0, None) is True  # 10300 >= 10000: one segment more, 300 carried over
    assert cc.cwnd == 11 * MSS
    assert cc.on_ack(11 * MSS - 301, MSS, 0, None) is False and cc.cwnd == 11 * MSS  # 10999 of 11000
    assert cc.on_ack(1, MSS, 0, None) is True and cc.cwnd == 12 * MSS  # exactly 11000: grows at the boundary
    assert cc.on_ack(12 * MSS - 1, MSS, 0, None) is False and cc.cwnd == 12 * MSS  # the counter restarted at 0


def test_enter_recovery_halves_flight_and_inflates_by_three():
    """RFC 6582 §3.2 step 2: ssthresh = max(FlightSize / 2, 2 SMSS), cwnd = ssthresh + 3 SMSS, recover = snd_max."""
    cc = in_avoidance()
    cc.enter_recovery(30_001, MSS, 123_456)
    assert (cc.ssthresh, cc.cwnd, cc.recover, cc.in_recovery) == (15_000, 18_000, 123_456, True)
    cc = in_avoidance()
    cc.enter_recovery(3 * MSS, MSS, 1)
    assert (cc.ssthresh, cc.cwnd) == (2 * MSS, 5 * MSS)  # half the flight is below 2 SMSS


def test_recovery_restarts_the_avoidance_byte_count():
    """Bytes acked before a loss do not count towards growth after recovery."""
    cc = in_avoidance()
    cc.on_ack(9 * MSS, MSS, 0, None)  # 9000 of 10000 towards the next segment
    cc.enter_recovery(20 * MSS, MSS, 1)
    cc.full_ack(20 * MSS, MSS)
    assert cc.cwnd == cc.ssthresh == 10 * MSS
    assert cc.on_ack(10 * MSS - 1, MSS, 0, None) is False and cc.cwnd == 10 * MSS  # one byte short of a window
    assert cc.on_ack(1, MSS, 0, None) is True


@pytest.mark.parametrize(("acked", "cwnd"), [
    (2500, 13_000 - 2500 + MSS),  # more than one SMSS acked: deflate, add one SMSS back
    (MSS, 13_000),                # exactly one SMSS: deflate by it, add it back
    (MSS - 1, 13_000 - MSS + 1),  # less than one SMSS: deflate only
    (1, 12_999),
])
def test_partial_ack_deflates(acked, cwnd):
    """RFC 6582 §3.2 step 5: deflate cwnd by the amount acked, add back one SMSS if at least one SMSS was acked."""
    cc = in_avoidance()
    cc.enter_recovery(20 * MSS, MSS, 1)  # cwnd 13000
    cc.partial_ack(acked, MSS)
    assert cc.cwnd == cwnd and cc.in_recovery is True


def test_partial_ack_never_below_one_segment():
    """A partial ACK of more than cwnd leaves one SMSS."""
    cc = in_avoidance()
    cc.enter_recovery(4 * MSS, MSS, 1)  # ssthresh 2000, cwnd 5000
    cc.partial_ack(7 * MSS, MSS)
    assert cc.cwnd == MSS


@pytest.mark.parametrize(("flight", "cwnd"), [(20 * MSS, 10 * MSS), (4 * MSS, 5 * MSS), (0, 2 * MSS)])
def test_full_ack_ends_recovery(flight, cwnd):
    """RFC 6582 §3.2 step 3 option 1: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS); recovery over."""
    cc = in_avoidance()
    cc.enter_recovery(20 * MSS, MSS, 1)  # ssthresh 10000
    cc.dupacks = 5
    cc.full_ack(flight, MSS)
    assert (cc.cwnd, cc.ssthresh, cc.in_recovery, cc.dupacks) == (cwnd, 10 * MSS, False, 0)


@pytest.mark.parametrize(("flight", "ssthresh"),
                         [(20 * MSS, 10 * MSS), (15_001, 7500), (3 * MSS, 2 * MSS), (0, 2 * MSS)])
def test_timeout_one_segment_and_half_the_flight(flight, ssthresh):
    """RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2 SMSS), cwnd = 1 SMSS; a timeout ends recovery."""
    cc = in_avoidance()
    cc.enter_recovery(20 * MSS, MSS, 1)
    cc.dupacks = 4
    cc.on_timeout(flight, MSS)
    assert (cc.cwnd, cc.ssthresh, cc.in_recovery, cc.dupacks) == (MSS, ssthresh, False, 0)


def test_timeout_restarts_the_avoidance_byte_count():
    """After a timeout, slow start back to ssthresh, then a whole cwnd of bytes for the next segment."""
    cc = in_avoidance()
    cc.on_ack(9 * MSS, MSS, 0, None)
    cc.on_timeout(20 * MSS, MSS)  # ssthresh 10000, cwnd 1000
    cc.on_ack(9 * MSS, MSS, 0, None)  # slow start (bytes counted): cwnd 10000
    assert cc.cwnd == cc.ssthresh
    assert cc.on_ack(10 * MSS - 1, MSS, 0, None) is False and cc.cwnd == 10 * MSS  # one byte short of a window
    assert cc.on_ack(1, MSS, 0, None) is True


def data_segment(k: int):
    """A predicate for drop_where: the k-th (0-based) client data segment, first transmission or not."""
    seen = {"n": -1}

    def match(direction, index, seg):
        if direction == "c>s" and seg.payload:
            seen["n"] += 1
            return seen["n"] == k
        return False
    return match


def test_fast_recovery_ends_on_the_full_ack():
    """One loss in ten segments: fast retransmit, and the ACK that covers `recover` ends recovery with
    cwnd = min(ssthresh, FlightSize + SMSS) (RFC 6582 §3.2 step 3), no RTO."""
    p = TCPPair(client_profile=NO_SACK, server_profile=NO_SACK).open()
    p.rules.append(drop_where(data_segment(0)))
    p.send("c", bytes(10 * 1448))
    p.run_for(100 * MS)
    phases = [(e.details["phase"], e.details["recover"]) for e in p.events if e.kind == "recovery"]
    assert phases == [("enter", 1001 + 10 * 1448), ("exit", 1001 + 10 * 1448)]
    assert p.client.cc.in_recovery is False and p.client.cc.dupacks == 0
    exit_cwnd = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "recovery exit")
    assert exit_cwnd.details["ssthresh"] == 10 * 1448 // 2
    assert exit_cwnd.details["cwnd"] == 2 * 1448  # nothing left in flight: min(ssthresh, max(0, SMSS) + SMSS)
    assert not [e for e in p.events if e.kind == "rto"]
    assert p.recv("s") == bytes(10 * 1448)


def test_fast_recovery_ends_on_a_timeout():
    """The fast retransmission is lost too: the RTO ends recovery, cwnd one segment (RFC 5681 §3.1), and the
    later full ACK finds no recovery to end."""
    p = TCPPair(client_profile=NO_SACK, server_profile=NO_SACK).open()
    p.rules.append(drop_where(data_segment(0), times=1))
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and s.retransmission, times=1))
    p.send("c", bytes(10 * 1448))
    p.run(stop=lambda: any(e.kind == "rto" for e in p.events))
    assert [e.details["phase"] for e in p.events if e.kind == "recovery"] == ["enter"]
    assert p.client.cc.in_recovery is False and p.client.cc.dupacks == 0
    assert p.client.cc.cwnd == 1448
    p.run_for(2000 * MS)
    assert [e.details["phase"] for e in p.events if e.kind == "recovery"] == ["enter"]
    assert p.recv("s") == bytes(10 * 1448)


def test_two_duplicate_acks_on_a_fresh_connection_are_not_a_loss():
    """The first segment of a connection lost with two behind it: only two duplicate ACKs, no fast retransmit
    (RFC 5681 §3.2: the third duplicate ACK), so the duplicate count starts at zero."""
    p = TCPPair(client_profile=NO_SACK, server_profile=NO_SACK).open()
    p.rules.append(drop_where(data_segment(0)))
    p.send("c", bytes(3 * 1448))
    p.run_for(1000 * MS)
    assert [e.details["reason"] for e in p.events if e.kind == "retransmit"] == ["rto"]
