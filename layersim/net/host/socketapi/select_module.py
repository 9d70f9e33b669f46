"""`select.select` and `selectors.DefaultSelector` over a simulated host's sockets, waiting on the simulated clock."""

from __future__ import annotations

import errno
import os
import selectors as _std_selectors
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from layersim.net.engine.process import wait_until
from layersim.net.host.socketapi.pytime import select_timeout_ns

if TYPE_CHECKING:
    from layersim.net.host.socketapi.sim_socket import SimSocket
    from layersim.net.host.socketapi.socket_host import SocketHost

__all__ = ["SelectModule", "SimSelector", "select_sockets"]

EVENT_READ, EVENT_WRITE = _std_selectors.EVENT_READ, _std_selectors.EVENT_WRITE
# poll(2)'s bits (Linux's asm-generic/poll.h; the same on every Linux architecture the stdlib supports)
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLWRNORM, POLLRDHUP = 0x40, 0x100, 0x2000
TIMER_SLACK_NS = 50_000  # Linux's default per-task timer slack (prctl PR_SET_TIMERSLACK)
_CLOSING = ("CLOSED", "TIME_WAIT", "LAST_ACK")


def poll_events(sock: Any, events: int) -> int:
    """What poll() reports for one socket of the host, as Linux's tcp_poll answers: readable, writable, error,
    hang-up (POLLERR and POLLHUP whether asked or not)."""
    found = 0
    if sock._readable():
        found |= POLLIN | POLLRDNORM
    listening = getattr(sock, "_listening", None)
    if sock._writable() and listening is None:
        found |= POLLOUT | POLLWRNORM
    endpoint = getattr(sock, "_endpoint", None)
    conn = endpoint.conn if endpoint is not None else None
    if conn is not None and conn.error:
        found |= POLLERR
    if conn is not None and conn.fin_received:
        found |= POLLRDHUP
        if sock._shut_write or conn.state.name in _CLOSING:
            found |= POLLHUP
    return found & (events | POLLERR | POLLHUP)


def _fd_of(item: Any) -> int:
    """The descriptor number of an int or an object with fileno(), with CPython's errors (fileutils.c:
    PyObject_AsFileDescriptor)."""
    if isinstance(item, int):
        fd = item
    else:
        method = getattr(item, "fileno", None)
        if method is None:
            raise TypeError("argument must be an int, or have a fileno() method.")
        fd = method()
        if not isinstance(fd, int):
            raise TypeError("fileno() returned a non-integer")
    if not -2**31 <= fd < 2**31:
        raise OverflowError("Python int too large to convert to C int")
    if fd < 0:  # a closed socket: CPython's words
        raise ValueError(f"file descriptor cannot be a negative integer ({fd})")
    return fd


def _socket_of(host: SocketHost, item: Any) -> SimSocket:
    """The SimSocket behind a socket object or a file descriptor number of this host."""
    from layersim.net.host.socketapi.sim_socket import SimSocket

    fd = _fd_of(item)
    if isinstance(item, SimSocket):
        return item
    sock = host.fd_table.get(fd)  # simulated descriptors lie above FD_SETSIZE, on purpose (see new_fd)
    if sock is None and fd >= 1024:  # FD_SETSIZE, for any other number
        raise ValueError("filedescriptor out of range in select()")
    if sock is None:  # no such socket on this host: select(2)'s EBADF
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    return sock


def _sequence(items: Any) -> list[Any]:
    """One of select()'s three lists (any iterable, as PySequence_Fast takes)."""
    try:
        return list(items)
    except TypeError:
        raise TypeError("arguments 1-3 must be sequences") from None


