"""Packetdrill's matching rules on their own: tolerance, number mapping, option and segment comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layersim.tcpcheck.matching import (
    MappingError,
    SegmentView,
    SeqMap,
    combine,
    compare_options,
    compare_segment,
    tolerance_ns,
)
from layersim.tcpcheck.model import SegmentSpec
from layersim.tcpcheck.parser import parse_script
from layersim.tcpcheck.report import format_flags, format_options, format_segment
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.tcp_options import EOL, MSS, NOP, SACK, SACKPermitted, Timestamps, WindowScale

A, S, P, F, R = TCPFlags.ACK, TCPFlags.SYN, TCPFlags.PSH, TCPFlags.FIN, TCPFlags.RST


def spec(line: str) -> SegmentSpec:
    """The segment of a one-line script."""
    return parse_script(f"0 {line}\n").events[0].action


def test_tolerance_is_4ms_or_an_eighth_of_the_gap():
    assert tolerance_ns(0, 0) == 4_000_000
    assert tolerance_ns(32_000_000, 0) == 4_000_000  # 12.5 % of 32 ms is exactly 4 ms
    assert tolerance_ns(32_000_008, 0) == 4_000_001
    assert tolerance_ns(3_000_000_000, 1_000_000_000) == 250_000_000
    assert tolerance_ns(1_000, 5_000) == 4_000_000  # a gap that runs backwards gives the floor
    assert tolerance_ns(1_000_000_000, 0, floor_ns=10_000_000, percent=0) == 10_000_000


def test_inbound_numbers_map_to_live():
    seqmap = SeqMap(remote_isn=1000, local_offset=2**32 - 5)
    seq, ack, options = seqmap.inbound(spec("< . 1:1(0) ack 10 win 100 <sack 20:30>"))
    assert (seq, ack) == (1001, 5)
    assert options == (SACK(((15, 25),)),)


def test_inbound_before_our_syn_uses_numbers_as_written():
    seq, ack, _ = SeqMap().inbound(spec("< . 7:7(0) ack 9 win 100"))
    assert (seq, ack) == (7, 9)


def test_ts_ecr_maps_to_the_val_it_echoes():
    seqmap = SeqMap()
    syn = spec("> S 0:0(0) <TS val 100 ecr 0>")
    live = TCP(seq=5000, flags="S", options=[Timestamps(777_000, 0)])
    seqmap.learn_isn(syn, live)
    seqmap.learn_ts(syn, live)
    assert seqmap.local_offset == 5000
    _, _, options = seqmap.inbound(spec("< S. 0:0(0) ack 1 win 100 <TS val 9 ecr 100>"))
    assert options == (Timestamps(9, 777_000),)
    _, _, later = seqmap.inbound(spec("< . 1:1(0) ack 1 win 100 <TS val 9 ecr 130>"))
    assert later == (Timestamps(9, 777_030),)  # not seen: interpolated from the first one
    _, _, syn_in = seqmap.inbound(spec("< S 0:0(0) win 100 <TS val 9 ecr 55>"))
    assert syn_in == (Timestamps(9, 55),)  # no ACK flag: ecr is not an echo, left alone


def test_ts_ecr_without_any_outbound_ts_cannot_be_mapped():
    with pytest.raises(MappingError, match="cannot map TS ecr 100"):
        SeqMap().inbound(spec("< . 1:1(0) ack 1 win 10 <TS val 1 ecr 100>"))


def test_view_puts_live_segments_in_script_numbers():
    seqmap = SeqMap(remote_isn=2**32 - 1, local_offset=1000)
    seqmap.first_ts = (50, 9050)
    tcp = TCP(seq=1001, ack=9, flags="PA", window=502, options=[NOP(), NOP(), Timestamps(9060, 4),
                                                                  SACK(((19, 29),))])
    view = seqmap.view(tcp, 100)
    assert view == SegmentView(P | A, 1, 100, 10, 502, (NOP(), NOP(), Timestamps(60, 4), SACK(((20, 30),))))
    assert view.text() == "> P. 1:101(100) ack 10 win 502 <nop,nop,TS val 60 ecr 4,sack 20:30>"
    assert seqmap.view(TCP(seq=1000, flags="S"), 0).ack is None


def test_learn_isn_once_from_the_first_syn():
    seqmap = SeqMap()
    seqmap.learn_isn(spec("> S 0:0(0)"), TCP(seq=123, flags="S"))
    seqmap.learn_isn(spec("> S 0:0(0)"), TCP(seq=999, flags="S"))
    assert seqmap.local_offset == 123
    other = SeqMap()
    other.learn_isn(spec("> S. 100:100(0) ack 1"), TCP(seq=50, flags="SA"))
    assert other.local_offset == 2**32 - 50


LINUX_SYN = (MSS(1460), SACKPermitted(), Timestamps(1, 0), NOP(), WindowScale(7))


def test_options_exact_needs_the_same_order():
    assert compare_options(LINUX_SYN, LINUX_SYN, "exact") is None
    reordered = (MSS(1460), NOP(), WindowScale(7), SACKPermitted(), Timestamps(1, 0))
    assert "options differ" in compare_options(reordered, LINUX_SYN, "exact")
    assert compare_options(reordered, LINUX_SYN, "loose") is None


def test_options_loose_ignores_nop_and_eol_but_not_values():
    assert compare_options((NOP(), NOP(), MSS(1460)), (MSS(1460), EOL()), "loose") is None
    assert "as a set" in compare_options((MSS(1460),), (MSS(536),), "loose")
    assert compare_options((MSS(1460),), (MSS(1460), MSS(1460)), "loose") is not None  # a multiset
    assert compare_options((), (WindowScale(7),), "loose") is not None


def test_options_ts_val_is_not_checked_but_ecr_is():
    assert compare_options((Timestamps(1, 5),), (Timestamps(99, 5),), "exact") is None
    assert compare_options((Timestamps(1, 5),), (Timestamps(1, 6),), "exact") is not None
    assert compare_options((Timestamps(1, 5),), (Timestamps(1, 6),), "loose") is not None


def test_options_padding_eol_and_any():
    assert compare_options((MSS(1), SACKPermitted()), (MSS(1), SACKPermitted(), EOL(b"\x00")), "exact") is None
    assert compare_options(None, LINUX_SYN, "exact") is None
    assert compare_options((), (), "exact") is None
    assert compare_options((), (MSS(1),), "exact") == "options differ: expected <>, got <mss 1>"


def test_compare_segment_names_each_wrong_field():
    want = spec("> P. 1:101(100) ack 1 win 200 <nop,nop,TS val 1 ecr 2>")
    good = SegmentView(P | A, 1, 100, 1, 200, (NOP(), NOP(), Timestamps(7, 2)))
    assert compare_segment(want, good, "exact") == []
    bad = SegmentView(F | A, 2, 99, 3, 100, ())
    assert compare_segment(want, bad, "exact") == [
        "flags: expected P., got F.", "seq: expected 1, got 2", "payload length: expected 100, got 99",
        "ack: expected 1, got 3", "win: expected 200, got 100",
        "options differ: expected <nop,nop,TS val 1 ecr 2>, got <>"]


def test_compare_segment_skips_what_the_script_leaves_out():
    assert compare_segment(spec("> . 1:1(0) <...>"), SegmentView(A, 1, 0, 77, 5, (NOP(),)), "exact") == []
    assert compare_segment(spec("> R 1:1(0)"), SegmentView(R, 1, 0, None, 0, ()), "exact") == []
    assert compare_segment(spec("> . 1:1(0) ack 5"), SegmentView(TCPFlags(0), 1, 0, None, 0, ()), "exact") == [
        "flags: expected ., got -", "ack: expected 5, got none"]


def test_combine_mss_sized_segments():
    parts = [SegmentView(A, 1, 1000, 1, 9, ()), SegmentView(A, 1001, 1000, 1, 9, ()),
             SegmentView(P | A, 2001, 500, 1, 10, ())]
    merged = combine(parts)
    assert merged == SegmentView(P | A, 1, 2500, 1, 10, ())
    assert compare_segment(spec("> P. 1:2501(2500) ack 1"), merged, "exact") == []


def test_combine_refuses_gaps_odd_sizes_and_early_fin():
    assert "starts at 1002" in combine([SegmentView(A, 1, 1000, 1, 9, ()), SegmentView(A, 1002, 10, 1, 9, ())])
    assert "carries 999 bytes" in combine([SegmentView(A, 1, 1000, 1, 9, ()), SegmentView(A, 1001, 999, 1, 9, ()),
                                           SegmentView(A, 2000, 1, 1, 9, ())])
    assert "only a last segment" in combine([SegmentView(F | A, 1, 10, 1, 9, ()), SegmentView(A, 11, 10, 1, 9, ())])


@pytest.mark.parametrize(("flags", "text"), [(S, "S"), (S | A, "S."), (A, "."), (P | A, "P."), (F | P | A, "FP."),
                                             (R, "R"), (R | A, "R."), (TCPFlags(0), "-")])
def test_flags_text_round_trips_through_the_parser(flags, text):
    assert format_flags(flags) == text
    assert spec(f"< {text} 0:0(0) win 1").flags == flags


option_values = st.one_of(
    st.builds(MSS, st.integers(0, 0xFFFF)), st.builds(WindowScale, st.integers(0, 255)), st.just(NOP()),
    st.just(SACKPermitted()), st.just(EOL()),
    st.builds(Timestamps, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.builds(SACK, st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), min_size=1,
                             max_size=3).map(tuple)))


@given(st.sampled_from([S, S | A, A, P | A, F | A, R, R | A, TCPFlags(0)]), st.integers(0, 2**32 - 1),
       st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1), st.integers(0, 0xFFFF),
       st.lists(option_values, max_size=3).filter(lambda opts: sum(len(o.encode()) for o in opts) <= 40))
def test_formatted_segments_parse_back(flags, seq, length, ack, window, options):
    line = format_segment(False, flags, seq, length, ack, window, options)
    assert spec(line) == SegmentSpec(False, flags, seq, length, ack, window, tuple(options))


def test_format_options_forms():
    assert format_options(None) == "<...>"
    assert format_options(()) == ""
    assert format_options(LINUX_SYN) == "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>"
