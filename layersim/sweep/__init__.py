"""Sweeps: one topology over a grid of parameters x seeds, run on Dask, measured into a Parquet/CSV table.

spec (the SPEC file and its cells), cell (running and measuring one cell), driver (Dask), table (the results
folder), plot (goodput with confidence bands and the Mathis model), command (`layersim sweep`).
"""

from layersim.sweep.spec import Cell, SweepError, SweepSpec, load_spec, parse_spec

__all__ = ["Cell", "SweepError", "SweepSpec", "load_spec", "parse_spec"]
