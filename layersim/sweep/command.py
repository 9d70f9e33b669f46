"""The `layersim sweep` subcommand: run a SPEC's grid x seeds on Dask into a folder, or plot a folder."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main"]


def add_parser(sub: Any) -> None:
    """Register `sweep` on the `layersim` subcommand parsers."""
    parser = sub.add_parser("sweep", help="run a topology over a grid of parameters x seeds on Dask; "
                            "results as Parquet and CSV, one row per cell and seed",
                            epilog="example: layersim sweep examples/sweep/loss.toml --out loss-sweep; "
                            "layersim sweep --plot loss-sweep")
    parser.add_argument("spec", type=Path, nargs="?", help="the SPEC file (see layersim.sweep.spec)")
    parser.add_argument("--out", type=Path, help="the results folder: rows.jsonl, results.parquet, results.csv "
                        "(a re-run skips the cells already done there)")
    parser.add_argument("--workers", type=int, help="local Dask worker processes (default: one per core)")
    parser.add_argument("--scheduler", help="an existing Dask scheduler, e.g. tcp://host:8786 (started with "
                        "`dask scheduler`, workers with `dask worker tcp://host:8786`)")
    parser.add_argument("--serial", action="store_true", help="run the cells one after another in this process")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="draw DIR's results (goodput.png and .svg in DIR)")


def main(args: argparse.Namespace) -> int:
    """Run or plot; 0 when every cell has a row without error, 1 when some failed; bad input raises (exit 2)."""
    from layersim.sweep.spec import SweepError

    if args.plot is not None:
        if args.spec is not None or args.out is not None:
            raise SweepError("--plot DIR draws a finished sweep: give it alone, without SPEC or --out")
        return _plot(args.plot)
    if args.spec is None or args.out is None:
        raise SweepError("give a SPEC file and --out DIR (or --plot DIR)")
    if args.workers is not None and args.workers < 1:
        raise SweepError(f"--workers {args.workers}: give at least 1")
    if args.scheduler is not None and (args.workers is not None or args.serial):
        raise SweepError("--scheduler sends the cells to an existing cluster: --workers and --serial do not apply")
    from layersim.sweep.driver import run_sweep
    from layersim.sweep.spec import load_spec
    from layersim.sweep.table import CSV, PARQUET

    spec = load_spec(args.spec)
    result = run_sweep(spec, args.out, workers=args.workers, scheduler=args.scheduler, serial=args.serial)
    if result.dashboard is not None:
        print(f"dask dashboard was at {result.dashboard}")
    print(f"{result.total} cells ({len(spec.cells()) // len(spec.seeds)} grid points x {len(spec.seeds)} seeds): "
          f"{result.ran} run, {result.skipped} already done, {len(result.failed)} failed")
    for row in result.failed[:5]:
        print(f"  failed: cell {row['cell']} seed {row['seed']}: {row['error']}", file=sys.stderr)
        if row.get("traceback") and os.environ.get("LAYERSIM_STRICT") == "1":
            print(row["traceback"], file=sys.stderr)
    print(f"table: {args.out / PARQUET}, {args.out / CSV}")
    return 1 if result.failed else 0


def _plot(folder: Path) -> int:
    """Draw goodput.png/.svg in `folder`; for a loss sweep also print goodput against the Mathis model."""
    import matplotlib

    matplotlib.use("Agg")
    from layersim.sweep.plot import grid_columns, mathis_table, plot_sweep
    from layersim.sweep.table import read_table

    frame = read_table(folder)
    fig = plot_sweep(frame)
    for suffix in ("png", "svg"):
        fig.savefig(folder / f"goodput.{suffix}", dpi=110)
    loss = [c for c in grid_columns(frame) if c.endswith("loss") and frame[c].nunique() > 1]
    if loss:
        table = mathis_table(frame, loss[0])
        shown = table.drop(columns=["sd", "half"]).round({"goodput": 3, "rtt_ms": 2, "mathis": 3, "ratio": 2})
        print(shown.to_string(index=False))
    print(f"figure: {folder / 'goodput.png'}, {folder / 'goodput.svg'}")
    return 0
