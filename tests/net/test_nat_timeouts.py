"""Nat mapping lifetimes at their boundaries (alive 1 ns before the timeout, gone at it), TCP state tracking,
next_deadline, events and the conntrack-style table. Timeouts are Linux's nf_conntrack defaults."""

from __future__ import annotations

import random

import pytest

from layersim.net.nat.napt import LINUX_TIMEOUTS, Nat, NatTimeouts, NatVerdict
from tests.net.test_nat import OUT, WEB, A, S, echo, tcp, udp

# (state reached, segments as (direction, flags), timeout in seconds, ASSURED)
HANDSHAKE = [("out", "S"), ("in", "SA"), ("out", "A")]
TCP_CASES = [
    ("SYN_SENT", [("out", "S")], 120, False),
    ("SYN_RECV", [("out", "S"), ("in", "SA")], 60, False),
    ("ESTABLISHED", HANDSHAKE, 432000, True),
    ("FIN_WAIT", [*HANDSHAKE, ("out", "FA")], 120, True),
    ("CLOSE_WAIT", [*HANDSHAKE, ("out", "FA"), ("in", "A")], 60, True),
    ("LAST_ACK", [*HANDSHAKE, ("out", "FA"), ("in", "A"), ("in", "FA")], 30, True),
    ("TIME_WAIT", [*HANDSHAKE, ("out", "FA"), ("in", "FA"), ("out", "A")], 120, True),
    ("TIME_WAIT", [*HANDSHAKE, ("in", "FA"), ("out", "FA"), ("in", "A")], 120, True),  # the server closes first
    ("CLOSE", [*HANDSHAKE, ("out", "R")], 10, True),
    ("CLOSE", [*HANDSHAKE, ("in", "R")], 10, True),
    ("SYN_SENT2", [("out", "S"), ("in", "S")], 120, False),  # simultaneous open
    ("ESTABLISHED", [("out", "A")], 432000, False),  # a connection picked up mid-stream
    ("ESTABLISHED", [("out", "A"), ("in", "A"), ("out", "A")], 432000, True),  # ... and answered
    ("SYN_SENT", [*HANDSHAKE, ("out", "FA"), ("in", "FA"), ("out", "A"), ("out", "S")], 120, True),  # reopened
]


def _segment(direction: str, flags: str) -> bytearray:
    return tcp(A, WEB, 40000, 80, flags) if direction == "out" else tcp(WEB, OUT, 80, 40000, flags)


def _run(segments: list[tuple[str, str]]) -> tuple[Nat, int]:
    """A Nat after these segments, one second apart; returns it and the time of the last one."""
    nat = Nat(OUT, rng=random.Random(1))
    for second, (direction, flags) in enumerate(segments):
        hook = nat.outbound if direction == "out" else nat.inbound
        assert hook(_segment(direction, flags), second * S).verdict is NatVerdict.TRANSLATED
    return nat, (len(segments) - 1) * S


@pytest.mark.parametrize(("state", "segments", "seconds", "assured"), TCP_CASES,
                         ids=[f"{case[0]}-{len(case[1])}" for case in TCP_CASES])
def test_tcp_state_and_timeout(state: str, segments: list[tuple[str, str]], seconds: int, assured: bool) -> None:
    nat, last = _run(segments)
    [mapping] = nat.mappings()
    assert mapping.state is not None and mapping.state.value == state and mapping.assured is assured
    assert nat.next_deadline() == last + seconds * S
    assert nat.expire(last + seconds * S - 1) == []
    assert nat.expire(last + seconds * S) == [mapping] and nat.mappings() == []


@pytest.mark.parametrize(("state", "segments", "seconds", "assured"), TCP_CASES[:4],
                         ids=[case[0] for case in TCP_CASES[:4]])
def test_a_packet_finds_its_mapping_until_the_timeout(state: str, segments: list[tuple[str, str]], seconds: int,
                                                      assured: bool) -> None:
    """Without expire() being called: a reply 1 ns before the deadline gets through, one at it is dropped."""
    nat, last = _run(segments)
    assert nat.inbound(_segment("in", "A"), last + seconds * S - 1).verdict is NatVerdict.TRANSLATED
    nat, last = _run(segments)
    assert nat.inbound(_segment("in", "A"), last + seconds * S).reason == "no mapping"
    assert [event.kind for event in nat.drain_events()] == ["created", "expired"]


def test_a_retransmitted_syn_does_not_extend_syn_sent() -> None:
    nat, _ = _run([("out", "S"), ("out", "S")])
    assert nat.next_deadline() == 120 * S  # from the first SYN, not the second
    assert nat.expire(120 * S - 1) == [] and len(nat.expire(120 * S)) == 1


def test_an_rst_answering_a_syn_removes_the_mapping_at_once() -> None:
    nat = Nat(OUT, rng=random.Random(1))
    nat.outbound(_segment("out", "S"), 0)
    reset = _segment("in", "RA")
    assert nat.inbound(reset, S).verdict is NatVerdict.TRANSLATED  # the RST still reaches the inside host
    assert reset == tcp(WEB, A, 80, 40000, "RA")
    assert nat.mappings() == [] and nat.next_deadline() is None
    assert [(event.kind, event.time) for event in nat.drain_events()] == [("created", 0), ("reset", S)]


