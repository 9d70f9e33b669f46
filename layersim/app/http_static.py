"""Static files for the HTTP server: a handler that serves a directory, and the error pages."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO

from layersim.errors import LayersimError

if TYPE_CHECKING:
    from layersim.app.http_request import Request

__all__ = ["CONTENT_TYPES", "error_page", "static_files"]

# Extension -> Content-Type. A fixed table rather than the mimetypes module, which reads the machine's
# /etc/mime.types: the same file gets the same header (and the same bytes on the wire) everywhere.
CONTENT_TYPES = MappingProxyType({
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
    ".json": "application/json", ".txt": "text/plain", ".xml": "application/xml", ".svg": "image/svg+xml",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".ico": "image/x-icon", ".webp": "image/webp", ".pdf": "application/pdf", ".wasm": "application/wasm",
    ".pcap": "application/vnd.tcpdump.pcap", ".pcapng": "application/octet-stream",
})
DEFAULT_TYPE = "application/octet-stream"
INDEX = "index.html"
WHOLE_FILE = 64 * 1024  # files up to this size are sent in one piece with the headers; larger ones streamed
CHUNK = 64 * 1024
_FORBIDDEN_ERRNOS = frozenset({errno.EACCES, errno.EPERM})  # as nginx answers them; every other error is 404


def error_page(status: HTTPStatus) -> tuple[int, list[tuple[str, str]], bytes]:
    """A short HTML page for an error status."""
    body = f"<html><body><h1>{status.value} {status.phrase}</h1></body></html>\n".encode()
    return status.value, [("Content-Type", "text/html")], body


def static_files(root: Path | str) -> Callable[[Request], tuple[int, Any, Any]]:
    """A handler serving the files under `root`: index.html for directories, 404 when missing, 403 when the
    path would lead outside `root` (".." segments, also percent-encoded, symbolic links), 400 for a NUL byte, 405
    for methods other than GET and HEAD. An OSError looking the file up (ENAMETOOLONG, ELOOP, EIO, ...) is 404,
    one for permission (EACCES, EPERM) 403, as nginx answers them."""
    base = Path(root).resolve()
    if not base.is_dir():
        raise LayersimError(f"serve_http: root {str(root)!r} is not a directory")

    def handler(request: Request) -> tuple[int, Any, Any]:
        """The file named by the request's path, or an error page."""
        if request.method not in ("GET", "HEAD"):
            status, headers, body = error_page(HTTPStatus.METHOD_NOT_ALLOWED)
            return status, [*headers, ("Allow", "GET, HEAD")], body
        path = request.path
        if "\0" in path or not path.startswith("/"):
            return error_page(HTTPStatus.BAD_REQUEST)
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:  # after percent-decoding, so %2e%2e and ..%2f are refused too
            return error_page(HTTPStatus.FORBIDDEN)
        try:
            return _serve(base, parts, path, request)
        except OSError as exc:  # a name too long, a loop of links, no permission, an I/O error: never a 500
            return error_page(HTTPStatus.FORBIDDEN if exc.errno in _FORBIDDEN_ERRNOS else HTTPStatus.NOT_FOUND)

    return handler


def _serve(base: Path, parts: list[str], path: str, request: Request) -> tuple[int, Any, Any]:
    """The file under `base` at `parts`, its directory's index, a redirect to the directory, or an error page."""
    try:
        target = base.joinpath(*parts).resolve()
    except RuntimeError:  # a loop of symbolic links, as Python before 3.13 reports it (3.13 raises OSError ELOOP)
        return error_page(HTTPStatus.NOT_FOUND)
    if not target.is_relative_to(base):
        return error_page(HTTPStatus.FORBIDDEN)  # a symbolic link out of the root
    if target.is_dir():
        if not path.endswith("/"):
            status, headers, body = error_page(HTTPStatus.MOVED_PERMANENTLY)
            return status, [*headers, ("Location", request.target.split("?")[0] + "/")], body
        target = target / INDEX
    if not target.is_file():
        return error_page(HTTPStatus.NOT_FOUND)
    file = target.open("rb")  # opened here, so that an error opening it is answered before the headers go out
    try:
        size = os.fstat(file.fileno()).st_size
        headers = [("Content-Type", CONTENT_TYPES.get(target.suffix.lower(), DEFAULT_TYPE)),
                   ("Content-Length", str(size))]
        if size <= WHOLE_FILE:
            with file:
                return 200, headers, file.read()
    except BaseException:
        file.close()
        raise
    return 200, headers, _chunks(file)


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    """The open file's bytes in pieces, closed once they are read (or the generator is closed)."""
    with file:
        while chunk := file.read(CHUNK):
            yield chunk
