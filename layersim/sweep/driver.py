"""Running a sweep's cells on Dask: a local cluster of worker processes by default, or an existing scheduler.

Dask does the scheduling, work stealing and retries of lost workers (and serves its dashboard when bokeh is
installed); this module only hands it the cells, records each row as it comes back, and draws a progress bar.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layersim.sweep.cell import MEASURES, run_cell
from layersim.sweep.spec import Cell, SweepSpec
from layersim.sweep.table import Journal, write_tables

__all__ = ["SweepRun", "run_sweep"]


@dataclass(slots=True)
class SweepRun:
    """What a run of a sweep did: cells in the grid, already done before, run now, and failed now."""

    total: int
    skipped: int
    ran: int
    failed: list[dict[str, Any]]
    dashboard: str | None = None


def run_sweep(spec: SweepSpec, out: Path, *, workers: int | None = None, scheduler: str | None = None,
              serial: bool = False, show_progress: bool = True,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> SweepRun:
    """Run every cell of `spec` not already done in `out`, then write the tables.

    By default a Dask LocalCluster with `workers` worker processes (one per core) runs them; `scheduler` (e.g.
    "tcp://host:8786") sends them to an existing cluster instead; `serial` runs them in this process (the
    reference the tests compare Dask with). `on_row` sees each row as it is recorded.
    """
    journal = Journal(out)
    cells = spec.cells()
    todo = [cell for cell in cells if not journal.done(cell.cell_id, cell.seed)]
    run = SweepRun(total=len(cells), skipped=len(cells) - len(todo), ran=0, failed=[])
    try:
        with _progress(len(todo), show_progress) as advance:
            for row in _rows(todo, workers, scheduler, serial, run):
                journal.add(row)
                run.ran += 1
                if row["error"] is not None:
                    run.failed.append(row)
                advance()
                if on_row is not None:
                    on_row(row)
    finally:  # stopped or not, the tables hold every row recorded so far, in grid order
        order = {(cell.cell_id, cell.seed): n for n, cell in enumerate(cells)}
        rows = sorted((row for key, row in journal.rows.items() if key in order), key=lambda r: order[r["cell"],
                                                                                                        r["seed"]])
        write_tables(out, rows, list(spec.grid))
    return run


def _rows(todo: list[Cell], workers: int | None, scheduler: str | None, serial: bool,
          run: SweepRun) -> Iterator[dict[str, Any]]:
    """Each cell's row, in the order cells finish."""
    if not todo:
        return
    if serial:
        yield from map(run_cell, todo)
        return
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler is not None:
        client = Client(scheduler)
        cluster = None
    else:
        # processes=True, one thread each: every cell runs in a worker process of its own, one per core
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # any free port: sweeps side by side
        client = Client(cluster)
    try:
        run.dashboard = client.dashboard_link if _has_bokeh() or scheduler is not None else None
        futures = client.map(run_cell, todo, pure=False)
        cell_of = {future.key: cell for future, cell in zip(futures, todo, strict=True)}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the cell could not be sent: still a row
                yield _failed_row(cell_of[future.key], exc)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _failed_row(cell: Cell, exc: Exception) -> dict[str, Any]:
    """The row of a cell whose worker never returned one."""
    row: dict[str, Any] = {key: value for key, value in cell.params}
    row.update(dict.fromkeys(MEASURES))
    row.update(cell=cell.cell_id, seed=cell.seed, error=f"{type(exc).__name__}: {exc}")
    return row


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Callable[[], None]]:
    """A progress bar over the cells to run (on a terminal only); yields the function that advances it."""
    if not show or total == 0 or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=False) as bar:
        task = bar.add_task("cells", total=total)
        yield lambda: bar.advance(task)
