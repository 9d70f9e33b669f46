"""D-SACK (RFC 2883, net.ipv4.tcp_dsack): the receiver reports duplicates, the sender undoes a needless
reduction (Linux tcp_try_undo_dsack)."""

from __future__ import annotations

from dataclasses import replace

from layersim.tcp import LINUX
from layersim.tcp.dsack import dsack_block
from layersim.wire.tcp_options import SACK
from tests.tcp.pair import MS, TCPPair, drop_where

MSS = 1448


def sack_of(seg) -> tuple | None:
    return next((o.blocks for o in seg.tcp.options if isinstance(o, SACK)), None)


def duplicate_delivered(profile=LINUX) -> TCPPair:
    """The server's ACK of the client's 100 bytes is lost, so the RTO sends them again: the server has them."""
    p = TCPPair(server_profile=profile, wire=True).open()
    p.rules.append(drop_where(lambda d, i, s: d == "s>c" and not s.payload and s.tcp.ack == 1101))
    p.send("c", bytes(100))
    p.run_for(1000 * MS)
    return p


def test_a_duplicate_segment_is_answered_with_a_dsack_block():
    p = duplicate_delivered()
    acks = [s.segment for s in p.sent("s>c") if s.segment.tcp.ack == 1101]
    assert len(acks) == 2 and sack_of(acks[0]) is None
    assert sack_of(acks[1]) == ((1001, 1101),)  # RFC 2883 §4.1.1: the duplicate, below the cumulative ACK
    assert p.recv("s") == bytes(100)
    later = [s.segment for s in p.sent("s>c")][-1]
    assert later is acks[1]  # reported once


def test_no_dsack_when_the_knob_is_off():
    p = duplicate_delivered(replace(LINUX, tcp_dsack=False))
    acks = [s.segment for s in p.sent("s>c") if s.segment.tcp.ack == 1101]
    assert [sack_of(a) for a in acks] == [None, None]


def test_a_partly_old_segment_reports_only_its_old_part():
    """A retransmission that carries old and new bytes: D-SACK [seq, RCV.NXT) (Linux tcp_data_queue)."""
    p = TCPPair(wire=True).open()
    p.send("c", bytes(100))
    p.run_for(20 * MS)
    server = p.server
    assert server.rcv_nxt == 1101
    first = next(s.segment for s in p.sent("c>s") if s.segment.payload)
    out = server.receive(first.tcp, bytes(150), p.now)  # the same segment again, 50 bytes longer
    assert server.rcv_nxt == 1151
    assert [sack_of(seg) for seg in out] == [((1001, 1101),)]


def test_dsack_block_rules():
    """RFC 2883 §4: the first block is a D-SACK when below the cumulative ACK or inside the second block."""
    assert dsack_block(((100, 200),), 200) == (100, 200)
    assert dsack_block(((200, 300),), 200) is None
    assert dsack_block(((300, 400), (250, 500)), 200) == (300, 400)
    assert dsack_block(((300, 600), (250, 500)), 200) is None


def test_a_reordered_segment_retransmitted_needlessly_is_undone():
    """Segment 0 arrives after three later ones: fast retransmit and a reduction; then the original arrives, the
    retransmission is a duplicate, the server D-SACKs it and the client puts cwnd and ssthresh back."""
    p = TCPPair(wire=True).open()
    p.rules.append(lambda d, i, s: ("delay", 3 * MS) if d == "c>s" and s.payload and s.tcp.seq == 1001
                   and not s.retransmission else None)
    p.send("c", bytes(10 * MSS))
    p.run_for(100 * MS)
    fast = [e for e in p.events if e.kind == "retransmit" and e.details["reason"] == "fast"]
    assert [e.details["seq"] for e in fast] == [1001]
    reduced = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "fast retransmit")
    dsack = [e for e in p.events if e.kind == "dsack"]
    assert [(e.details["left"], e.details["right"]) for e in dsack] == [(1001, 1001 + MSS)]
    undo = next(e for e in p.events if e.kind == "cwnd" and e.details["reason"] == "dsack undo")
    assert undo.time_ns >= dsack[0].time_ns > reduced.time_ns
    assert undo.details["cwnd"] >= 10 * MSS and undo.details["ssthresh"] == 1 << 30  # back in slow start
    assert p.recv("s") == bytes(10 * MSS)
