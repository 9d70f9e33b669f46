"""One demo run shared by the view tests (a run takes about half a second)."""

from __future__ import annotations

import pytest

from layersim.demo import run


@pytest.fixture(scope="package")
def demo_run():
    """The demo with seed 1: requests.get, then the tutorial client, every frame in the trace."""
    return run(seed=1)
