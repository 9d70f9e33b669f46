"""Real HTTP clients against real servers, unmodified, on two simulated hosts two routers apart (client - r1 - r2 -
server, the server's name in the client's /etc/hosts): requests, urllib.request, http.client, urllib3, httpx (sync
and async) and aiohttp against http.server, socketserver, an asyncio server and an aiohttp server; one small GET
each (issue 22)."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import socketserver
import urllib.request
from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Any

import aiohttp
import httpx
import pytest
import requests
import urllib3
from aiohttp import web as aioweb

from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from tests.net.conftest import SERVER_IP, build_chain

HOUR = 3_600_000_000_000
BODY = b"hello from the simulated web\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers any GET with BODY."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def _http_server(port: int) -> None:
    with http.server.HTTPServer(("", port), _Handler) as server:
        server.serve_forever(poll_interval=3600)


class _Raw(socketserver.StreamRequestHandler):
    """A hand-written HTTP/1.0 answer over socketserver."""

    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY)


def _socketserver(port: int) -> None:
    with socketserver.TCPServer(("", port), _Raw) as server:
        server.serve_forever(poll_interval=3600)


async def _asyncio_main(port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "", port)
    async with server:
        await server.serve_forever()


def _asyncio_server(port: int) -> None:
    asyncio.run(_asyncio_main(port))


async def _aiohttp_main(port: int) -> None:
    async def index(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(body=BODY)

    app = aioweb.Application()
    app.router.add_get("/", index)
    runner = aioweb.AppRunner(app)
    await runner.setup()
    await aioweb.TCPSite(runner, "0.0.0.0", port).start()
    await asyncio.sleep(3600)


def _aiohttp_server(port: int) -> None:
    asyncio.run(_aiohttp_main(port))


SERVERS: dict[str, Callable[[int], None]] = {"http.server": _http_server, "socketserver": _socketserver,
                                             "asyncio": _asyncio_server, "aiohttp": _aiohttp_server}


def _requests(url: str) -> bytes:
    return requests.get(url, timeout=30).content


def _urllib(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _http_client(url: str) -> bytes:
    host, port = url.split("/")[2].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/")
    body = conn.getresponse().read()
    conn.close()
    return body


def _urllib3(url: str) -> bytes:
    with urllib3.PoolManager() as pool:
        return pool.request("GET", url, timeout=30).data


def _httpx(url: str) -> bytes:
    return httpx.get(url, timeout=30).content


def _httpx_async(url: str) -> bytes:
    async def main() -> bytes:
        async with httpx.AsyncClient(timeout=30) as client:
            return (await client.get(url)).content

    return asyncio.run(main())


def _aiohttp(url: str) -> bytes:
    async def main() -> bytes:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return await response.read()

    return asyncio.run(main())


CLIENTS: dict[str, Callable[[str], bytes]] = {"requests": _requests, "urllib.request": _urllib,
                                              "http.client": _http_client, "urllib3": _urllib3, "httpx": _httpx,
                                              "httpx-async": _httpx_async, "aiohttp": _aiohttp}


def get_over_network(client: Callable[[str], bytes], server: Callable[[int], None], seed: int = 1,
                     port: int = 8000) -> tuple[Network, bytes]:
    """Start `server` on the chain's server, run `client` on its client against it; the network and the body."""
    chain = build_chain(seed)
    chain.client.hosts["www.example"] = IPv4Address(SERVER_IP)
    chain.server.spawn(server, port, name="server")
    proc = chain.client.spawn(client, f"http://www.example:{port}/")
    chain.net.run_until(lambda: proc.done, HOUR)
    assert proc.done, "the client did not finish"
    if proc.exception is not None:
        raise proc.exception
    assert any(chain.net.trace.select(EventKind.SEND, node="r2")), "nothing crossed the routers"
    return chain.net, proc.result


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_gets_from_every_server(client: str, server: str) -> None:
    assert get_over_network(CLIENTS[client], SERVERS[server])[1] == BODY
