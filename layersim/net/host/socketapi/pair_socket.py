"""`socket.socketpair()` on a simulated host: two connected AF_UNIX stream ends inside the host.

A program uses a pair to wake itself or to talk between its own processes: asyncio's event loop makes one at
start (its "self-pipe", written to by `call_soon_threadsafe`). Bytes written to one end are read from the other
at the same simulated instant; nothing reaches a link or the trace, as a Unix socket never leaves its kernel.
Each end has a descriptor of the host, so select and selectors watch it like any other socket.
"""

from __future__ import annotations

import errno
import os
import socket as _std
from typing import Any

from layersim.net.engine.process import ProcessError, Wait, notify, wait_until
from layersim.net.host.socketapi.arguments import bytes_view, into_size, os_error, size_argument, writable_view
from layersim.net.host.socketapi.pytime import socket_timeout
from layersim.net.host.socketapi.socket_host import SocketHost

__all__ = ["PAIR_BUFFER", "PairSocket", "socket_pair"]

PAIR_BUFFER = 212_992  # Linux's net.core.wmem_default: what one end may hold unread before a writer blocks


def socket_pair(host: SocketHost, family: Any, type: Any, proto: Any) -> tuple[PairSocket, PairSocket]:
    """Two connected ends, with CPython's argument errors; only what Linux gives for AF_UNIX SOCK_STREAM."""
    family = _std.AF_UNIX if family is None else family
    for value in (family, type, proto):
        if not isinstance(value, int):  # CPython's words (a bool is an int there too)
            raise TypeError(f"'{value.__class__.__name__}' object cannot be interpreted as an integer")
    if family != _std.AF_UNIX:  # Linux: socketpair(2) of an internet family is EOPNOTSUPP
        raise os_error(errno.EOPNOTSUPP)
    base = type & ~(_std.SOCK_NONBLOCK | _std.SOCK_CLOEXEC)
    if base != _std.SOCK_STREAM or proto != 0:
        raise os_error(errno.EPROTONOSUPPORT, f"{host.name}: socketpair() here makes AF_UNIX SOCK_STREAM pairs only "
                                              f"(asked for type {type}, proto {proto})")
    a, b = PairSocket(host), PairSocket(host)
    a._peer, b._peer = b, a
    if type & _std.SOCK_NONBLOCK:
        a._timeout = b._timeout = 0.0
    return a, b


