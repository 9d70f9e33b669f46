"""The topology with the path of one packet: nodes, links, interfaces, and what each hop changed."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from itertools import pairwise
from typing import Any, NamedTuple

from layersim.errors import LayersimError
from layersim.viz.style import axes_for, axes_inches

__all__ = ["figure_size", "layout", "path"]

_DX, _DY = 4.0, 3.0  # layout grid, in data units
_UNIT_INCHES = 0.85  # on a new figure
# Text sizes in inches, at most (DejaVu Sans Mono 6.8 pt for hop texts, DejaVu Sans 7.5 and 6 pt for interface
# labels and MACs, whose widest characters, the digits, are 0.64 em), so that layouts can keep texts apart.
_CHAR_MONO = 0.602 * 6.8 / 72
_CHAR_LABEL = 0.64 * 7.5 / 72
_CHAR_MAC = 0.64 * 6 / 72
_LINE = 1.3 * 6.8 / 72  # one line of a hop text
_BADGE = 0.1  # radius of a hop number's circle
_GAP = 0.08  # between neighbouring texts
_NODE_W, _NODE_H = 1.5, 0.62
_KIND_COLOURS = {"host": "#afd7ff", "router": "#ffd7af", "switch": "#d7ffaf"}
_PATH_COLOUR = "#d62728"
_NAT_FIELDS = {("IPv4", "src"), ("IPv4", "dst"), ("TCP", "sport"), ("TCP", "dport"), ("UDP", "sport"),
               ("UDP", "dport")}


def _nodes(network: Any) -> list[Any]:
    nodes = network.nodes
    return list(nodes.values()) if hasattr(nodes, "values") else list(nodes)


def _neighbours(network: Any) -> dict[str, list[str]]:
    """Node name -> names of the nodes it shares a link with, in link order."""
    near: dict[str, list[str]] = {node.name: [] for node in _nodes(network)}
    for link in network.links:
        a, b = link.a.node.name, link.b.node.name
        near.setdefault(a, []).append(b)
        near.setdefault(b, []).append(a)
    return near


def layout(network: Any, line: Iterable[str] = (), spacing: float = _DX) -> dict[str, tuple[float, float]]:
    """Deterministic positions: the nodes of `line` left to right at y=0, `spacing` apart, every other node above
    the node it is reached from (breadth first), nodes reached from nowhere in a row on top."""
    near = _neighbours(network)
    names = [node.name for node in _nodes(network)]
    order = list(dict.fromkeys(n for n in line if n in near))
    if not order and names:  # no path: a breadth-first line from the first node
        start = names[0]
        order, seen, queue = [], {start}, deque([start])
        while queue:
            name = queue.popleft()
            order.append(name)
            chain = [n for n in near[name] if n not in seen]
            if chain:
                seen.add(chain[0])
                queue.append(chain[0])
    pos = {name: (i * spacing, 0.0) for i, name in enumerate(order)}
    queue = deque(order)
    while queue:
        name = queue.popleft()
        x, y = pos[name]
        children = [other for other in dict.fromkeys(near[name]) if other not in pos]
        for k, other in enumerate(children):  # centred above their parent, shifted right past any taken spot
            spot = (x + (k - (len(children) - 1) / 2) * spacing * 0.8, y + _DY)
            while any(abs(spot[0] - px) < _NODE_W * 1.4 and py == spot[1] for px, py in pos.values()):
                spot = (spot[0] + spacing * 0.8, spot[1])
            pos[other] = spot
            queue.append(other)
    top = max((y for _, y in pos.values()), default=0.0) + _DY
    for i, name in enumerate(n for n in names if n not in pos):
        pos[name] = (i * spacing, top)
    return pos


def _hops(network: Any, packet_or_hops: Any) -> list[Any]:
    if isinstance(packet_or_hops, list | tuple) and all(hasattr(h, "outcome") for h in packet_or_hops):
        return list(packet_or_hops)
    return list(network.trace.hops(packet_or_hops))


def _change_text(change: Any) -> str:
    text = str(change).replace(" -> ", " \u2192 ")
    return text + "  (NAT)" if (getattr(change, "layer", None), getattr(change, "field", None)) in _NAT_FIELDS \
        else text


def _hop_text(number: int, hop: Any) -> str:
    where = " \u2192 ".join(x for x in (hop.in_interface, hop.out_interface) if x)
    when = hop.left_ns if hop.left_ns is not None else hop.arrived_ns
    lines = [f"{number}. {hop.node}: {hop.outcome}" + (f" ({where})" if where else "")]
    if when is not None:
        lines.append(f"   at {when / 1e6:.3f} ms")
    lines += [f"   {_change_text(c)}" for c in hop.changes]
    if hop.outcome == "forwarded" and not hop.changes:
        lines.append("   nothing changed")
    return "\n".join(lines)


def _label_text(iface: Any) -> tuple[str, str | None]:
    """An interface's name (and address) label, and its MAC (None for a switch port, whose MAC no frame carries)."""
    address = f"\n{iface.address}" if iface.address is not None else ""
    mac = None if getattr(iface.node, "kind", "") == "switch" else getattr(iface, "mac", None)
    return f"{iface.name}{address}", None if mac is None else str(mac)


