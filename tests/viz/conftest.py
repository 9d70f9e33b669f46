"""Pictures are drawn off screen (Agg) and every figure is closed after its test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def by_gid(ax: Any, prefix: str) -> dict[str, list[Any]]:
    """The artists (patches, texts, lines) of `ax` whose gid starts with `prefix`, grouped by gid, in drawing order."""
    found: dict[str, list[Any]] = {}
    for artist in [*ax.patches, *ax.texts, *ax.lines]:
        gid = artist.get_gid()
        if gid is not None and gid.startswith(prefix):
            found.setdefault(gid, []).append(artist)
    return found


def one(ax: Any, gid: str) -> Any:
    """The single artist with this exact gid."""
    artists = by_gid(ax, gid).get(gid, [])
    assert len(artists) == 1, f"expected one artist {gid!r}, found {len(artists)}"
    return artists[0]
