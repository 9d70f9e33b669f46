"""Sweep throughput on Dask: cells per second with 2 worker processes against 1, measured in the same run.

    python benchmarks/bench_sweep.py [--cells 24] [--bytes 1000000] [--repeats 2]

Each cell is a bulk TCP transfer over client - router - server (examples/sweep/bulk.toml, 1 % loss) with its
own seed. Each cluster is started and warmed up (every worker has imported layersim and run one cell) before the
clock starts, so the rate is of cells, not of process start-up. The best of `--repeats` timings counts. The
target on a 2-core machine is a ratio of at least 1.7; a machine others are using at the same time gets less.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchenv import environment

from layersim.sweep.cell import run_cell
from layersim.sweep.spec import parse_spec

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "sweep"


def cells_per_second(cells: list, workers: int, repeats: int) -> float:
    """The best rate over `repeats` of `cells` on a warmed-up LocalCluster of `workers` processes."""
    from dask.distributed import Client, LocalCluster, wait

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        warm = client.map(run_cell, cells[:workers], pure=False)
        wait(warm)
        client.run(lambda: None)  # every worker answers: all are up
        best = 0.0
        for _ in range(repeats):
            started = time.perf_counter()
            rows = client.gather(client.map(run_cell, cells, pure=False))
            elapsed = time.perf_counter() - started
            failed = [row["error"] for row in rows if row["error"] is not None]
            if failed:
                sys.exit(f"bench_sweep: a cell failed: {failed[0]}")
            best = max(best, len(cells) / elapsed)
    return best


def main() -> None:
    """Time both cluster sizes and print the rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=24)
    parser.add_argument("--bytes", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    text = (f'topology = "bulk.toml"\nseeds = {args.cells}\n[grid]\n"link#2.loss" = [0.01]\n'
            f'"run#1.bytes" = [{args.bytes}]\n')
    cells = parse_spec(text, "bench_sweep", EXAMPLE).cells()
    for key, value in environment(("dask", "distributed")).items():
        print(f"{key}: {value}")
    one = cells_per_second(cells, 1, args.repeats)
    two = cells_per_second(cells, 2, args.repeats)
    print(f"{len(cells)} cells of {args.bytes:,} bytes at 1 % loss, best of {args.repeats}")
    print(f"1 worker:  {one:6.2f} cells/s")
    print(f"2 workers: {two:6.2f} cells/s")
    print(f"ratio 2/1: {two / one:.2f}x (target >= 1.7x on 2 cores)")


if __name__ == "__main__":
    main()
