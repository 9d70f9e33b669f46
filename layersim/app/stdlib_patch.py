"""While a simulated process runs, the stdlib's socket, select, selectors and time functions act on its host.

Each time the clock switches into a process, `StdlibPatch.switch(True)` points the stdlib's `socket.socket`,
`socket.create_connection`, `socket.getaddrinfo`, `select.select`, `selectors.DefaultSelector`, `time.sleep`,
`time.time`, `time.monotonic` and friends at the process's host; `switch(False)` puts every real one back before
the clock goes on, also when the process raised. So unmodified code (http.client, urllib3, requests, a tutorial's
script) runs on the simulated host, and no real socket can be made by it: the real functions are not reachable
from inside a process.
"""

from __future__ import annotations

import select as _select
import selectors as _selectors
import socket as _socket
import threading as _threading
import time as _time
from typing import TYPE_CHECKING, Any

from layersim.app.select_module import SimSelector, select_sockets
from layersim.net.process import sleep

if TYPE_CHECKING:
    from layersim.net.host import Host

__all__ = ["SOCKET_NAMES", "StdlibPatch"]

SOCKET_NAMES = ("socket", "SocketType", "create_connection", "create_server", "getaddrinfo", "gethostbyname",
                "gethostbyname_ex", "gethostname", "getfqdn", "getdefaulttimeout", "setdefaulttimeout")
_MISSING = object()
_REMOVED_SELECT = ("poll", "epoll", "devpoll", "kqueue")  # so urllib3 and others fall back to select.select


def _this_thread(fake: Any, real: Any, owner: int) -> Any:
    """`fake` when called from the thread running the simulation, `real` from any other thread."""
    get_ident = _threading.get_ident

    def patched(*args: Any) -> Any:
        return fake(*args) if get_ident() == owner else real(*args)

    return patched


class StdlibPatch:
    """The patch for one host; `switch` is a Process environment hook."""

    def __init__(self, host: Host) -> None:
        self.host = host
        module = host.socket
        clock = host.network.clock
        epoch = host.network.start_ns
        self._replacements: list[tuple[Any, str, Any]] = [(_socket, name, getattr(module, name))
                                                          for name in SOCKET_NAMES]
        self._replacements += [
            (_select, "select", lambda r, w, x, timeout=None: select_sockets(host, r, w, x, timeout)),
            (_selectors, "DefaultSelector", lambda: SimSelector(host)),
            (_time, "sleep", lambda seconds: sleep(round(seconds * 1e9)) if seconds > 0 else None),
            (_time, "time", lambda: (epoch + clock.now) / 1e9),
            (_time, "time_ns", lambda: epoch + clock.now),
            (_time, "monotonic", lambda: clock.now / 1e9),
            (_time, "monotonic_ns", lambda: clock.now),
            (_time, "perf_counter", lambda: clock.now / 1e9),
            (_time, "perf_counter_ns", lambda: clock.now),
        ]
        self._replacements += [(_select, name, _MISSING) for name in _REMOVED_SELECT if hasattr(_select, name)]
        self._saved: list[tuple[Any, str, Any]] = []

    def switch(self, entering: bool) -> None:
        """Install the host's versions (entering) or put the real ones back."""
        if entering:
            if self._saved:
                return
            owner = _threading.get_ident()
            for module, name, value in self._replacements:
                real = getattr(module, name, _MISSING)
                self._saved.append((module, name, real))
                if module is _time:  # other threads (a Jupyter kernel's pollers) keep the real clock and sleep
                    value = _this_thread(value, real, owner)
                if value is _MISSING:
                    delattr(module, name)
                else:
                    setattr(module, name, value)
            return
        for module, name, value in reversed(self._saved):
            if value is _MISSING:
                if hasattr(module, name):
                    delattr(module, name)
            else:
                setattr(module, name, value)
        self._saved.clear()
