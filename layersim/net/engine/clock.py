"""The simulated clock: integer nanoseconds and an event queue ordered by (time, sequence) so ties are stable."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from layersim.errors import LayersimError

__all__ = ["Clock", "Timer", "ms", "seconds", "us"]

_FOREVER = 1 << 62  # later than any simulated time or event count


def seconds(value: float) -> int:
    """Seconds as integer nanoseconds."""
    return round(value * 1_000_000_000)


def ms(value: float) -> int:
    """Milliseconds as integer nanoseconds."""
    return round(value * 1_000_000)


def us(value: float) -> int:
    """Microseconds as integer nanoseconds."""
    return round(value * 1_000)


class Timer:
    """A scheduled call that can be cancelled before it runs."""

    __slots__ = ("args", "callback", "cancelled", "time_ns")

    def __init__(self, time_ns: int, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.time_ns = time_ns
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the call from happening (a no-op if it already ran)."""
        self.cancelled = True


class Clock:
    """A discrete-event clock: nothing here reads the wall clock; time moves only from event to event.

    The queue holds (time, sequence, callback, args, timer) tuples; `timer` is None for calls that cannot be
    cancelled (`schedule`), which spares the per-frame path a Timer object.
    """

    def __init__(self) -> None:
        self.now = 0
        self._queue: list[tuple[int, int, Callable[..., Any], tuple[Any, ...], Timer | None]] = []
        self._sequence = 0
        self.events_run = 0
        self.progress: Callable[[int, int], None] | None = None  # called with (now, events run) every 10,000 events

    def at(self, time_ns: int, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` at absolute simulated time `time_ns` (not before now); cancellable."""
        if time_ns < self.now:
            raise LayersimError(f"cannot schedule at {time_ns} ns: the clock is already at {self.now} ns")
        timer = Timer(time_ns, callback, args)
        self._sequence += 1
        heapq.heappush(self._queue, (time_ns, self._sequence, callback, args, timer))
        return timer

    def schedule(self, time_ns: int, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback(*args)` at `time_ns` (not before now), with no way to cancel it."""
        if time_ns < self.now:
            raise LayersimError(f"cannot schedule at {time_ns} ns: the clock is already at {self.now} ns")
        self._sequence += 1
        heapq.heappush(self._queue, (time_ns, self._sequence, callback, args, None))

    def after(self, delay_ns: int, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` `delay_ns` nanoseconds from now."""
        return self.at(self.now + delay_ns, callback, *args)

    def next_time(self) -> int | None:
        """When the next pending event is due, or None when nothing is pending."""
        queue = self._queue
        while queue and queue[0][4] is not None and queue[0][4].cancelled:
            heapq.heappop(queue)
        return queue[0][0] if queue else None

    def run(self, until: int | None = None, *, max_events: int | None = None) -> int:
        """Run events in order until the queue is empty or the next is after `until`; returns events run.

        With `until`, the clock ends at `until` even if the last event was earlier.
        """
        ran = 0
        queue = self._queue
        pop = heapq.heappop
        progress = self.progress
        limit = until if until is not None else _FOREVER
        budget = max_events if max_events is not None else _FOREVER
        check = 10_000 - self.events_run % 10_000  # events until the next progress report or budget check
        while queue:
            if queue[0][0] > limit:
                break
            time_ns, _, callback, args, timer = pop(queue)
            if timer is not None and timer.cancelled:
                continue
            self.now = time_ns
            callback(*args)
            ran += 1
            check -= 1
            if not check:
                check = 10_000
                if progress is not None:
                    progress(time_ns, self.events_run + ran)
                if ran >= budget:
                    raise LayersimError(f"simulation still busy after {max_events} events at {self.now} ns "
                                        "(a loop in the topology?)")
        if until is not None and until > self.now:
            self.now = until
        self.events_run += ran
        return ran
