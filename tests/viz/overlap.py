"""Find text that collides on a drawn figure: the window extents matplotlib itself computes, not guesses.

`text_overlaps(fig)` draws the figure with its Agg renderer and returns every pair of visible texts whose boxes
intersect by more than a small tolerance; `texts_crossing(fig, texts, lines)` returns each text whose box a line
or arrow passes through. Both name an artist by its gid, or by its text when it has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.path import Path
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

TOLERANCE_PX = 1.0  # boxes may touch (or share this many pixels) without counting as an overlap


def renderer_of(fig: Any) -> Any:
    """Draw `fig` off screen (Agg) and return the renderer that laid it out."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def name_of(artist: Any) -> str:
    """The gid of an artist, else its text, else its class name: what a failure message shows."""
    gid = artist.get_gid()
    if gid:
        return str(gid)
    if isinstance(artist, Text):
        return repr(artist.get_text())
    return type(artist).__name__


def visible_texts(fig: Any) -> list[Text]:
    """Every Text artist that will be seen: visible and non-empty, tick labels only of the ticks drawn (those in
    the view limits). Annotations used only as arrows (empty text) are left out."""
    ticks = {id(label): label for label in _tick_labels(fig, drawn_only=False)}
    texts = [text for text in fig.findobj(Text) if id(text) not in ticks]
    texts += _tick_labels(fig, drawn_only=True)
    return [text for text in texts if text.get_visible() and text.get_text().strip()
            and (text.axes is None or text.axes.get_visible())]


def _tick_labels(fig: Any, drawn_only: bool) -> list[Text]:
    """The tick labels of every axis of the figure; with `drawn_only`, of the ticks inside the view limits."""
    labels = []
    for axes in fig.axes:
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            room = (high - low) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if drawn_only and not (axis.get_visible() and low - room <= tick.get_loc() <= high + room):
                    continue
                labels += [tick.label1, tick.label2]
    return labels


def extent(text: Text, renderer: Any) -> Bbox:
    """The box a text covers on the canvas, in pixels, including its background box (a badge) if it has one."""
    box = text.get_window_extent(renderer)
    patch = text.get_bbox_patch()
    if patch is not None and patch.get_visible():
        box = Bbox.union([box, patch.get_window_extent(renderer)])
    return box


def _intersection(a: Bbox, b: Bbox) -> tuple[float, float]:
    return min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)


def text_overlaps(fig: Any, tolerance: float = TOLERANCE_PX,
                  texts: Iterable[Text] | None = None) -> list[tuple[str, str]]:
    """Pairs of visible texts (names, in drawing order) whose boxes overlap by more than `tolerance` pixels."""
    renderer = renderer_of(fig)
    chosen = list(visible_texts(fig) if texts is None else texts)
    boxes = [(text, extent(text, renderer)) for text in chosen]
    found = []
    for (first, a), (second, b) in combinations(boxes, 2):
        width, height = _intersection(a, b)
        if width > tolerance and height > tolerance:
            found.append((name_of(first), name_of(second)))
    return found


def line_path(artist: Any) -> Path:
    """The polyline an arrow or a line is drawn along, in canvas pixels."""
    if isinstance(artist, Annotation):  # an arrow from xytext to xy, both in the data coordinates of its axes
        points = [artist.xyann, artist.xy]
        return Path(artist.axes.transData.transform(points))
    if hasattr(artist, "get_xydata"):  # a Line2D
        return Path(artist.get_transform().transform(artist.get_xydata()))
    raise TypeError(f"no line to follow in {type(artist).__name__}")


def texts_crossing(fig: Any, texts: Iterable[Text], lines: Iterable[Any],
                   shrink: float = TOLERANCE_PX) -> list[tuple[str, str]]:
    """(text, line) pairs where the line or arrow passes through the text's box (shrunk by `shrink` pixels)."""
    renderer = renderer_of(fig)
    paths = [(line, line_path(line)) for line in lines]
    found = []
    for text in texts:
        box = extent(text, renderer).padded(-shrink)
        for line, path in paths:
            if path.intersects_bbox(box, filled=False):
                found.append((name_of(text), name_of(line)))
    return found


def boxes_overlap(first: Bbox, second: Bbox, tolerance: float = TOLERANCE_PX) -> bool:
    """Whether two pixel boxes overlap by more than `tolerance` each way."""
    width, height = _intersection(first, second)
    return width > tolerance and height > tolerance
