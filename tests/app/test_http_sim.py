"""The HTTP server on a simulated host, served to the tutorial's client script (host.run_script), to requests and to
raw socket code alike: keep-alive, Content-Length and chunked bodies, HTTP/1.0, 404; the bytes checked against what
the server put on the wire."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from layersim.app.http_server import Request, serve_http
from layersim.net.network import Network
from layersim.net.process import Process
from tests.sim_tools import tcp_stream

WEB = "10.0.2.20"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INDEX = b"<html><body><h1>Example Domain</h1></body></html>\n"
LARGE = random.Random(5).randbytes(200_000)  # over the static handler's 64 KiB: streamed with Content-Length
PIECES = [b"first piece\n", b"second, longer piece\n", b"x" * 3000]


def _handler(request: Request) -> tuple[int, list[tuple[str, str]], Any]:
    """/chunked: a generator body (chunked to HTTP/1.1 clients); /echo: the request body back; else 404."""
    if request.path == "/chunked":
        return 200, [("Content-Type", "text/plain")], iter(PIECES)
    if request.path == "/echo":
        return 200, [("Content-Type", "application/octet-stream")], request.body
    return 404, [("Content-Type", "text/plain")], b"nothing here\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_bytes(INDEX)
    (root / "large.bin").write_bytes(LARGE)
    return root


def _network(site: Path, seed: int = 1) -> Network:
    """client 10.0.1.10 - r - web 10.0.2.20: static files from `site` on port 80, the handler on 8080."""
    net = Network(seed=seed)
    client, router, web = net.add_host("client"), net.add_router("r"), net.add_host("web")
    net.link(client, router, a_ip="10.0.1.10/24", b_ip="10.0.1.1/24", delay="2ms")
    net.link(router, web, a_ip="10.0.2.1/24", b_ip=f"{WEB}/24", delay="3ms")
    web.spawn(serve_http, web.socket, ("", 80), root=site, spawn=web.spawn, name="httpd")
    web.spawn(serve_http, web.socket, ("", 8080), handler=_handler, spawn=web.spawn, name="httpd-app")
    return net


def _run(net: Network, proc: Process) -> Process:
    net.run_until(lambda: proc.done, 3600 * 1_000_000_000)
    assert proc.done
    if proc.exception is not None:
        raise proc.exception
    return proc


def _client(net: Network, fn: Any, *args: Any) -> Any:
    return _run(net, net.hosts["client"].spawn(fn, *args)).result


def _client_ports(net: Network) -> list[int]:
    """The client's TCP source ports, once each, in the order its connections began."""
    ports = []
    for event in net.trace.events:
        frame = event.frame
        if event.node == "client" and event.kind.value == "send" and frame and frame[23] == 6 and frame[47] & 0x02:
            ports.append(int.from_bytes(frame[34:36], "big"))
    return list(dict.fromkeys(ports))


def _read_to_close(sock: Any) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _read_response(sock: Any, buffer: bytes) -> tuple[bytes, bytes]:
    """One Content-Length response from `buffer` + the socket; (response, what follows it)."""
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(4096)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(rest) < length:
        rest += sock.recv(4096)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def test_the_tutorial_client_script(site: Path) -> None:
    net = _network(site)
    proc = _run(net, net.hosts["client"].run_script(EXAMPLES / "tutorial_client.py", [WEB]))
    out = proc.stdout
    assert out.startswith("HTTP/1.1 200 OK\r\n") and INDEX.decode() in out
    received = int(out.rsplit("(", 1)[1].split()[0])
    (port,) = _client_ports(net)
    assert received == len(tcp_stream(net, "web:eth0", 80, port)), "the whole (one-segment) response was read"


def test_requests_static_files_and_404(site: Path) -> None:
    net = _network(site)

    def fetch() -> list[requests.Response]:
        with requests.Session() as session:
            return [session.get(f"http://{WEB}/{path}", timeout=10) for path in ("", "large.bin", "missing")]

    index, large, missing = _client(net, fetch)
    assert (index.status_code, index.content, index.headers["Content-Type"]) == (200, INDEX, "text/html")
    assert large.content == LARGE and large.headers["Content-Length"] == str(len(LARGE))
    assert "Transfer-Encoding" not in large.headers
    assert missing.status_code == 404 and b"404 Not Found" in missing.content
    assert len(_client_ports(net)) == 1, "three requests on one keep-alive connection"


