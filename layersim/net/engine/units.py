"""Parsing durations, rates and sizes written with units ("2ms", "100Mbit", "1500B") into integers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from layersim.errors import LayersimError

__all__ = ["DEFAULT_START", "UnitError", "parse_bandwidth", "parse_duration", "parse_start"]

_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z/]*)\s*$")
_DURATION = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_BANDWIDTH = {"bps": 1, "bit": 1, "kbps": 10**3, "kbit": 10**3, "mbps": 10**6, "mbit": 10**6, "gbps": 10**9,
              "gbit": 10**9}


class UnitError(LayersimError, ValueError):
    """A value with a unit that cannot be read."""


def _split(value: str, what: str, units: dict[str, int]) -> tuple[float, int]:
    match = _NUMBER.match(value)
    if not match:
        raise UnitError(f"{what} {value!r} is not a number with a unit (e.g. {next(iter(units))!r})")
    number, unit = match.groups()
    factor = units.get(unit.lower() if unit.lower() in units else unit)
    if factor is None:
        raise UnitError(f"{what} {value!r} has unknown unit {unit!r} (use one of {', '.join(units)})")
    return float(number), factor


def parse_duration(value: str | int | float) -> int:
    """A duration in integer nanoseconds: "2ms", "150us", "1s", or a number of nanoseconds."""
    if isinstance(value, bool):
        raise UnitError(f"duration {value!r} is not a number")
    if isinstance(value, int | float):
        if value < 0:
            raise UnitError(f"duration {value!r} is negative")
        return round(value)
    number, factor = _split(value, "duration", _DURATION)
    return round(number * factor)


def parse_bandwidth(value: str | int | float) -> int:
    """A bit rate in bits per second: "100Mbit", "1Gbps", "56kbit", or a number of bits per second."""
    if isinstance(value, bool):
        raise UnitError(f"bandwidth {value!r} is not a number")
    if isinstance(value, int | float):
        if value <= 0:
            raise UnitError(f"bandwidth {value!r} must be positive")
        return round(value)
    number, factor = _split(value, "bandwidth", _BANDWIDTH)
    if number <= 0:
        raise UnitError(f"bandwidth {value!r} must be positive")
    return round(number * factor)


DEFAULT_START = "2026-01-01T00:00:00Z"  # what simulated time 0 stands for in captures, unless a scenario says


def parse_start(value: str | int | datetime) -> int:
    """A start date ("2026-01-01T00:00:00Z", a datetime, or ns since the Unix epoch) as ns since the epoch."""
    if isinstance(value, bool):
        raise UnitError(f"start {value!r} is not a date")
    if isinstance(value, int):
        if value < 0:
            raise UnitError(f"start {value} is before 1970-01-01")
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UnitError(f"start {value!r} is not an ISO 8601 date such as 2026-01-01T00:00:00Z") from None
    if not isinstance(value, datetime):
        raise UnitError(f"start {value!r} is not a date")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int(value.timestamp())
    if seconds < 0:
        raise UnitError(f"start {value.isoformat()} is before 1970-01-01")
    return seconds * 1_000_000_000 + value.microsecond * 1000