def test_closing_brings_the_deadline_forward() -> None:
    nat, last = _run(HANDSHAKE)
    assert nat.next_deadline() == last + 432000 * S
    nat.outbound(_segment("out", "FA"), last + S)
    assert nat.next_deadline() == last + S + 120 * S


@pytest.mark.parametrize(("times", "seconds", "assured"), [
    ([("out", 0)], 30, False),  # unreplied
    ([("out", 0), ("out", 10 * S)], 30, False),  # each packet out refreshes
    ([("out", 0), ("in", S)], 30, False),  # replied within 2 s: a query and its answer
    ([("out", 0), ("in", 2 * S)], 30, False),  # 2 s is not yet "after 2 s"
    ([("out", 0), ("in", 2 * S + 1)], 120, True),  # a stream
    ([("out", 0), ("in", S), ("out", 3 * S)], 120, True),
])
def test_udp_timeouts(times: list[tuple[str, int]], seconds: int, assured: bool) -> None:
    nat = Nat(OUT, rng=random.Random(1))
    for direction, time in times:
        if direction == "out":
            nat.outbound(udp(A, WEB, 5353, 53), time)
        else:
            nat.inbound(udp(WEB, OUT, 53, 5353), time)
    [mapping] = nat.mappings()
    last = times[-1][1]
    assert mapping.assured is assured and nat.next_deadline() == last + seconds * S
    assert nat.inbound(udp(WEB, OUT, 53, 5353), last + seconds * S - 1).verdict is NatVerdict.TRANSLATED
    deadline = nat.next_deadline()
    assert deadline is not None
    assert nat.expire(deadline - 1) == [] and nat.expire(deadline) == [mapping]


def test_icmp_and_other_protocols_time_out() -> None:
    nat = Nat(OUT, rng=random.Random(1))
    nat.outbound(echo(A, WEB, 99), 0)
    nat.inbound(echo(WEB, OUT, 99, kind=0), 5 * S)
    assert nat.next_deadline() == 35 * S
    gre = bytearray(bytes.fromhex("4500001800000000402f0000") + bytes(4) + bytes(4))
    gre[12:16] = bytes([10, 0, 0, 2])
    gre[16:20] = bytes([93, 184, 216, 34])
    nat.outbound(gre, 0)
    assert [m.expires for m in nat.mappings()] == [35 * S, 600 * S]


def test_timeouts_can_be_set() -> None:
    timeouts = NatTimeouts(udp=5, tcp_established=3600)
    assert LINUX_TIMEOUTS.udp == 30 and LINUX_TIMEOUTS.tcp_established == 432000
    nat = Nat(OUT, timeouts=timeouts, rng=random.Random(1))
    nat.outbound(udp(A, WEB, 5353, 53), 0)
    assert nat.next_deadline() == 5 * S


def test_next_deadline_and_expire_over_several_mappings() -> None:
    nat = Nat(OUT, rng=random.Random(1))
    assert nat.next_deadline() is None and nat.expire(10**18) == []
    nat.outbound(udp(A, WEB, 1000, 53), 0)  # 30 s
    nat.outbound(echo(A, WEB, 7), 10 * S)  # 40 s
    nat.outbound(tcp(A, WEB, 2000, 80, "S"), 0)  # 120 s
    nat.outbound(udp(A, WEB, 1000, 53), 20 * S)  # the first is refreshed: 50 s
    assert nat.next_deadline() == 40 * S
    assert [m.protocol for m in nat.expire(50 * S)] == [1, 17]
    assert nat.next_deadline() == 120 * S
    events = nat.drain_events()
    assert [(e.kind, e.time, e.mapping.protocol) for e in events] == [
        ("created", 0, 17), ("created", 10 * S, 1), ("created", 0, 6), ("expired", 40 * S, 1),
        ("expired", 50 * S, 17)]
    assert nat.drain_events() == []


def test_table_lines_look_like_conntrack() -> None:
    nat, last = _run(HANDSHAKE)
    nat.outbound(udp(A, WEB, 5353, 53), last)
    nat.outbound(echo(A, WEB, 4660), last)
    assert nat.table(last + S // 2).splitlines() == [
        "tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=93.184.216.34 sport=40000 dport=80 src=93.184.216.34 "
        "dst=203.0.113.2 sport=80 dport=40000 [ASSURED]",
        "udp      17 29 src=10.0.0.2 dst=93.184.216.34 sport=5353 dport=53 [UNREPLIED] src=93.184.216.34 "
        "dst=203.0.113.2 sport=53 dport=5353",
        "icmp     1 29 src=10.0.0.2 dst=93.184.216.34 type=8 code=0 id=4660 [UNREPLIED] src=93.184.216.34 "
        "dst=203.0.113.2 type=0 code=0 id=4660",
    ]
    assert len(nat.table(last + 30 * S).splitlines()) == 1  # timed-out mappings are not listed


def test_every_segment_of_an_established_connection_restarts_its_timeout() -> None:
    nat, last = _run(HANDSHAKE)
    for second in range(1, 4):
        nat.inbound(_segment("in", "PA"), last + second * S)
        nat.outbound(_segment("out", "A"), last + second * S + 1)
    assert nat.next_deadline() == last + 3 * S + 1 + 432000 * S
    assert nat.expire(last + 3 * S + 432000 * S) == [] and len(nat.expire(last + 3 * S + 1 + 432000 * S)) == 1
