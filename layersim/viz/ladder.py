"""The TCP sequence ("ladder") diagram of one connection, drawn from the trace's frames and TCP events."""

from __future__ import annotations

import math
from typing import Any

from layersim.net.trace.log import DropReason, EventKind
from layersim.viz.style import axes_for, axes_inches
from layersim.viz.tcptrace import Connection, SegmentSeen, flag_names, segments
from layersim.wire.tcp import TCPFlags

__all__ = ["ladder", "segment_label"]

_CLIENT_X, _SERVER_X = 0.0, 1.0
# Sizes in inches (character widths at most: DejaVu Sans Mono 0.6 em, DejaVu Sans italic capitals 0.7 em).
_LABEL_SIZE, _STATE_SIZE, _TAG_SIZE = 7.5, 6.5, 6.5
_LABEL_CHAR = 0.602 * _LABEL_SIZE / 72
_STATE_CHAR = 0.7 * _STATE_SIZE / 72
_TAG_CHAR = 0.62 * _TAG_SIZE / 72
_LABEL_GAP_INCHES = 0.12  # between a time axis and its labels, and between labels and states
_MIN_LADDER_INCHES = 2.5
_MIN_SHRINK = 0.6  # type is made no smaller than this share of its size to fit a narrow Axes
_BURST_INCHES = 3 / 72  # arrows closer than 3 points at both ends are drawn as one line
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


def _lost_words(seg: SegmentSeen, network: Any) -> str:
    """Where and why a segment was lost, in words that cannot be read as "the receiver dropped it": a link loss
    is recorded at the sending interface, so it is named as that link ("lost on link home:eth1 -> isp1")."""
    if seg.drop_node is None:
        return "lost"
    where = f"{seg.drop_node}:{seg.drop_interface}" if seg.drop_interface else seg.drop_node
    if seg.drop_reason is DropReason.LINK_LOSS and seg.drop_interface:
        peer = _peer(network, seg.drop_node, seg.drop_interface)
        return f"lost on link {where} \u2192 {peer}" if peer else f"lost on the link out of {where}"
    reason = f" ({seg.drop_reason.value})" if seg.drop_reason else ""
    return f"dropped {'at' if seg.drop_interface else 'by'} {where}{reason}"


def _peer(network: Any, node: str, interface: str) -> str | None:
    """The node at the other end of the link on node:interface, when the network is at hand."""
    for link in getattr(network, "links", ()):
        for end, other in ((link.a, link.b), (link.b, link.a)):
            if end.node.name == node and end.name == interface:
                return str(other.node.name)
    return None


def _bursts(segs: list[SegmentSeen], ends: list[int], close_ms: float) -> list[list[int]]:
    """Indexes of segments that would be drawn as one line: consecutive sends from the same side whose arrows
    start and end less than `close_ms` apart (a window's worth sent back to back); two or more each."""
    groups: list[list[int]] = []
    last: dict[bool, int] = {}
    for i, seg in enumerate(segs):
        j = last.get(seg.from_client)
        last[seg.from_client] = i
        if j is not None and (segs[j].receive_ns is None) == (seg.receive_ns is None) \
                and abs(seg.send_ns - segs[j].send_ns) / _MS < close_ms and abs(ends[i] - ends[j]) / _MS < close_ms:
            if groups and groups[-1][-1] == j:
                groups[-1].append(i)
                continue
            groups.append([j, i])
    return [g for g in groups if len(g) > 1]


