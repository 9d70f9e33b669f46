"""Pictures of packets and networks, drawn with matplotlib from real bytes and real simulation traces.

Every plot function takes an optional matplotlib Axes, draws on it (or on a new figure) and returns it; none
calls `plt.show()`. matplotlib is imported only when something is drawn, so `import layersim` stays fast.
"""

from layersim.net.html_views import routes_html, trace_html
from layersim.viz.bitlayout import bit_layout
from layersim.viz.encapsulation import encapsulation
from layersim.viz.path import path

__all__ = ["bit_layout", "encapsulation", "path", "routes_html", "trace_html"]
