"""Stream integrity over client - r1 - r2 - server: 1 MB each way, both directions at once, arrives
byte-identical under loss, duplication and reordering on every link: a few seeds, and the full sweep (50 seeds,
0-30 % faults) marked `slow` (it runs by default; `-m "not slow"` skips it). Rates are per path (each link gets
the share that makes the path's rate that), per direction."""

from __future__ import annotations

import random
import socket
from collections import Counter

import pytest

from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from tests.net.conftest import CLIENT_IP, R1_LEFT, R1_RIGHT, R2_LEFT, R2_RIGHT, SERVER_IP, Chain, exchange

SIZE = 1_000_000


def per_link(path_rate: float) -> float:
    """The rate on each of three links that gives `path_rate` over the path (1 - (1 - p)^3 = path_rate)."""
    return 1 - (1 - path_rate) ** (1 / 3)


def lossy_chain(seed: int, loss: float, duplicate: float, reorder: float, trace: str = "none") -> Chain:
    """The chain of conftest.build_chain with faults on all three links in both directions, at rates that make
    `loss`, `duplicate` and `reorder` the chance that a packet meets that fault somewhere on the path."""
    net = Network(seed=seed, trace=trace)
    client, r1 = net.add_host("client"), net.add_router("r1")
    r2, server = net.add_router("r2"), net.add_host("server")
    faults = {"loss": per_link(loss), "duplicate": per_link(duplicate), "reorder": per_link(reorder)}
    net.link(client, r1, a_ip=f"{CLIENT_IP}/24", b_ip=f"{R1_LEFT}/24", **faults)
    net.link(r1, r2, a_ip=f"{R1_RIGHT}/24", b_ip=f"{R2_LEFT}/24", **faults)
    net.link(r2, server, a_ip=f"{R2_RIGHT}/24", b_ip=f"{SERVER_IP}/24", **faults)
    client.routes.add("0.0.0.0/0", via=R1_LEFT, interface="eth0")
    server.routes.add("0.0.0.0/0", via=R2_RIGHT, interface="eth0")
    r1.routes.add("10.0.2.0/24", via=R2_LEFT, interface="eth1")
    r2.routes.add("10.0.1.0/24", via=R1_RIGHT, interface="eth0")
    return Chain(net, client, r1, r2, server)



def transfer(seed: int, loss: float, duplicate: float, reorder: float,
             trace: str = "none") -> tuple[bool, bool, Chain]:
    """1 MB each way; whether each side got exactly the other's bytes."""
    chain = lossy_chain(seed, loss, duplicate, reorder, trace)
    rng = random.Random(seed)
    up, down = rng.randbytes(SIZE), rng.randbytes(SIZE)

    def server() -> bytes:
        lst = socket.socket()
        lst.bind(("", 80))
        lst.listen(1)
        conn, _ = lst.accept()
        return exchange(conn, down)

    def client() -> bytes:
        c = socket.create_connection((SERVER_IP, 80))
        return exchange(c, up)

    srv = chain.server.spawn(server)
    cli = chain.client.spawn(client, at="1ms")
    chain.net.run_until(lambda: srv.done and cli.done, timeout_ns=3600 * 10**9)
    for proc in (srv, cli):
        assert proc.done, f"{proc.name} not done after an hour of simulated time"
        assert proc.exception is None, proc.traceback
    return srv.result == up, cli.result == down, chain


DEFAULT = [(1, 0.0, 0.0, 0.0), (2, 0.02, 0.01, 0.02), (3, 0.05, 0.05, 0.05), (4, 0.3, 0.3, 0.3)]


@pytest.mark.parametrize(("seed", "loss", "duplicate", "reorder"), DEFAULT)
def test_one_megabyte_each_way_arrives_intact(seed: int, loss: float, duplicate: float, reorder: float) -> None:
    up_ok, down_ok, chain = transfer(seed, loss, duplicate, reorder, trace="events")
    assert (up_ok, down_ok) == (True, True)
    trace = chain.net.trace
    faults = Counter(e.info.fault for e in trace.select(EventKind.LINK))
    drops = len(trace.select(EventKind.DROP))
    retransmits = sum(e.info.what == "retransmit" for e in trace.select(EventKind.TCP))
    if loss:  # the faults really happened, and TCP repaired them
        assert faults["duplicate"] and faults["reorder"] and drops and retransmits
    else:
        assert not faults and not retransmits


def _rates(seed: int) -> tuple[int, float, float, float]:
    """Loss, duplication and reordering for one seed: whole percents from 0 to 30 (the first seed all 30)."""
    if seed == 100:
        return seed, 0.3, 0.3, 0.3
    rng = random.Random(seed)
    return seed, rng.randint(0, 30) / 100, rng.randint(0, 30) / 100, rng.randint(0, 30) / 100


SWEEP = [_rates(seed) for seed in range(100, 150)]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "loss", "duplicate", "reorder"), SWEEP)
def test_sweep_one_megabyte_each_way_arrives_intact(seed: int, loss: float, duplicate: float,
                                                    reorder: float) -> None:
    assert transfer(seed, loss, duplicate, reorder)[:2] == (True, True)
