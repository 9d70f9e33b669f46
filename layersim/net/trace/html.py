"""HTML for Jupyter: a node's routing table and a trace as tables (attached as `_repr_html_` by layersim.net)."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["routes_html", "trace_html"]

_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"
_KIND_COLOURS = {"drop": "#ffd7d7", "icmp_error": "#ffe9c7", "deliver": "#d7ffd7", "arp_miss": "#fffad7"}


def _row(cells: list[str], *, header: bool = False, style: str = "", cls: str = "") -> str:
    tag = "th" if header else "td"
    inner = "".join(f'<{tag} style="{_CELL}">{escape(cell)}</{tag}>' for cell in cells)
    attrs = (f' class="{cls}"' if cls else "") + (f' style="{style}"' if style else "")
    return f"<tr{attrs}>{inner}</tr>"


def routes_html(node: Any) -> str:
    """A node's routing table as an HTML table (destination, gateway, interface, metric, kind), with the
    node's interface addresses above it, longest prefixes first as a lookup tries them."""
    table = getattr(node, "routes", None)
    routes = sorted(table if table is not None else (),
                    key=lambda r: (-r.prefix.prefixlen, int(r.prefix.network_address)))
    interfaces = ", ".join(f"{i.name} {i.address}" if getattr(i, "address", None) is not None else i.name
                           for i in node.interfaces.values())
    out = [f'<div class="layersim-routes"><b>{escape(node.name)}</b> routing table'
           + (f' <span style="color:#666">({escape(interfaces)})</span>' if interfaces else ""),
           f'<table style="{_STYLE}"><thead>',
           _row(["destination", "gateway", "interface", "metric", "kind"], header=True), "</thead><tbody>"]
    for route in routes:
        destination = "default" if route.prefix.prefixlen == 0 else str(route.prefix)
        gateway = str(route.via) if route.via is not None else "on-link"
        kind = str(getattr(route, "kind", ""))
        out.append(_row([destination, gateway, route.interface or "", str(route.metric), kind], cls="route"))
    if not routes:
        empty = ("(no routes)" if table is not None
                 else f"({escape(node.name)} forwards frames, not IP: no routing table)")
        out.append(f'<tr><td colspan="5" style="{_CELL}">{empty}</td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _detail_text(details: dict[str, Any]) -> str:
    return ", ".join(f"{key}={getattr(value, 'value', value)}" for key, value in details.items())


def trace_html(trace: Any, limit: int = 200) -> str:
    """The first `limit` events of a Trace (or of a list of its events, e.g. `trace.drops()`) as an HTML table:
    time in ms, node, interface, kind, details; drops and ICMP errors highlighted; a last line says how many
    events were left out."""
    events = list(trace.events) if hasattr(trace, "events") else list(trace)
    shown = events[: max(limit, 0)]
    out = [f'<div class="layersim-trace"><b>Trace</b>: {len(events)} event{"s" if len(events) != 1 else ""}',
           f'<table style="{_STYLE}"><thead>',
           _row(["time (ms)", "node", "interface", "event", "details"], header=True), "</thead><tbody>"]
    for event in shown:
        kind = event.kind.value
        colour = _KIND_COLOURS.get(kind, "")
        out.append(_row([f"{event.time_ns / 1e6:.6f}", event.node, event.interface or "", kind,
                         _detail_text(event.details)], cls=f"event {kind}",
                        style=f"background:{colour}" if colour else ""))
    out.append("</tbody></table>")
    if len(events) > len(shown):
        left = len(events) - len(shown)
        out.append(f'<p class="more">... {left} more event{"s" if left != 1 else ""} not shown '
                   f"(trace_html(trace, limit={len(events)}) shows all)</p>")
    out.append("</div>")
    return "\n".join(out)
