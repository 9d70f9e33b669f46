"""An HTTP/1.1 server on the socket API, with h11 doing the protocol: keep-alive, Content-Length and chunked
bodies, HEAD, 400 for a malformed request, idle connections closed after a timeout.

A handler takes a `Request` and returns (status, headers, body): body as bytes or str (sent with
Content-Length, in one send together with the headers) or an iterable of byte chunks (sent chunked to HTTP/1.1
clients, close-delimited to HTTP/1.0 ones, unless the handler gives a Content-Length).

Limits, as real servers set them: a request line over MAX_REQUEST_LINE bytes gets 414 (nginx's
large_client_header_buffers 4 8k); a request head must arrive whole within HEAD_SECONDS of its first byte, one
more second per HEAD_MIN_RATE bytes received up to HEAD_MAX_SECONDS, else 408 and close (Apache's mod_reqtimeout
default RequestReadTimeout header=20-40,MinRate=500), so a client trickling a byte at a time (a slowloris) cannot
hold a connection for longer. A 2xx answer to CONNECT is sent as the head alone (RFC 9110 §9.3.6: no
Content-Length), then the body's bytes as the first of the tunnel, then the connection closes: the server has no
tunnel to relay. Any other answer to CONNECT is an ordinary response.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

import h11

from layersim.app.http_request import Request
from layersim.app.http_static import error_page, static_files
from layersim.app.serving import Spawn, Stop, accept_loop
from layersim.errors import LayersimError

__all__ = ["HEAD_MAX_SECONDS", "HEAD_MIN_RATE", "HEAD_SECONDS", "IDLE_SECONDS", "MAX_BODY", "MAX_REQUEST_LINE",
           "REQUEST_SECONDS", "Body", "Handler", "Headers", "Request", "serve_connection", "serve_http"]

IDLE_SECONDS = 5.0  # an idle keep-alive connection is closed after this (Apache's KeepAliveTimeout)
REQUEST_SECONDS = 60.0  # how long a new connection may take to send its first request (Apache's Timeout)
HEAD_SECONDS = 20.0  # the request head's deadline from its first byte (mod_reqtimeout header=20-40,MinRate=500)
HEAD_MAX_SECONDS = 40.0  # ... extended by the bytes received up to this
HEAD_MIN_RATE = 500  # ... one second more per this many bytes
MAX_REQUEST_LINE = 8192  # a longer request line gets 414 URI Too Long (nginx: large_client_header_buffers 4 8k)
MAX_BODY = 8 << 20  # larger request bodies get 413
RECV_BYTES = 65536
LINGER_SECONDS = 1.0  # after an error reply, how long to wait for more of what the client still sends
LINGER_READS = 64  # and how many reads of it to discard at most
SHUT_WR = 1  # socket.SHUT_WR, the same number on every platform
SERVER = "layersim"

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
Body = bytes | str | Iterable[bytes]


Handler = Callable[[Request], tuple[int, Headers, Body]]


def serve_http(sock_mod: Any, address: tuple[str, int] = ("", 80), *, root: Path | str | None = None,
               handler: Handler | None = None, stop: Stop | None = None, spawn: Spawn | None = None,
               ready: Callable[[tuple[str, int]], object] | None = None,
               idle_timeout: float = IDLE_SECONDS, request_timeout: float = REQUEST_SECONDS,
               tls: ssl.SSLContext | None = None) -> None:
    """Serve HTTP (HTTPS given a server-side `tls` context) at `address` until `stop()` is true (forever without
    `stop`): files under `root`, or `handler`.

    Connections are served one at a time in the caller, or each in a task of its own through `spawn(fn, *args)`
    (host.spawn on a simulated host, a thread on a real one). `ready(address)` is called once listening.
    """
    if (root is None) == (handler is None):
        raise LayersimError("serve_http: give exactly one of root= (a directory to serve) or handler=")
    app = handler if handler is not None else static_files(root)  # type: ignore[arg-type]
    listener = sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_STREAM)
    try:
        listener.bind(address)
        listener.listen(16)
        if ready is not None:
            ready(listener.getsockname() if address[1] == 0 else address)
    except BaseException:
        listener.close()
        raise

    def handle(conn: Any, peer: Any) -> None:
        if tls is not None:
            conn = _tls_handshake(conn, tls, request_timeout)
            if conn is None:
                return
        serve_connection(conn, app, idle_timeout=idle_timeout, request_timeout=request_timeout)

    accept_loop(listener, handle, stop=stop, spawn=spawn)


def _tls_handshake(conn: Any, tls: ssl.SSLContext, timeout: float) -> Any:
    """The accepted connection wrapped in TLS, or None (closed) when the client's handshake fails or stalls."""
    try:
        conn.settimeout(timeout)
        wrapped = tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
    except (OSError, ValueError):
        conn.close()
        return None
    try:
        wrapped.do_handshake()
    except (ssl.SSLError, OSError):  # a client that rejects the certificate sends an alert and closes
        wrapped.close()
        return None
    return wrapped


