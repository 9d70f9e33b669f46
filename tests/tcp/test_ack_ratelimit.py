"""ACKs that answer invalid segments are rate-limited (Linux tcp_oow_rate_limited, tcp_invalid_ratelimit 500 ms;
RFC 5961 §7): one forged byte must not start an endless ACK exchange, and a genuine out-of-window segment
still gets its ACK at once."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from layersim.tcp import LINUX, RFC, Profile, Segment, State
from layersim.wire.tcp import TCP
from tests.tcp.pair import TCPPair

S = 1_000_000_000
MS = 1_000_000


def forge(p: TCPPair, direction: str, *, seq: int, ack: int, flags: str = "A", payload: bytes = b"",
          window: int = 1000) -> None:
    """Put a segment on the link as if the sending end of `direction` had sent it (an attacker's forgery)."""
    sport, dport = (40000, 80) if direction == "c>s" else (80, 40000)
    tcp = TCP(sport=sport, dport=dport, seq=seq % 2**32, ack=ack % 2**32, flags=flags,
              window=window)
    p.transmit(direction, [Segment(tcp, payload, False, False, False)])


def per_second(p: TCPPair, start: int) -> Counter[int]:
    """Segments put on the link in each whole simulated second after `start`."""
    return Counter((s.time - start) // S for s in p.log if s.time >= start)


def forged_byte(profile: Profile) -> tuple[TCPPair, int]:
    """An idle established pair, and one forged in-window byte injected towards the server (RFC 5961 §5's blind
    data injection): the server accepts it and acknowledges data the client never sent."""
    p = TCPPair(client_profile=profile, server_profile=profile).open()
    p.run_for(1 * S)
    start = p.now
    forge(p, "c>s", seq=p.server.rcv_nxt, ack=p.server.snd_nxt, flags="PA", payload=b"!")
    return p, start


@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
def test_one_forged_byte_does_not_start_an_ack_storm(profile: Profile) -> None:
    """rfc: the client answers the ACK of unsent data, the server answers that out-of-window ACK, and so on;
    the answers now leave at most once per invalid_ratelimit_ns on each side, and a withheld answer ends the
    exchange (before: 200 segments per simulated second with this 5 ms link, until something else broke it)."""
    p, start = forged_byte(profile)
    p.run_for(10 * S)
    counts = per_second(p, start)
    limit = 2 * (S // profile.invalid_ratelimit_ns) + 2  # each side's answers, the forgery and the first ACK
    assert max(counts.values()) <= limit, counts
    assert sum(counts.values()) <= 4 and set(counts) == {0}, counts  # it dies out within the first second
    assert p.client.state is State.ESTABLISHED and p.server.state is State.ESTABLISHED


def test_the_rate_limit_is_a_profile_knob() -> None:
    """invalid_ratelimit_ns = 0 turns the limit off: the rfc profile's ACK exchange then never stops (one round
    trip per 10 ms here), which is what the default prevents."""
    unlimited = replace(RFC, invalid_ratelimit_ns=0)
    p, start = forged_byte(unlimited)
    p.run_for(10 * S)
    counts = per_second(p, start)
    assert min(counts[second] for second in range(1, 10)) >= 100, counts
    assert not [e for e in p.events if e.kind == "ack_limited"]


def test_genuine_out_of_window_segment_is_answered_the_first_time() -> None:
    """An old duplicate (a pure ACK below RCV.NXT, as a keepalive or window probe looks) gets its ACK at once;
    a second one within the interval does not, and one after the interval does again."""
    p = TCPPair(client_profile=RFC, server_profile=RFC).open()
    p.run_for(1 * S)
    seq, ack = p.client.snd_nxt, p.client.rcv_nxt

    def answers_to_probe() -> int:
        before = len(p.sent("s>c"))
        forge(p, "c>s", seq=seq - 1, ack=ack)
        p.run_for(20 * MS)
        return len(p.sent("s>c")) - before

    assert answers_to_probe() == 1
    assert answers_to_probe() == 0          # 20 ms later: rate-limited
    p.run_for(RFC.invalid_ratelimit_ns)
    assert answers_to_probe() == 1


def test_out_of_window_data_is_always_answered() -> None:
    """Data segments are not part of an ACK loop (Linux tcp_oow_rate_limited): a retransmission of data already
    received gets a duplicate ACK every time, even many times within the interval."""
    p = TCPPair().open()
    p.send("c", b"hello")
    p.run_for(100 * MS)
    assert p.recv("s") == b"hello"
    for _ in range(3):
        before = len(p.sent("s>c"))
        forge(p, "c>s", seq=p.client.snd_nxt - 5, ack=p.client.rcv_nxt, flags="PA", payload=b"hello")
        p.run_for(10 * MS)
        answers = p.sent("s>c")[before:]
        assert len(answers) == 1 and answers[0].segment.tcp.ack == p.server.rcv_nxt


def test_challenge_acks_are_rate_limited() -> None:
    """RFC 5961 §7: in-window RSTs and SYNs get challenge ACKs, at most one per interval."""
    p = TCPPair().open()
    p.run_for(1 * S)
    seq, ack = p.client.snd_nxt, p.client.rcv_nxt
    before = len(p.sent("s>c"))
    for i in range(10):
        forge(p, "c>s", seq=seq + 100 + i, ack=ack, flags="R")
        forge(p, "c>s", seq=seq + 200 + i, ack=0, flags="S")
    p.run_for(10 * MS)
    assert len(p.sent("s>c")) - before == 1
    assert p.server.state is State.ESTABLISHED
    p.run_for(LINUX.invalid_ratelimit_ns)
    forge(p, "c>s", seq=seq + 100, ack=ack, flags="R")
    p.run_for(10 * MS)
    assert len(p.sent("s>c")) - before == 2
    assert [e.details["reason"] for e in p.events if e.kind == "challenge_ack"].count("rst in window") == 2
