"""Sweep throughput on Dask: cells per second with 2 worker processes against 1, measured in the same run.

    python benchmarks/bench_sweep.py [--cells 16] [--bytes 3000000] [--repeats 3]

Each cell is a bulk TCP transfer over client - router - server (examples/sweep/bulk.toml, 1 % loss) with its
own seed. Both clusters are started and warmed up (every worker has imported layersim and run one cell) before the
clock starts, so the rate is of cells, not of process start-up; passes alternate between them and the best of
`--repeats` counts for each. The target on a 2-core machine is a ratio of at least 1.7; a machine others are
using at the same time gets less.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchenv import environment

from layersim.sweep.cell import run_cell
from layersim.sweep.spec import parse_spec

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "sweep"


def _timed(client: Any, cells: list) -> tuple[float, float]:
    """Cells per second of one pass of `cells` through `client`'s cluster, and the mean wall seconds of a cell."""
    started = time.perf_counter()
    rows = client.gather(client.map(run_cell, cells, pure=False))
    elapsed = time.perf_counter() - started
    failed = [row["error"] for row in rows if row["error"] is not None]
    if failed:
        sys.exit(f"bench_sweep: a cell failed: {failed[0]}")
    return len(cells) / elapsed, sum(row["wall_s"] for row in rows) / len(rows)


def rates(cells: list, repeats: int) -> list[tuple[float, float]]:
    """The best (cells/s, mean cell seconds) of 1 and of 2 worker processes; passes alternate so that a
    neighbour's load hits both."""
    from dask.distributed import Client, LocalCluster

    with ExitStack() as stack:
        clients = []
        for workers in (1, 2):
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       dashboard_address=":0"))
            client = stack.enter_context(Client(cluster))
            client.gather(client.map(run_cell, cells[:workers], pure=False))  # warm up: imports, first cell
            clients.append(client)
        best = [(0.0, 0.0), (0.0, 0.0)]
        for _ in range(repeats):
            for n, client in enumerate(clients):
                best[n] = max(best[n], _timed(client, cells))
    return best


def main() -> None:
    """Time both cluster sizes and print the rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=16)
    parser.add_argument("--bytes", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    text = (f'topology = "bulk.toml"\nseeds = {args.cells}\n[grid]\n"link#2.loss" = [0.01]\n'
            f'"run#1.bytes" = [{args.bytes}]\n')
    cells = parse_spec(text, "bench_sweep", EXAMPLE).cells()
    for key, value in environment(("dask", "distributed")).items():
        print(f"{key}: {value}")
    (one, cell_one), (two, cell_two) = rates(cells, args.repeats)
    print(f"{len(cells)} cells of {args.bytes:,} bytes at 1 % loss, best of {args.repeats}")
    print(f"1 worker:  {one:6.2f} cells/s  ({cell_one:.3f} s a cell)")
    print(f"2 workers: {two:6.2f} cells/s  ({cell_two:.3f} s a cell: more than with 1 means the cores were shared "
          f"with other work)")
    print(f"ratio 2/1: {two / one:.2f}x (target >= 1.7x on 2 cores)")


if __name__ == "__main__":
    main()