def _width(text: str | None, char_inches: float) -> float:
    return max((len(line) for line in text.splitlines()), default=0) * char_inches if text else 0.0


def _link_room(network: Any) -> float:
    """Inches the labels of the widest link need between its two node boxes, side by side: each end's name and
    address clear of the other's and of the hop badge on the far node's corner; the two MACs under the line."""
    room = 0.0
    for link in network.links:
        (name_a, mac_a), (name_b, mac_b) = _label_text(link.a), _label_text(link.b)
        names = _width(name_a, _CHAR_LABEL) + _width(name_b, _CHAR_LABEL) + 3 * _GAP + 2 * _BADGE
        macs = _width(mac_a, _CHAR_MAC) + _width(mac_b, _CHAR_MAC) + 3 * _GAP
        room = max(room, names, macs)
    return room


def _inches_per_unit(ax: Any, width: float, height: float) -> float:
    """How many inches one data unit takes on `ax` once its limits span `width` x `height` (equal aspect)."""
    inches_wide, inches_high = axes_inches(ax)
    return min(inches_wide / width, inches_high / height)


class _Plan(NamedTuple):
    """What the picture holds, before it is drawn: node positions, hop texts and the room they need."""

    hops: list[Any]
    texts: list[str]
    text_rows: int
    column: float  # inches one hop's text needs across
    room: float  # inches the widest link's labels need between its node boxes
    spacing: float
    pos: dict[str, tuple[float, float]]

    @property
    def x_range(self) -> tuple[float, float]:
        xs = [x for x, _ in self.pos.values()] or [0.0]
        return min(xs) - self.spacing * 0.3, max(xs) + self.spacing * 0.55


def _plan(network: Any, hops: list[Any]) -> _Plan:
    """Lay the picture out, the nodes spaced so that neighbouring texts fit on a figure of figure_size()."""
    texts = [_hop_text(number, hop) for number, hop in enumerate(hops, 1)]
    column = max((_width(t, _CHAR_MONO) for t in texts), default=0.0) + _GAP
    room = _link_room(network)
    # (with a little slack, so that the same layout fits a figure of figure_size() with a layout engine's margins)
    spacing = max(_DX, column / _UNIT_INCHES + 0.5, _NODE_W + room / _UNIT_INCHES + 0.3)
    text_rows = max((t.count("\n") + 1 for t in texts), default=0)
    return _Plan(hops, texts, text_rows, column, room, spacing, layout(network, [h.node for h in hops], spacing))


def _y_range(plan: _Plan, scale: float, stagger: bool, tight: bool) -> tuple[float, float]:
    """The data limits from the hop texts at the bottom (staggered, or under lowered MACs) to the labels on top."""
    ys = [y for _, y in plan.pos.values()] or [0.0]
    line = _LINE / scale
    drop = 1.3 * line if tight else 0.0
    levels = (2 if stagger else 1) * max(Counter(h.node for h in plan.hops).values(), default=1)
    below = _NODE_H / 2 + 0.35 + drop + levels * line * (plan.text_rows + 0.6) if plan.hops else 0.8
    return min(ys) - below, max(ys) + 1.0 + (2.5 * line if tight else 0.0)


