"""The programs behind the service and client [[run]] kinds: an HTTP server, a DNS server, an HTTP GET client and
a bulk transfer measured like iperf. Each runs inside a simulated process on its host's socket module and returns
a result the narrator prints (`str`) and puts in the JSON (`to_dict`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import h11

from layersim.app.dns_server import serve_dns
from layersim.app.http_request import Request
from layersim.app.http_server import serve_http
from layersim.app.http_static import static_files

if TYPE_CHECKING:
    from layersim.app.run_watch import Watch
    from layersim.net.host.host import Host
    from layersim.net.topology_runs import RunSpec

__all__ = ["PROGRAMS", "BulkResult", "DnsServerResult", "HttpGetResult", "HttpServerResult", "start_sinks"]

Publish = Callable[[Any], None]  # hands the run's result to the narrator as soon as it exists
CHUNK = 65536  # what the bulk sender hands send() at a time, and the sink asks recv() for (iperf's 128 KiB is close)


@dataclass(slots=True)
class HttpServerResult:
    """An HTTP server's requests: (method, target, status, body bytes)."""

    port: int
    serving: str  # "files under www" or "a 12-byte body"
    requests: list[tuple[str, str, int, int]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"serving {self.serving} on port {self.port}"]
        lines += [f"{method} {target} -> {status}, {size} bytes" for method, target, status, size in self.requests]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: {"port", "serving", "requests": [{"method", "target", "status", "bytes"}]}."""
        return {"port": self.port, "serving": self.serving,
                "requests": [{"method": m, "target": t, "status": s, "bytes": b} for m, t, s, b in self.requests]}


def _http_server(host: Host, spec: RunSpec, watch: Watch, publish: Publish) -> None:
    options = spec.options
    body = options["body"]
    result = HttpServerResult(options["port"], f"files under {spec.target}" if body is None
                              else f"a {len(body.encode())}-byte body")
    publish(result)  # a server runs until the simulation ends: its result is read while it still runs
    files = static_files(options["root"]) if body is None else None

    def handler(request: Request) -> tuple[int, Any, Any]:
        if files is not None:
            status, headers, content = files(request)
        else:
            status, headers, content = 200, [("Content-Type", "text/plain; charset=utf-8")], body.encode()
        if isinstance(content, bytes | str):
            size: int | None = len(content.encode() if isinstance(content, str) else content)
        else:  # a file sent in chunks: its length is in the headers
            size = next((int(v) for k, v in headers if k.lower() == "content-length"), None)
        result.requests.append((request.method, request.target, status, -1 if size is None else size))
        return status, headers, content

    names = options.get("names")
    tls = None if names is None else host.runtime.tls.server_context(names)  # https_server: the network's CA
    serve_http(host.socket, ("", options["port"]), handler=handler, tls=tls)


class _CountingZone:
    """A zone that counts the queries it answers (answer_bytes calls `answer` once per query)."""

    def __init__(self, zone: Any, result: DnsServerResult) -> None:
        self._zone = zone
        self._result = result

    def answer(self, query: Any, *, tcp: bool = False) -> Any:
        """The zone's answer, counted."""
        self._result.queries += 1
        return self._zone.answer(query, tcp=tcp)


@dataclass(slots=True)
class DnsServerResult:
    """An authoritative DNS server: its zone and how many queries it answered."""

    origin: str
    records: int
    port: int
    queries: int = 0

    def __str__(self) -> str:
        return (f"answering for {self.origin} ({self.records} record{'' if self.records == 1 else 's'}) on UDP and "
                f"TCP port {self.port}: "
                f"{self.queries} {'query' if self.queries == 1 else 'queries'} answered")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: {"origin", "records", "port", "queries"}."""
        return {"origin": self.origin, "records": self.records, "port": self.port, "queries": self.queries}


def _dns_server(host: Host, spec: RunSpec, watch: Watch, publish: Publish) -> None:
    zone = spec.options["zone"]
    result = DnsServerResult(zone.origin, len(zone.records()), spec.options["port"])
    publish(result)
    serve_dns(host.socket, _CountingZone(zone, result), ("", spec.options["port"]), spawn=watch.spawn)


@dataclass(slots=True)
class HttpGetResult:
    """One GET: the status line, the size of the response head (status line and headers) and of the body."""

    url: str
    status: int | None = None
    reason: str = ""
    header_bytes: int = 0
    body_bytes: int = 0
    seconds: float = 0.0
    error: str | None = None

    def __str__(self) -> str:
        if self.status is None:
            return f"GET {self.url}: {self.error}"
        text = (f"GET {self.url}: {self.status} {self.reason}, headers {self.header_bytes} bytes, body "
                f"{self.body_bytes} bytes, in {self.seconds * 1000:.3f} ms")
        return text + (f" ({self.error})" if self.error else "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: {"url", "status", "reason", "header_bytes", "body_bytes", "seconds", "error"}."""
        return {"url": self.url, "status": self.status, "reason": self.reason, "header_bytes": self.header_bytes,
                "body_bytes": self.body_bytes, "seconds": round(self.seconds, 9), "error": self.error}


