"""Every picture of a run written to a folder as PNG and SVG (`layersim demo --figures`, `layersim run --figures`).

Figures are made with matplotlib's Agg canvas directly (no pyplot), so this works headless and leaves the
caller's pyplot backend and open figures alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from layersim.errors import LayersimError
from layersim.net.trace.log import EventKind
from layersim.tcp.profile import LINUX
from layersim.viz.encapsulation import encapsulation
from layersim.viz.ladder import ladder
from layersim.viz.path import figure_size, path
from layersim.viz.statemachine import state_machine
from layersim.viz.tcptrace import connection_labels, find_connection, segments
from layersim.viz.timeplots import cwnd_plot, link_plot
from layersim.wire.http import HTTPRequest
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP

__all__ = ["demo_figures", "save", "scenario_figures"]

_DPI = 120


def _figure(width: float, height: float, cols: int = 1) -> tuple[Any, list[Any]]:
    """A new Agg figure with constrained layout and `cols` Axes side by side."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, cols, squeeze=False)[0]
    return fig, list(axes)


def save(fig: Any, folder: Path, name: str) -> list[Path]:
    """Write `fig` as folder/name.png and folder/name.svg; the two paths."""
    out = []
    for suffix in (".png", ".svg"):
        target = folder / f"{name}{suffix}"
        try:
            fig.savefig(target, dpi=_DPI, bbox_inches="tight", pad_inches=0.15)
        except OSError as exc:
            raise LayersimError(f"{target}: cannot write: {exc.strerror or exc}") from None
        out.append(target)
    return out


def _folder(folder: str | Path) -> Path:
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LayersimError(f"{target}: cannot create the figures folder: {exc.strerror or exc}") from None
    return target


def _draw(folder: Path, name: str, size: tuple[float, float], draw: Callable[[Any], Any]) -> list[Path]:
    fig, (ax,) = _figure(*size)
    draw(ax)
    return save(fig, folder, name)


def _ladder_size(trace: Any, connection: str | None) -> tuple[float, float]:
    _, segs = segments(trace, connection)
    return 12.0, max(4.5, 1.6 + len(segs) * 0.26)


def connection_figures(network: Any, connection: str, folder: Path, name: str) -> list[Path]:
    """The ladder of one connection and the cwnd/RTT of both its ends."""
    trace = network.trace
    files = _draw(folder, f"ladder_{name}", _ladder_size(trace, connection), lambda ax: ladder(trace, connection, ax))
    conn = find_connection(trace, connection)
    ends = [(node, label) for node, label in ((conn.client_node, conn.client_label),
                                              (conn.server_node, conn.server_label)) if label]
    fig, axes = _figure(7.5 * len(ends), 4.2, len(ends))
    for ax, (_, label) in zip(axes, ends, strict=True):
        cwnd_plot(trace, label, ax)
    return files + save(fig, folder, f"cwnd_{name}")


def demo_figures(run: Any, folder: str | Path) -> list[Path]:
    """The demo's pictures: the GET frame's encapsulation and path, the requests.get connection's ladder and
    cwnd/RTT, the home router's uplink, and the TCP state machine; each as PNG and SVG, returned in that order."""
    target = _folder(folder)
    net = run.network
    sent = ((e, decode(e.frame)) for e in net.trace.select(EventKind.SEND, node="laptop") if e.frame is not None)
    get = next(((e, p) for e, p in sent if HTTPRequest in p), None)
    if get is None:
        raise LayersimError("demo figures: the trace holds no HTTP GET sent by the laptop")
    event, packet = get
    frame: bytes = event.frame  # type: ignore[assignment]
    files = _draw(target, "encapsulation_get", (12, 2.7), lambda ax: encapsulation(packet, ax))
    hops = list(net.trace.hops(frame))
    files += _draw(target, "path_get", figure_size(net, hops), lambda ax: path(net, hops, ax))
    label = f"{packet[IPv4].src}:{packet[TCP].sport}-{packet[IPv4].dst}:{packet[TCP].dport}"
    files += connection_figures(net, label, target, "get")
    files += _draw(target, "link_home-isp1", (9, 4), lambda ax: link_plot(net, "home-isp1", ax))
    files += _draw(target, "state_machine", (12, 10), lambda ax: state_machine(ax, LINUX))
    return files


def scenario_figures(scenario: Any, outcomes: list[Any], folder: str | Path) -> list[Path]:
    """A scenario run's pictures: the path of each program's first packet, and the ladder and cwnd/RTT of
    every TCP connection opened (the first four); PNG and SVG."""
    from layersim.app.narrative import first_packet

    target = _folder(folder)
    net = scenario.network
    files: list[Path] = []
    claimed: set[Any] = set()
    for n, outcome in enumerate(outcomes, 1):
        first = first_packet(net, outcome, claimed)
        if first is None:
            continue
        hops = list(net.trace.hops(first[2]))
        if hops:
            files += _draw(target, f"path_{n}_{outcome.spec.source}", figure_size(net, hops),
                           lambda ax, h=hops: path(net, h, ax))
    opened = [label for node, label in connection_labels(net.trace)
              if any(e.info.connection == label and e.info.what == "state"
                     and dict(e.info.facts).get("event") == "ACTIVE_OPEN" for e in net.trace.select(EventKind.TCP,
                                                                                                    node=node))]
    for n, label in enumerate(opened[:4], 1):
        files += connection_figures(net, label, target, f"tcp{n}")
    return files
