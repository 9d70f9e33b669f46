"""The TCP sequence ("ladder") diagram of one connection, drawn from the trace's frames and TCP events."""

from __future__ import annotations

import math
from typing import Any

from layersim.net.trace.log import EventKind
from layersim.viz.style import axes_for
from layersim.viz.tcptrace import Connection, SegmentSeen, flag_names, segments
from layersim.wire.tcp import TCPFlags

__all__ = ["ladder", "segment_label"]

_CLIENT_X, _SERVER_X = 0.0, 1.0
_LABEL_GAP = 0.04  # labels sit this far outside the time axes
_COLOURS = {"client": "#1f77b4", "server": "#2ca02c", "retransmission": "#ff7f0e", "lost": "#d62728"}
_LABEL_INCHES = 0.17  # vertical room one label needs
_MS = 1e6


def segment_label(segment: SegmentSeen, isn: dict[bool, int]) -> str:
    """"[PSH, ACK] seq=1 ack=1 len=78", numbers relative to each side's initial sequence number."""
    seq = (segment.seq - isn.get(segment.from_client, segment.seq)) % 2**32
    text = f"[{flag_names(segment.flags)}] seq={seq}"
    if segment.flags & TCPFlags.ACK:
        text += f" ack={(segment.ack - isn.get(not segment.from_client, segment.ack)) % 2**32}"
    return f"{text} len={segment.length}"


def _isn(segs: list[SegmentSeen]) -> dict[bool, int]:
    """Each side's initial sequence number: the seq of its SYN (or of its first segment without one)."""
    isn: dict[bool, int] = {}
    for seg in segs:
        if seg.flags & TCPFlags.SYN:
            isn.setdefault(seg.from_client, seg.seq)
    for seg in segs:
        isn.setdefault(seg.from_client, seg.seq)
    return isn


def _lost_point(seg: SegmentSeen, one_way_ns: float) -> tuple[float, float]:
    """Where a lost segment's line ends: at the drop's time, as far across as the usual one-way delay puts it."""
    assert seg.drop_ns is not None
    frac = min(max((seg.drop_ns - seg.send_ns) / one_way_ns, 0.2), 0.8) if one_way_ns > 0 else 0.5
    x = _CLIENT_X + frac if seg.from_client else _SERVER_X - frac
    return x, seg.drop_ns / _MS


