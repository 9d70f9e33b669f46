"""Running one cell of a sweep: build the topology with the cell's values and seed, run it, measure it.

Everything measured comes from the run's own objects: the bulk program's result (bytes, time from connect() to
the receiver's close) and the trace's TCP events and drops. A cell that fails is a row with its error.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from typing import Any

import numpy as np

from layersim.app.narrative import run_scenario
from layersim.app.run_programs import BulkResult
from layersim.errors import LayersimError
from layersim.net.topology import build_network
from layersim.net.trace.details import DropReason, EventKind
from layersim.sweep.spec import Cell, apply_params

__all__ = ["MEASURES", "run_cell"]

DROP_COLUMNS = tuple(f"drops_{reason.value}" for reason in DropReason)
# every row has these columns after the params, in this order (a fixed schema, whatever the cell did)
MEASURES = ("cell", "seed", "goodput_mbps", "completion_s", "bytes", "sent", "retransmissions", "timeouts",
            "rtt_mean_ms", "rtt_p95_ms", "rtt_samples", "mss", "drops", *DROP_COLUMNS, "sim_s", "wall_s", "pid",
            "error", "traceback")


def run_cell(cell: Cell) -> dict[str, Any]:
    """The row of one cell: its params, seed and measures; `error` (and `traceback` for a bug) when it failed."""
    started = time.perf_counter()
    row: dict[str, Any] = {key: value for key, value in cell.params}
    row.update(dict.fromkeys(MEASURES))
    row.update(cell=cell.cell_id, seed=cell.seed)
    try:
        data = apply_params(cell.topology, cell.params)
        scenario = build_network(data, cell.source, seed=cell.seed, trace="events")
        try:
            outcomes = run_scenario(scenario, cell.until_ns)
            row.update(_measure(scenario, outcomes))
        finally:
            scenario.network.close()
            _end_processes(scenario.network)
    except LayersimError as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug: the row keeps the traceback (LAYERSIM_STRICT=1 makes the sweep exit 1)
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
    row["wall_s"] = time.perf_counter() - started
    row["pid"] = os.getpid()  # which process ran it
    return row


def _end_processes(network: Any) -> None:
    """End the processes still parked (the bulk sink waits in accept() forever): a parked greenlet is a root that
    keeps its whole Network alive, and a worker running hundreds of cells would grow by every one of them."""
    for process in network.processes:
        if not process.done:
            process.kill()


def _measure(scenario: Any, outcomes: list[Any]) -> dict[str, Any]:
    """Goodput and completion of the first bulk run; retransmissions, timeouts and RTT of its sender's TCP."""
    bulk = next((o for o in outcomes if isinstance(o.result, BulkResult)), None)
    if bulk is None:
        raise LayersimError(f"{scenario.source}: no [[run]] of kind \"bulk\" to measure")
    result: BulkResult = bulk.result
    sender = bulk.spec.source
    trace = scenario.network.trace
    kinds: Counter[str] = Counter()
    rtts: list[int] = []
    mss = None
    for event in trace.select(EventKind.TCP, node=sender):
        details = event.details
        what = details.get("what")
        kinds[what] += 1
        if what == "rtt":
            rtts.append(details["sample_ns"])
        elif what == "retransmit" and details.get("reason") != "syn":
            mss = max(mss or 0, details["length"])  # a full-size segment lost somewhere: the sender's MSS
    drops = Counter(event.reason.value for event in trace.drops())
    out: dict[str, Any] = {
        "goodput_mbps": result.mbit_per_s if result.error is None else None,
        "completion_s": result.seconds if result.error is None else None,
        "bytes": result.size, "sent": result.sent,
        "retransmissions": kinds["retransmit"], "timeouts": kinds["rto"],
        "rtt_mean_ms": float(np.mean(rtts)) / 1e6 if rtts else None,
        "rtt_p95_ms": float(np.percentile(rtts, 95)) / 1e6 if rtts else None,
        "rtt_samples": len(rtts), "mss": mss, "drops": sum(drops.values()),
        "sim_s": scenario.network.now / 1e9, "error": result.error or bulk.running,
    }
    out.update({f"drops_{reason}": count for reason, count in drops.items()})
    for column in DROP_COLUMNS:
        out.setdefault(column, 0)
    return out
