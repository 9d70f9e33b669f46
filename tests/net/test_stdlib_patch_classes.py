"""The patched `socket.socket` class inside a process: a class derived from it there (as `ssl.SSLSocket` is when
`ssl` is first imported inside a process) does not claim every simulated socket, and class attributes other code
reads at import (trio wraps `socket.socket.sendmsg`) are the real class's (issue 22)."""

from __future__ import annotations

import socket
from typing import Any

from layersim.demo import build

HOUR = 3_600_000_000_000
REAL_SENDMSG = socket.socket.sendmsg


def _in_process(fn: Any) -> Any:
    """Run fn() in a process on the demo's laptop and return its result."""
    net = build(1, 0.0)
    proc = net.hosts["laptop"].spawn(fn)
    net.run_until(lambda: proc.done, HOUR)
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def test_a_class_derived_inside_a_process_does_not_claim_simulated_sockets() -> None:
    def check() -> tuple[bool, bool, bool]:
        class Derived(socket.socket):  # what `class SSLSocket(socket)` becomes when ssl is imported here
            """A stand-in for ssl.SSLSocket."""

        with socket.socket() as sock:
            return isinstance(sock, Derived), isinstance(sock, socket.socket), issubclass(Derived, socket.socket)

    assert _in_process(check) == (False, True, True)


def test_class_attributes_are_the_real_ones_inside_a_process() -> None:
    def read() -> tuple[Any, Any, str]:
        return socket.socket.sendmsg, socket.SocketType.recv_into, socket.socket.__name__

    sendmsg, recv_into, name = _in_process(read)
    assert sendmsg is REAL_SENDMSG
    assert recv_into is socket.socket.recv_into
    assert name == "socket"


def test_a_missing_class_attribute_is_still_an_attribute_error() -> None:
    def read() -> str:
        try:
            socket.socket.no_such_method  # noqa: B018
        except AttributeError as exc:
            return str(exc)
        return "no error"

    assert "no_such_method" in _in_process(read)