def serve_connection(conn: Any, handler: Handler, *, idle_timeout: float = IDLE_SECONDS,
                     request_timeout: float = REQUEST_SECONDS) -> None:
    """Answer the requests on one accepted connection until the client closes, asks to, or stays idle: up to
    `request_timeout` for the first request (a slow or lossy client), `idle_timeout` between requests."""
    h = h11.Connection(h11.SERVER)
    linger = False
    timeout = request_timeout
    try:
        while True:
            request = _read_request(h, conn, timeout)
            if request is None:
                return
            _respond(h, conn, request, *_call(handler, request))
            if h.our_state is not h11.DONE or h.their_state is not h11.DONE:
                return  # MUST_CLOSE: the client or the handler asked for Connection: close
            h.start_next_cycle()
            timeout = idle_timeout
    except h11.RemoteProtocolError as exc:
        linger = _send_error(h, conn, exc.error_status_hint)
    except _Refused as exc:
        linger = _send_error(h, conn, exc.status)
    except h11.LocalProtocolError:
        return  # the handler's answer broke HTTP (a body longer than its Content-Length): end the connection
    except (TimeoutError, ConnectionError):
        return
    finally:
        _close(conn, linger)


class _Refused(Exception):
    """A request the server answers with an error status and closes: too large, too slow, too long a line."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


def _next_event(h: h11.Connection, conn: Any, idle_timeout: float) -> Any:
    """The next h11 event, reading from the socket (with the idle timeout) whenever h11 needs more bytes."""
    while True:
        event = h.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.settimeout(idle_timeout)
        h.receive_data(conn.recv(RECV_BYTES))  # b"" at EOF: h11 turns it into ConnectionClosed or an error


def _next_head(h: h11.Connection, conn: Any, wait: float) -> Any:
    """The next request head (or ConnectionClosed): up to `wait` seconds for its first byte, then the whole head
    within the mod_reqtimeout deadline (408 after it), its request line within MAX_REQUEST_LINE (414)."""
    started: float | None = None  # time.monotonic() at the head's first byte (the simulated clock on a host)
    received = 0
    line: bytearray | None = bytearray()  # the request line so far, until its end has arrived
    while (event := h.next_event()) is h11.NEED_DATA:
        if started is None:
            conn.settimeout(wait)
        else:
            allowed = min(HEAD_MAX_SECONDS, HEAD_SECONDS + received / HEAD_MIN_RATE)
            left = started + allowed - time.monotonic()
            if left <= 0:
                raise _Refused(HTTPStatus.REQUEST_TIMEOUT)
            conn.settimeout(left)
        try:
            data = conn.recv(RECV_BYTES)
        except TimeoutError:
            if started is None:
                raise
            raise _Refused(HTTPStatus.REQUEST_TIMEOUT) from None
        if data and started is None:
            started = time.monotonic()
        received += len(data)
        if line is not None:  # answer 414 from the line's first bytes, before h11 holds it whole (or says 431)
            line += data
            text = line.lstrip(b"\r\n")  # RFC 9112 §2.2: empty lines before the request line are skipped
            end = text.find(b"\n")
            if (end if end >= 0 else len(text)) >= MAX_REQUEST_LINE:
                raise _Refused(HTTPStatus.REQUEST_URI_TOO_LONG)
            if end >= 0:
                line = None
        h.receive_data(data)  # b"" at EOF: h11 turns it into ConnectionClosed or an error
    if isinstance(event, h11.Request) and \
            len(event.method) + len(event.target) + len(b"  HTTP/1.1\r") >= MAX_REQUEST_LINE:
        raise _Refused(HTTPStatus.REQUEST_URI_TOO_LONG)  # a pipelined request already in h11's buffer
    return event


def _read_request(h: h11.Connection, conn: Any, idle_timeout: float) -> Request | None:
    """The next request with its whole body, or None when the client closed the connection between requests."""
    event = _next_head(h, conn, idle_timeout)
    if isinstance(event, h11.ConnectionClosed):
        return None
    assert isinstance(event, h11.Request), event
    if h.they_are_waiting_for_100_continue:
        _send(conn, h.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")))
    body = bytearray()
    while not isinstance(part := _next_event(h, conn, idle_timeout), h11.EndOfMessage):
        if isinstance(part, h11.Data):
            body += part.data
            if len(body) > MAX_BODY:
                raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return Request(event.method.decode("ascii"), event.target.decode("latin-1"),
                   tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers),
                   bytes(body), event.http_version.decode("ascii"))


def _call(handler: Handler, request: Request) -> tuple[int, Headers, Body]:
    """The handler's answer; a 500 page when it raises (the server itself carries on)."""
    try:
        return handler(request)
    except Exception:
        status, headers, body = error_page(HTTPStatus.INTERNAL_SERVER_ERROR)
        return status, [*headers, ("Connection", "close")], body


