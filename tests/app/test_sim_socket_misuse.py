"""Misuse of the socket API gives CPython's exception (type, errno, text) on a simulated host, as on real Linux.

Each row runs twice: on real loopback sockets in this process (the reference, checked against the expected
outcome written in the row) and inside a simulated process through the stdlib patch.
"""

from __future__ import annotations

import sys

import pytest

from .misuse_rows import ROWS
from .misuse_table import on_cpython, on_simulated_host

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the reference is CPython on Linux")


@linux_only
@pytest.mark.parametrize("name", ROWS)
def test_cpython_gives_the_expected_outcome(name: str) -> None:
    row, expected = ROWS[name]
    assert on_cpython(row) == expected


@pytest.mark.parametrize("name", ROWS)
def test_simulated_host_gives_cpython_outcome(name: str) -> None:
    row, expected = ROWS[name]
    assert on_simulated_host(row) == expected
