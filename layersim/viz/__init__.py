"""Pictures of packets, networks and TCP connections, drawn with matplotlib from real bytes and real traces.

Every plot function takes an optional matplotlib Axes, draws on it (or on a new figure) and returns it; none
calls `plt.show()`. matplotlib is imported only when something is drawn, so `import layersim` stays fast.
"""

from layersim.net.trace.html import routes_html, trace_html
from layersim.viz.bitlayout import bit_layout
from layersim.viz.encapsulation import encapsulation
from layersim.viz.figures import demo_figures, scenario_figures
from layersim.viz.ladder import ladder
from layersim.viz.path import path
from layersim.viz.statemachine import state_machine
from layersim.viz.tcptrace import Connection, SegmentSeen, segments
from layersim.viz.timeplots import cwnd_plot, link_activity, link_plot

__all__ = ["Connection", "SegmentSeen", "bit_layout", "cwnd_plot", "demo_figures", "encapsulation", "ladder",
           "link_activity", "link_plot", "path", "routes_html", "scenario_figures", "segments", "state_machine",
           "trace_html"]
