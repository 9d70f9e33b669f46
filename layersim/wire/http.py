"""HTTP/1.1 messages (RFC 9112) as the payload of TCP port 80: request and response layers, and the parser.

The bytes are exactly what the fields say: nothing (Content-Length, Date, Host) is added on encode. Header
bytes are Latin-1 text, as RFC 9112 §2.2 allows a recipient to read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from layersim.errors import FieldValueError
from layersim.wire.fields import HeaderSpec, Layer, Var, unknown_field

__all__ = ["HTTPMessage", "HTTPRequest", "HTTPResponse"]

Headers = tuple[tuple[str, str], ...]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2: method and field names
_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]")  # RFC 9112 §2.3
_TARGET = re.compile(r"[!-~\x80-\xff]+")  # RFC 9112 §3.2: no whitespace, no controls
_REASON = re.compile(r"[\t !-~\x80-\xff]*")  # RFC 9112 §4
_VALUE = re.compile(r"(?:[!-~\x80-\xff](?:[\t !-~\x80-\xff]*[!-~\x80-\xff])?)?")  # RFC 9110 §5.5, trimmed


def _text(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    """A coerce hook that accepts a str matching `pattern` whole."""

    def coerce(value: Any) -> str:
        if not isinstance(value, str):
            raise FieldValueError(f"expected str, got {type(value).__name__} {value!r}")
        if not pattern.fullmatch(value):
            raise FieldValueError(f"{value!r} is not {what}")
        return value

    return coerce


_name = _text(_TOKEN, "a token (RFC 9110 §5.6.2)")
_field_value = _text(_VALUE, "a field value (visible Latin-1 characters, no CR/LF, no leading or trailing "
                             "whitespace; RFC 9110 §5.5)")


_REQUEST_LINE = re.compile(f"{_TOKEN.pattern} {_TARGET.pattern} {_VERSION.pattern}")  # the three fields at once
# Every header line at once: name \x00 value \x01 (neither byte may appear in a name or a value).
_BLOCK = re.compile(f"(?:{_TOKEN.pattern}\x00{_VALUE.pattern}\x01)*")


def _headers(value: Any) -> Headers:
    """Header lines in order, from a dict, or a list or tuple of (name, value) pairs."""
    if isinstance(value, Mapping):
        value = value.items()
    elif isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise FieldValueError(f"expected a dict or (name, value) pairs, got {type(value).__name__} {value!r}")
    value = tuple(value)
    if all(type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str
           for pair in value) and _BLOCK.fullmatch("".join([f"{n}\x00{v}\x01" for n, v in value])):
        return value  # the common case, checked in one match; otherwise each pair below says what is wrong
    out = []
    for pair in value:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise FieldValueError(f"header {pair!r} is not a (name, value) pair")
        name, text = pair
        try:
            out.append((_name(name), _field_value(text)))
        except FieldValueError as exc:
            raise FieldValueError(f"header {pair!r}: {exc}") from None
    return tuple(out)


def _status(value: Any) -> int:
    """A three-digit status code (RFC 9110 §15)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 999:
        raise FieldValueError(f"{value!r} is not a three-digit status code")
    return int(value)


class HTTPMessage(Layer):
    """What TCP port 80 carries: `parse` makes an HTTPRequest or HTTPResponse of it, or leaves it Raw."""

    __slots__ = ()
    lazy = True  # parsed on first access to the packet's layers
    headers: Headers
    body: bytes
    version: str

    def _start_line(self) -> list[tuple[str, str]]:
        """(field name, text) of each start-line piece, with the separator that follows it."""
        raise NotImplementedError

    def header(self, name: str) -> str | None:
        """The value of the first header called `name` (case-insensitive), or None."""
        key = name.lower()
        return next((value for field, value in self.headers if field.lower() == key), None)

    def _pieces(self) -> list[tuple[str, str]]:
        """The head as named text pieces: start line, header lines, blank line."""
        lines = [(f"header:{name}", f"{name}: {value}\r\n") for name, value in self.headers]
        return [*self._start_line(), *lines, ("end_of_headers", "\r\n")]

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Start line, header lines, blank line, body, then what follows; nothing added."""
        head = self._start_text() + "".join([f"{n}: {v}\r\n" for n, v in self.headers]) + "\r\n"
        return b"".join((head.encode("latin-1"), self.body, payload))

    def _start_text(self) -> str:
        """The start line with its CRLF."""
        return "".join(text for _, text in self._start_line())

    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """Start-line pieces (each with the separator after it), header lines, the blank line, the body."""
        spans, at = [], start
        for name, text in self._pieces():
            spans.append((name, at, min(at + len(text), end)))
            at += len(text)
        if self.body:
            spans.append(("body", at, min(at + len(self.body), end)))
        return spans

    def info(self) -> dict[str, Any]:
        """Body length, and the Content-Length header's value when it is a number."""
        out: dict[str, Any] = {"body_length": len(self.body)}
        length = self.header("Content-Length")
        if length is not None and length.isascii() and length.isdigit():
            out["content_length"] = int(length)
        return out

    @classmethod
    def parse(cls, data: bytes) -> HTTPRequest | HTTPResponse | None:
        """An HTTP/1.x message with a complete head that re-encodes to exactly `data`; else None (Raw)."""
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        lines = data[:head_end].decode("latin-1").split("\r\n")
        first = lines[0].split(" ", 2)
        if len(first) != 3:
            return None
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                return None
            headers.append((name, value.strip(" \t")))
        body = data[head_end + 4:]
        layer: HTTPRequest | HTTPResponse
        try:
            if first[0].startswith("HTTP/"):
                version, status, reason = first
                if len(status) != 3 or not (status.isascii() and status.isdigit()):
                    return None
                layer = HTTPResponse(int(status), reason, headers, body, version)
            else:
                layer = HTTPRequest(first[0], first[1], headers, body, first[2])
        except FieldValueError:
            return None
        if not layer.version.startswith("HTTP/1.") or layer.encode_layer(b"", None, None) != data:
            return None  # odd whitespace or line folding that these fields cannot reproduce
        return layer


