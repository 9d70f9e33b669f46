"""Misuse of the socket API, run the same way on real CPython (loopback) and inside a simulated process.

A row is a function of `track` (which registers sockets to close afterwards) that calls the stdlib's socket,
select or time the way an unmodified program would: on the simulated side it runs in a process, where the stdlib
patch makes those calls act on the simulated host. What it returns, or the exception it raises (type name,
errno, text), is the outcome both sides must give.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from layersim import Network

Track = Callable[[socket.socket], socket.socket]
Row = Callable[[Track], Any]


def raised(kind: type[BaseException], code: int | None, text: str) -> tuple[str, str, int | None, str]:
    """The outcome of a call that raised `kind` with errno `code` and message `text`."""
    return ("raised", kind.__name__, code, text)


def outcome(row: Row) -> Any:
    """What the row returned, or raised(...) for its exception; its sockets are closed afterwards."""
    opened: list[socket.socket] = []

    def track(sock: socket.socket) -> socket.socket:
        opened.append(sock)
        return sock

    try:
        return row(track)
    except Exception as exc:
        return ("raised", type(exc).__name__, getattr(exc, "errno", None), str(exc))
    finally:
        for sock in opened:
            sock.close()


def on_cpython(row: Row) -> Any:
    """The row's outcome in this (real) process, on real sockets."""
    default = socket.getdefaulttimeout()
    try:
        return outcome(row)
    finally:
        socket.setdefaulttimeout(default)  # a row must not change later tests' sockets


def on_simulated_host(row: Row, limit_s: float = 60) -> Any:
    """The row's outcome as a process on a simulated host (with a link, so it has an address and routes)."""
    net = Network(seed=3)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")
    proc = a.spawn(outcome, row)
    net.run_until(lambda: proc.done, timeout_ns=round(limit_s * 1e9))
    assert proc.done, f"the row did not finish within {limit_s} simulated seconds"
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def loopback_pair(track: Track, kind: int = socket.SOCK_STREAM) -> tuple[socket.socket, socket.socket]:
    """(client, server side) of a TCP connection over 127.0.0.1, both tracked."""
    listener = track(socket.socket())
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = track(socket.socket())
    client.connect(listener.getsockname())
    server = track(listener.accept()[0])
    return client, server


def udp_pair(track: Track) -> tuple[socket.socket, socket.socket]:
    """(sender, receiver) UDP sockets: the receiver on every address, the sender connected to it on 127.0.0.1."""
    receiver = track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    receiver.bind(("", 0))
    sender = track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    sender.connect(("127.0.0.1", receiver.getsockname()[1]))
    return sender, receiver


def closed(track: Track, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that has been closed."""
    sock = socket.socket(socket.AF_INET, kind)
    sock.close()
    return sock
