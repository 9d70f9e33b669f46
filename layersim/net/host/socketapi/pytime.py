"""Timeouts and sleep lengths read as CPython reads them, so a bad value fails at the call, with CPython's error.

CPython turns a number of seconds into integer nanoseconds once (Python/pytime.c, `_PyTime_FromSecondsObject`
with `_PyTime_ROUND_TIMEOUT`, which rounds away from zero) and keeps that; `socket.gettimeout()` gives it back
as seconds (`_PyTime_AsSecondsDouble`).
"""

from __future__ import annotations

import math
import operator
from typing import Any

__all__ = ["as_seconds", "seconds_to_ns", "select_timeout_ns", "sleep_ns", "socket_timeout"]

_NS = 10**9
_LIMIT = 2**63  # _PyTime_t is a signed 64-bit count of nanoseconds


def seconds_to_ns(value: Any) -> int:
    """Nanoseconds from seconds (a float, or an int by __index__): ValueError for NaN, OverflowError past
    _PyTime_t, TypeError for anything else (a str, a Decimal, None), with CPython's messages."""
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("Invalid value NaN (not a number)")
        ns = value * 1e9
        if not -_LIMIT <= ns < _LIMIT:  # inf included (pytime.c: pytime_time_t_overflow)
            raise OverflowError("timestamp out of range for platform time_t")
        return math.ceil(ns) if ns >= 0 else math.floor(ns)  # _PyTime_ROUND_UP: away from zero
    ns = operator.index(value) * _NS
    if not -_LIMIT <= ns < _LIMIT:  # pytime.c: _PyTime_overflow
        raise OverflowError("timestamp too large to convert to C _PyTime_t")
    return ns


def as_seconds(ns: int) -> float:
    """Seconds as CPython reports a stored timeout (pytime.c: _PyTime_AsSecondsDouble)."""
    return float(ns // _NS) if ns % _NS == 0 else ns / 1e9


def socket_timeout(value: Any) -> float | None:
    """A socket timeout as settimeout()/setdefaulttimeout() take it (socketmodule.c: socket_parse_timeout)."""
    if value is None:
        return None
    ns = seconds_to_ns(value)
    if ns < 0:
        raise ValueError("Timeout value out of range")
    return as_seconds(ns)


def sleep_ns(value: Any) -> int:
    """The length of time.sleep(value) in nanoseconds (timemodule.c: time_sleep)."""
    ns = seconds_to_ns(value)
    if ns < 0:
        raise ValueError("sleep length must be non-negative")
    return ns


def select_timeout_ns(value: Any) -> int | None:
    """select()'s timeout in nanoseconds, None to wait for ever (selectmodule.c: select_select_impl)."""
    if value is None:
        return None
    try:
        ns = seconds_to_ns(value)
    except TypeError:
        raise TypeError("timeout must be a float or None") from None
    if ns < 0:
        raise ValueError("timeout must be non-negative")
    return ns
