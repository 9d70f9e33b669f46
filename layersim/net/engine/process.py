"""Simulated processes: ordinary blocking Python functions run as greenlets that park on the simulated clock.

`host.spawn(fn, *args)` starts one. A blocking call inside it (`sleep`, waiting on a socket) parks the greenlet and
switches back to the loop that runs the clock; a timer or a socket wakes it later, always through the clock, so
a run stays single-threaded and deterministic. `Network.run` is the only loop: nothing else advances time.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from greenlet import GreenletExit, getcurrent, greenlet

from layersim.errors import LayersimError
from layersim.net.trace.details import EventKind

if TYPE_CHECKING:
    from layersim.net.engine.clock import Clock, Timer
    from layersim.net.engine.interface import Interface
    from layersim.net.engine.runtime import Runtime

__all__ = ["Process", "ProcessError", "ProcessHost", "Wait", "current_process", "notify", "sleep", "wait_until"]

_PACKAGE_DIR = str(Path(__file__).resolve().parents[2])  # layersim/: where a bug of ours, not a program's, is raised


class ProcessHost(Protocol):
    """What a process needs of the host it runs on (net.host.host.Host is one)."""

    name: str
    clock: Clock
    runtime: Runtime

    def next_pid(self) -> int: ...

    def event(self, kind: EventKind, iface: Interface | None, frame: bytes | None = None,
              packet_id: int | None = None, values: tuple[Any, ...] = ()) -> None: ...


class ProcessError(LayersimError):
    """A blocking call was made where it cannot block, or a process was used wrongly."""


class _Greenlet(greenlet):  # type: ignore[misc]
    """A greenlet that knows its Process."""

    process: Process


class _TimedOutput(io.StringIO):
    """A process's stdout that also notes when each piece was printed, in simulated time (for `layersim view`)."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self._clock = clock
        self.pieces: list[tuple[int, int]] = []  # (time_ns, end offset) of each write

    def write(self, text: str) -> int:
        count = super().write(text)
        if text:
            self.pieces.append((self._clock.now, self.tell()))
        return count


class Wait:
    """One parking of a process: woken at most once, by a notifier or by its timeout."""

    __slots__ = ("fired", "process", "ready", "timer", "value")

    def __init__(self, process: Process, ready: Callable[[], bool] | None = None) -> None:
        self.process = process
        self.fired = False
        self.timer: Timer | None = None
        self.value: Any = None
        self.ready = ready  # what the process waits for: a notifier wakes it only once this is true

    def wake(self, value: Any = True) -> None:
        """Resume the process (at the current simulated time, through the clock); later calls do nothing."""
        if self.fired:
            return
        self.fired = True
        self.value = value
        if self.timer is not None:
            self.timer.cancel()
        process = self.process
        clock = process.clock
        clock.schedule(clock.now, process._step)


