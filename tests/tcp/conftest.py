"""Fixtures for the TCP tests: tcp_pair() joins two connections through a scripted link."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.tcp.pair import TCPPair


@pytest.fixture
def tcp_pair() -> Callable[..., TCPPair]:
    """A factory: tcp_pair(**options) -> TCPPair (not yet opened)."""
    return TCPPair
