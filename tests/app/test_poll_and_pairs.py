"""select.poll, selectors.PollSelector (socketserver's) and socket.socketpair on a simulated host: on the host's
descriptors and the simulated clock, never the real kernel's."""

from __future__ import annotations

import errno
import select
import selectors
import socket
import socketserver
import time
from typing import Any

import pytest

from layersim.net.network import Network

MS = 1_000_000


def one_host() -> tuple[Network, Any]:
    net = Network(seed=1)
    host = net.add_host("h")
    other = net.add_host("o")
    net.link(host, other, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24", delay="1ms")
    return net, host


def run(net: Network, fn: Any, until: str = "10s") -> Any:
    host = net.hosts["h"]
    proc = host.spawn(fn)
    net.run(until=until)
    assert proc.done, "still running"
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def test_socketserver_handle_request_times_out_on_the_simulated_clock() -> None:
    """socketserver took PollSelector and `monotonic` at import: its timeout still counts simulated seconds."""
    net, _ = one_host()
    timed_out: list[float] = []

    class Server(socketserver.TCPServer):
        def handle_timeout(self) -> None:
            timed_out.append(time.monotonic())

    def serve() -> float:
        with Server(("0.0.0.0", 8000), socketserver.BaseRequestHandler) as server:
            server.timeout = 1.5
            server.handle_request()
            server.handle_request()
        return time.monotonic()

    slack = 50e-6  # a timed poll wakes up to the kernel's timer slack late (Linux default 50 us)
    ended = run(net, serve)
    assert timed_out == pytest.approx([1.5 + slack, 3.0 + 2 * slack], abs=1e-9) and ended == timed_out[-1]


def test_poll_waits_for_a_connection_and_reports_pollin() -> None:
    net, _ = one_host()
    other = net.hosts["o"]

    def dial() -> None:
        time.sleep(0.7)
        with socket.create_connection(("10.0.0.1", 9000)):
            time.sleep(1)

    other.spawn(dial)

    def serve() -> Any:
        listener = socket.socket()
        listener.bind(("0.0.0.0", 9000))
        listener.listen()
        poller = select.poll()
        poller.register(listener, select.POLLIN)
        quiet = poller.poll(500)  # ms
        at_quiet = time.monotonic()
        ready = poller.poll()
        at_ready = time.monotonic()
        poller.unregister(listener)
        with pytest.raises(KeyError):
            poller.unregister(listener)
        with pytest.raises(FileNotFoundError):
            poller.modify(listener, select.POLLOUT)
        fd = listener.fileno()
        listener.close()
        poller.register(fd, select.POLLIN)
        closed = poller.poll(0)
        return quiet, at_quiet, ready == [(fd, select.POLLIN)], at_ready, closed

    quiet, at_quiet, ready, at_ready, closed = run(net, serve)
    assert quiet == [] and at_quiet == pytest.approx(0.5 + 50e-6, abs=1e-9) and ready and 0.7 < at_ready < 0.71
    assert closed == [(closed[0][0], select.POLLNVAL)]  # a closed descriptor, as poll(2) reports it


def test_poll_selector_and_default_selector_agree() -> None:
    net, _ = one_host()

    def check() -> Any:
        a, b = socket.socketpair()
        out = []
        for kind in (selectors.PollSelector, selectors.DefaultSelector):
            with kind() as sel:
                sel.register(b, selectors.EVENT_READ)
                before = sel.select(0.25)
                a.send(b"x")
                after = [(key.fileobj is b, events) for key, events in sel.select(1)]
                b.recv(1)
                out.append((before, after))
        return out, time.monotonic()

    out, now = run(net, check)
    assert out == [([], [(True, selectors.EVENT_READ)])] * 2
    assert now == pytest.approx(0.5 + 50e-6, abs=1e-9)  # the poll selector woke a timer slack late


def test_a_socketpair_carries_bytes_and_ends_with_eof() -> None:
    net, _ = one_host()

    def pair() -> Any:
        a, b = socket.socketpair()
        a.sendall(b"hello")
        first = b.recv(3), b.recv(10)
        b.setblocking(False)
        try:
            b.recv(1)
            empty = "data"
        except BlockingIOError as exc:
            empty = errno.errorcode[exc.errno]
        b.setblocking(True)
        a.close()
        eof = b.recv(10)
        try:
            b.send(b"x")
            broken = "sent"
        except BrokenPipeError:
            broken = "EPIPE"
        try:
            socket.socketpair(socket.AF_INET)
            inet = "made"
        except OSError as exc:
            inet = exc.errno
        return first, empty, eof, broken, inet, a.family, b.getsockname()

    assert run(net, pair) == ((b"hel", b"lo"), "EAGAIN", b"", "EPIPE", errno.EOPNOTSUPP, socket.AF_UNIX, "")


def test_a_full_socketpair_blocks_the_writer_until_the_reader_reads() -> None:
    net, host = one_host()
    from layersim.net.host.socketapi.pair_socket import PAIR_BUFFER

    def pair() -> Any:
        a, b = socket.socketpair()
        a.setblocking(False)
        sent = a.send(bytes(PAIR_BUFFER + 10))
        try:
            a.send(b"x")
            full = "sent"
        except BlockingIOError:
            full = "EAGAIN"
        host.spawn(lambda: (time.sleep(2), b.recv(100)))
        a.setblocking(True)
        a.send(b"y")
        return sent, full, time.monotonic()

    assert run(net, pair) == (PAIR_BUFFER, "EAGAIN", 2.0)
