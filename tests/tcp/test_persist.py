"""Zero-window probing (RFC 1122 §4.2.2.17): the sender stays open as long as the receiver answers its probes, and
gives up (ETIMEDOUT) only when the probes go unanswered."""

from __future__ import annotations

import errno
import itertools
import random
from dataclasses import replace

import pytest

from layersim.tcp import LINUX, RFC, Profile, State
from tests.tcp.pair import TCPPair

S = 1_000_000_000
MS = 1_000_000


def stalled_pair(profile: Profile, data: bytes) -> TCPPair:
    """A pair whose server never reads: the client's data fills the server's buffer and the window closes."""
    p = TCPPair(client_profile=profile, server_profile=profile, server_kwargs={"rcvbuf": 4096}).open()
    sent = p.send("c", data)
    assert sent == len(data)
    p.run_for(1 * S)
    assert p.client.snd_wnd == 0 and p.client.unacked > 0
    return p


@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
def test_answered_probes_keep_a_zero_window_connection_open_for_hours(profile: Profile) -> None:
    """Two hours of a zero window: far more probes than data_retries, spaced at most max_persist_ns apart (the
    backoff reaches the cap), and the connection stays open; when the application reads, every byte arrives."""
    data = random.Random(3).randbytes(30_000)
    p = stalled_pair(profile, data)
    p.run_for(2 * 3600 * S)
    assert p.client.state is State.ESTABLISHED and p.client.error is None
    probes = [e.time_ns for e in p.events if e.kind == "persist"]
    assert len(probes) > 2 * profile.data_retries
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert max(gaps) == profile.max_persist_ns and gaps[-1] == profile.max_persist_ns
    assert p.client.snd_wnd == 0  # still closed: the probes were answered with a zero window
    got = bytearray()
    for _ in range(200):
        got += p.recv("s")
        if len(got) == len(data):
            break
        p.run_for(50 * MS)
    assert bytes(got) == data
    p.call("c", "close")
    p.run_for(1 * S)
    p.call("s", "close")
    p.run_for(1 * S)
    assert p.client.state in (State.TIME_WAIT, State.CLOSED) and p.server.state is State.CLOSED


@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
def test_unanswered_probes_still_time_out(profile: Profile) -> None:
    """A receiver that stops answering: after data_retries unanswered probes in a row the sender gives up with
    ETIMEDOUT (15 for Linux's tcp_retries2, 12 for the RFC profile), and sends no probe after that."""
    p = stalled_pair(profile, bytes(30_000))
    p.run_for(30 * S)  # probes far enough apart that none of the answers is rate-limited (the last one reset the count)
    p.rules.append(lambda direction, index, seg: "drop" if direction == "s>c" else None)
    start = len(p.events)
    p.run_for(4 * 3600 * S)
    assert p.client.state is State.CLOSED and p.client.error == errno.ETIMEDOUT
    probes = [e for e in p.events[start:] if e.kind == "persist"]  # the answers before reset the count
    assert [e.details["probe"] for e in probes] == list(range(1, profile.data_retries + 1))


def test_probe_count_restarts_after_each_answer() -> None:
    """Answers reset the count (Linux tcp_ack: icsk_probes_out = 0 on any acceptable ACK): with every other
    answer lost, the sender still never gives up."""
    p = stalled_pair(LINUX, bytes(30_000))
    lose = itertools.cycle([True, False])
    p.rules.append(lambda direction, index, seg: "drop" if direction == "s>c" and next(lose) else None)
    p.run_for(3600 * S)
    assert p.client.state is State.ESTABLISHED and p.client.error is None
    assert len([e for e in p.events if e.kind == "persist"]) > LINUX.data_retries


def shrink_server_window(p: TCPPair) -> list[bool]:
    """Rewrite every window the server sends to 0 while the returned flag is set (a receiver that shrinks its
    window with data in flight, which RFC 9293 §3.8.6.2.2 discourages and a peer may still do)."""
    on = [True]
    transmit = p.transmit

    def shrinking(direction: str, segments: list) -> None:
        if direction == "s>c" and on[0]:
            segments = [replace(s, tcp=s.tcp.replace(window=0)) for s in segments]
        transmit(direction, segments)
    p.transmit = shrinking  # type: ignore[method-assign]
    return on


def data_lost_window_shrunk(profile: Profile) -> tuple[TCPPair, list[bool], bytes]:
    """The client's data is in flight and lost, and the server's segments say window 0 (its data segment
    carries the zero window to the client)."""
    p = TCPPair(client_profile=profile, server_profile=profile).open()
    on = shrink_server_window(p)
    p.rules.append(lambda direction, index, seg: "drop" if on[0] and direction == "c>s" and seg.payload else None)
    data = random.Random(5).randbytes(20_000)
    p.send("c", data)
    p.send("s", b"x")
    p.run_for(20 * MS)
    assert p.client.snd_wnd == 0 and p.client.snd_una != p.client.snd_max and p.recv("c") == b"x"
    return p, on, data


@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
def test_retransmissions_into_a_shrunk_window_live_while_answered(profile: Profile) -> None:
    """The window closes with data in flight: the retransmission timer's segments are then window probes (Linux
    tcp_retransmit_timer) and do not count towards data_retries while the receiver's ACKs keep coming."""
    p, on, data = data_lost_window_shrunk(profile)
    for _ in range(360):  # an hour: the server writes a byte every 10 s, its segments ACK nothing new
        p.send("s", b"y")
        p.run_for(10 * S)
        assert p.recv("c") == b"y"
    assert p.client.state is State.ESTABLISHED and p.client.error is None
    assert sum(e.kind == "rto" for e in p.events) > profile.data_retries
    on[0] = False
    got = bytearray()
    for _ in range(100):
        p.run_for(20 * S)
        got += p.recv("s")
        if len(got) == len(data):
            break
    assert bytes(got) == data


def test_retransmissions_into_a_shrunk_window_give_up_without_answers() -> None:
    """...and with no ACK for twice the maximum RTO (Linux tcp_rtx_probe0_timed_out) the connection fails."""
    p, _, _ = data_lost_window_shrunk(LINUX)
    last_ack = p.now
    p.run_for(3600 * S)
    assert p.client.state is State.CLOSED and p.client.error == errno.ETIMEDOUT
    failed = next(e.time_ns for e in p.events if e.kind == "error")
    assert 2 * LINUX.max_rto_ns < failed - last_ack <= 3 * LINUX.max_rto_ns
    assert sum(e.kind == "rto" for e in p.events) < LINUX.data_retries
