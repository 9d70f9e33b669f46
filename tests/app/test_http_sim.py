"""The HTTP server on a simulated host, served to the tutorial's client script (host.run_script), to requests and to
raw socket code alike: keep-alive, Content-Length and chunked bodies, HTTP/1.0, 404; the bytes checked against what
the server put on the wire."""

from __future__ import annotations

import errno
import random
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from layersim.app.http_server import Request, serve_http
from layersim.net.engine.process import Process
from layersim.net.network import Network
from tests.sim_tools import tcp_stream

WEB = "10.0.2.20"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INDEX = b"<html><body><h1>Example Domain</h1></body></html>\n"
LARGE = random.Random(5).randbytes(200_000)  # over the static handler's 64 KiB: streamed with Content-Length
PIECES = [b"first piece\n", b"second, longer piece\n", b"x" * 3000]


def _handler(request: Request) -> tuple[int, list[tuple[str, str]], Any]:
    """/chunked: a generator body (chunked to HTTP/1.1 clients); /echo: the request body back; CONNECT: a tunnel
    to ok.example:443 (with the body "hello" as its first bytes), 403 for anything else; else 404."""
    if request.method == "CONNECT":
        if request.target == "ok.example:443":
            return 200, [("X-Tunnel", "yes")], b"hello"
        return 403, [("Content-Type", "text/plain")], b"no tunnel\n"
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




# --- hostile and odd requests -------------------------------------------------------------------------------------

def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def _get(target: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n" % target.encode()


def test_long_paths_are_404_and_request_lines_over_8_kib_414(site: Path) -> None:
    net = _network(site)
    # GET <target> HTTP/1.1\r\n is the target's length + 15 bytes: 8,192 bytes are allowed, 8,193 are not (nginx)
    cases = {"/" + "a" * 300: 404,  # one name over NAME_MAX: ENAMETOOLONG from the file system
             "/" + "a/" * 2500: 404,  # the whole path over PATH_MAX: ENAMETOOLONG
             "/" + "b" * (8192 - 15 - 1): 404, "/" + "b" * (8192 - 15): 414,
             "/" + "c" * 20_000: 414}  # h11 alone would give 431 past its 16 KiB
    for target, status in cases.items():
        response = _client(net, _raw, _get(target), 80)
        assert (_status(response), len(target)) == (status, len(target))
        assert b"<h1>%d " % status in response and b"connection: close" in response.lower()


def test_file_system_errors_are_404_or_403_never_500(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (site / "loop").symlink_to(site / "loop")  # ELOOP (Python 3.11's resolve() raises RuntimeError for it)
    (site / "locked.html").write_bytes(b"locked")
    real_open = Path.open

    def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "locked.html":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))  # root reads any file: fake it
        if self.name == "index.html":
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)
    net = _network(site)
    for target, status in {"/loop": 404, "/loop/x": 404, "/locked.html": 403, "/": 404}.items():
        response = _client(net, _raw, _get(target), 80)
        assert (_status(response), target) == (status, target)


def test_path_traversal_never_leaves_the_served_root(site: Path) -> None:
    (site.parent / "secret.txt").write_bytes(b"do not serve")
    net = _network(site)
    attempts = {"/../secret.txt": 403, "/%2e%2e/secret.txt": 403, "/%2E%2E%2Fsecret.txt": 403,
                "/..%2fsecret.txt": 403, "/a/../../secret.txt": 403, "/%2e%2e%5csecret.txt": 404,
                "http://web/../secret.txt": 403, "/%252e%252e/secret.txt": 404, "/index.html%00": 400,
                "/%00/../secret.txt": 400, "/secret.txt": 404}
    for target, status in attempts.items():
        response = _client(net, _raw, _get(target), 80)
        assert (_status(response), target) == (status, target)
        assert b"do not serve" not in response
    assert _status(_client(net, _raw, b"GET /\x00 HTTP/1.1\r\nHost: web\r\n\r\n", 80)) == 400  # h11 refuses it


def _trickle(pieces: list[bytes], gaps: list[float]) -> tuple[bytes, float, int]:
    """Send `pieces` with `gaps` seconds between them, unless the server answers first: what it answered, the
    seconds from the first piece to the answer, and how many pieces were sent."""
    sock = socket.create_connection((WEB, 80), timeout=90)
    sock.sendall(pieces[0])
    start, sent = time.monotonic(), 1
    answer = b""
    for piece, gap in zip(pieces[1:], gaps, strict=True):
        sock.settimeout(gap)
        try:
            answer = sock.recv(65536)
            break
        except TimeoutError:
            sock.sendall(piece)
            sent += 1
    sock.settimeout(90)
    answer += _read_to_close(sock)
    sock.close()
    return answer, time.monotonic() - start, sent


def test_a_slowloris_client_gets_408_twenty_seconds_after_its_first_byte(site: Path) -> None:
    net = _network(site)
    request = b"GET / HTTP/1.1\r\nHost: web\r\n\r\n"
    answer, waited, sent = _client(net, _trickle, [request[i:i + 1] for i in range(len(request))],
                                   [30.0] * (len(request) - 1))
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"connection: close" in answer.lower()
    assert sent == 1 and 20.0 < waited < 20.1  # not 20 minutes: one byte per 30 s used to restart the clock


def test_the_head_deadline_grows_a_second_per_500_bytes_up_to_40(site: Path) -> None:
    padded = b"GET / HTTP/1.1\r\nHost: web\r\nX-Pad: " + b"p" * 4964 + b"\r\n"  # 5,000 bytes: 30 s
    huge = b"GET / HTTP/1.1\r\nHost: web\r\nX-Pad: " + b"p" * 14964 + b"\r\n"  # 15,000 bytes: 40 s, not 50
    short = b"GET / HTTP/1.1\r\nHost: web\r\n"
    for first, gap, status in [(short, 19.9, 200), (short, 20.1, 408),
                               (padded, 29.9, 200), (padded, 30.1, 408), (huge, 39.9, 200), (huge, 40.1, 408)]:
        answer, _, _ = _client(_network(site), _trickle, [first, b"Connection: close\r\n\r\n"], [gap])
        assert (_status(answer), len(first), gap) == (status, len(first), gap)


def test_the_handlers_answer_to_connect_is_sent(site: Path) -> None:
    net = _network(site)
    tunnel = _client(net, _raw, b"CONNECT ok.example:443 HTTP/1.1\r\nHost: ok.example:443\r\n\r\n")
    head, _, rest = tunnel.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"x-tunnel: yes" in head.lower()
    assert b"content-length" not in head.lower() and b"transfer-encoding" not in head.lower()  # RFC 9110 §9.3.6
    assert rest == b"hello"  # the tunnel's first bytes, then the server closes (it has nothing to relay)
    refused = _client(net, _raw, b"CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n"
                                 b"GET /nope HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
    first, _, second = refused.partition(b"no tunnel\n")
    assert first.startswith(b"HTTP/1.1 403 Forbidden\r\n") and b"content-length: 10\r\n" in first.lower()
    assert second.startswith(b"HTTP/1.1 404 Not Found\r\n")  # a refused CONNECT leaves the connection usable
