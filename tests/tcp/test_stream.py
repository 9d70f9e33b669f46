"""Stream integrity: bytes arrive identical, in order, once, under loss, duplication and reordering."""

from __future__ import annotations

import random

import pytest

from layersim.tcp import PROFILES, State
from tests.tcp.pair import MS, TCPPair, lossy


def run_seed(seed: int, size: int, profile: str = "linux") -> TCPPair:
    """One transfer of `size` random bytes each way over a link with seeded faults of up to 30 % each."""
    rng = random.Random(seed)
    loss, dup, reorder = rng.uniform(0, 0.3), rng.uniform(0, 0.3), rng.uniform(0, 0.3)
    up, down = rng.randbytes(size), rng.randbytes(size)
    p = TCPPair(client_profile=PROFILES[profile], server_profile=PROFILES[profile], delay_ns=2 * MS,
                client_iss=rng.randrange(2**32), server_iss=rng.randrange(2**32),
                rules=[lossy(random.Random(seed ^ 0x5EED), loss, dup, reorder, reorder_ns=6 * MS)])
    p.open()
    got_up, got_down = p.transfer(up, down)
    assert got_up == up and got_down == down, f"seed {seed}: stream differs"
    p.call("c", "close")
    p.call("s", "close")
    p.run()
    assert p.client.state is State.CLOSED and p.server.state is State.CLOSED
    assert p.client.error is None or seed_gave_up(p), f"seed {seed}: {p.client.error}"
    return p


def seed_gave_up(p: TCPPair) -> bool:
    """A close handshake may legitimately end in ETIMEDOUT when the link ate every last retransmission."""
    return p.client.error is not None and p.server.finished


@pytest.mark.parametrize("seed", range(6))
def test_stream_integrity_small_sweep(seed):
    """The default run: 6 seeds, 100 kB each way, Linux profile (sequence numbers start anywhere)."""
    run_seed(seed, 100_000)


@pytest.mark.parametrize("seed", range(3))
def test_stream_integrity_rfc_profile(seed):
    run_seed(seed, 60_000, "rfc")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(50))
def test_stream_integrity_one_megabyte(seed):
    """The full sweep (pytest -m slow): 1 MB each way, 50 seeds, 0-30 % loss, duplication and reordering."""
    run_seed(seed, 1_000_000)


def test_lossless_transfer_has_no_retransmissions():
    """Without faults nothing is retransmitted and the congestion window only grows."""
    p = TCPPair(delay_ns=2 * MS).open()
    data = random.Random(1).randbytes(1_000_000)
    assert p.transfer(data, data) == (data, data)
    assert not [e for e in p.events if e.kind in ("retransmit", "rto", "recovery")]
    assert not [s for s in p.log if s.segment.retransmission]


def test_tiny_mss_with_sack_blocks_keeps_options_inside_the_mss():
    """MSS 88 (Linux's floor) with timestamps and SACK blocks: payload plus options never exceed the MSS
    (RFC 9293 §3.7.1), and the streams still arrive whole under loss and reordering."""
    rng = random.Random(88)
    p = TCPPair(mss=88, delay_ns=2 * MS, rules=[lossy(random.Random(9), 0.1, 0.05, 0.2)]).open()
    up, down = rng.randbytes(20_000), rng.randbytes(20_000)
    assert p.transfer(up, down) == (up, down)
    sizes = [len(s.segment.payload) + sum(len(o.encode()) for o in s.segment.tcp.options) for s in p.log[2:]]
    assert max(sizes) <= 88
    assert any(len(s.segment.tcp.options) > 3 and s.segment.payload for s in p.log)  # data beside SACK blocks


def test_sequence_numbers_wrap_under_loss():
    """Both ISNs a few kB below 2**32: the wrap happens mid-transfer, with losses around it."""
    p = TCPPair(client_iss=2**32 - 3000, server_iss=2**32 - 5000, delay_ns=2 * MS,
                rules=[lossy(random.Random(7), 0.15, 0.05, 0.15)]).open()
    data = random.Random(2).randbytes(100_000)
    assert p.transfer(data, data) == (data, data)
