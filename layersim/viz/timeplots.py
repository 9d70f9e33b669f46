"""Quantities over time: a TCP connection's congestion window, ssthresh and RTT; a link's utilisation and queue."""

from __future__ import annotations

from typing import Any

from layersim.errors import LayersimError
from layersim.net.trace.log import EventKind
from layersim.viz.style import axes_for
from layersim.viz.tcptrace import connection_labels, segments

__all__ = ["cwnd_plot", "link_activity", "link_plot"]

_MS = 1e6
_NO_THRESHOLD = 2**30  # ssthresh starts "infinite" (Linux: 0x7fffffff, layersim: 2**30): not drawn until lowered


def _tcp_series(trace: Any, node: str, label: str, what: str) -> list[tuple[int, dict[str, Any]]]:
    return [(e.time_ns, dict(e.info.facts)) for e in trace.select(EventKind.TCP, node=node)
            if e.info.connection == label and e.info.what == what]


def _sender(trace: Any, connection: str | None) -> tuple[str, str]:
    """(node, label) of the connection; by default the end of the first connection opened that sent more data."""
    labels = connection_labels(trace)
    if connection is not None:
        for node, label in labels:
            if label == connection:
                return node, label
        known = ", ".join(f"{lab} ({n})" for n, lab in labels) or "none"
        raise LayersimError(f"no TCP connection {connection!r} in the trace (connections: {known})")
    conn, segs = segments(trace)
    client = sum(s.length for s in segs if s.from_client)
    server = sum(s.length for s in segs if not s.from_client)
    return (conn.server_node, conn.server_label) if server > client and conn.server_label else \
        (conn.client_node, conn.client_label)


def cwnd_plot(trace_or_network: Any, connection: str | None = None, ax: Any = None) -> Any:
    """Draw one end's congestion window and slow-start threshold (bytes, left axis, as steps: each value holds
    until the next sample) and its smoothed RTT with the raw samples (ms, right axis), from the trace's TCP
    "cwnd" and "rtt" events. `connection`: that end's label; by default the end of the first connection opened
    that sent more data."""
    trace = getattr(trace_or_network, "trace", trace_or_network)
    node, label = _sender(trace, connection)
    cwnd = _tcp_series(trace, node, label, "cwnd")
    rtt = _tcp_series(trace, node, label, "rtt")
    losses = [t for t, facts in _tcp_series(trace, node, label, "retransmit")]
    ax = axes_for(ax, 9.0, 4.2)
    times = [t / _MS for t, _ in cwnd]
    ax.step(times, [f["cwnd"] for _, f in cwnd], where="post", color="#1f77b4", linewidth=2, marker="o",
            markersize=3, label="cwnd", gid="cwnd")
    thresholds = [(t, f["ssthresh"]) for t, f in zip(times, (f for _, f in cwnd), strict=True)
                  if f["ssthresh"] < _NO_THRESHOLD]
    if thresholds:
        ax.step([t for t, _ in thresholds], [s for _, s in thresholds], where="post", color="#d62728",
                linestyle="--", linewidth=1.5, marker="_", markersize=12, label="ssthresh", gid="ssthresh")
    for n, time_ns in enumerate(losses):
        ax.axvline(time_ns / _MS, color="#ff7f0e", linewidth=1, linestyle=":", gid=f"retransmit:{n}",
                   label="retransmission" if n == 0 else None)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("bytes")
    top = max([f["cwnd"] for _, f in cwnd] + [s for _, s in thresholds] + [1])
    ax.set_ylim(0, top * 1.35)
    right = ax.twinx()
    right.set_gid("rtt-axes")
    right.plot([t / _MS for t, _ in rtt], [f["srtt_ns"] / _MS for _, f in rtt], color="#2ca02c", linewidth=1.5,
               label="srtt", gid="srtt")
    right.plot([t / _MS for t, _ in rtt], [f["sample_ns"] / _MS for _, f in rtt], linestyle="none", marker=".",
               color="#2ca02c", alpha=0.6, label="RTT sample", gid="rtt-sample")
    right.set_ylabel("RTT (ms)", color="#2ca02c")
    slowest = max([f["srtt_ns"] / _MS for _, f in rtt] + [f["sample_ns"] / _MS for _, f in rtt] + [1.0])
    right.set_ylim(0, slowest * 1.35)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8, ncols=len(handles))
    ax.set_title(f"{node}: {label}, congestion window and RTT", fontsize=10)
    return ax


