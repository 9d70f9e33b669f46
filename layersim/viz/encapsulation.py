"""The encapsulation picture: each layer a box nested in the one below it, header columns sized by bytes."""

from __future__ import annotations

from typing import Any

from layersim.errors import LayersimError
from layersim.viz.keyfields import key_fields, layer_title
from layersim.viz.style import axes_for, layer_colour
from layersim.wire.fields import Layer
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Padding
from layersim.wire.valuefmt import concrete

__all__ = ["display_widths", "encapsulation"]

_INSET = 0.04  # how far each nested box sits inside its parent, top and bottom (axes height is 1)
_TITLE_SIZE, _FIELD_SIZE = 8.5, 7.5


def _heading(layers: tuple[Layer, ...], i: int, size: int) -> str:
    """"IPv4 header\n20 bytes", or "HTTP request\n37 bytes" for the innermost part."""
    is_header = i < len(layers) - 1 and type(layers[i + 1]) is not Padding
    return f"{layer_title(layers[i])}{' header' if is_header else ''}\n{size} byte{'s' if size != 1 else ''}"


def _packet(packet: Packet | Layer | bytes) -> Packet:
    """A decoded packet (with its bytes and layer offsets) from a Packet, one Layer, or frame bytes."""
    if isinstance(packet, bytes | bytearray | memoryview):
        return decode(packet)
    if isinstance(packet, Layer):
        packet = Packet.of(packet)
    if not isinstance(packet, Packet):
        raise LayersimError(f"encapsulation() draws a Packet, a Layer or frame bytes, not {type(packet).__name__}")
    return concrete(packet)


def display_widths(widths: list[int], needed: list[float], force_scale: bool = False) -> tuple[list[float], bool]:
    """Widths to draw byte counts at, and whether that is to scale.

    `needed[j]` is the fraction of the drawing that part j needs for its text. To scale when every part gets
    that (or when `force_scale`); otherwise narrow parts are widened just enough, the others keep their
    proportions, and the picture says it is not to scale.
    """
    total = sum(widths)
    fits = bool(total) and all(w >= r * total for w, r in zip(widths, needed, strict=True))
    if force_scale or fits:
        return [float(w) for w in widths], True
    share = sum(needed)
    if share > 0.95:  # more text than fits in one row: shrink every claim alike
        needed = [r * 0.95 / share for r in needed]
    drawn_total = float(total)
    for _ in range(200):  # the fixed point D = sum(max(w, r * D)), a contraction since sum(r) < 1
        drawn_total = sum(max(w, r * drawn_total) for w, r in zip(widths, needed, strict=True))
    drawn = [max(float(w), r * drawn_total) for w, r in zip(widths, needed, strict=True)]
    return drawn, drawn == [float(w) for w in widths]


def _text_inches(lines: list[str], fontsize: float, em: float) -> float:
    """Rough width of the longest line, in inches (`em`: average character width as a fraction of the size)."""
    return max((len(line) for line in lines), default=0) * em * fontsize / 72


def encapsulation(packet: Packet | Layer | bytes, ax: Any = None, *, force_scale: bool = False) -> Any:
    """Draw the packet as nested boxes (Ethernet > IPv4 > TCP > HTTP), each header labelled with its size and key
    fields. Widths are bytes to scale unless a header's text would not fit: then narrow parts are widened and
    the axis label says "NOT to scale" (`force_scale=True` keeps the scale and lets text overflow)."""
    pkt = _packet(packet)
    layers, spans, total = pkt.layers, pkt.spans, len(pkt.data)
    if not layers:
        raise LayersimError("encapsulation() needs a packet with at least one layer")
    columns = [(i, start, end) for i, (start, end) in enumerate(spans) if end > start]
    headings = {i: _heading(layers, i, end - start) for i, start, end in columns}
    if ax is None:  # a new figure with constrained layout: the axes will take almost all of its width
        ax = axes_for(None, 12, 2.7)
        inches = ax.figure.get_figwidth() - 0.4
    else:
        inches = ax.get_position().width * ax.figure.get_figwidth()
    needed = [(max(_text_inches(headings[i].split("\n"), _TITLE_SIZE, 0.66),
                   _text_inches(key_fields(layers[i]), _FIELD_SIZE, 0.61)) + 0.15) / inches for i, _, _ in columns]
    drawn, scaled = display_widths([end - start for _, start, end in columns], needed, force_scale)
    edges = [0.0]
    for width in drawn:
        edges.append(edges[-1] + width)
    at = {start: edges[n] for n, (_, start, _) in enumerate(columns)}
    at[total] = edges[-1]
    content_end = max((end for layer, (_, end) in zip(layers, spans, strict=True) if type(layer) is not Padding),
                      default=total)
    from matplotlib.patches import Rectangle

    depth = 0
    for i, layer in enumerate(layers):
        start, end = spans[i]
        outer_end = total if i == 0 or type(layer) is Padding else content_end
        if type(layer) is Padding:
            level = 1
        else:
            level, depth = depth, depth + 1
        y0, y1 = level * _INSET, 1 - level * _INSET
        colour = layer_colour(layer.name)
        box = Rectangle((at[start], y0), at[outer_end] - at[start], y1 - y0, facecolor=colour, alpha=0.25,
                        edgecolor="none", zorder=2 * level)
        ax.add_patch(box)
        ax.add_patch(Rectangle((at[start], y0), at[outer_end] - at[start], y1 - y0, fill=False, edgecolor="#333333",
                               linewidth=1.2, zorder=2 * level + 1.5, gid=f"encap-box:{i}"))
        if end <= start:
            continue
        ax.add_patch(Rectangle((at[start], y0), at[end] - at[start], y1 - y0, facecolor=colour, edgecolor="#333333",
                               linewidth=0.6, zorder=2 * level + 1, gid=f"encap-header:{i}"))
        pad = 0.1 / inches * edges[-1]
        ax.text(at[start] + pad, y1 - 0.03, headings[i], va="top", ha="left", fontsize=_TITLE_SIZE,
                fontweight="bold", zorder=20, gid=f"encap-title:{i}")
        ax.text(at[start] + pad, y1 - 0.22, "\n".join(key_fields(layer)), va="top", ha="left", fontsize=_FIELD_SIZE,
                family="monospace", zorder=20, gid=f"encap-fields:{i}", linespacing=1.35)
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ticks = sorted(at.items())
    ax.set_xticks([x for _, x in ticks], [str(offset) for offset, _ in ticks], fontsize=8)
    scale = "drawn to scale" if scaled else "NOT to scale: narrow parts widened, sizes as labelled"
    ax.set_xlabel(f"byte offset in the {total}-byte {'frame' if layers[0].name == 'Ethernet' else 'packet'} "
                  f"({scale})", fontsize=9)
    names = [layer_title(layer) for layer in layers if type(layer) is not Padding]
    ax.set_title(" inside ".join(reversed(names)), fontsize=11)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax
