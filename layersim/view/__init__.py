"""The page of a run: a self-contained HTML file (topology, timeline, packets, TCP ladder) built from the trace.

`view_data()` turns a network's trace and topology into the documented JSON (`layersim.view.model`);
`write_html()` embeds it in the page templates shipped with the package (`layersim.view.writer`).
"""

from layersim.view.model import SCHEMA, view_data
from layersim.view.writer import notebook_html, page_html, write_html, write_json

__all__ = ["SCHEMA", "notebook_html", "page_html", "view_data", "write_html", "write_json"]