def _one_way(segs: list[SegmentSeen]) -> float:
    delays = sorted(s.receive_ns - s.send_ns for s in segs if s.receive_ns is not None)
    return float(delays[len(delays) // 2]) if delays else 0.0


def _spread(wanted: list[float], gap: float) -> list[float]:
    """Label positions at or below (later than) the wanted times, at least `gap` apart, in order."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + gap) if placed else y)
    return placed


def _states(trace: Any, node: str, label: str, within_ns: float = 0) -> list[tuple[int, str]]:
    """(time, state) of each state change; changes less than `within_ns` apart joined: "CLOSE_WAIT > LAST_ACK"."""
    out: list[tuple[int, str]] = []
    for event in trace.select(EventKind.TCP, node=node):
        if event.info.connection == label and event.info.what == "state":
            state = dict(event.info.facts)["new"]
            if out and event.time_ns - out[-1][0] <= within_ns:
                out[-1] = (event.time_ns, f"{out[-1][1]} > {state}")
            else:
                out.append((event.time_ns, state))
    return out


def _end_title(conn: Connection, client: bool, trace: Any) -> str:
    node = conn.client_node if client else conn.server_node
    (ip, port), _ = conn.client_view if client else conn.server_view
    iface = next((e.interface for e in trace.select(EventKind.SEND, node=node) if e.interface), None)
    where = f"{node}:{iface}" if iface else node
    return f"{'client' if client else 'server'}  {where}\n{ip}:{port}"


def ladder(trace_or_network: Any, connection: str | None = None, ax: Any = None, *, states: bool = True,
           max_segments: int | None = None) -> Any:
    """Draw one TCP connection as a ladder: time runs down two axes (client left, server right) and every
    segment is an arrow from the moment it left one host to the moment it arrived at the other, labelled
    Wireshark-style with flags, relative seq and ack, and payload length.

    A segment lost on a link ends in a red x where the trace dropped it; a retransmission is drawn in orange.
    `connection` is a TCP connection label from the trace (either end's, e.g. "10.0.0.2:40000-93.184.216.34:80");
    by default the first connection opened. `states=True` writes each end's state changes on its axis;
    `max_segments` keeps only the first N segments.
    """
    trace = getattr(trace_or_network, "trace", trace_or_network)
    conn, segs = segments(trace, connection)
    if max_segments is not None:
        segs = segs[:max_segments]
    isn = _isn(segs)
    one_way = _one_way(segs)
    ends = [s.receive_ns if s.receive_ns is not None else (s.drop_ns or s.send_ns) for s in segs]
    first_state = [t for node, label in ((conn.client_node, conn.client_label), (conn.server_node, conn.server_label))
                   for t, _ in _states(trace, node, label)[:1]] if states else []
    start_ms = min([s.send_ns for s in segs[:1]] + first_state, default=0) / _MS
    end_ms = max(ends, default=0) / _MS
    height = max(4.5, 1.6 + len(segs) * 0.26)
    ax = axes_for(ax, 12.0, height)
    span = max(end_ms - start_ms, 1e-3)
    axes_inches = ax.get_position().height * ax.figure.get_figheight()
    per_inch = span / max(axes_inches - 1.0, 1.0)  # ms per inch of the time axis
    gap, pad = per_inch * _LABEL_INCHES, per_inch * 0.2
    for x, client in ((_CLIENT_X, True), (_SERVER_X, False)):
        ax.axvline(x, color="#555555", linewidth=1.5, zorder=1, gid=f"ladder-axis:{'client' if client else 'server'}")
        ax.text(x, start_ms - pad * 0.6, _end_title(conn, client, trace), ha="center", va="bottom", fontsize=9,
                fontweight="bold", zorder=6, gid=f"ladder-end:{'client' if client else 'server'}")
    label_y = {True: _spread([s.send_ns / _MS for s in segs if s.from_client], gap),
               False: _spread([s.send_ns / _MS for s in segs if not s.from_client], gap)}
    taken = {True: 0, False: 0}
    for seg, end_ns in zip(segs, ends, strict=True):
        sx = _CLIENT_X if seg.from_client else _SERVER_X
        start = (sx, seg.send_ns / _MS)
        lost = seg.receive_ns is None
        colour = _COLOURS["lost"] if lost else _COLOURS["retransmission"] if seg.retransmission else \
            _COLOURS["client" if seg.from_client else "server"]
        if lost:
            end = _lost_point(seg, one_way) if seg.drop_ns is not None else (0.5, end_ns / _MS)
            ax.annotate("", xy=end, xytext=start, gid=f"segment:{seg.packet_id}", zorder=3,
                        arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 1.3, "linestyle": "--",
                                    "shrinkA": 0, "shrinkB": 0})
            ax.plot([end[0]], [end[1]], marker="x", markersize=11, markeredgewidth=2.5, color=colour, zorder=4,
                    gid=f"lost:{seg.packet_id}")
        else:
            end = (_SERVER_X if seg.from_client else _CLIENT_X, end_ns / _MS)
            ax.annotate("", xy=end, xytext=start, gid=f"segment:{seg.packet_id}", zorder=3,
                        arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.2, "mutation_scale": 11,
                                    "shrinkA": 0, "shrinkB": 0})
        y = label_y[seg.from_client][taken[seg.from_client]]
        taken[seg.from_client] += 1
        text = segment_label(seg, isn)
        if seg.retransmission:
            text = "retransmission " + text
        if lost:
            text += " LOST" + (f" at {seg.drop_node}" if seg.drop_node else "")
            text += f" ({seg.drop_reason.value})" if seg.drop_reason else ""
        lx = sx - _LABEL_GAP if seg.from_client else sx + _LABEL_GAP
        ax.text(lx, y, text, ha="right" if seg.from_client else "left", va="center", fontsize=7.5,
                family="monospace", color=colour, zorder=5, gid=f"segment-label:{seg.packet_id}")
        if not math.isclose(y, start[1], abs_tol=gap * 0.25):  # the label was pushed down: a leader to its arrow
            ax.plot([lx, sx], [y, start[1]], color="#bbbbbb", linewidth=0.6, zorder=2,
                    gid=f"segment-leader:{seg.packet_id}")
    bottom = max([end_ms, *label_y[True][-1:], *label_y[False][-1:]]) + pad
    if states:  # (a state change after the last segment, such as TIME-WAIT's end, is off the picture)
        for client in (True, False):
            node, label = (conn.client_node, conn.client_label) if client else (conn.server_node, conn.server_label)
            for time_ns, state in _states(trace, node, label, gap * _MS):
                if time_ns / _MS > bottom:
                    continue
                ax.text(_CLIENT_X + 0.012 if client else _SERVER_X - 0.012, time_ns / _MS, state,
                        ha="left" if client else "right", va="bottom", fontsize=6.5, style="italic",
                        color="#7f7f7f", zorder=4, gid=f"state:{'client' if client else 'server'}:{state}",
                        bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_ylim(bottom, start_ms - pad * 3.2)  # time runs down
    ax.set_xlim(-0.8, 1.8)
    ax.set_xticks([])
    ax.set_ylabel("time (ms)")
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    from matplotlib.lines import Line2D

    keys = [("client", "client \u2192 server"), ("server", "server \u2192 client")]
    if any(s.retransmission for s in segs):
        keys.append(("retransmission", "retransmission"))
    if any(s.receive_ns is None for s in segs):
        keys.append(("lost", "lost (x: where it was dropped)"))
    ax.legend(handles=[Line2D([], [], color=_COLOURS[k], linestyle="--" if k == "lost" else "-", label=text)
                       for k, text in keys], loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, fontsize=7.5,
              frameon=False)
    lost = sum(s.receive_ns is None for s in segs)
    again = sum(s.retransmission for s in segs)
    ax.set_title(f"TCP connection {conn.client_label or conn.client_node}: {len(segs)} segments"
                 + (f", {lost} lost" if lost else "") + (f", {again} retransmitted" if again else ""),
                 fontsize=10, pad=22)
    return ax
