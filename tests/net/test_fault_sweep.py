"""The fault sweep: TCP over client - router - server with every link fault at once (loss, duplication, reordering
and corruption, 0-30 % each per path and direction) and a small MTU on the router - server link (576, 296, 128,
68 bytes), both directions at once.

The invariant: every byte arrives intact and in order and both connections close normally (FIN, then TIME-WAIT or
LAST-ACK, then CLOSED) within SIM_LIMIT_NS of simulated time. Only where loss and corruption together lose more
than 30 % of a direction's packets may a run end early, and then only by a timeout: ETIMEDOUT from the stack; a
peer's ECONNRESET or the application's idle timeout, each after the other side timed out; or EHOSTUNREACH from
connect() after the router's ARP for the server timed out. There too a connection may close, after every byte was
read, by the timeout of its last FIN, or by an RST when that FIN outlived the peer's TIME-WAIT. Never wrong bytes,
never a hang.

Corruption is Ethernet's: the receiving interface's FCS check drops a damaged frame (DropReason.BAD_FCS), so the
application never sees it (with `corrupt_fcs="pass"` the Internet checksum lets two flips in one column through:
see test_fcs.py). A few cases run by default; the 50-seed sweep is marked `slow` (`-m "not slow"` skips it).
"""

from __future__ import annotations

import errno
import random
import socket
from collections import defaultdict
from dataclasses import dataclass

import pytest

from layersim.net.host.host import Host
from layersim.net.network import Network
from layersim.net.trace.log import DropReason, EventKind
from layersim.tcp.states import Event, State
from tests.net.conftest import GaveUp
from tests.net.conftest import exchange as exchange_with_peer

CLIENT_IP, SERVER_IP = "10.0.1.10", "10.0.2.20"
MTUS = (576, 296, 128, 68)
TIMEOUT_LOSS = 0.3  # beyond the top loss rate, counting corruption as loss, a run may end by a timeout
SIM_LIMIT_NS = 48 * 3600 * 10**9  # simulated time a case may take, TIME-WAIT included
# The applications' idle timeout once only reading is left. From a live peer, new data comes within two retry spans
# (its retries of data we hold whose ACK was lost, then of the next new segment), each at most 16 x 120 s (the
# profile's 15 data retries at the RTO cap): 3840 s; two hours leaves room.
IDLE_S = 7200


