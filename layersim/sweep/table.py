"""A sweep's results folder: a journal of finished rows, and the table as Parquet and CSV.

Each row is appended to `rows.jsonl` the moment its cell finishes, so a sweep stopped at any point keeps what it
did; a re-run reads the journal and runs only the cells without a good row (a failed cell is tried again). The
tables `results.parquet` and `results.csv` are rewritten from the journal at the end of every run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from layersim.sweep.cell import MEASURES
from layersim.sweep.spec import SweepError

__all__ = ["CSV", "JOURNAL", "PARQUET", "Journal", "read_table", "write_tables"]

JOURNAL = "rows.jsonl"
PARQUET = "results.parquet"
CSV = "results.csv"


class Journal:
    """The rows finished so far in a results folder, keyed by (cell, seed); appends each new one at once."""

    def __init__(self, folder: Path) -> None:
        if folder.exists() and not folder.is_dir():
            raise SweepError(f"--out {folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / JOURNAL
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            if text and not text.endswith("\n"):  # a row cut short: the next one starts on a line of its own
                with self.path.open("a", encoding="utf-8") as out:
                    out.write("\n")
            for line in text.splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # the last line of a sweep killed while writing it
                    continue
                self.rows[row["cell"], row["seed"]] = row

    def done(self, cell: str, seed: int) -> bool:
        """Whether (cell, seed) already has a row without an error."""
        row = self.rows.get((cell, seed))
        return row is not None and row.get("error") is None

    def add(self, row: dict[str, Any]) -> None:
        """Keep `row` (replacing an earlier failed one) and append it to the journal file."""
        self.rows[row["cell"], row["seed"]] = row
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row, default=_plain) + "\n")


def write_tables(folder: Path, rows: list[dict[str, Any]], params: list[str]) -> None:
    """Write `rows` (params first, then MEASURES) as results.parquet and results.csv in `folder`."""
    import pandas as pd

    columns = [*params, *MEASURES]
    frame = pd.DataFrame([{key: _clean(row.get(key)) for key in columns} for row in rows], columns=columns)
    for column in ("error", "traceback"):
        frame[column] = frame[column].astype("string")
    frame.to_parquet(folder / PARQUET, index=False)
    frame.to_csv(folder / CSV, index=False)


def read_table(folder: Path) -> Any:
    """The results table of a sweep folder, as a pandas DataFrame."""
    import pandas as pd

    path = folder / PARQUET
    if not path.exists():
        raise SweepError(f"{folder}: no {PARQUET} here (run `layersim sweep SPEC.toml --out {folder}` first)")
    return pd.read_parquet(path)


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _plain(value: Any) -> Any:
    """numpy numbers and other odd values in JSON: a number when they are one, else their text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
