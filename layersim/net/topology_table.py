"""The tables of a topology file: typed values, durations that must carry a unit, errors naming file and key."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from layersim.errors import LayersimError
from layersim.net.engine.units import parse_duration

__all__ = ["REQUIRED", "Table", "TopologyError", "describe", "duration_ns"]

REQUIRED = object()
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "an array",
               datetime: "a date", dict: "a table"}


class TopologyError(LayersimError):
    """A topology file that cannot be built: the message names the file, the table and the key."""


class Table:
    """One TOML table with its location, handing out typed values and raising errors that name the key."""

    def __init__(self, where: str, data: Any, allowed: Iterable[str]) -> None:
        self.where = where
        if not isinstance(data, dict):
            raise TopologyError(f"{where}: expected a table, got {describe(data)}")
        self.data = data
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
                raise self.error(key, f"unknown key ({hint})")

    def error(self, key: str | None, message: str) -> TopologyError:
        """An error located at this table (and key)."""
        return TopologyError(f"{self.where}: {key}: {message}" if key else f"{self.where}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = REQUIRED) -> Any:
        """The value of `key`, which must have type `kind`; `default` when absent (required without one)."""
        if key not in self.data:
            if default is REQUIRED:
                raise self.error(key, "missing required key")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            wanted = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise self.error(key, f"expected {wanted}, got {describe(value)}")
        return value

    def integer(self, key: str, default: Any, low: int, high: int | None = None) -> int:
        """An integer in [low, high]."""
        value = self.get(key, int, default)
        if value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.error(key, f"{value} must be {limit}")
        return value

    def units(self, key: str, default: Any, parse: Callable[[Any], int], positive: bool = False) -> int:
        """A bandwidth written with its unit ("100Mbit") or as a bare integer of bit/s."""
        try:
            value = parse(self.get(key, (str, int), default))
        except LayersimError as exc:
            raise self.error(key, str(exc)) from None
        if positive and value <= 0:
            raise self.error(key, "must be more than 0")
        return value

    def duration(self, key: str, default: str, positive: bool = False) -> int:
        """A duration in ns from a string with its unit ("2ms", "0s"): a bare number or a negative one is refused."""
        try:
            ns = duration_ns(self.get(key, (str, int, float), default))
        except LayersimError as exc:
            raise self.error(key, str(exc)) from None
        if positive and ns <= 0:
            raise self.error(key, f"{self.data.get(key, default)!r} must be more than 0")
        return ns

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        """One of `choices` (default the first)."""
        value = self.get(key, str, choices[0])
        if value not in choices:
            wanted = " or ".join(f'"{c}"' for c in choices)
            raise self.error(key, f"expected {wanted}, got {describe(value)}")
        return value

    def probability(self, key: str) -> float:
        """A probability between 0 and 1 (default 0)."""
        value = float(self.get(key, (int, float), 0.0))
        if not 0.0 <= value <= 1.0:
            raise self.error(key, f"{value} is not a probability between 0 and 1")
        return value


def duration_ns(value: Any) -> int:
    """A duration written with its unit ("2ms", "1.5s") in ns; a bare number (which unit?) or a negative is refused."""
    bare = isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit()
    if isinstance(value, bool) or not isinstance(value, str) or bare:
        shown = value if isinstance(value, int | float | str) and not isinstance(value, bool) else 1
        raise TopologyError(f"{value!r} has no unit: write it as a string with one, e.g. \"{shown}ms\" or "
                            f"\"{shown}s\" (units ns, us, ms, s)")
    if value.strip().startswith("-"):  # before the unit check, which would call "-5ms" "not a number"
        raise TopologyError(f"{value!r} is negative: a duration is 0 or more")
    return parse_duration(value)


def describe(value: Any) -> str:
    """A TOML value for an error message: "a string '1500'", "a table"."""
    if isinstance(value, dict | list):
        return "a table" if isinstance(value, dict) else "an array"
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    return f"{names.get(type(value), type(value).__name__)} {value!r}"
