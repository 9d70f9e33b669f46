"""`select.select` and `selectors.DefaultSelector` over a simulated host's sockets, waiting on the simulated clock."""

from __future__ import annotations

import errno
import os
import selectors as _std_selectors
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from layersim.net.process import wait_until

if TYPE_CHECKING:
    from layersim.net.host import Host
    from layersim.net.socketapi.sim_socket import SimSocket

__all__ = ["SelectModule", "SimSelector", "select_sockets"]

EVENT_READ, EVENT_WRITE = _std_selectors.EVENT_READ, _std_selectors.EVENT_WRITE


def _socket_of(host: Host, item: Any) -> SimSocket:
    """The SimSocket behind a socket object or a file descriptor number of this host."""
    from layersim.net.socketapi.sim_socket import SimSocket

    fd = item if isinstance(item, int) else item.fileno()
    if fd < 0:  # a closed socket: CPython's words
        raise ValueError(f"file descriptor cannot be a negative integer ({fd})")
    if isinstance(item, SimSocket):
        return item
    sock = host.fd_table.get(fd)  # simulated descriptors lie above FD_SETSIZE, on purpose (see new_fd)
    if sock is None and fd >= 1024:  # FD_SETSIZE, for any other number
        raise ValueError("filedescriptor out of range in select()")
    if sock is None:  # no such socket on this host: select(2)'s EBADF
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    return sock


def select_sockets(host: Host, rlist: list[Any], wlist: list[Any], xlist: list[Any],
                   timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
    """select(2) over simulated sockets: those ready to read and to write, blocking up to `timeout` seconds."""
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be non-negative")
    readers = [(item, _socket_of(host, item)) for item in rlist]
    writers = [(item, _socket_of(host, item)) for item in wlist]

    def ready() -> tuple[list[Any], list[Any]]:
        return ([i for i, s in readers if s._readable()], [i for i, s in writers if s._writable()])

    queues = [q for _, sock in readers + writers for q in sock._queues()]
    timeout_ns = None if timeout is None else round(timeout * 1e9)
    wait_until(host.network.clock, queues, lambda: any(ready()), timeout_ns)
    readable, writable = ready()
    return readable, writable, []


class SimSelector(_std_selectors.BaseSelector):
    """selectors.DefaultSelector for a simulated host."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._keys: dict[int, _std_selectors.SelectorKey] = {}

    def _fd(self, fileobj: Any) -> int:
        return fileobj if isinstance(fileobj, int) else fileobj.fileno()

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
        try:
            return self._keys.pop(self._fd(fileobj))
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

        timeout_ns = None if timeout is None else max(0, round(timeout * 1e9))
        wait_until(self.host.network.clock, [q for _, s in socks for q in s._queues()], lambda: bool(ready()),
                   timeout_ns)
        return ready()

    def close(self) -> None:
        """Forget every registration."""
        self._keys.clear()

    def get_map(self) -> Mapping[Any, _std_selectors.SelectorKey]:
        """The registrations by file descriptor."""
        return types.MappingProxyType(self._keys)


class SelectModule(types.ModuleType):
    """The `select` module as a program on a simulated host sees it (select only: no poll or epoll)."""

    def __init__(self, host: Host) -> None:
        super().__init__("select", f"the select module of simulated host {host.name}")
        self.host = host
        self.error = OSError

    def select(self, rlist: list[Any], wlist: list[Any], xlist: list[Any],
               timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
        """select(2) over this host's sockets."""
        return select_sockets(self.host, rlist, wlist, xlist, timeout)


class SelectorsModule(types.ModuleType):
    """The `selectors` module as a program on a simulated host sees it."""

    def __init__(self, host: Host) -> None:
        super().__init__("selectors", f"the selectors module of simulated host {host.name}")
        for name in ("EVENT_READ", "EVENT_WRITE", "SelectorKey", "BaseSelector"):
            setattr(self, name, getattr(_std_selectors, name))
        self.host = host

    def DefaultSelector(self) -> SimSelector:
        """A selector over this host's sockets."""
        return SimSelector(self.host)

    SelectSelector = DefaultSelector