class HTTPRequest(HTTPMessage):
    """An HTTP request: request line (RFC 9112 §3), header lines and body."""

    __slots__ = ()
    spec = HeaderSpec("HTTPRequest", [
        Var("method", "GET", kind=str, coerce=_name),
        Var("target", "/", kind=str, coerce=_text(_TARGET, "a request target (no spaces or controls)")),
        Var("headers", (), kind=tuple, coerce=_headers),
        Var("body", b""),
        Var("version", "HTTP/1.1", kind=str, coerce=_text(_VERSION, "an HTTP version like HTTP/1.1")),
    ])
    method: str
    target: str

    def __new__(cls, method: str = "GET", target: str = "/", headers: Any = (), body: bytes = b"",
                version: str = "HTTP/1.1", _src: Any = None, **unknown: Any) -> HTTPRequest:
        """Like the generated constructor; a request line of plain text is checked in one match."""
        if unknown:
            raise unknown_field(cls.spec, unknown)
        if (_src is None and type(method) is str and type(target) is str and type(version) is str
                and type(body) is bytes and _REQUEST_LINE.fullmatch(f"{method} {target} {version}")):
            try:
                return tuple.__new__(cls, (method, target, _headers(headers), body, version, None))
            except FieldValueError:
                pass  # the generated constructor names the field in its message
        return cls._new(cls, method, target, headers, body, version, _src)  # type: ignore[no-any-return]

    def _start_line(self) -> list[tuple[str, str]]:
        return [("method", f"{self.method} "), ("target", f"{self.target} "),
                ("version", f"{self.version}\r\n")]

    def _start_text(self) -> str:
        method, target, _, _, version = self[:5]
        return f"{method} {target} {version}\r\n"

    def info(self) -> dict[str, Any]:
        """Method and target, with the body details of every message."""
        return {"request": f"{self.method} {self.target}", **super().info()}


class HTTPResponse(HTTPMessage):
    """An HTTP response: status line (RFC 9112 §4), header lines and body."""

    __slots__ = ()
    spec = HeaderSpec("HTTPResponse", [
        Var("status", 200, kind=int, coerce=_status),
        Var("reason", "OK", kind=str, coerce=_text(_REASON, "a reason phrase (no CR/LF)")),
        Var("headers", (), kind=tuple, coerce=_headers),
        Var("body", b""),
        Var("version", "HTTP/1.1", kind=str, coerce=_text(_VERSION, "an HTTP version like HTTP/1.1")),
    ])
    status: int
    reason: str

    def __new__(cls, status: int = 200, reason: str | None = None, headers: Any = (), body: bytes = b"",
                version: str = "HTTP/1.1", _src: Any = None, **unknown: Any) -> HTTPResponse:
        """Like the generated constructor, but reason=None gives the standard phrase ("Not Found" for 404)."""
        if unknown:
            raise unknown_field(cls.spec, unknown)
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except (ValueError, TypeError):
                reason = ""
        return cls._new(cls, status, reason, headers, body, version, _src)  # type: ignore[no-any-return]

    def _start_line(self) -> list[tuple[str, str]]:
        return [("version", f"{self.version} "), ("status", f"{self.status:03d} "),
                ("reason", f"{self.reason}\r\n")]

    def _start_text(self) -> str:
        status, reason, _, _, version = self[:5]
        return f"{version} {status:03d} {reason}\r\n"

    def info(self) -> dict[str, Any]:
        """Status line summary, with the body details of every message."""
        return {"response": f"{self.status:03d} {self.reason}", **super().info()}
