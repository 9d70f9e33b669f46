"""Ephemeral ports and file descriptors: chosen from tables keyed by number, never by a scan over the host's
sockets, with Linux's rules and errnos when the range 32768-60999 runs out."""

from __future__ import annotations

import errno
import random
import socket as std
from typing import Any

import pytest

from layersim.net.host.datagram_sockets import EPHEMERAL_PORTS
from layersim.net.host.host import FIRST_SIMULATED_FD, Host
from layersim.net.network import Network

LOW, HIGH = EPHEMERAL_PORTS
SPAN = HIGH - LOW + 1  # 28,232 ports


class NoScan(dict):  # type: ignore[type-arg]
    """A socket table that fails the test when anything walks over it (a choice must look ports up by key)."""

    def _scanned(self, *args: Any) -> Any:
        raise AssertionError("the socket table was scanned")

    __iter__ = keys = items = values = _scanned  # type: ignore[assignment]


class Forced(random.Random):
    """A seeded generator whose next randrange() calls return the offsets a test chose."""

    def __init__(self, seed: int, offsets: list[int]) -> None:
        super().__init__(seed)
        self.offsets = offsets

    def randrange(self, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        """The next forced offset, else the generator's draw."""
        return self.offsets.pop(0) if self.offsets else super().randrange(*args, **kwargs)


def two_hosts(seed: int = 7) -> tuple[Network, Host, Host]:
    """Host h (10.0.0.1) linked to host s (10.0.0.2)."""
    net = Network(seed=seed)
    h, s = net.add_host("h"), net.add_host("s")
    net.link(h, s, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")
    return net, h, s


def connecting(host: Host, port: int) -> Any:
    """A TCP socket of `host` in SYN_SENT towards 10.0.0.2:`port` (non-blocking connect, nothing run)."""
    sock = host.socket.socket()
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.connect(("10.0.0.2", port))
    return sock


# --- the first choice -------------------------------------------------------------------------------------------

def test_first_choice_is_one_draw_of_the_hosts_generator() -> None:
    _, h, _ = two_hosts()
    for _ in range(3):
        twin = random.Random()
        twin.setstate(h.rng.getstate())
        assert h.sockets.bind_udp().port == LOW + twin.randrange(SPAN)
    twin.setstate(h.rng.getstate())
    assert connecting(h, 80).getsockname()[1] == LOW + twin.randrange(SPAN)


# --- UDP: the whole range ---------------------------------------------------------------------------------------

def test_udp_fills_the_range_by_port_lookups_then_fails_promptly_with_linux_errnos() -> None:
    _, h, _ = two_hosts()
    h.sockets.udp = NoScan()
    socks = [h.sockets.bind_udp() for _ in range(SPAN)]
    table = h.sockets.udp_ports
    assert sorted(s.port for s in socks) == list(range(LOW, HIGH + 1))  # no port given twice
    assert table.probes <= 2 * SPAN  # a scan over sockets or a walk over taken ports costs far more
    before = table.probes
    with pytest.raises(OSError) as caught:
        h.sockets.bind_udp()
    assert caught.value.errno == errno.EADDRINUSE
    assert table.probes - before <= SPAN  # one pass over the port table, then the error
    api = h.socket.socket(std.AF_INET, std.SOCK_DGRAM)
    with pytest.raises(OSError) as caught:
        api.bind(("", 0))  # inet_bind: EADDRINUSE
    assert (caught.value.errno, caught.value.strerror) == (errno.EADDRINUSE, "Address already in use")
    with pytest.raises(BlockingIOError) as caught:  # inet_autobind: EAGAIN, as CPython raises it
        h.socket.socket(std.AF_INET, std.SOCK_DGRAM).sendto(b"x", ("10.0.0.2", 9))
    assert caught.value.errno == errno.EAGAIN
    with pytest.raises(BlockingIOError):
        h.socket.socket(std.AF_INET, std.SOCK_DGRAM).connect(("10.0.0.2", 9))
    freed = socks[SPAN // 2]
    freed.close()
    again = h.sockets.bind_udp()
    assert again.port == freed.port  # the only free port
    with pytest.raises(OSError):
        h.sockets.bind_udp()
    again.close()
    api.sendto(b"x", ("10.0.0.2", 9))
    assert api.getsockname()[1] == freed.port


def test_udp_connect_keeps_the_port_held_and_close_frees_it() -> None:
    _, h, _ = two_hosts()
    sock = h.sockets.bind_udp()
    sock.connect(("10.0.0.2", 53))  # re-keyed under 10.0.0.1 and the peer
    with pytest.raises(OSError) as caught:
        h.sockets.bind_udp(0, sock.port)
    assert caught.value.errno == errno.EADDRINUSE
    sock.close()
    assert h.sockets.bind_udp(0, sock.port).port == sock.port


# --- TCP --------------------------------------------------------------------------------------------------------

def test_tcp_fills_the_range_then_bind_is_eaddrinuse_and_connect_eaddrnotavail() -> None:
    _, h, _ = two_hosts()
    h.tcp.bound = NoScan()
    h.tcp.connections = NoScan()
    socks = []
    for _ in range(SPAN):
        sock = h.socket.socket()
        sock.bind(("", 0))
        socks.append(sock)
    assert sorted(s.getsockname()[1] for s in socks) == list(range(LOW, HIGH + 1))
    assert h.tcp.ports.probes <= 2 * SPAN
    with pytest.raises(OSError) as caught:
        h.socket.socket().bind(("", 0))
    assert (caught.value.errno, caught.value.strerror) == (errno.EADDRINUSE, "Address already in use")
    with pytest.raises(OSError) as caught:
        h.socket.socket().listen()  # listen() on an unbound socket binds it first
    assert caught.value.errno == errno.EADDRINUSE
    before = h.tcp.ports.probes
    with pytest.raises(OSError) as caught:  # __inet_hash_connect: every port is held by a bind()
        h.socket.socket().connect(("10.0.0.2", 80))
    assert (caught.value.errno, caught.value.strerror) == (errno.EADDRNOTAVAIL, "Cannot assign requested address")
    assert h.tcp.ports.probes - before <= SPAN
    port = socks[7].getsockname()[1]
    socks[7].close()
    assert connecting(h, 80).getsockname()[1] == port


def test_bind_zero_skips_a_port_a_connection_uses() -> None:
    _, h, _ = two_hosts()
    h.rng = Forced(1, [100])
    used = connecting(h, 80).getsockname()[1]
    assert used == LOW + 100
    h.rng.offsets = [100]
    sock = h.socket.socket()
    sock.bind(("", 0))  # inet_csk_find_open_port: the connection's port is not free for bind()
    assert sock.getsockname()[1] != used


def test_connect_shares_a_local_port_only_with_another_4_tuple() -> None:
    _, h, _ = two_hosts()
    h.rng = Forced(1, [5, 5, 5])
    first = connecting(h, 80).getsockname()[1]
    assert connecting(h, 81).getsockname()[1] == first  # another peer port: the same local port is fine
    assert connecting(h, 80).getsockname()[1] != first  # the same 4-tuple would be taken twice
    h.rng.offsets = [6]
    bound = h.socket.socket()
    bound.bind(("", 0))
    h.rng.offsets = [6]
    assert connecting(h, 82).getsockname()[1] != bound.getsockname()[1]  # a bind()'s port is never shared


# --- determinism ------------------------------------------------------------------------------------------------

def _choices(seed: int) -> tuple[list[int], int]:
    """The ports one host picks for 6,000 UDP binds with every third closed halfway, and the probes spent."""
    _, h, _ = two_hosts(seed)
    socks = [h.sockets.bind_udp() for _ in range(4000)]
    for sock in socks[::3]:
        sock.close()
    socks += [h.sockets.bind_udp() for _ in range(2000)]
    live = [s.port for s in socks if not s.closed]
    assert len(set(live)) == len(live)
    return [s.port for s in socks], h.sockets.udp_ports.probes


def test_choices_are_deterministic_per_seed() -> None:
    first, probes = _choices(3)
    assert probes > len(first)  # some first picks collided, so the pool's order is covered too
    assert _choices(3) == (first, probes)
    assert _choices(4)[0] != first


# --- file descriptors -------------------------------------------------------------------------------------------

class CountingTable(dict):  # type: ignore[type-arg]
    """An fd table that counts membership tests."""

    tests = 0

    def __contains__(self, key: object) -> bool:
        CountingTable.tests += 1
        return super().__contains__(key)


def test_fds_are_the_lowest_free_without_a_scan() -> None:
    _, h, _ = two_hosts()
    h.fd_table = CountingTable()
    CountingTable.tests = 0
    socks = [h.socket.socket() for _ in range(2000)]
    assert [s.fileno() for s in socks] == list(range(FIRST_SIMULATED_FD, FIRST_SIMULATED_FD + 2000))
    assert CountingTable.tests <= 2 * 2000  # the lowest free fd is not found by counting up each time
    socks[10].close()
    socks[4].close()
    first = FIRST_SIMULATED_FD
    assert [h.socket.socket().fileno() for _ in range(3)] == [first + 4, first + 10, first + 2000]  # the lowest free
