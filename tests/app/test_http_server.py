"""serve_http on real loopback sockets, fetched by requests, http.client and the tutorial's raw socket client."""

from __future__ import annotations

import http.client
import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from layersim.app import http_server
from layersim.app.http_server import Request, serve_http
from layersim.app.serving import thread_spawn
from layersim.errors import LayersimError
from tests.app.conftest import running

INDEX = b"<html><body><h1>Example Domain</h1></body></html>\n"
BIG = random.Random(0).randbytes(1 << 20)  # 1 MiB: streamed in pieces by the static handler


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A document root with an index, a subdirectory, a 1 MiB file and a symbolic link pointing out of it."""
    root = tmp_path / "www"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "sub" / "index.html").write_bytes(b"sub index")
    (root / "style.css").write_bytes(b"h1 {}")
    (root / "data.unknownext").write_bytes(b"\x00\x01")
    (root / "a b.txt").write_bytes(b"spaced")
    (root / "big.bin").write_bytes(BIG)
    (tmp_path / "secret.txt").write_bytes(b"do not serve")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def static(site: Path) -> Iterator[tuple[str, int]]:
    """The site served with one thread per connection."""
    with running(serve_http, socket, ("127.0.0.1", 0), root=site, spawn=thread_spawn) as address:
        yield address


def tutorial_client(address: tuple[str, int], request: bytes) -> bytes:
    """The tutorial's socket-only client: send the request, read until the server closes or a read comes short."""
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
            if len(chunk) < 4096:
                break
        return data


def read_to_close(address: tuple[str, int], request: bytes) -> bytes:
    """Send `request` and read until the server closes the connection."""
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        return data


def raw_exchange(conn: socket.socket, request: bytes, *, method: str = "GET") -> http.client.HTTPResponse:
    """Send `request` on an open socket and read one response with http.client's parser."""
    conn.sendall(request)
    response = http.client.HTTPResponse(conn, method=method)
    response.begin()
    return response


def split_head(data: bytes) -> tuple[list[bytes], bytes]:
    """Status line and header lines, and the body bytes after them."""
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