def _size(plan: _Plan) -> tuple[float, float]:
    """Inches of a figure of the picture's own (0.4 more in height for the title)."""
    (x0, x1), (y0, y1) = plan.x_range, _y_range(plan, _UNIT_INCHES, False, False)
    return (x1 - x0) * _UNIT_INCHES, (y1 - y0) * _UNIT_INCHES + 0.4


def figure_size(network: Any, packet_or_hops: Any) -> tuple[float, float]:
    """The size in inches of the figure `path()` makes for itself: room enough for every text, side by side."""
    return _size(_plan(network, _hops(network, packet_or_hops)))


def path(network: Any, packet_or_hops: Any, ax: Any = None) -> Any:
    """Draw the network with the path one packet took: every node and link with its interface names and
    addresses, the hops numbered in order, and under each hop what that node changed (MACs, TTL, NAT).

    `packet_or_hops`: the packet (a Packet or its bytes, as seen anywhere on its path) or the list of Hops that
    `network.trace.hops()` returned. On a new figure the nodes are spaced so that no two texts touch; on an Axes
    too narrow for that, neighbouring hops' texts (and a link's two labels) are staggered instead.
    """
    hops = _hops(network, packet_or_hops)
    nodes = {node.name: node for node in _nodes(network)}
    unknown = [h.node for h in hops if h.node not in nodes]
    if unknown:
        raise LayersimError(f"path(): hop at {unknown[0]!r}, which is not a node of this network "
                            f"(nodes: {', '.join(nodes)})")
    plan = _plan(network, hops)
    pos, texts, text_rows, spacing = plan.pos, plan.texts, plan.text_rows, plan.spacing
    new = ax is None
    ax = _axes(ax, *_size(plan))
    ax.set_axis_off()
    if hops:
        ax.set_title(f"Path of one packet: {len(hops)} hops, " + " \u2192 ".join(dict.fromkeys(h.node for h in hops)),
                     fontsize=10)
    scale = _UNIT_INCHES
    stagger = tight = False
    x0, x1 = plan.x_range
    for _ in range(0 if new else 4):  # the room below depends on the scale, the scale (equal aspect) on that room
        y0, y1 = _y_range(plan, scale, stagger, tight)
        scale = _inches_per_unit(ax, x1 - x0, y1 - y0)
        stagger = stagger or plan.column > (spacing - 0.2) * scale
        tight = tight or plan.room > (spacing - _NODE_W) * scale
    y0, y1 = _y_range(plan, scale, stagger, tight)
    line = _LINE / scale  # one line of text, in data units
    drop = 1.3 * line if tight else 0.0  # lowered MACs take this much more room under the line
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    for link in network.links:
        (ax_, ay), (bx, by) = pos[link.a.node.name], pos[link.b.node.name]
        ax.plot([ax_, bx], [ay, by], color="#888888", linewidth=2, zorder=1, gid=f"link:{_end(link.a)}-{_end(link.b)}")
        for iface, (sx, sy), (ex, ey), lift in ((link.a, (ax_, ay), (bx, by), False),
                                                (link.b, (bx, by), (ax_, ay), tight)):
            _interface_label(ax, iface, (sx, sy), (ex, ey), scale, lift)
    for name, (x, y) in pos.items():
        node = nodes[name]
        kind = getattr(node, "kind", type(node).__name__.lower())
        ax.add_patch(FancyBboxPatch((x - _NODE_W / 2, y - _NODE_H / 2), _NODE_W, _NODE_H,
                                    boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=_KIND_COLOURS.get(kind,
                                    "#eeeeee"), edgecolor="#333333", linewidth=1.2, zorder=3, gid=f"node:{name}"))
        ax.text(x, y - 0.01 / scale, name, ha="center", va="bottom", fontsize=10, fontweight="bold", zorder=4,
                gid=f"node-name:{name}")  # name over kind, kept apart in inches whatever the scale
        ax.text(x, y - 0.04 / scale, kind, ha="center", va="top", fontsize=7, color="#444444", zorder=4,
                gid=f"node-kind:{name}")
    for first, second in pairwise(hops):
        if first.node == second.node:
            continue
        (sx, sy), (ex, ey) = pos[first.node], pos[second.node]
        dx, dy = ex - sx, ey - sy
        length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        nx, ny = dy / length * 0.16, -dx / length * 0.16  # to the right of the direction of travel
        shrink = _NODE_W / 2 + 0.1
        ax.add_patch(FancyArrowPatch((sx + dx / length * shrink + nx, sy + dy / length * shrink + ny),
                                     (ex - dx / length * shrink + nx, ey - dy / length * shrink + ny),
                                     arrowstyle="-|>", mutation_scale=14, color=_PATH_COLOUR, linewidth=2.2,
                                     zorder=2, gid=f"path-arrow:{first.node}-{second.node}"))
    seen: dict[str, int] = {}
    columns = {name: k for k, name in enumerate(sorted({h.node for h in hops}, key=lambda n: pos[n]))}
    for number, (hop, text) in enumerate(zip(hops, texts, strict=True), 1):
        x, y = pos[hop.node]
        repeat = seen.get(hop.node, 0)
        seen[hop.node] = repeat + 1
        level = repeat * 2 + columns[hop.node] % 2 if stagger else repeat  # every other column one block lower
        dropped = hop.outcome.startswith("dropped")
        colour = "#7f0000" if dropped else _PATH_COLOUR
        corner = (x - _NODE_W / 2 - 0.03 / scale + 0.36 * repeat, y + _NODE_H / 2 + 0.03 / scale)  # just outside
        ax.text(*corner, str(number), ha="center", va="center", fontsize=8.5, fontweight="bold", color="white",
                zorder=6, gid=f"hop:{number}",
                bbox={"boxstyle": "circle,pad=0.25", "facecolor": colour, "edgecolor": "none"})
        ax.text(x - _NODE_W / 2 - 0.2, y - _NODE_H / 2 - 0.35 - drop - line * (text_rows + 0.6) * level,
                text, ha="left", va="top", fontsize=6.8, family="monospace", zorder=5,
                color="#7f0000" if dropped else "black", gid=f"hop-text:{number}", linespacing=1.3)
        if dropped:
            ax.plot([x + _NODE_W / 2 - 0.1], [y + _NODE_H / 2], marker="X", markersize=13, color="#7f0000",
                    zorder=7, gid=f"drop:{number}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    return ax


def _end(iface: Any) -> str:
    return f"{iface.node.name}:{iface.name}"


def _interface_label(ax: Any, iface: Any, start: tuple[float, float], end: tuple[float, float], scale: float,
                     lift: bool) -> None:
    """Interface name and address beside the link next to the node that owns it, clear of that node's box and
    hop badge, the MAC under the path arrow; `lift`: one label higher (and the MAC lower), for a short link."""
    (sx, sy), (ex, ey) = start, end
    dx, dy = ex - sx, ey - sy
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ux, uy = dx / length, dy / length
    name, mac = _label_text(iface)
    if abs(dx) >= abs(dy):  # across: name and address above the line, MAC under the path arrow
        right = ux > 0  # the label runs from the node's right edge; on the left edge it also clears the badge
        gap = _GAP / scale
        x = sx + _NODE_W / 2 + gap if right else sx - _NODE_W / 2 - gap - 2 * _BADGE / scale
        up = 2.5 * _LINE / scale if lift else 0.0
        ax.text(x, sy + 0.1 + up, name, ha="left" if right else "right", va="bottom", fontsize=7.5, zorder=4,
                gid=f"iface:{_end(iface)}", linespacing=1.2)
        if mac is not None:
            mac_x = sx + _NODE_W / 2 + gap if right else sx - _NODE_W / 2 - gap
            ax.text(mac_x, sy - 0.3 - (1.3 * _LINE / scale if lift else 0.0), mac, ha="left" if right else "right",
                    va="top", fontsize=6, color="#666666", zorder=4, gid=f"mac:{_end(iface)}")
        return
    along = length * 0.3  # up or down (or slanted): name, address and MAC to the right of the line
    x, y = sx + ux * along + 0.12, sy + uy * along
    ax.text(x, y, name, ha="left", va="bottom", fontsize=7.5, zorder=4, gid=f"iface:{_end(iface)}", linespacing=1.2)
    if mac is not None:
        ax.text(x, y - 0.04, mac, ha="left", va="top", fontsize=6, color="#666666", zorder=4,
                gid=f"mac:{_end(iface)}")


def _axes(ax: Any, width: float, height: float) -> Any:
    return axes_for(ax, max(width, 5.0), max(height, 2.5))
