"""The TCP state machine (RFC 9293 §3.3.2), drawn from the transition table the TCP code itself follows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from layersim.tcp.profile import Profile
from layersim.tcp.states import TRANSITIONS, Event, State
from layersim.viz.style import axes_for

__all__ = ["POSITIONS", "edges", "state_machine"]

# Where each state sits, after the RFC's own figure: opening at the top, closing below, active side right.
POSITIONS: Mapping[State, tuple[float, float]] = {
    State.CLOSED: (0.0, 10.0), State.LISTEN: (0.0, 8.0),
    State.SYN_RECEIVED: (-4.0, 6.0), State.SYN_SENT: (4.0, 6.0),
    State.ESTABLISHED: (0.0, 4.0),
    State.FIN_WAIT_1: (-4.0, 2.0), State.CLOSE_WAIT: (4.0, 2.0),
    State.CLOSING: (0.0, 0.6),
    State.FIN_WAIT_2: (-4.0, 0.0), State.LAST_ACK: (4.0, 0.0),
    State.TIME_WAIT: (0.0, -2.0),
}
_W, _H = 2.3, 0.7
_BUS_X = 7.6  # edges back to CLOSED run up a bus on the left (states at x <= 0) or right side
_BENDS = {(State.CLOSED, State.SYN_SENT): -0.15, (State.LISTEN, State.SYN_SENT): 0.15}
_PHASE = {State.CLOSED: "#eeeeee", State.LISTEN: "#ffffaf", State.SYN_SENT: "#ffd7af", State.SYN_RECEIVED: "#ffd7af",
          State.ESTABLISHED: "#afffaf", State.TIME_WAIT: "#d7d7ff"}


def edges(table: Mapping[State, Mapping[Event, State]] = TRANSITIONS) -> dict[tuple[State, State], list[Event]]:
    """The table's transitions grouped into one edge per (from, to) pair, events in table order."""
    out: dict[tuple[State, State], list[Event]] = {}
    for source, events in table.items():
        for event, target in events.items():
            out.setdefault((source, target), []).append(event)
    return out


def _box_edge(state: State, towards: tuple[float, float]) -> tuple[float, float]:
    """The point where the line from the state's centre to `towards` leaves its box."""
    x, y = POSITIONS[state]
    dx, dy = towards[0] - x, towards[1] - y
    if dx == 0 and dy == 0:
        return x, y
    scale = min(_W / 2 / abs(dx) if dx else float("inf"), _H / 2 / abs(dy) if dy else float("inf"))
    return x + dx * scale, y + dy * scale


def _label_point(a: tuple[float, float], b: tuple[float, float], bend: float,
                 ends: tuple[State, State]) -> tuple[float, float]:
    """Where an edge's label goes: the middle of its (arc3) curve, or further along a straight edge when the
    middle falls on the row of another state, where a bus line to CLOSED runs."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if bend:  # the midpoint of matplotlib's arc3 quadratic curve
        return a[0] + dx / 2 + bend * dy / 2, a[1] + dy / 2 - bend * dx / 2
    rows = {y for state, (_, y) in POSITIONS.items() if state not in ends}
    t = 0.5
    if any(abs(a[1] + dy * t - y) < 0.2 for y in rows):
        t = 0.68
    return a[0] + dx * t, a[1] + dy * t


def _timer_note(profile: Profile | None) -> str:
    if profile is None:
        return ""
    fin = "never times out" if profile.fin_wait_2_timeout_ns is None else \
        f"times out after {profile.fin_wait_2_timeout_ns / 1e9:g} s"
    return (f"profile {profile.name}: TIME-WAIT lasts {profile.time_wait_ns / 1e9:g} s (2MSL); "
            f"FIN-WAIT-2 after close() {fin}")


def state_machine(ax: Any = None, profile: Profile | None = None) -> Any:
    """Draw the eleven TCP states as boxes and every transition of layersim.tcp.states.TRANSITIONS as an arrow
    labelled with its events; transitions back to CLOSED (close, RST, abort, timeouts) run along the side buses.
    `profile` (LINUX or RFC) adds the timers that differ between them."""
    ax = axes_for(ax, 12.0, 10.0)
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    for state, (x, y) in POSITIONS.items():
        ax.add_patch(FancyBboxPatch((x - _W / 2, y - _H / 2), _W, _H, boxstyle="round,pad=0.02,rounding_size=0.15",
                                    facecolor=_PHASE.get(state, "#afd7ff"), edgecolor="#333333", linewidth=1.3,
                                    zorder=3, gid=f"state:{state.name}"))
        ax.text(x, y, state.name.replace("_", "-"), ha="center", va="center", fontsize=10, fontweight="bold",
                zorder=4, gid=f"state-name:{state.name}")
    for (source, target), events in edges().items():
        text = "\n".join(e.value for e in events)
        gid = f"{source.name}->{target.name}"
        if target is State.CLOSED:
            _bus_edge(ax, source, text, gid)
            continue
        start, end = POSITIONS[source], POSITIONS[target]
        a, b = _box_edge(source, end), _box_edge(target, start)
        bend = _BENDS.get((source, target), 0.0)
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, color="#333333", linewidth=1.2,
                                     connectionstyle=f"arc3,rad={bend}", zorder=2, gid=f"edge:{gid}"))
        mx, my = _label_point(a, b, bend, (source, target))
        ax.text(mx, my, text, ha="center", va="center", fontsize=7.5, zorder=5, gid=f"edge-label:{gid}",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9})
    note = _timer_note(profile)
    if note:
        ax.text(0, -3.1, note, ha="center", va="center", fontsize=8, color="#444444", gid="profile-note")
    ax.set_xlim(-_BUS_X - 0.4, _BUS_X + 0.4)
    ax.set_ylim(-3.5, 10.9)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("TCP connection states (RFC 9293 \u00a73.3.2), drawn from layersim.tcp.states.TRANSITIONS",
                 fontsize=11)
    return ax


def _bus_edge(ax: Any, source: State, text: str, gid: str) -> None:
    """An edge back to CLOSED: out of the box sideways, up the bus, into CLOSED's side."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    x, y = POSITIONS[source]
    cx, cy = POSITIONS[State.CLOSED]
    side = -1.0 if x <= 0 else 1.0
    bus = side * _BUS_X
    start = (x + side * _W / 2, y)
    end = (cx + side * _W / 2, cy)
    vertices = [start, (bus, y), (bus, cy), end]
    ax.add_patch(FancyArrowPatch(path=Path(vertices, [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO]),
                                 arrowstyle="-|>", mutation_scale=12, color="#8c8c8c", linewidth=1.0, zorder=1,
                                 gid=f"edge:{gid}"))
    lx = start[0] + side * 0.1
    below = x == 0 and source is not State.LISTEN  # centre states: under the line, clear of the arrows above
    ax.text(lx, y - 0.08 if below else y + 0.08, text, ha="left" if side > 0 else "right",
            va="top" if below else "bottom", fontsize=6.5, color="#555555",
            zorder=5, gid=f"edge-label:{gid}", linespacing=1.1)