@dataclass(frozen=True)
class Case:
    """One run: the seed, the per-path fault rates (each direction), the router - server MTU, bytes each way."""

    seed: int
    loss: float
    duplicate: float
    reorder: float
    corrupt: float
    mtu: int
    size: int

    @property
    def path_loss(self) -> float:
        """The chance a full-size segment is lost or corrupted somewhere on the path, in one direction: below the
        552-byte path MTU floor the server still advertises MSS 256 (Linux's min_adv_mss), so the router cuts each
        full segment (256 + 52 bytes of headers and timestamps) into fragments that all have to arrive."""
        frame = 1 - (1 - self.loss) * (1 - self.corrupt)
        fragments = 1 if self.mtu >= 308 else -(-288 // ((self.mtu - 20) // 8 * 8))
        return 1 - (1 - frame) ** fragments

    def __str__(self) -> str:
        return (f"seed{self.seed}-mtu{self.mtu}-l{self.loss:.2f}-d{self.duplicate:.2f}-r{self.reorder:.2f}"
                f"-c{self.corrupt:.2f}-{self.size}B")


def per_link(path_rate: float) -> float:
    """The rate on each of the two links that gives `path_rate` over the path (1 - (1 - p)^2 = path_rate)."""
    return 1 - (1 - path_rate) ** 0.5


def faulty_path(case: Case) -> tuple[Network, Host, Host]:
    """client - router - server, the case's faults on both links in both directions, its MTU towards the server."""
    net = Network(seed=case.seed, trace="events")
    client, router, server = net.add_host("client"), net.add_router("router"), net.add_host("server")
    faults = {name: per_link(getattr(case, name)) for name in ("loss", "duplicate", "reorder", "corrupt")}
    net.link(client, router, a_ip=f"{CLIENT_IP}/24", b_ip="10.0.1.1/24", **faults)
    net.link(router, server, a_ip="10.0.2.1/24", b_ip=f"{SERVER_IP}/24", mtu=case.mtu, **faults)
    return net, client, server


def closes(net: Network) -> dict[tuple[str, str], list[tuple[State, State, Event]]]:
    """Each connection's state changes, (old, new, why), by (host, connection)."""
    changes: dict[tuple[str, str], list[tuple[State, State, Event]]] = defaultdict(list)
    for event in net.trace.select(EventKind.TCP):
        info = event.info
        if info.what == "state":
            facts = dict(info.facts)
            changes[event.node, info.connection].append((State(facts["old"]), State(facts["new"]),
                                                         Event[facts["event"]]))
    return changes


def exchange(sock: socket.socket, data: bytes) -> bytes:
    """Send `data` and read the peer's stream at once, then half-close (conftest.exchange).

    While data waits to be sent the stack's retransmission timer guards the connection (ETIMEDOUT). Once all is
    sent, only reading is left, and a peer whose connection timed out after its close() sends nothing more, not
    even an RST (Linux's tcp_write_err): then this gives up (GaveUp) after IDLE_S without data, as an application
    with an idle timeout would; IDLE_S is longer than a live peer can keep us waiting."""
    return exchange_with_peer(sock, data, IDLE_S)


def timed_out(net: Network, host: str) -> bool:
    """Whether a TCP connection of `host` ended with ETIMEDOUT (retransmissions exhausted)."""
    return any(e.info.what == "error" and dict(e.info.facts).get("errno") == errno.ETIMEDOUT
               for e in net.trace.select(EventKind.TCP, node=host))


def run_case(case: Case) -> str:
    """Exchange `case.size` random bytes each way and check the invariant (see the module docstring); how it
    ended ("closed at ..." or "gave up: ...")."""
    net, client_host, server_host = faulty_path(case)
    rng = random.Random(case.seed)
    up, down = rng.randbytes(case.size), rng.randbytes(case.size)
    accepted: list[socket.socket] = []

    def server() -> bytes:
        with socket.socket() as lst:
            lst.bind(("", 80))
            lst.listen(1)
            conn, _ = lst.accept()
            accepted.append(conn)
            with conn:
                return exchange(conn, down)

    def client() -> bytes:
        with socket.create_connection((SERVER_IP, 80)) as conn:
            return exchange(conn, up)

    srv = server_host.spawn(server)
    cli = client_host.spawn(client, at="1ms")
    # A client whose connect() failed leaves the server in accept(), as it would a real one: that is no hang.
    net.run_until(lambda: cli.done and (srv.done or (cli.exception is not None and not accepted)),
                  timeout_ns=SIM_LIMIT_NS)
    assert cli.done and (srv.done or not accepted), \
        f"{case}: a side still waits after {net.now / 1e9:.0f} s of simulated time"
    for proc, sent in ((srv, up), (cli, down)):
        assert not proc.done or proc.exception is not None or proc.result == sent, f"{case}: {proc.name} read " \
            "other bytes"
    failed = [(p, h) for p, h in ((srv, "server"), (cli, "client")) if p.done and p.exception is not None]
    if failed:  # only beyond the sweep's top loss rate, and only because something timed out
        assert case.path_loss > TIMEOUT_LOSS, f"{case}: {failed[0][0].name} failed: {failed[0][0].exception!r}"
        for proc, host in failed:
            error = proc.exception
            peer = "client" if host == "server" else "server"
            if isinstance(error, GaveUp):  # its peer's connection timed out after the peer's close(): no RST
                assert timed_out(net, peer), f"{case}: {error}"
            elif isinstance(error, ConnectionResetError):  # its peer timed out and closed: the next segment met
                assert timed_out(net, peer), f"{case}: {error!r}"  # a closed port, which answered with an RST
            elif isinstance(error, OSError) and error.errno == errno.EHOSTUNREACH:  # the router's ARP for the
                assert host == "client" and not accepted, f"{case}: {error!r}"  # server timed out, and its ICMP
                assert net.trace.drops(DropReason.ARP_FAILED)  # host unreachable ends a SYN_SENT (tcp_v4_err)
            else:
                assert isinstance(error, OSError) and error.errno == errno.ETIMEDOUT, f"{case}: {error!r}"
                assert timed_out(net, host)
        return "gave up: " + ", ".join(f"{p.name} {type(p.exception).__name__}" for p, _ in failed)
    net.run_until(lambda: not client_host.tcp.connections and not server_host.tcp.connections,
                  timeout_ns=SIM_LIMIT_NS)
    assert not client_host.tcp.connections and not server_host.tcp.connections, f"{case}: a connection is left"
    assert net.now <= SIM_LIMIT_NS, f"{case}: took {net.now / 1e9:.0f} s of simulated time"
    if case.corrupt:
        assert not net.trace.drops(DropReason.BAD_CHECKSUM)  # the FCS stopped every damaged frame first
    ends = []
    for (host, label), path in closes(net).items():
        if path[0][:2] == (State.CLOSED, State.LISTEN):
            continue  # the listening socket
        old, new, why = path[-1]
        assert new is State.CLOSED, f"{case}: {host} {label} still {new.name}"
        if why is Event.TIMEOUT or (why is Event.RCV_RST and old in (State.CLOSING, State.LAST_ACK)):
            # Every byte was read, but the last FIN or its ACK did not get through in time: the FIN's retries ran
            # out (ETIMEDOUT after close(): Linux too gives up on an orphan without telling anyone), or the peer's
            # TIME-WAIT (60 s) ended before a backed-off retransmission of our FIN came, and it answered with RST
            assert case.path_loss > TIMEOUT_LOSS, f"{case}: {host} {label} ended {old.name} -> CLOSED by {why.name}"
            ends.append(f"{host} {old.name} by {why.name}")
        else:
            assert old in (State.TIME_WAIT, State.LAST_ACK), f"{case}: {host} {label} ended {old.name} -> CLOSED " \
                f"by {why.name}, not by FIN"
    assert len(ends) <= 2
    return f"closed at {net.now / 1e9:.0f} s" + (f" ({', '.join(ends)})" if ends else "")


# Bytes each way in the slow sweep, by MTU: 1 MB where a segment carries 524 bytes, less where it carries 244, 76
# or 16 (the simulation's cost is per segment), so the 50 seeds take about three minutes of one core.
SIZES = {576: 1_000_000, 296: 500_000, 128: 150_000, 68: 50_000}


def sweep_case(seed: int) -> Case:
    """Whole percents from 0 to 30 for each fault, the MTUs in turn (the first seed: 30 % of everything)."""
    mtu = MTUS[seed % len(MTUS)]
    if seed == 200:
        return Case(seed, 0.3, 0.3, 0.3, 0.3, mtu, SIZES[mtu])
    rng = random.Random(seed)
    loss, duplicate, reorder, corrupt = (rng.randint(0, 30) / 100 for _ in range(4))
    return Case(seed, loss, duplicate, reorder, corrupt, mtu, SIZES[mtu])


SHORT = [Case(1, 0.0, 0.0, 0.0, 0.0, 576, 100_000), Case(2, 0.05, 0.05, 0.05, 0.05, 576, 100_000),
         Case(3, 0.1, 0.1, 0.1, 0.1, 296, 50_000), Case(4, 0.2, 0.2, 0.2, 0.2, 128, 20_000),
         Case(5, 0.3, 0.3, 0.3, 0.3, 576, 50_000), Case(6, 0.02, 0.02, 0.02, 0.02, 68, 5_000),
         Case(8, 0.3, 0.3, 0.3, 0.3, 576, 50_000),  # the client's orphaned connection times out: the server gives up
         Case(18, 0.3, 0.3, 0.3, 0.3, 576, 50_000)]  # the router's ARP for the server fails: EHOSTUNREACH


@pytest.mark.parametrize("case", SHORT, ids=str)
def test_short_sweep(case: Case) -> None:
    run_case(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", [sweep_case(seed) for seed in range(200, 250)], ids=str)
def test_sweep(case: Case) -> None:
    run_case(case)