def _respond(h: h11.Connection, conn: Any, request: Request, status: int, headers: Headers, body: Body) -> None:
    """Send the response: headers and a bytes body in one send; an iterable body chunk by chunk."""
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    names = {name.lower() for name, _ in pairs}
    if "server" not in names:
        pairs.append(("Server", SERVER))
    if isinstance(body, str):
        body = body.encode()
    try:
        reason = HTTPStatus(status).phrase.encode()
    except ValueError:
        reason = b""
    if request.method == "CONNECT" and 200 <= status < 300:
        _accept_tunnel(h, conn, h11.Response(status_code=status, reason=reason, headers=[
            (name, value) for name, value in pairs if name.lower() not in ("content-length", "transfer-encoding")]),
            body)
        return
    whole = isinstance(body, bytes | bytearray | memoryview)
    bodiless = status < 200 or status in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)  # RFC 9112 §6.3
    if whole and not bodiless and not names & {"content-length", "transfer-encoding"}:
        pairs.append(("Content-Length", str(len(body))))  # type: ignore[arg-type]
    head = h.send(h11.Response(status_code=status, headers=pairs, reason=reason)) or b""
    if request.method == "HEAD" or bodiless:
        if not whole and hasattr(body, "close"):
            body.close()  # type: ignore[union-attr]
        _send(conn, head + (h.send(h11.EndOfMessage()) or b""))
    elif whole:
        _send(conn, head + (h.send(h11.Data(data=bytes(body))) or b"")  # type: ignore[arg-type]
              + (h.send(h11.EndOfMessage()) or b""))
    else:
        _send(conn, head)
        for chunk in body:  # type: ignore[union-attr]
            if chunk:
                _send(conn, h.send(h11.Data(data=bytes(chunk))) or b"")
        _send(conn, h.send(h11.EndOfMessage()) or b"")


def _accept_tunnel(h: h11.Connection, conn: Any, response: h11.Response, body: Body) -> None:
    """A 2xx to CONNECT (its head without Content-Length or Transfer-Encoding, RFC 9110 §9.3.6): h11 switches
    protocols, the body's bytes follow raw as the tunnel's first bytes; the caller then closes the connection."""
    head = h.send(response)
    chunks = [body] if isinstance(body, bytes | bytearray | memoryview) else body
    _send(conn, (head or b"") + b"".join(bytes(chunk) for chunk in chunks))  # type: ignore[union-attr]


def _send(conn: Any, data: bytes) -> None:
    """Send all of `data`, waiting as long as the client takes to read it."""
    if data:
        conn.settimeout(None)
        conn.sendall(data)


def _send_error(h: h11.Connection, conn: Any, status: int) -> bool:
    """Answer a bad request with an error page and Connection: close, when a response can still be sent."""
    if h.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return False
    code, headers, body = error_page(HTTPStatus(status))
    try:
        response = h11.Response(status_code=code, reason=HTTPStatus(code).phrase.encode(),
                                headers=[*headers, ("Server", SERVER), ("Content-Length", str(len(body))),
                                         ("Connection", "close")])
        _send(conn, h.send(response) + h.send(h11.Data(data=body)) + h.send(h11.EndOfMessage()))
    except (h11.LocalProtocolError, OSError):
        return False
    return True


def _close(conn: Any, linger: bool) -> None:
    """Close; after an error reply first half-close and discard the client's unread bytes, so that closing
    with data still queued does not reset the connection before the client has read the reply."""
    try:
        if linger:
            conn.shutdown(SHUT_WR)
            conn.settimeout(LINGER_SECONDS)
            for _ in range(LINGER_READS):
                if not conn.recv(RECV_BYTES):
                    break
    except OSError:
        pass
    finally:
        conn.close()
