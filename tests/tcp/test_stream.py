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
