"""What the command line shows on a terminal: colour and alignment with rich, a progress bar for long runs.

Written to a pipe or a file, the same text comes out plain (no escape codes, no progress bar).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["print_story", "progress"]

# (pattern, rich style): the first that matches a line colours it.
_STYLES = [
    (re.compile(r"^\[\[run\]\] #\d+"), "bold cyan"),
    (re.compile(r"^\d+\. "), "bold cyan"),
    (re.compile(r"  (LOST on|DROPPED at) |^requests\.get failed|^  no DNS answer"), "bold red"),
    (re.compile(r"  retransmission\b"), "magenta"),
    (re.compile(r"dropped: |^\s+\S+\s+\d+\s+\(.*\) - |drops by reason"), "red"),
    (re.compile(r"^(no drops|drops: none|retransmissions: 0)"), "green"),
    (re.compile(r"^(capture|captures|figures):"), "bold"),
    (re.compile(r"first packet, hop by hop|hop by hop:"), "yellow"),
]


def _style(line: str) -> str | None:
    return next((style for pattern, style in _STYLES if pattern.search(line)), None)


def print_story(text: str, out: TextIO | None = None, *, force_terminal: bool | None = None) -> None:
    """Print a story: coloured on a terminal, plain text otherwise."""
    out = out or sys.stdout
    terminal = out.isatty() if force_terminal is None else force_terminal
    if not terminal:
        print(text, file=out)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)
    for line in text.splitlines():
        style = _style(line)
        console.print(Text(line, style=style or ""))


@contextmanager
def progress(network: Any, out: TextIO | None = None, *, after_seconds: float = 1.5,
             force_terminal: bool | None = None) -> Iterator[None]:
    """While the block runs the network, show simulated time and events on a transient progress line once the
    run has taken `after_seconds` of wall time (only on a terminal)."""
    out = out or sys.stderr
    terminal = out.isatty() if force_terminal is None else force_terminal
    if not terminal:
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    started = time.monotonic()
    bar: Progress | None = None
    task: Any = None

    def update(now_ns: int, events: int) -> None:
        nonlocal bar, task
        if bar is None:
            if time.monotonic() - started < after_seconds:
                return
            bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True,
                           console=Console(file=out, force_terminal=True))
            bar.start()
            task = bar.add_task("")
        bar.update(task, description=f"simulated {now_ns / 1e9:9.3f} s, {events:,} events")

    clock = network.clock
    previous, clock.progress = clock.progress, update
    try:
        yield
    finally:
        clock.progress = previous
        if bar is not None:
            bar.stop()
