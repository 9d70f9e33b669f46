"""Run a service in a thread on real loopback sockets for the length of a test, and stop it afterwards."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running(service: Callable[..., None], *args: Any, **kwargs: Any) -> Iterator[tuple[str, int]]:
    """Start service(*args, stop=..., ready=..., **kwargs) in a thread; yield its address; stop and join it."""
    stop, ready = threading.Event(), queue.Queue[tuple[str, int]]()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            service(*args, stop=stop.is_set, ready=ready.put, **kwargs)
        except BaseException as exc:  # shown by the test instead of a silent thread death
            failure.append(exc)
            raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        try:
            address = ready.get(timeout=5)
        except queue.Empty:
            raise AssertionError(f"{service.__name__} did not start: {failure}") from None
        yield address
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive(), f"{service.__name__} did not stop"
    assert not failure, failure
