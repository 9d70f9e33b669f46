"""While a network runs, the stdlib's socket, select, selectors and time functions act on the calling process's host.

`STDLIB_NAMES` lists what is replaced: `socket.socket`, `socket.create_connection`, `socket.getaddrinfo`, ...,
`select.select`, `selectors.DefaultSelector`, `time.sleep`, `time.time`, `time.monotonic` and friends, and
`ssl.SSLContext.wrap_socket`, which runs TLS over a simulated socket (see tls.py), and the default asyncio event
loop policy's loop factory (a `SimEventLoop`, see aio.py). Each
replacement asks which simulated process is running: inside one, it is that host's version (so unmodified code -
http.client, urllib3, requests, a tutorial's script - runs on the simulated host, and through these names cannot
reach a real socket; a process is no sandbox: `_socket` or `os` reach the real machine);
outside any (layersim's own code between process steps), it is the real function. The replacements are installed
when a network that has processes starts running and removed when `run` returns, also when it raises, so nothing
outside a run ever sees them. `select.poll` (and `selectors.PollSelector`, which socketserver took at import) is the
host's poll; `epoll`, `devpoll` and `kqueue` are hidden meanwhile, so libraries fall back to select or poll.
"""

from __future__ import annotations

import asyncio as _asyncio
import select as _select
import selectors as _selectors
import socket as _socket
import socketserver as _socketserver
import time as _time
from collections.abc import Callable
from typing import Any

from layersim.net.engine.process import current_process, sleep
from layersim.net.host.socketapi.aio import SimEventLoop
from layersim.net.host.socketapi.pytime import sleep_ns
from layersim.net.host.socketapi.select_module import SimPoll, SimSelector, select_sockets
from layersim.net.host.socketapi.tls import tls_replacements

__all__ = ["STDLIB_NAMES", "StdlibPatch"]

_MISSING = object()
_SOCKET_FUNCTIONS = ("create_connection", "create_server", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                     "gethostname", "getfqdn", "getdefaulttimeout", "setdefaulttimeout", "gethostbyaddr",
                     "getnameinfo", "socketpair")
_HIDDEN_SELECT = ("epoll", "devpoll", "kqueue")
STDLIB_NAMES = (("socket", ("socket", "SocketType", *_SOCKET_FUNCTIONS)),
                ("select", ("select", "poll", *_HIDDEN_SELECT)), ("selectors", ("DefaultSelector",)),
                ("time", ("sleep", "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")))


class _SocketMeta(type):
    """Makes `isinstance(x, socket.socket)` true for a simulated host's sockets too while patched.

    Only the patched class itself says so: a class derived from it (ssl.SSLSocket when `ssl` is first imported
    inside a process) keeps the ordinary check, or every simulated socket would pass for an SSLSocket (issue 22:
    httpcore then reads `_sslobj` off a plain socket). Other class attributes (`socket.socket.sendmsg`, which
    trio wraps at import) are the real class's.
    """

    def __instancecheck__(cls, instance: Any) -> bool:
        from layersim.net.host.socketapi.sim_socket import SimSocket

        if "_real" not in cls.__dict__:
            return type.__instancecheck__(cls, instance)
        return isinstance(instance, (SimSocket, cls._real))  # type: ignore[attr-defined]

    def __getattr__(cls, name: str) -> Any:
        """Class attributes of the real class (`socket.socket.sendmsg`, read at import by trio and others)."""
        if name.startswith("__") or name == "_real":
            raise AttributeError(name)
        return getattr(cls._real, name)  # type: ignore[attr-defined]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        proc = current_process()
        if proc is None:
            return cls._real(*args, **kwargs)  # type: ignore[attr-defined]
        return proc.host.socket.socket(*args, **kwargs)