def _link(network: Any, link: Any) -> Any:
    if not isinstance(link, str):
        return link
    for candidate in network.links:
        names = (candidate.a.full_name, candidate.b.full_name)
        if link in names or link in (f"{candidate.a.node.name}-{candidate.b.node.name}",
                                     f"{candidate.b.node.name}-{candidate.a.node.name}"):
            return candidate
    known = ", ".join(f"{c.a.node.name}-{c.b.node.name}" for c in network.links)
    raise LayersimError(f"no link {link!r} in the network (links: {known})")


def link_activity(network: Any, link: Any) -> dict[str, list[tuple[int, int, int]]]:
    """Each direction's frames ("a->b", "b->a"): (queued, sending starts, sent) times in ns, replayed from the
    trace's SEND events (a frame waits until the one before it has left, then takes size x 8 / bandwidth)."""
    link = _link(network, link)
    out: dict[str, list[tuple[int, int]]] = {}
    for name, sender in (("a->b", link.a), ("b->a", link.b)):
        busy_until = 0
        spans = []
        for event in network.trace.select(EventKind.SEND, node=sender.node.name, interface=sender.name):
            if event.frame is None:
                raise LayersimError("link_activity needs frame sizes: trace level 'all'")
            start = max(event.time_ns, busy_until)
            busy_until = start + link.serialization_ns(len(event.frame))
            spans.append((event.time_ns, start, busy_until))
        out[name] = spans
    return out


def link_plot(network: Any, link: Any, ax: Any = None, *, bins: int = 80) -> Any:
    """Draw one link's utilisation per direction (percent of each time bin spent transmitting, left axis) and its
    queue length (frames waiting or being sent, right axis), replayed from the trace and the link's bandwidth.
    `link`: a Link, "nodeA-nodeB" or one end's "node:interface"."""
    link = _link(network, link)
    activity = link_activity(network, link)
    spans = [s for spans in activity.values() for s in spans]
    if not spans:
        raise LayersimError(f"link {link.a.full_name} <-> {link.b.full_name} sent nothing")
    first, last = min(s[0] for s in spans), max(s[2] for s in spans)
    width = max((last - first) / bins, 1)
    ax = axes_for(ax, 9.0, 4.0)
    colours = {"a->b": "#1f77b4", "b->a": "#2ca02c"}
    names = {"a->b": f"{link.a.full_name} \u2192 {link.b.node.name}", "b->a": f"{link.b.full_name} \u2192 "
             f"{link.a.node.name}"}
    right = ax.twinx()
    right.set_gid("queue-axes")
    for direction, sends in activity.items():
        busy = [0.0] * bins
        for _, start, end in sends:
            for b in range(int((start - first) // width), min(int((end - first) // width), bins - 1) + 1):
                lo, hi = first + b * width, first + (b + 1) * width
                busy[b] += max(0.0, min(hi, end) - max(lo, start))
        edges = [(first + b * width) / _MS for b in range(bins)]
        ax.step(edges, [100 * x / width for x in busy], where="post", color=colours[direction], linewidth=1.5,
                label=f"utilisation {names[direction]}", gid=f"utilisation:{direction}")
        points = sorted([(q, 1) for q, _, _ in sends] + [(e, -1) for _, _, e in sends])
        level, xs, ys = 0, [first / _MS], [0]
        for time_ns, change in points:
            level += change
            xs.append(time_ns / _MS)
            ys.append(level)
        right.step(xs, ys, where="post", color=colours[direction], linestyle=":", linewidth=1,
                   label=f"queue {names[direction]}", gid=f"queue:{direction}")
    ax.set_ylim(0, 105)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"utilisation (%) of {link.bandwidth_bps / 1e6:g} Mbit/s")
    right.set_ylabel("frames queued or sending")
    right.set_ylim(bottom=0)
    from matplotlib.ticker import MaxNLocator

    right.yaxis.set_major_locator(MaxNLocator(integer=True))  # frames come whole: no tick at 0.5 frame
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    ax.set_title(f"link {link.a.full_name} \u2194 {link.b.full_name}", fontsize=10)
    return ax
