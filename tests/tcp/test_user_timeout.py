"""TCP_USER_TIMEOUT (RFC 5482; Linux retransmits_timed_out and tcp_clamp_rto_to_user_timeout)."""

from __future__ import annotations

import errno

from layersim.tcp import State
from tests.tcp.pair import MS, TCPPair

S = 1000 * MS


def lost_write(user_timeout_ns: int) -> tuple[TCPPair, int]:
    """An established pair whose client writes into a link that drops everything it sends; (pair, write time)."""
    p = TCPPair().open()
    p.client.user_timeout_ns = user_timeout_ns
    p.rules.append(lambda d, i, s: "drop" if d == "c>s" else None)
    start = p.now
    p.send("c", b"lost")
    p.run()
    return p, start


def test_user_timeout_ends_the_connection_when_it_runs_out():
    """RTO 210 ms, then 420 ms clamped to what is left of 1 s: ETIMEDOUT exactly 1 s after the first send."""
    p, start = lost_write(1 * S)
    sends = [s.time - start for s in p.sent("c>s") if s.segment.payload]
    assert sends == [0, 210 * MS, 630 * MS]
    assert p.client.state is State.CLOSED and p.client.error == errno.ETIMEDOUT
    failed = next(e for e in p.events if e.kind == "error")
    assert failed.time_ns - start == 1 * S


def test_user_timeout_is_checked_from_the_second_expiry_only():
    """Linux: no verdict before the first retransmission, however short the timeout."""
    p, start = lost_write(1 * MS)
    sends = [s.time - start for s in p.sent("c>s") if s.segment.payload]
    assert sends == [0, 210 * MS]
    failed = next(e for e in p.events if e.kind == "error")
    assert failed.time_ns - start == 210 * MS + 1  # the time is up: the clamped timer fires at once (1 ns)


def test_a_long_user_timeout_outlives_tcp_retries2():
    """With a user timeout the retry count no longer decides: 16 retransmissions and more within 20 minutes."""
    p, start = lost_write(1200 * S)
    sends = [s for s in p.sent("c>s") if s.segment.payload]
    assert len(sends) > 16
    failed = next(e for e in p.events if e.kind == "error")
    assert failed.time_ns - start == 1200 * S


def test_user_timeout_applies_to_the_syn():
    """SYN at 0, again at 1 s, then the timer is clamped to 2.5 s: ETIMEDOUT there, not after 6 retries."""
    p = TCPPair()
    p.rules.append(lambda d, i, s: "drop")
    p.open(establish=False)
    p.client.user_timeout_ns = 2500 * MS
    p.run()
    assert [s.time for s in p.sent("c>s")] == [0, 1 * S]
    assert p.client.error == errno.ETIMEDOUT
    assert next(e for e in p.events if e.kind == "error").time_ns == 2500 * MS