def select_sockets(host: SocketHost, rlist: list[Any], wlist: list[Any], xlist: list[Any],
                   timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
    """select(2) over simulated sockets: those ready to read and to write, blocking up to `timeout` seconds."""
    timeout_ns = select_timeout_ns(timeout)  # the timeout is read first, then the lists (selectmodule.c)
    readers, writers, _ = ([(item, _socket_of(host, item)) for item in _sequence(items)]
                           for items in (rlist, wlist, xlist))  # no simulated socket has exceptional data

    def ready() -> tuple[list[Any], list[Any]]:
        return ([i for i, s in readers if s._readable()], [i for i, s in writers if s._writable()])

    queues = [q for _, sock in readers + writers for q in sock._queues()]
    wait_until(host.clock, queues, lambda: any(ready()), timeout_ns)
    readable, writable = ready()
    return readable, writable, []


class SimSelector(_std_selectors.BaseSelector):
    """selectors.DefaultSelector for a simulated host."""

    def __init__(self, host: SocketHost) -> None:
        self.host = host
        self._keys: dict[int, _std_selectors.SelectorKey] = {}

    def _fd(self, fileobj: Any) -> int:
        """The descriptor of `fileobj`, with the stdlib selectors' errors (selectors._fileobj_to_fd)."""
        if isinstance(fileobj, int):
            return fileobj
        try:
            return int(fileobj.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fileobj!r}") from None

    def register(self, fileobj: Any, events: int, data: Any = None) -> _std_selectors.SelectorKey:
        """Watch `fileobj` for EVENT_READ and/or EVENT_WRITE."""
        if not events or events & ~(EVENT_READ | EVENT_WRITE):
            raise ValueError(f"Invalid events: {events!r}")
        fd = self._fd(fileobj)
        if fd < 0:
            raise ValueError(f"Invalid file descriptor: {fd}")
        if fd in self._keys:
            raise KeyError(f"{fileobj!r} (FD {fd}) is already registered")
        _socket_of(self.host, fileobj)
        key = _std_selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj: Any) -> _std_selectors.SelectorKey:
        """Stop watching `fileobj`."""
        fd = self._fd(fileobj)
        if fd not in self._keys:  # a socket closed since it was registered: found by object, as the stdlib does
            fd = next((key.fd for key in self._keys.values() if key.fileobj is fileobj), fd)
        try:
            return self._keys.pop(fd)
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None

    def select(self, timeout: float | None = None) -> list[tuple[_std_selectors.SelectorKey, int]]:
        """The registered objects that are ready, blocking up to `timeout` seconds (None: until one is)."""
        keys = list(self._keys.values())
        socks = [(key, _socket_of(self.host, key.fileobj)) for key in keys]

        def ready() -> list[tuple[_std_selectors.SelectorKey, int]]:
            out = []
            for key, sock in socks:
                mask = (EVENT_READ if key.events & EVENT_READ and sock._readable() else 0) | \
                       (EVENT_WRITE if key.events & EVENT_WRITE and sock._writable() else 0)
                if mask:
                    out.append((key, mask))
            return out

        timeout_ns = select_timeout_ns(None if timeout is None else max(timeout, 0))  # as SelectSelector.select
        wait_until(self.host.clock, [q for _, s in socks for q in s._queues()], lambda: bool(ready()),
                   timeout_ns)
        return ready()

    def close(self) -> None:
        """Forget every registration."""
        self._keys.clear()

    def get_map(self) -> Mapping[Any, _std_selectors.SelectorKey]:
        """The registrations by file descriptor."""
        return types.MappingProxyType(self._keys)


class SimPoll:
    """select.poll() on a simulated host: register descriptors, then poll(timeout in ms) waits on the simulated
    clock until one is ready (PollSelector, and so socketserver, run on it)."""

    def __init__(self, host: SocketHost) -> None:
        self.host = host
        self._masks: dict[int, int] = {}

    def register(self, fd: Any, eventmask: int = POLLIN | POLLPRI | POLLOUT) -> None:
        """Watch `fd` (a number or an object with fileno()) for `eventmask`."""
        self._masks[_fd_of(fd)] = eventmask

    def modify(self, fd: Any, eventmask: int) -> None:
        """Change what a registered descriptor is watched for (ENOENT if it is not registered)."""
        number = _fd_of(fd)
        if number not in self._masks:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT))
        self._masks[number] = eventmask

    def unregister(self, fd: Any) -> None:
        """Stop watching `fd` (KeyError if it is not registered)."""
        number = _fd_of(fd)
        if number not in self._masks:
            raise KeyError(number)
        del self._masks[number]

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        """(fd, events) of the ready descriptors, waiting up to `timeout` ms (None or negative: until one is)."""
        timeout_ns = None if timeout is None or timeout < 0 else select_timeout_ns(timeout / 1000)
        if timeout_ns:  # the kernel wakes a timed poll up to timer_slack_ns late (Linux's default 50 us), never
            timeout_ns += TIMER_SLACK_NS  # early: a loop waiting for `deadline - now` to go negative ends
        watched = [(fd, mask, self.host.fd_table.get(fd)) for fd, mask in self._masks.items()]

        def ready() -> list[tuple[int, int]]:
            out = []
            for fd, mask, sock in watched:
                events = POLLNVAL if sock is None else poll_events(sock, mask)  # poll(2): a closed fd is POLLNVAL
                if events:
                    out.append((fd, events))
            return out

        queues = [q for _, _, sock in watched if sock is not None for q in sock._queues()]
        wait_until(self.host.clock, queues, lambda: bool(ready()), timeout_ns)
        return ready()


class SelectModule(types.ModuleType):
    """The `select` module as a program on a simulated host sees it (select only: no poll or epoll)."""

    def __init__(self, host: SocketHost) -> None:
        super().__init__("select", f"the select module of simulated host {host.name}")
        self.host = host
        self.error = OSError

    def select(self, rlist: list[Any], wlist: list[Any], xlist: list[Any],
               timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
        """select(2) over this host's sockets."""
        return select_sockets(self.host, rlist, wlist, xlist, timeout)


class SelectorsModule(types.ModuleType):
    """The `selectors` module as a program on a simulated host sees it."""

    def __init__(self, host: SocketHost) -> None:
        super().__init__("selectors", f"the selectors module of simulated host {host.name}")
        for name in ("EVENT_READ", "EVENT_WRITE", "SelectorKey", "BaseSelector"):
            setattr(self, name, getattr(_std_selectors, name))
        self.host = host

    def DefaultSelector(self) -> SimSelector:
        """A selector over this host's sockets."""
        return SimSelector(self.host)

    SelectSelector = DefaultSelector