class Process:
    """A function running on a simulated host: `done`, `result`, `exception`, `traceback`, `stdout`."""

    def __init__(self, host: ProcessHost, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 name: str | None = None) -> None:
        self.host = host
        self.name = name or getattr(fn, "__name__", "process")
        self.pid = host.next_pid()
        self.done = False
        self.result: Any = None
        self.exception: BaseException | None = None
        self.traceback: str | None = None
        self.clock = host.clock
        self.started_ns = self.clock.now
        self.ended_ns: int | None = None
        self._out = _TimedOutput(self.clock)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._greenlet = _Greenlet(self._main)
        self._greenlet.process = self
        self._waiting: list[Wait] = []  # processes joined on this one
        self.environment: list[Callable[[bool], None]] = []  # switched in (True) and out (False) around each step
        self.on_exit: list[Callable[[], None]] = []  # run when it ends, as exit(2) closes a process's files
        self.killed = False  # ended by kill(), not by returning or raising

    @property
    def stdout(self) -> str:
        """What the process printed."""
        return self._out.getvalue()

    def stack(self) -> list[FrameType]:
        """Where the process is parked: its frames, outermost first (empty before it starts and once it ended)."""
        frames = []
        frame = self._greenlet.gr_frame
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        return frames[::-1]

    @property
    def stdout_pieces(self) -> list[tuple[int, str]]:
        """What the process printed, as (simulated time, text): one piece per moment it printed something."""
        text, start, pieces = self._out.getvalue(), 0, []
        for time_ns, end in self._out.pieces:
            if pieces and pieces[-1][0] == time_ns:
                pieces[-1] = (time_ns, pieces[-1][1] + text[start:end])
            else:
                pieces.append((time_ns, text[start:end]))
            start = end
        return pieces

    @property
    def label(self) -> str:
        """"name[pid]", as the trace shows it."""
        return f"{self.name}[{self.pid}]"

    def _event(self, what: str, info: str | None = None) -> None:
        self.host.event(EventKind.PROCESS, None, None, None, (self.label, what, info))

    def _main(self) -> Any:
        self._event("start")
        try:
            self.result = self._fn(*self._args, **self._kwargs)
        except GreenletExit:  # kill(): ended from outside, as SIGKILL ends a process (its files still close)
            self._event("exit", "killed")
        except BaseException as exc:  # a process's failure ends that process only, recorded with its traceback
            self.exception = exc
            self.traceback = "".join(traceback.format_exception(exc))
            self._event("error", f"{type(exc).__name__}: {exc}")
        else:
            self._event("exit")
        finally:
            for close in reversed(self.on_exit):
                close()
            self.on_exit.clear()
            self.done = True
            self.ended_ns = self.host.clock.now
            for wait in self._waiting:
                wait.wake()
            self._waiting.clear()
        return None

    def _step(self) -> None:
        """Run the process until it parks or ends (called by the clock only)."""
        if self.done:
            return
        self._resume(self._greenlet.switch)

    def _resume(self, go: Callable[[], Any]) -> None:
        """Switch into the process with `go` (a switch, or a throw), its stdout and environment in place."""
        glet = self._greenlet
        loop = getcurrent()
        if glet.parent is not loop:
            glet.parent = loop
        saved = sys.stdout
        sys.stdout = self._out
        environment = self.environment
        if environment:
            for switch in environment:
                switch(True)
        try:
            go()
        finally:
            if environment:
                for switch in reversed(environment):
                    switch(False)
            sys.stdout = saved
        if self.done and self.exception is not None and self.host.runtime.strict and _internal(self.exception):
            raise self.exception

    def kill(self) -> None:
        """End the process now wherever it is parked, as SIGKILL does: its sockets close (what `on_exit` holds)
        and joiners wake. A finished process is left alone. Call it from outside the process, between runs."""
        if self.done:
            return
        if getcurrent() is self._greenlet:
            raise ProcessError(f"{self.label}: a process cannot kill itself; return from its function instead")
        self.killed = True
        glet = self._greenlet
        if glet:  # started and parked: GreenletExit ends it at the call it waits in
            self._resume(lambda: glet.throw(GreenletExit))
            return
        self._fn, self._args, self._kwargs = _never_ran, (), {}  # never started: it ends at once
        self._resume(glet.switch)

    def start(self, at_ns: int | None = None) -> None:
        """Schedule the first step (now, or at `at_ns`)."""
        clock = self.host.clock
        self.started_ns = clock.now if at_ns is None else max(at_ns, clock.now)  # when it runs, not when made
        clock.at(self.started_ns, self._step)

    # Inside the process --------------------------------------------------------------------------------
    def park(self, timeout_ns: int | None = None) -> Wait:
        """Prepare a Wait for this process (call `block(wait)` next); `timeout_ns` wakes it with False."""
        wait = Wait(self)
        if timeout_ns is not None:
            clock = self.host.clock
            wait.timer = clock.at(clock.now + max(0, timeout_ns), _timeout, wait)
        return wait

    def block(self, wait: Wait) -> Any:
        """Switch back to the loop until `wait` is woken; returns the wake value (False on timeout)."""
        if getcurrent() is not self._greenlet:
            raise ProcessError(f"{self.label}: only the process itself can block")
        return self._park_until_fired(wait)

    def _park_until_fired(self, wait: Wait) -> Any:
        """`block` for a caller that is this process (found by `current_process`)."""
        glet = self._greenlet
        while not wait.fired:
            glet.parent.switch()
        return wait.value

    def join(self, timeout_ns: int | None = None) -> bool:
        """Block the calling process until this one is done; True when it is."""
        me = current_process()
        if me is None:
            raise ProcessError("join() blocks: call it from inside a process, or run the network instead")
        if me is self:
            raise ProcessError(f"{self.label}: a process cannot join itself")
        if not self.done:
            wait = me.park(timeout_ns)
            self._waiting.append(wait)
            me._park_until_fired(wait)
        return self.done

    def __repr__(self) -> str:
        state = "done" if self.done else "running"
        return f"Process({self.host.name}:{self.label}, {state})"