def _dispatch(real: Callable[..., Any], simulated: Callable[[Any], Callable[..., Any]]) -> Callable[..., Any]:
    """A function that is `simulated(process)` inside a simulated process and `real` outside."""

    def call(*args: Any, **kwargs: Any) -> Any:
        proc = current_process()
        if proc is None:
            return real(*args, **kwargs)
        return simulated(proc)(*args, **kwargs)

    call.__name__ = getattr(real, "__name__", "call")
    call.__doc__ = getattr(real, "__doc__", None)
    return call


def _sim_sleep(proc: Any) -> Callable[[float], None]:
    def sim_sleep(seconds: float) -> None:
        ns = sleep_ns(seconds)  # CPython's ValueError for a negative length or NaN, before any wait
        if ns:
            sleep(ns)

    return sim_sleep


def _clock(proc: Any, scale: float, epoch: bool) -> Callable[[], Any]:
    runtime = proc.host.runtime
    clock = runtime.clock
    start = runtime.start_ns if epoch else 0
    if scale == 1:
        return lambda: start + clock.now
    return lambda: (start + clock.now) / scale


class StdlibPatch:
    """The replacements, installed for as long as any network runs (nested runs count)."""

    def __init__(self) -> None:
        self._depth = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def _replacements(self) -> list[tuple[Any, str, Any]]:
        real_socket = _socket.socket
        socket_class = _SocketMeta("socket", (), {"_real": real_socket, "__doc__": real_socket.__doc__})
        out: list[tuple[Any, str, Any]] = [(_socket, "socket", socket_class), (_socket, "SocketType", socket_class)]
        for name in _SOCKET_FUNCTIONS:
            out.append((_socket, name, _dispatch(getattr(_socket, name),
                                                 lambda proc, name=name: getattr(proc.host.socket, name))))
        out.append((_select, "select", _dispatch(_select.select, lambda proc: lambda r, w, x, timeout=None:
                                                 select_sockets(proc.host, r, w, x, timeout))))
        out.append((_selectors, "DefaultSelector", _dispatch(_selectors.DefaultSelector,
                                                             lambda proc: lambda: SimSelector(proc.host))))
        if hasattr(_select, "poll"):  # select.poll, and PollSelector, which took it at import (socketserver's)
            poll = _dispatch(_select.poll, lambda proc: lambda: SimPoll(proc.host))
            out += [(_select, "poll", poll), (_selectors.PollSelector, "_selector_cls", staticmethod(poll))]
        out.append((_time, "sleep", _dispatch(_time.sleep, _sim_sleep)))
        for name, scale, epoch in (("time", 1e9, True), ("time_ns", 1, True), ("monotonic", 1e9, False),
                                   ("monotonic_ns", 1, False), ("perf_counter", 1e9, False),
                                   ("perf_counter_ns", 1, False)):
            out.append((_time, name, _dispatch(getattr(_time, name),
                                               lambda proc, scale=scale, epoch=epoch: _clock(proc, scale, epoch))))
        # socketserver took `from time import monotonic as time` at import: its handle_request timeout counts it
        out.append((_socketserver, "time", _dispatch(_socketserver.time, lambda proc: _clock(proc, 1e9, False))))
        out += [(_select, name, _MISSING) for name in _HIDDEN_SELECT if hasattr(_select, name)]
        policy = _asyncio.DefaultEventLoopPolicy  # asyncio.run inside a process gets the host's loop
        out.append((policy, "_loop_factory", staticmethod(_dispatch(policy._loop_factory,
                                                                    lambda proc: lambda: SimEventLoop(proc.host)))))
        out += tls_replacements()
        return out

    def __enter__(self) -> StdlibPatch:
        if self._depth == 0:
            for module, name, value in self._replacements():
                self._saved.append((module, name, getattr(module, name, _MISSING)))
                if value is _MISSING:
                    delattr(module, name)
                else:
                    setattr(module, name, value)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            for module, name, value in reversed(self._saved):
                if value is _MISSING:
                    if hasattr(module, name):
                        delattr(module, name)
                else:
                    setattr(module, name, value)
            self._saved.clear()
