"""What a network's parts are given when they are made: its clock, its trace, and how its run loop is reached."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from layersim.net.engine.clock import Clock
from layersim.net.trace.log import Trace

__all__ = ["Runtime"]


class Runtime:
    """The shared services of one Network, handed to every node, link and process it makes (no back-pointers).

    `run_until` runs the network's loop until a condition holds (a program run to completion from outside any
    process); `add_run_guard` enters a context manager for the length of every run (the stdlib patch)."""

    __slots__ = ("add_run_guard", "clock", "run_until", "start_ns", "strict", "tls", "trace")

    def __init__(self, clock: Clock, trace: Trace, *, strict: bool, start_ns: int,
                 run_until: Callable[[Callable[[], bool]], Any],
                 add_run_guard: Callable[[AbstractContextManager[Any]], None]) -> None:
        self.clock = clock
        self.trace = trace
        self.strict = strict  # a bug inside layersim that ends a process is raised out of the run
        self.start_ns = start_ns  # the Unix time, in ns, that simulated time 0 stands for
        self.run_until = run_until
        self.add_run_guard = add_run_guard
        self.tls: Any = None  # the network's TLS world (certificate authority, key log), set by the Network