def _crosses(box: tuple[float, float, float, float], start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Whether the straight line start-end passes through the box (x0, x1, y0, y1): Liang-Barsky clipping."""
    x0, x1, y0, y1 = box
    (sx, sy), (ex, ey) = start, end
    low, high = 0.0, 1.0
    for step, room in ((sx - ex, sx - x0), (ex - sx, x1 - sx), (sy - ey, sy - y0), (ey - sy, y1 - sy)):
        if step == 0:
            if room < 0:  # parallel to this edge and outside it
                return False
        elif step < 0:
            low = max(low, room / step)
        else:
            high = min(high, room / step)
    return low <= high


def _tag_spot(line: tuple[tuple[float, float], tuple[float, float]], half: tuple[float, float],
              others: list[tuple[tuple[float, float], tuple[float, float]]]) -> tuple[float, float]:
    """A point on `line` where a tag of half-size `half` (x, ms) crosses none of the `others` (middle first)."""
    (sx, sy), (ex, ey) = line
    for frac in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
        x, y = sx + (ex - sx) * frac, sy + (ey - sy) * frac
        box = (x - half[0], x + half[0], y - half[1], y + half[1])
        if not any(_crosses(box, a, b) for a, b in others):
            return x, y
    return sx + (ex - sx) / 2, sy + (ey - sy) / 2


def ladder(trace_or_network: Any, connection: str | None = None, ax: Any = None, *, states: bool = True,
           max_segments: int | None = None) -> Any:
    """Draw one TCP connection as a ladder: time runs down two axes (client left, server right) and every
    segment is an arrow from the moment it left one host to the moment it arrived at the other, labelled
    Wireshark-style with flags, relative seq and ack, and payload length.

    A segment lost on the way ends in a red x where the trace dropped it, its label saying where ("lost on link
    home:eth1 \u2192 isp1"); a retransmission is drawn in orange. Segments sent back to back arrive too close
    together to draw apart at the ladder's scale: their arrows coincide, so the bundle is tagged with how many it
    holds ("4 segments"), and their labels fan out with leaders to where they start.
    `connection` is a TCP connection label from the trace (either end's, e.g. "10.0.0.2:40000-93.184.216.34:80");
    by default the first connection opened. `states=True` writes each end's state changes in a column outside
    its labels, where no arrow crosses them; `max_segments` keeps only the first N segments.
    """
    trace = getattr(trace_or_network, "trace", trace_or_network)
    conn, segs = segments(trace, connection)
    if max_segments is not None:
        segs = segs[:max_segments]
    isn = _isn(segs)
    one_way = _one_way(segs)
    ends = [s.receive_ns if s.receive_ns is not None else (s.drop_ns or s.send_ns) for s in segs]
    ends_state = ((conn.client_node, conn.client_label), (conn.server_node, conn.server_label))
    first_state = [t for node, label in ends_state for t, _ in _states(trace, node, label)[:1]] if states else []
    start_ms = min([s.send_ns for s in segs[:1]] + first_state, default=0) / _MS
    end_ms = max(ends, default=0) / _MS
    height = max(4.5, 1.6 + len(segs) * 0.26)
    ax = axes_for(ax, 12.0, height)
    span = max(end_ms - start_ms, 1e-3)
    inches_wide, inches_high = axes_inches(ax)
    per_inch = span / max(inches_high - 1.0, 1.0)  # ms per inch of the time axis
    gap, pad = per_inch * _LABEL_INCHES, per_inch * 0.2
    texts = []
    for seg in segs:
        text = ("retransmission " if seg.retransmission else "") + segment_label(seg, isn)
        texts.append(text + (" " + _lost_words(seg, trace_or_network) if seg.receive_ns is None else ""))
    joined = {client: _states(trace, *ends_state[0 if client else 1], gap * _MS) if states else []
              for client in (True, False)}
    # Columns, in inches out from each time axis: the segment labels, then the states (1.1: room for estimates).
    label_in = {c: 1.1 * _LABEL_CHAR * max((len(t) for t, s in zip(texts, segs, strict=True) if s.from_client == c),
                                           default=0) for c in (True, False)}
    state_in = {c: 1.1 * _STATE_CHAR * max((len(state) for _, state in joined[c]), default=0) for c in (True, False)}
    # On an Axes too narrow for both columns beside a readable ladder, the labels and states get smaller type.
    shrink = min(1.0, max(_MIN_SHRINK, (inches_wide - _MIN_LADDER_INCHES - 4 * _LABEL_GAP_INCHES)
                          / max(sum(label_in.values()) + sum(state_in.values()), 1e-9)))
    label_size, state_size = _LABEL_SIZE * shrink, _STATE_SIZE * shrink
    side = {c: _LABEL_GAP_INCHES * 2 + (label_in[c] + state_in[c]) * shrink for c in (True, False)}
    unit = max(inches_wide - side[True] - side[False], _MIN_LADDER_INCHES)  # inches between the two time axes
    label_gap = _LABEL_GAP_INCHES / unit
    for x, client in ((_CLIENT_X, True), (_SERVER_X, False)):
        ax.axvline(x, color="#555555", linewidth=1.5, zorder=1, gid=f"ladder-axis:{'client' if client else 'server'}")
        ax.text(x, start_ms - pad * 0.6, _end_title(conn, client, trace), ha="center", va="bottom", fontsize=9,
                fontweight="bold", zorder=6, gid=f"ladder-end:{'client' if client else 'server'}")
    label_y = {True: _spread([s.send_ns / _MS for s in segs if s.from_client], gap),
               False: _spread([s.send_ns / _MS for s in segs if not s.from_client], gap)}
    taken = {True: 0, False: 0}
    lines = []
    for seg, end_ns, text in zip(segs, ends, texts, strict=True):
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
        lines.append((start, end))
        y = label_y[seg.from_client][taken[seg.from_client]]
        taken[seg.from_client] += 1
        lx = sx - label_gap if seg.from_client else sx + label_gap
        ax.text(lx, y, text, ha="right" if seg.from_client else "left", va="center", fontsize=label_size,
                family="monospace", color=colour, zorder=5, gid=f"segment-label:{seg.packet_id}")
        if not math.isclose(y, start[1], abs_tol=gap * 0.25):  # the label was pushed down: a leader to its arrow
            ax.plot([lx, sx], [y, start[1]], color="#bbbbbb", linewidth=0.6, zorder=2,
                    gid=f"segment-leader:{seg.packet_id}")
    close_ms = per_inch * _BURST_INCHES
    for burst in _bursts(segs, ends, close_ms):  # one tag on the bundle, where no other arrow crosses it
        first = segs[burst[0]]
        text = f"{len(burst)} segments"
        half = (len(text) * _TAG_CHAR / 2 / unit, per_inch * 0.08)
        others = [line for k, line in enumerate(lines) if k not in burst]
        x, y = _tag_spot(lines[burst[len(burst) // 2]], half, others)
        colour = _COLOURS["lost"] if first.receive_ns is None else _COLOURS["client" if first.from_client else
                                                                            "server"]
        ax.text(x, y, text, ha="center", va="center", fontsize=_TAG_SIZE, color=colour, zorder=6,
                gid=f"burst:{first.packet_id}", bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                                                      "edgecolor": colour, "linewidth": 0.8})
    bottom = max([end_ms, *label_y[True][-1:], *label_y[False][-1:]]) + pad
    for client in (True, False):  # (a state change after the last segment, such as TIME-WAIT's end, is not shown)
        shown = [(t, state) for t, state in joined[client] if t / _MS <= bottom]
        edge = (side[client] - _LABEL_GAP_INCHES / 2) / unit
        for (_, state), y in zip(shown, _spread([t / _MS for t, _ in shown], gap), strict=True):
            ax.text(_CLIENT_X - edge if client else _SERVER_X + edge, y, state, ha="left" if client else "right",
                    va="center", fontsize=state_size, style="italic", color="#7f7f7f", zorder=4,
                    gid=f"state:{'client' if client else 'server'}:{state}")
    ax.set_ylim(bottom, start_ms - pad * 3.2)  # time runs down
    ax.set_xlim(_CLIENT_X - side[True] / unit, _SERVER_X + side[False] / unit)
    ax.set_xticks([])
    ax.set_ylabel("time (ms)")
    for spine in ("top", "right", "bottom"):
        ax.spines[spine].set_visible(False)
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