def _keep_alive() -> tuple[bytes, bytes, bytes]:
    """Two requests on one connection, the second pipelined behind the first, then one that asks to close."""
    sock = socket.create_connection((WEB, 80), timeout=10)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: web\r\n\r\nGET /missing HTTP/1.1\r\nHost: web\r\n\r\n")
    first, rest = _read_response(sock, b"")
    second, rest = _read_response(sock, rest)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
    third = rest + _read_to_close(sock)
    sock.close()
    return first, second, third


def test_raw_socket_keep_alive_pipelining_and_close(site: Path) -> None:
    net = _network(site)
    first, second, third = _client(net, _keep_alive)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(INDEX)
    assert f"Content-Length: {len(INDEX)}\r\n".encode().lower() in first.lower()
    assert second.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert third.startswith(b"HTTP/1.1 200 OK\r\n") and third.endswith(INDEX)
    assert b"connection: close" in third.lower()
    (port,) = _client_ports(net)
    assert tcp_stream(net, "web:eth0", 80, port) == first + second + third
    fins = [e for e in net.trace.events if e.node == "web" and e.kind.value == "send" and e.frame
            and e.frame[23] == 6 and e.frame[47] & 0x01]
    assert fins, "the server closed after Connection: close"


def _raw(request: bytes, port: int = 8080) -> bytes:
    sock = socket.create_connection((WEB, port), timeout=10)
    sock.sendall(request)
    data = _read_to_close(sock)
    sock.close()
    return data


def test_chunked_body_on_the_wire_and_through_requests(site: Path) -> None:
    net = _network(site)
    raw = _client(net, _raw, b"GET /chunked HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower() and b"content-length" not in head.lower()
    assert body == b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in PIECES) + b"0\r\n\r\n"
    response = _client(net, lambda: requests.get(f"http://{WEB}:8080/chunked", timeout=10))
    assert response.content == b"".join(PIECES) and response.headers["Transfer-Encoding"] == "chunked"


def test_http_1_0_gets_a_close_delimited_body(site: Path) -> None:
    net = _network(site)
    raw = _client(net, _raw, b"GET /chunked HTTP/1.0\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"chunked" not in head.lower()
    assert body == b"".join(PIECES)


def test_request_body_with_content_length_and_chunked(site: Path) -> None:
    net = _network(site)
    payload = random.Random(3).randbytes(50_000)

    def post() -> tuple[bytes, bytes]:
        fixed = requests.post(f"http://{WEB}:8080/echo", data=payload, timeout=10).content
        chunked = requests.post(f"http://{WEB}:8080/echo", data=iter([payload[:7], payload[7:]]), timeout=10)
        return fixed, chunked.content

    assert _client(net, post) == (payload, payload)


def test_404_from_the_handler_and_from_static_files(site: Path) -> None:
    net = _network(site)
    app = _client(net, _raw, b"GET /nope HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
    static = _client(net, _raw, b"GET /nope.html HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n", 80)
    assert app.startswith(b"HTTP/1.1 404 Not Found\r\n") and app.endswith(b"\r\n\r\nnothing here\n")
    assert static.startswith(b"HTTP/1.1 404 Not Found\r\n") and b"<h1>404 Not Found</h1>" in static


def _slow_first_request(wait: float) -> bytes:
    sock = socket.create_connection((WEB, 80), timeout=90)
    time.sleep(wait)  # e.g. the request's first segments lost and retransmitted
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        return _read_to_close(sock)
    except ConnectionError:
        return b""
    finally:
        sock.close()


def test_a_first_request_may_take_up_to_sixty_seconds(site: Path) -> None:
    # Apache waits its Timeout (60 s) for a first request, KeepAliveTimeout (5 s) only between requests.
    net = _network(site)
    assert _client(net, _slow_first_request, 6).startswith(b"HTTP/1.1 200 OK\r\n")
    assert _client(net, _slow_first_request, 59.9).startswith(b"HTTP/1.1 200 OK\r\n")
    assert _client(net, _slow_first_request, 60.1) == b""


def test_an_idle_keep_alive_connection_is_closed_after_five_seconds(site: Path) -> None:
    net = _network(site)

    def idle() -> tuple[bytes, float, bytes]:
        sock = socket.create_connection((WEB, 80), timeout=30)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: web\r\n\r\n")
        first, rest = _read_response(sock, b"")
        start = time.monotonic()
        tail = rest + _read_to_close(sock)
        waited = time.monotonic() - start
        sock.close()
        return first, waited, tail

    first, waited, tail = _client(net, idle)
    assert first.endswith(INDEX) and tail == b""
    assert waited == pytest.approx(5.0, abs=0.05), "Apache's KeepAliveTimeout between requests"


