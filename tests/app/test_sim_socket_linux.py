"""The simulated socket API against CPython on Linux: each scenario of socket_scenarios runs on real loopback
sockets and on the client - r1 - r2 - server chain, and both must give Linux's outcome (values, exception types,
errno and text)."""

from __future__ import annotations

import sys

import pytest

from .sim_vs_real import on_chain, on_linux
from .socket_scenarios import KNOWN_DIFFERENCES, SCENARIOS

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the reference is the Linux kernel")


@linux_only
@pytest.mark.parametrize("name", SCENARIOS)
def test_real_linux_loopback_gives_the_expected_outcome(name: str) -> None:
    fn, expected = SCENARIOS[name]
    assert on_linux(fn) == expected


SIMULATED = [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[name]))
             if name in KNOWN_DIFFERENCES else name for name in SCENARIOS]


@pytest.mark.parametrize("name", SIMULATED)
def test_simulated_hosts_give_linux_outcome(name: str) -> None:
    fn, expected = SCENARIOS[name]
    assert on_chain(fn) == expected
