"""The page writer: the JSON of `layersim.view.model` inlined into the HTML, CSS and JS templates shipped here.

The page loads nothing: its Content-Security-Policy is `default-src 'none'` with inline scripts and styles only,
so it opens the same from disk, from a notebook output, or offline.
"""

from __future__ import annotations

import json
import re
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

from layersim.errors import LayersimError
from layersim.view.model import view_data

__all__ = ["notebook_html", "page_html", "write_html", "write_json"]

_TEMPLATES = files("layersim.view") / "templates"


def _template(name: str) -> str:
    """One template file shipped with the package."""
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _json_text(data: dict[str, Any]) -> str:
    """Compact JSON that is safe inside a <script> element (no "</" can end it early)."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def page_html(data: dict[str, Any]) -> str:
    """The whole page for view data (from `view_data`): one HTML string with everything inline."""
    parts = {"TITLE": escape(str(data.get("title", "layersim run"))), "STYLE": _template("page.css"),
             "DATA": _json_text(data), "SCRIPT": _template("page.js")}
    # One pass over the template, so a title or payload that holds "{{...}}" stays as it is.
    return re.sub(r"\{\{(TITLE|STYLE|DATA|SCRIPT)\}\}", lambda m: parts[m.group(1)], _template("page.html"))


def _writable(path: Path, what: str) -> Path:
    """`path`, checked: its folder exists and it is not a folder itself."""
    path = Path(path)
    if path.is_dir():
        raise LayersimError(f"{what} {path}: is a folder; give a file name, e.g. {path / 'run.html'}")
    if not path.parent.exists():
        raise LayersimError(f"{what} {path}: folder {path.parent} does not exist")
    return path


def write_html(network: Any, path: str | Path, *, title: str | None = None, **options: Any) -> Path:
    """Write the page of a network's run to `path` (options go to `view_data`); returns the path."""
    target = _writable(Path(path), "html")
    target.write_text(page_html(view_data(network, title=title, **options)), encoding="utf-8")
    return target


def write_json(network: Any, path: str | Path, *, title: str | None = None, **options: Any) -> Path:
    """Write the page's JSON (the schema in the README) to `path`; returns the path."""
    target = _writable(Path(path), "json")
    target.write_text(json.dumps(view_data(network, title=title, **options), indent=1), encoding="utf-8")
    return target


def notebook_html(network: Any, *, title: str | None = None, max_events: int = 20_000) -> str:
    """The page in an iframe, for Jupyter's rich display: its script runs in the frame, apart from the notebook's."""
    page = page_html(view_data(network, title=title, max_events=max_events))
    return (f'<iframe srcdoc="{escape(page, quote=True)}" style="width:100%;height:760px;border:1px solid #ccc" '
            f'title="{escape(title or "layersim run")}"></iframe>')
