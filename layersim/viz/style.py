"""What every picture shares: layer colours, and getting an Axes without importing matplotlib at package import."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["LAYER_COLOURS", "axes_for", "axes_inches", "layer_colour"]

# One colour per protocol, the same in every picture; pastel so black text stays readable on them.
LAYER_COLOURS = MappingProxyType({
    "Ethernet": "#ffd7af", "802.1Q": "#ffe9c7", "ARP": "#ffafaf", "IPv4": "#afd7ff", "ICMP": "#ffafff",
    "IPv6": "#afc7ff", "ICMPv6": "#ffafff",
    "TCP": "#afffaf", "UDP": "#d7ffaf", "DNS": "#ffffaf", "HTTPRequest": "#d7afff", "HTTPResponse": "#d7afff",
    "Raw": "#eeeeee", "Padding": "#dddddd",
})
_OTHER = "#d7ffff"


def layer_colour(name: str) -> str:
    """The fill colour of a layer in every picture (a layer without its own colour gets a shared one)."""
    return LAYER_COLOURS.get(name, _OTHER)


def axes_for(ax: Any, width: float, height: float) -> Any:
    """`ax` itself, or the Axes of a new pyplot figure of `width` x `height` inches (shown inline in Jupyter)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(width, height), layout="constrained")
    return new


def axes_inches(ax: Any) -> tuple[float, float]:
    """Width and height in inches that `ax` will have when drawn (a layout engine, if any, is run first)."""
    fig = ax.figure
    engine = fig.get_layout_engine()
    if engine is not None:  # constrained layout: lay the figure out now, so the Axes has its final size
        engine.execute(fig)
    box = ax.get_position(original=True)
    return box.width * fig.get_figwidth(), box.height * fig.get_figheight()