def _http_get(host: Host, spec: RunSpec, watch: Watch, publish: Publish) -> None:
    options = spec.options
    port = options["port"]
    authority = spec.target if port == 80 else f"{spec.target}:{port}"
    result = HttpGetResult(f"http://{authority}{options['path']}")
    publish(result)
    sock_mod = host.socket
    clock = host.clock
    start = clock.now
    data = bytearray()
    try:
        with sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_STREAM) as sock:
            sock.settimeout(options["timeout_ns"] / 1e9)
            sock.connect((str(spec.address), port))
            sock.sendall(f"GET {options['path']} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: layersim\r\n"
                         f"Connection: close\r\n\r\n".encode())
            while chunk := sock.recv(CHUNK):
                data += chunk
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = (clock.now - start) / 1e9
    _parse_response(bytes(data), result)


def _parse_response(data: bytes, result: HttpGetResult) -> None:
    """Read status, head size and body size from a whole response (h11 undoes chunked encoding)."""
    if not data:
        result.error = result.error or "no response"
        return
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    try:
        while (event := conn.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
            if isinstance(event, h11.Response):
                result.status, result.reason = event.status_code, event.reason.decode("latin-1")
                result.header_bytes = data.find(b"\r\n\r\n") + 4
            elif isinstance(event, h11.Data):
                result.body_bytes += len(event.data)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
    except h11.RemoteProtocolError as exc:
        result.error = f"a response h11 cannot read: {exc}"


@dataclass(slots=True)
class BulkResult:
    """A bulk TCP transfer timed like iperf: from connect() to the receiver's close after the last byte."""

    destination: str
    port: int
    size: int
    sent: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def mbit_per_s(self) -> float | None:
        """Goodput: application bytes per second, in Mbit/s (1 Mbit = 10^6 bits, as iperf counts)."""
        return self.sent * 8 / self.seconds / 1e6 if self.seconds > 0 else None

    def __str__(self) -> str:
        rate = self.mbit_per_s
        head = (f"[  1] 0.000-{self.seconds:.3f} sec  {self.sent} bytes  "
                + (f"{rate:.2f} Mbit/s" if rate is not None else "- Mbit/s") + f"  to {self.destination}:{self.port}")
        return head + (f"\n{self.error}" if self.error else "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: {"destination", "port", "bytes", "sent", "seconds", "mbit_per_s", "error"}."""
        rate = self.mbit_per_s
        return {"destination": self.destination, "port": self.port, "bytes": self.size, "sent": self.sent,
                "seconds": round(self.seconds, 9), "mbit_per_s": None if rate is None else round(rate, 6),
                "error": self.error}


def _bulk(host: Host, spec: RunSpec, watch: Watch, publish: Publish) -> None:
    options = spec.options
    result = BulkResult(str(spec.address), options["port"], options["bytes"])
    publish(result)
    sock_mod = host.socket
    clock = host.clock
    start = clock.now
    block = bytes(CHUNK)
    try:
        with sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_STREAM) as sock:
            sock.settimeout(options["timeout_ns"] / 1e9)
            sock.connect((str(spec.address), options["port"]))
            while result.sent < result.size:
                piece = block[:result.size - result.sent]
                sock.sendall(piece)
                result.sent += len(piece)
            sock.shutdown(sock_mod.SHUT_WR)
            while sock.recv(CHUNK):  # the sink closes once it has read everything: all bytes arrived
                pass
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = (clock.now - start) / 1e9


def _sink(host: Host, port: int) -> None:
    """Accept bulk senders forever; read each until EOF, then close (what `iperf -s` does)."""
    sock_mod = host.socket
    listener = sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_STREAM)
    listener.bind(("", port))
    listener.listen(16)
    while True:
        conn, _ = listener.accept()
        with conn:
            while conn.recv(CHUNK):
                pass


def start_sinks(net: Any, runs: list[RunSpec]) -> None:
    """A receiver for each bulk run's (host, port), listening from time 0."""
    for host_name, port in dict.fromkeys((s.options["listen"], s.options["port"]) for s in runs if s.kind == "bulk"):
        net.nodes[host_name].spawn(_sink, net.nodes[host_name], port, name=f"sink:{port}")


PROGRAMS = {"http_server": _http_server, "https_server": _http_server, "dns_server": _dns_server, "http_get": _http_get,
            "bulk": _bulk}