def _never_ran() -> None:
    """What a process killed before its first step runs instead of its function: it ends as killed."""
    raise GreenletExit


def _timeout(wait: Wait) -> None:
    """A parked wait's timeout: resume the process now, in this very clock event (no second event)."""
    wait.timer = None
    if not wait.fired:
        wait.fired = True
        wait.value = False
        wait.process._step()


def _wake_now(wait: Wait) -> None:
    """The end of a sleep: resume the process in this clock event."""
    wait.fired = True
    wait.value = True
    wait.process._step()


def _internal(exc: BaseException) -> bool:
    """Whether an exception is a bug inside layersim rather than the program's own error or an OS-style error."""
    if isinstance(exc, OSError | LayersimError | KeyboardInterrupt):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and os.path.abspath(last).startswith(_PACKAGE_DIR)


def current_process() -> Process | None:
    """The simulated process running now, or None outside any."""
    glet = getcurrent()
    return glet.process if isinstance(glet, _Greenlet) else None


def sleep(ns: int) -> None:
    """Park the current process for `ns` nanoseconds of simulated time."""
    glet = getcurrent()
    if not isinstance(glet, _Greenlet):
        raise ProcessError("sleep() blocks: call it from inside a process (host.spawn)")
    me = glet.process
    clock = me.clock
    wait = Wait(me)  # nothing else wakes a sleep: no timer to cancel, one clock event
    clock.schedule(clock.now + max(0, ns), _wake_now, wait)
    me._park_until_fired(wait)


def notify(waits: list[Wait]) -> None:
    """Wake the processes parked on `waits` whose condition now holds; the others stay parked and listed."""
    if not waits:
        return
    keep = []
    for wait in waits:
        if wait.fired:
            continue
        if wait.ready is not None and not wait.ready():
            keep.append(wait)  # nothing it waits for yet: no switch into it
            continue
        wait.wake()
    waits[:] = keep


def wait_until(clock: Any, queues: list[list[Wait]], ready: Callable[[], bool], timeout_ns: int | None) -> bool:
    """Park the current process until `ready()` or the timeout, waking whenever one of `queues` is notified.

    Returns ready() (False on timeout, or at once outside a process or with a zero timeout)."""
    if ready():
        return True
    me = current_process()
    if me is None or timeout_ns == 0:
        return False
    if timeout_ns is None and len(queues) == 1:  # the common case (a blocking recv): one queue, no timer
        queue = queues[0]
        while not ready():
            wait = Wait(me, ready)
            queue.append(wait)  # the notifier takes it off the queue when it wakes us
            me._park_until_fired(wait)
        return True
    deadline = None if timeout_ns is None else clock.now + timeout_ns
    while not ready():
        if deadline is not None and clock.now >= deadline:
            return False
        wait = me.park(None if deadline is None else deadline - clock.now)
        wait.ready = ready
        for queue in queues:
            queue.append(wait)
        me._park_until_fired(wait)
        for queue in queues:  # a wait woken through one queue leaves the others
            if wait in queue:
                queue.remove(wait)
    return True
