"""The topology with the path of one packet: nodes, links, interfaces, and what each hop changed."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from layersim.errors import LayersimError

__all__ = ["layout", "path"]

_DX, _DY = 4.0, 3.0  # layout grid, in data units
_UNIT_INCHES = 0.85
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


def layout(network: Any, line: Iterable[str] = ()) -> dict[str, tuple[float, float]]:
    """Deterministic positions: the nodes of `line` left to right at y=0, every other node above the node it
    is reached from (breadth first), nodes reached from nowhere in a row on top."""
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
    pos = {name: (i * _DX, 0.0) for i, name in enumerate(order)}
    queue = deque(order)
    while queue:
        name = queue.popleft()
        x, y = pos[name]
        children = [other for other in dict.fromkeys(near[name]) if other not in pos]
        for k, other in enumerate(children):  # centred above their parent, shifted right past any taken spot
            spot = (x + (k - (len(children) - 1) / 2) * _DX * 0.8, y + _DY)
            while any(abs(spot[0] - px) < _NODE_W * 1.4 and py == spot[1] for px, py in pos.values()):
                spot = (spot[0] + _DX * 0.8, spot[1])
            pos[other] = spot
            queue.append(other)
    top = max((y for _, y in pos.values()), default=0.0) + _DY
    for i, name in enumerate(n for n in names if n not in pos):
        pos[name] = (i * _DX, top)
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


def path(network: Any, packet_or_hops: Any, ax: Any = None) -> Any:
    """Draw the network with the path one packet took: every node and link with its interface names and
    addresses, the hops numbered in order, and under each hop what that node changed (MACs, TTL, NAT).

    `packet_or_hops`: the packet (a Packet or its bytes, as seen anywhere on its path) or the list of Hops that
    `network.trace.hops()` returned.
    """
    hops = _hops(network, packet_or_hops)
    nodes = {node.name: node for node in _nodes(network)}
    unknown = [h.node for h in hops if h.node not in nodes]
    if unknown:
        raise LayersimError(f"path(): hop at {unknown[0]!r}, which is not a node of this network "
                            f"(nodes: {', '.join(nodes)})")
    pos = layout(network, [h.node for h in hops])
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    text_rows = max((_hop_text(1, h).count("\n") + 1 for h in hops), default=0)
    below = _NODE_H / 2 + 0.45 + 0.15 * text_rows if hops else 0.8  # room for the hop texts under the nodes
    x0, x1 = min(xs) - _DX * 0.3, max(xs) + _DX * 0.55
    y0, y1 = min(ys) - below, max(ys) + 1.0
    ax = _axes(ax, (x1 - x0) * _UNIT_INCHES, (y1 - y0) * _UNIT_INCHES)
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    for link in network.links:
        (ax_, ay), (bx, by) = pos[link.a.node.name], pos[link.b.node.name]
        ax.plot([ax_, bx], [ay, by], color="#888888", linewidth=2, zorder=1, gid=f"link:{_end(link.a)}-{_end(link.b)}")
        for iface, (sx, sy), (ex, ey) in ((link.a, (ax_, ay), (bx, by)), (link.b, (bx, by), (ax_, ay))):
            _interface_label(ax, iface, (sx, sy), (ex, ey))
    for name, (x, y) in pos.items():
        node = nodes[name]
        kind = getattr(node, "kind", type(node).__name__.lower())
        ax.add_patch(FancyBboxPatch((x - _NODE_W / 2, y - _NODE_H / 2), _NODE_W, _NODE_H,
                                    boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=_KIND_COLOURS.get(kind,
                                    "#eeeeee"), edgecolor="#333333", linewidth=1.2, zorder=3, gid=f"node:{name}"))
        ax.text(x, y + 0.08, name, ha="center", va="center", fontsize=10, fontweight="bold", zorder=4,
                gid=f"node-name:{name}")
        ax.text(x, y - 0.17, kind, ha="center", va="center", fontsize=7, color="#444444", zorder=4)
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
    for number, hop in enumerate(hops, 1):
        x, y = pos[hop.node]
        repeat = seen.get(hop.node, 0)
        seen[hop.node] = repeat + 1
        dropped = hop.outcome.startswith("dropped")
        colour = "#7f0000" if dropped else _PATH_COLOUR
        ax.text(x - _NODE_W / 2 + 0.05 + 0.36 * repeat, y + _NODE_H / 2 + 0.02, str(number), ha="center",
                va="center", fontsize=8.5, fontweight="bold", color="white", zorder=6, gid=f"hop:{number}",
                bbox={"boxstyle": "circle,pad=0.25", "facecolor": colour, "edgecolor": "none"})
        ax.text(x - _NODE_W / 2 - 0.2, y - _NODE_H / 2 - 0.25 - 0.2 * (text_rows + 0.5) * repeat,
                _hop_text(number, hop), ha="left", va="top", fontsize=6.8, family="monospace", zorder=5,
                color="#7f0000" if dropped else "black", gid=f"hop-text:{number}", linespacing=1.3)
        if dropped:
            ax.plot([x + _NODE_W / 2 - 0.1], [y + _NODE_H / 2], marker="X", markersize=13, color="#7f0000",
                    zorder=7, gid=f"drop:{number}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if hops:
        ax.set_title(f"Path of one packet: {len(hops)} hops, " + " \u2192 ".join(dict.fromkeys(h.node for h in hops)),
                     fontsize=10)
    return ax


def _end(iface: Any) -> str:
    return f"{iface.node.name}:{iface.name}"


def _interface_label(ax: Any, iface: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Interface name and address beside the link near the node that owns it, the MAC on the other side."""
    (sx, sy), (ex, ey) = start, end
    dx, dy = ex - sx, ey - sy
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ux, uy = dx / length, dy / length
    address = f"\n{iface.address}" if iface.address is not None else ""
    # A switch port's MAC never appears in the frames it passes on: only the ends' MACs are worth the room.
    mac = None if getattr(iface.node, "kind", "") == "switch" else getattr(iface, "mac", None)
    if abs(dx) >= abs(dy):  # across: name and address above the line, MAC under the path arrow
        along = min(1.35, length / 2 - 0.15)
        x, y = sx + ux * along, sy + uy * along
        ax.text(x, y + 0.32, f"{iface.name}{address}", ha="center", va="center", fontsize=7.5, zorder=4,
                gid=f"iface:{_end(iface)}", linespacing=1.2)
        if mac is not None:
            ax.text(x, y - 0.36, str(mac), ha="center", va="center", fontsize=6, color="#666666", zorder=4,
                    gid=f"mac:{_end(iface)}")
        return
    along = length * 0.3  # up or down (or slanted): name, address and MAC to the right of the line
    x, y = sx + ux * along + 0.12, sy + uy * along
    ax.text(x, y, f"{iface.name}{address}", ha="left", va="bottom", fontsize=7.5, zorder=4,
            gid=f"iface:{_end(iface)}", linespacing=1.2)
    if mac is not None:
        ax.text(x, y - 0.04, str(mac), ha="left", va="top", fontsize=6, color="#666666", zorder=4,
                gid=f"mac:{_end(iface)}")


def _axes(ax: Any, width: float, height: float) -> Any:
    from layersim.viz.style import axes_for

    return axes_for(ax, max(width, 5.0), max(height, 2.5))
