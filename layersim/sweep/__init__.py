"""Sweeps: one topology over a grid of parameters x seeds, run on Dask, measured into a Parquet/CSV table.

spec (the SPEC file and its cells), cell (running and measuring one cell), driver (Dask), table (the results
folder), plot (goodput with confidence bands and the Mathis model), command (`layersim sweep`). The names below
load on first use, so that `layersim --help` does not load the simulation.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Cell", "SweepError", "SweepSpec", "load_spec", "parse_spec"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from layersim.sweep import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'layersim.sweep' has no attribute {name!r}")
