"""An HTTP request as a handler of layersim.app.http_server sees it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["Request"]


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the handler sees it: header names lowercase, the body read in full."""

    method: str
    target: str  # as sent: "/index.html?x=1"
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    http_version: str = "1.1"

    @property
    def path(self) -> str:
        """The target's path, percent-decoded ("/a b.html" for "/a%20b.html?x=1")."""
        return unquote(urlsplit(self.target).path or "/")

    @property
    def query(self) -> str:
        """The target's query string, still encoded."""
        return urlsplit(self.target).query

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (any case), or `default`."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), default)
