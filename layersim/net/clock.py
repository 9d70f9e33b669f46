"""The simulated clock: integer nanoseconds and an event queue ordered by (time, sequence) so ties are stable."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from layersim.errors import LayersimError

__all__ = ["Clock", "Timer", "ms", "seconds", "us"]


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
    """A discrete-event clock: nothing here reads the wall clock; time moves only from event to event."""

    def __init__(self) -> None:
        self.now = 0
        self._queue: list[tuple[int, int, Timer]] = []
        self._sequence = 0
        self.events_run = 0

    def at(self, time_ns: int, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` at absolute simulated time `time_ns` (not before now)."""
        if time_ns < self.now:
            raise LayersimError(f"cannot schedule at {time_ns} ns: the clock is already at {self.now} ns")
        timer = Timer(time_ns, callback, args)
        self._sequence += 1
        heapq.heappush(self._queue, (time_ns, self._sequence, timer))
        return timer

    def after(self, delay_ns: int, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` `delay_ns` nanoseconds from now."""
        return self.at(self.now + delay_ns, callback, *args)

    def next_time(self) -> int | None:
        """When the next pending event is due, or None when nothing is pending."""
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    def run(self, until: int | None = None, *, max_events: int | None = None) -> int:
        """Run events in order until the queue is empty or the next is after `until`; returns events run.

        With `until`, the clock ends at `until` even if the last event was earlier.
        """
        ran = 0
        queue = self._queue
        while queue:
            time_ns, _, timer = queue[0]
            if until is not None and time_ns > until:
                break
            if max_events is not None and ran >= max_events:
                raise LayersimError(f"simulation still busy after {max_events} events at {self.now} ns "
                                    "(a loop in the topology?)")
            heapq.heappop(queue)
            if timer.cancelled:
                continue
            self.now = time_ns
            timer.callback(*timer.args)
            ran += 1
        if until is not None and until > self.now:
            self.now = until
        self.events_run += ran
        return ran