class PairSocket:
    """One end of a socketpair on a simulated host (family AF_UNIX, type SOCK_STREAM)."""

    family = _std.AddressFamily.AF_UNIX
    type = _std.SocketKind.SOCK_STREAM
    proto = 0

    def __init__(self, host: SocketHost) -> None:
        self.host = host
        self._fd = host.new_fd(self)
        self._timeout: float | None = None
        self._inbox = bytearray()  # what the other end wrote and this end has not read
        self._waits: list[Wait] = []  # processes waiting on this end (to read, or for room to write)
        self._peer: PairSocket | None = None
        self._closed = False
        self._shut_read = self._shut_write = False

    def __repr__(self) -> str:
        return f"<layersim socketpair end fd={self._fd} on {self.host.name}>"

    def __enter__(self) -> PairSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Modes --------------------------------------------------------------------------------------------------
    def fileno(self) -> int:
        """A descriptor of the host (-1 once closed)."""
        return -1 if self._closed else self._fd

    def settimeout(self, value: float | None) -> None:
        """None blocks, 0 never blocks, seconds raise TimeoutError when they pass."""
        self._timeout = socket_timeout(value)

    def gettimeout(self) -> float | None:
        """The timeout in seconds (None: blocking)."""
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        """Blocking (True) or non-blocking (False) mode."""
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        """Whether calls block."""
        return self._timeout != 0.0

    @property
    def timeout(self) -> float | None:
        """The timeout, as the stdlib attribute."""
        return self._timeout

    def getsockname(self) -> str:
        """An unnamed Unix socket's address: the empty string, as CPython gives."""
        self._check()
        return ""

    def getpeername(self) -> str:
        """The other end's address: unnamed too."""
        self._check()
        return ""

    # Data ---------------------------------------------------------------------------------------------------
    def send(self, data: Any, flags: int = 0) -> int:
        """Write what fits in the other end's buffer (blocking until some does); EPIPE once it is gone."""
        view = bytes_view(data)
        self._check()
        peer = self._peer

        def room() -> bool:
            return peer is None or peer._closed or peer._shut_read or self._shut_write or \
                len(peer._inbox) < PAIR_BUFFER

        self._wait(room, "send")
        if peer is None or peer._closed or peer._shut_read or self._shut_write:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
        count = min(len(view), PAIR_BUFFER - len(peer._inbox))
        peer._inbox += view[:count]
        notify(peer._waits)
        return count

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Write all of `data`, blocking as needed."""
        view = bytes_view(data)
        while view:
            view = view[self.send(view, flags):]

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to `bufsize` bytes, blocking until some arrive; b"" once the other end closed or shut writing."""
        size = size_argument(bufsize)
        if size < 0:
            raise ValueError("negative buffersize in recv")
        self._check()
        self._wait(self._readable, "recv")
        data = bytes(self._inbox[:size])
        del self._inbox[:size]
        if data and self._peer is not None:
            notify(self._peer._waits)  # room to write again
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """recv() into a writable buffer."""
        target = writable_view(buffer, "recv_into")
        size = into_size(nbytes, len(target), "recv_into", "buffer too small for requested bytes")
        data = self.recv(size, flags)
        target[:len(data)] = data
        return len(data)

    # Closing ------------------------------------------------------------------------------------------------
    def shutdown(self, how: int) -> None:
        """SHUT_RD, SHUT_WR or SHUT_RDWR: the other end reads EOF after SHUT_WR."""
        self._check()
        if how not in (_std.SHUT_RD, _std.SHUT_WR, _std.SHUT_RDWR):
            raise os_error(errno.EINVAL)
        self._shut_read |= how in (_std.SHUT_RD, _std.SHUT_RDWR)
        self._shut_write |= how in (_std.SHUT_WR, _std.SHUT_RDWR)
        self._wake_both()

    def close(self) -> None:
        """Close this end: the other reads EOF and gets EPIPE on writing."""
        if self._closed:
            return
        self._closed = True
        self.host.free_fd(self._fd, self)
        self._wake_both()

    def detach(self) -> int:
        """Forget the end without closing it (returns the fd)."""
        fd = self.fileno()
        self._closed = True
        return fd

    # For select and selectors -------------------------------------------------------------------------------
    def _readable(self) -> bool:
        peer = self._peer
        return bool(self._inbox) or self._closed or self._shut_read or peer is None or peer._closed or \
            peer._shut_write

    def _writable(self) -> bool:
        peer = self._peer
        return self._closed or peer is None or peer._closed or len(peer._inbox) < PAIR_BUFFER

    def _queues(self) -> list[list[Any]]:
        return [self._waits]

    def _check(self) -> None:
        if self._closed:
            raise os_error(errno.EBADF)

    def _wait(self, ready: Any, what: str) -> None:
        if ready():
            return
        if self._timeout == 0.0:
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        timeout_ns = None if self._timeout is None else round(self._timeout * 1e9)
        if not wait_until(self.host.clock, [self._waits], ready, timeout_ns):
            if self._timeout is None:  # outside a process nothing can change: say so instead of hanging
                raise ProcessError(f"{self.host.name}: {what} on a socketpair would block: call it from a "
                                   "simulated process (host.spawn or host.run_script)")
            raise TimeoutError("timed out")

    def _wake_both(self) -> None:
        notify(self._waits)
        if self._peer is not None:
            notify(self._peer._waits)