def test_requests_get_index_and_big_file_intact(static: tuple[str, int]) -> None:
    base = f"http://{static[0]}:{static[1]}"
    reply = requests.get(base + "/", timeout=5)
    assert reply.status_code == 200 and reply.content == INDEX
    assert reply.headers["Content-Type"] == "text/html" and reply.headers["Content-Length"] == str(len(INDEX))
    big = requests.get(base + "/big.bin", timeout=5)
    assert big.status_code == 200 and big.headers["Content-Length"] == str(len(BIG)) and big.content == BIG
    assert requests.get(base + "/style.css", timeout=5).headers["Content-Type"] == "text/css"
    assert requests.get(base + "/data.unknownext", timeout=5).headers["Content-Type"] == "application/octet-stream"
    assert requests.get(base + "/a%20b.txt", timeout=5).content == b"spaced"
    assert requests.get(base + "/sub/", timeout=5).content == b"sub index"
    moved = requests.get(base + "/sub?x=1", timeout=5, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == "/sub/"


def test_tutorial_raw_client(static: tuple[str, int]) -> None:
    data = tutorial_client(static, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    lines, body = split_head(data)
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Length: %d" % len(INDEX) in lines and body == INDEX  # headers and body in one send
    closing = tutorial_client(static, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    lines, body = split_head(closing)
    assert b"Connection: close" in lines and body == INDEX


def test_connection_close_and_http10_end_the_connection(static: tuple[str, int]) -> None:
    for request in (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"GET / HTTP/1.0\r\n\r\n"):
        with socket.create_connection(static, timeout=5) as conn:
            response = raw_exchange(conn, request)
            assert response.status == 200 and response.read() == INDEX
            assert conn.recv(1) == b""  # the server closed its end


def test_keep_alive_two_requests_on_one_connection(static: tuple[str, int]) -> None:
    client = http.client.HTTPConnection(*static, timeout=5)
    client.request("GET", "/")
    first = client.getresponse()
    assert first.status == 200 and first.read() == INDEX
    sock = client.sock
    client.request("GET", "/sub/")
    second = client.getresponse()
    assert second.status == 200 and second.read() == b"sub index"
    assert client.sock is sock and sock is not None  # the same connection, not a reconnect
    client.close()


def test_head_sends_headers_only(static: tuple[str, int]) -> None:
    with socket.create_connection(static, timeout=5) as conn:
        head = raw_exchange(conn, b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", method="HEAD")
        assert head.status == 200 and head.getheader("Content-Length") == str(len(BIG)) and head.read() == b""
        # Had a body followed, this response's status line would be read out of it.
        after = raw_exchange(conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert after.status == 200 and after.read() == INDEX


def test_missing_file_and_method_not_allowed(static: tuple[str, int]) -> None:
    base = f"http://{static[0]}:{static[1]}"
    assert requests.get(base + "/nope.html", timeout=5).status_code == 404
    assert requests.get(base + "/sub/nope/", timeout=5).status_code == 404
    post = requests.post(base + "/", data=b"x", timeout=5)
    assert post.status_code == 405 and post.headers["Allow"] == "GET, HEAD"


def test_path_traversal_is_refused(static: tuple[str, int]) -> None:
    for target in (b"/../secret.txt", b"/sub/../../secret.txt", b"/%2e%2e/secret.txt", b"/..%2fsecret.txt",
                   b"/escape.txt"):
        data = tutorial_client(static, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        lines, _ = split_head(data)
        assert lines[0] == b"HTTP/1.1 403 Forbidden", target
        assert b"do not serve" not in data
    assert split_head(tutorial_client(static, b"GET /sub/../index.html HTTP/1.1\r\nHost: x\r\n\r\n"))[0][0] \
        == b"HTTP/1.1 403 Forbidden"  # ".." is refused even when it would stay inside the root


def test_malformed_request_gets_400_and_close(static: tuple[str, int]) -> None:
    for garbage in (b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nHost x\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"):
        with socket.create_connection(static, timeout=5) as conn:
            response = raw_exchange(conn, garbage)
            assert response.status == 400 and response.getheader("Connection") == "close"
            response.read()
            assert conn.recv(1) == b""


def test_idle_keep_alive_connection_is_closed(site: Path) -> None:
    with running(serve_http, socket, ("127.0.0.1", 0), root=site, idle_timeout=0.2) as address, \
            socket.create_connection(address, timeout=5) as conn:
        response = raw_exchange(conn, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert response.status == 200 and response.read() == INDEX
        assert conn.recv(1) == b""  # closed by the server after 0.2 s of silence, well before 5 s


def echo(request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    """A handler that describes the request it got."""
    text = f"{request.method} {request.path} q={request.query} host={request.header('HOST')} len={len(request.body)}"
    return 201, [("Content-Type", "text/plain"), ("X-Echo", "yes")], text.encode() + b"\n" + request.body


def chunks(request: Request) -> tuple[int, dict[str, str], Iterator[bytes]]:
    """A handler streaming its body in pieces (and some that misbehave)."""
    if request.path == "/fail":
        raise RuntimeError("handler bug")
    if request.path == "/empty":
        return 204, {}, iter([b"ignored"])
    if request.path == "/lying":
        return 200, {"Content-Length": "3"}, iter([b"more than three"])
    return 200, {"Content-Type": "text/plain"}, iter([b"hello ", b"", b"chunked ", b"world"])


def test_handler_sees_method_path_query_headers_body(tmp_path: Path) -> None:
    # One task per connection: a requests.Response still referenced keeps its connection open.
    with running(serve_http, socket, ("127.0.0.1", 0), handler=echo, spawn=thread_spawn) as (host, port):
        reply = requests.post(f"http://{host}:{port}/a%20b?x=1", data=b"payload", timeout=5)
        assert reply.status_code == 201 and reply.reason == "Created" and reply.headers["X-Echo"] == "yes"
        assert reply.content == f"POST /a b q=x=1 host={host}:{port} len=7\npayload".encode()
        streamed = requests.post(f"http://{host}:{port}/up", data=iter([b"ab", b"cd"]), timeout=5)  # chunked
        assert streamed.content.endswith(b"len=4\nabcd")
        big = requests.put(f"http://{host}:{port}/", data=BIG, timeout=5)
        assert big.content.split(b"\n", 1)[1] == BIG


def test_chunked_response(tmp_path: Path) -> None:
    with running(serve_http, socket, ("127.0.0.1", 0), handler=chunks, spawn=thread_spawn) as address:
        reply = requests.get(f"http://{address[0]}:{address[1]}/", timeout=5)
        assert reply.content == b"hello chunked world" and reply.headers["Transfer-Encoding"] == "chunked"
        data = read_to_close(address, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert data.endswith(b"\r\n\r\n6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n")
        old = read_to_close(address, b"GET / HTTP/1.0\r\n\r\n")  # no chunked for HTTP/1.0: close-delimited
        assert old.endswith(b"\r\n\r\nhello chunked world") and b"Transfer-Encoding" not in old
        failed = requests.get(f"http://{address[0]}:{address[1]}/fail", timeout=5)
        assert failed.status_code == 500 and failed.headers["Connection"] == "close"
        empty = read_to_close(address, b"GET /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert empty.startswith(b"HTTP/1.1 204 No Content\r\n") and empty.endswith(b"\r\n\r\n")
        assert b"Content-Length" not in empty and b"ignored" not in empty
        lying = read_to_close(address, b"GET /lying HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"more" not in lying  # the connection is cut rather than sending a broken message
        assert requests.get(f"http://{address[0]}:{address[1]}/", timeout=5).status_code == 200  # still serving


def test_expect_100_continue(tmp_path: Path) -> None:
    with running(serve_http, socket, ("127.0.0.1", 0), handler=echo) as address, \
            socket.create_connection(address, timeout=5) as conn:
        conn.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert conn.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        response = raw_exchange(conn, b"abc")
        assert response.status == 201 and response.read().endswith(b"len=3\nabc")


def test_request_body_over_the_limit_gets_413(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_server, "MAX_BODY", 1000)
    with running(serve_http, socket, ("127.0.0.1", 0), handler=echo) as (host, port):
        assert requests.post(f"http://{host}:{port}/", data=b"x" * 1000, timeout=5).status_code == 201
        assert requests.post(f"http://{host}:{port}/", data=b"x" * 1001, timeout=5).status_code == 413


def test_one_connection_at_a_time_without_spawn(site: Path) -> None:
    with running(serve_http, socket, ("127.0.0.1", 0), root=site) as (host, port):
        for _ in range(3):
            assert requests.get(f"http://{host}:{port}/", timeout=5).content == INDEX


def test_configuration_errors(site: Path) -> None:
    with pytest.raises(LayersimError, match="exactly one"):
        serve_http(socket, ("127.0.0.1", 0), root=site, handler=echo)
    with pytest.raises(LayersimError, match="exactly one"):
        serve_http(socket, ("127.0.0.1", 0))
    with pytest.raises(LayersimError, match="not a directory"):
        serve_http(socket, ("127.0.0.1", 0), root=site / "index.html")
