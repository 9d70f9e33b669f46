"""A sweep's SPEC file: the topology it varies, the grid of values per key, the seeds; every mistake located.

    topology = "bulk.toml"        # required: a topology file (layersim.net.topology), relative to this file
    seeds = 10                    # required: a count (seeds 1..N) or a list of integers
    until = "600s"                # optional: stop each cell at this simulated time (default: when idle)

    [grid]                        # required: key path = the values it takes; every combination is a cell
    "link#2.loss" = [0.001, 0.01, 0.1]        # [[link]] #2 (counted from 1, as topology errors count)
    "node:client.congestion" = ["newreno", "cubic"]  # the [[node]] named client
    "run#1.bytes" = [1000000]                 # the first [[run]]
    hosts = [true]                            # a top-level key of the topology

A bad key or value raises SweepError naming the SPEC file, its line and the key path, e.g.
`loss.toml:9: [grid] "link#5.loss": the topology has 2 [[link]] tables`.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layersim.errors import LayersimError
from layersim.net.topology import build_network
from layersim.net.topology_table import duration_ns

__all__ = ["Cell", "SweepError", "SweepSpec", "apply_params", "load_spec", "parse_spec"]

_SPEC_KEYS = ("topology", "seeds", "until", "grid")
_ARRAYS = ("node", "link", "route", "run")
_PATH = re.compile(r"^(?:(?P<array>node|link|route|run)#(?P<number>\d+)|node:(?P<name>.+))\.(?P<key>\w+)$"
                   r"|^(?P<top>\w+)$")


class SweepError(LayersimError):
    """A sweep that cannot run as written: the message names the SPEC file, line and key."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One point of the grid with one seed: everything a worker process needs to run it, and nothing more."""

    params: tuple[tuple[str, Any], ...]  # (key path, value) in the grid's order
    seed: int
    topology: dict[str, Any]  # the parsed topology file, before the params are applied
    source: str  # the topology file's name, for messages
    until_ns: int | None = None

    @property
    def cell_id(self) -> str:
        """A short stable name for the grid point (the same for every seed): a hash of its params."""
        text = json.dumps([list(pair) for pair in self.params], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A parsed SPEC: the topology, the grid (key path -> values) and the seeds."""

    source: str
    topology_source: str
    topology: dict[str, Any]
    grid: dict[str, list[Any]]
    seeds: tuple[int, ...]
    until_ns: int | None = None

    def cells(self) -> list[Cell]:
        """Every combination of grid values, times every seed, in grid order then seed order."""
        keys = list(self.grid)
        return [Cell(tuple(zip(keys, values, strict=True)), seed, self.topology, self.topology_source, self.until_ns)
                for values in itertools.product(*self.grid.values()) for seed in self.seeds]


def load_spec(path: str | Path) -> SweepSpec:
    """Read a SPEC file and the topology it names; check every key path and value against that topology."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_spec(text, source, Path(path).parent)


def parse_spec(text: str, source: str, folder: Path) -> SweepSpec:
    """Parse SPEC `text` (`source` names it in errors; a relative topology path is taken from `folder`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{source}: TOML syntax error: {exc}") from None
    where = _Where(source, text)
    for key in data:
        if key not in _SPEC_KEYS:
            close = difflib.get_close_matches(key, _SPEC_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(_SPEC_KEYS)}"
            raise where.error(key, f"unknown key ({hint})")
    for key in ("topology", "seeds", "grid"):
        if key not in data:
            raise SweepError(f"{source}: {key}: missing required key")
    seeds = _seeds(where, data["seeds"])
    until_ns = None
    if "until" in data:
        try:
            until_ns = duration_ns(data["until"])
        except LayersimError as exc:
            raise where.error("until", str(exc)) from None
    if not isinstance(data["topology"], str):
        raise where.error("topology", f"expected a file name (a string), got {data['topology']!r}")
    topology_path = folder / data["topology"]
    try:
        topology = tomllib.loads(topology_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise where.error("topology", f"cannot read {str(topology_path)!r}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    grid = data["grid"]
    if not isinstance(grid, dict) or not grid:
        raise where.error("grid", "expected a table of key path = [values], with at least one key")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise where.error(key, f"[grid] {key!r}: expected a non-empty array of values, got {values!r}", grid=True)
        for value in values:  # each value, applied alone, must build: a bad one fails now, not in cell 137
            try:
                build_network(apply_params(topology, ((key, value),)), str(topology_path), trace="none")
            except LayersimError as exc:
                raise where.error(key, f"[grid] {key!r} = {value!r}: {exc}", grid=True) from None
    return SweepSpec(source, str(topology_path), topology, dict(grid), seeds, until_ns)


def apply_params(topology: dict[str, Any], params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A copy of the parsed topology with each (key path, value) set; a path that names nothing is an error."""
    data = copy.deepcopy(topology)
    for path, value in params:
        match = _PATH.match(path)
        if match is None:
            raise LayersimError("not a key path: write \"link#2.loss\", \"node:client.congestion\" or a top-level key "
                                "like \"hosts\"")
        if match["top"] is not None:
            if match["top"] in (*_ARRAYS, "seed"):
                raise LayersimError(f"{match['top']!r} cannot be swept as a whole (seeds come from `seeds`; a "
                                    f"table's key is written like \"link#2.loss\")")
            data[match["top"]] = value
            continue
        array = match["array"] or "node"
        tables = data.get(array, [])
        if match["name"] is not None:
            named = [t for t in tables if isinstance(t, dict) and t.get("name") == match["name"]]
            if not named:
                have = ", ".join(str(t.get("name")) for t in tables if isinstance(t, dict)) or "none"
                raise LayersimError(f"the topology has no [[node]] named {match['name']!r} (nodes: {have})")
            table = named[0]
        else:
            number = int(match["number"])
            if not 1 <= number <= len(tables):
                raise LayersimError(f"the topology has {len(tables)} [[{array}]] tables (counted from 1)")
            table = tables[number - 1]
        table[match["key"]] = value
    return data


def _seeds(where: _Where, value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise where.error("seeds", f"expected at least 1 seed, got {value}")
        return tuple(range(1, value + 1))
    if (isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value)
            and len(set(value)) == len(value)):
        return tuple(value)
    raise where.error("seeds", f"expected a count (seeds 1..N) or a list of distinct integers, got {value!r}")


class _Where:
    """Finds the line a key is written on, so an error reads `spec.toml:7: ...`."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()

    def line_of(self, key: str, grid: bool) -> int | None:
        """The 1-based line where `key` is assigned (inside [grid] when `grid`), or None."""
        pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        section = None
        for number, line in enumerate(self.lines, 1):
            header = re.match(r"^\s*\[\s*([\w.]+)\s*\]", line)
            if header:
                section = header[1]
                if section == key and not grid:  # a table's own header: `[grid]`
                    return number
            elif pattern.match(line) and (section == "grid") == grid:
                return number
        return None

    def error(self, key: str, message: str, *, grid: bool = False) -> SweepError:
        """An error at `key`'s line; `message` carries the key itself."""
        line = self.line_of(key, grid)
        at = f"{self.source}:{line}" if line is not None else self.source
        return SweepError(f"{at}: {message}" if grid else f"{at}: {key}: {message}")
