"""What the services share: a stop condition polled while waiting, concurrent tasks, exact reads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["POLL_SECONDS", "Spawn", "Stop", "accept_loop", "poll_timeout", "recv_exact", "running",
           "thread_spawn"]

Stop = Callable[[], bool]  # true when the service should return, e.g. threading.Event().is_set
Spawn = Callable[..., object]  # spawn(fn, *args) runs fn(*args) concurrently: host.spawn, or thread_spawn
POLL_SECONDS = 0.05  # how often a loop that was given `stop` looks at it while waiting


def thread_spawn(fn: Callable[..., object], *args: Any) -> threading.Thread:
    """Run fn(*args) in a daemon thread: the `spawn` for services on real sockets."""
    thread = threading.Thread(target=fn, args=args, daemon=True, name=getattr(fn, "__name__", "task"))
    thread.start()
    return thread


def running(stop: Stop | None) -> bool:
    """Whether a loop should go on: forever without a stop condition."""
    return stop is None or not stop()


def poll_timeout(stop: Stop | None) -> float | None:
    """The socket timeout of a loop's wait: block for good without `stop`, else wake up to look at it."""
    return None if stop is None else POLL_SECONDS


def recv_exact(sock: Any, count: int) -> bytes | None:
    """Exactly `count` bytes from a stream socket, or None when the peer closes first."""
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def accept_loop(listener: Any, handle: Callable[[Any, Any], object], *, stop: Stop | None,
                spawn: Spawn | None) -> None:
    """Accept connections until `stop`, handing each to handle(conn, peer), in a new task when given `spawn`."""
    listener.settimeout(poll_timeout(stop))
    try:
        while running(stop):
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            except ConnectionError:  # the peer gave up before accept (ECONNABORTED)
                continue
            if spawn is None:
                handle(conn, peer)
            else:
                spawn(handle, conn, peer)
    finally:
        listener.close()
