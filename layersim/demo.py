"""The whole story of `requests.get("http://example.com/")` on a small internet, in one call.

`build()` makes the network: a laptop behind a home router doing NAT, two ISP routers, a DNS server for
example.com and its web server (HTTP on port 80, HTTPS on 443 with a certificate from the network's simulated
CA). `run()` runs unmodified `requests.get` on the laptop (`https=True`: of https://example.com/), then the tutorial's
socket-only client against hello.example.com (a one-segment page, which its short-read loop gets whole), captures
the laptop's interface (`demo.pcapng`, the file to open first), every interface (`all-interfaces.pcapng`) and each
link (a classic pcap per link), and returns what happened for `layersim.demo_story` to tell, failures included
(`DemoRun.failures`: under loss both DNS queries, or a connection, can be lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layersim.app.dns_server import serve_dns
from layersim.app.host_dns import use_dns
from layersim.app.http_server import Request, serve_http
from layersim.dns.zone import Zone
from layersim.errors import LayersimError
from layersim.net.engine.capture import CaptureSession
from layersim.net.engine.process import Process, sleep
from layersim.net.host.host import Host
from layersim.net.network import Network
from layersim.tcp import State

__all__ = ["ALL_INTERFACES", "CERTIFICATE_NAMES", "DNS_ADDRESS", "HELLO", "HTTPS_URL", "LAPTOP_VIEW", "WEB_ADDRESS",
           "DemoRun", "build", "page", "run", "tutorial_client"]

WEB_ADDRESS = "93.184.216.34"
DNS_ADDRESS = "203.0.113.53"
URL = "http://example.com/"
ZONE = {"origin": "example.com", "ttl": 300,
        "records": ["@ NS ns1", f"ns1 A {DNS_ADDRESS}", f"@ A {WEB_ADDRESS}", "www CNAME @", "hello CNAME @"]}
HELLO = "hello.example.com"  # the same server; its page, "Hello World", fits in one segment
HTTPS_URL = "https://example.com/"
CERTIFICATE_NAMES = ["example.com", "www.example.com", HELLO]  # the web server's certificate: the zone's web names
# The file a user opens first: the laptop's own view, each frame once, so Wireshark's analysis has nothing to flag.
LAPTOP_VIEW = "demo.pcapng"
# Every interface in one file: a frame appears once per end of each link it crosses (same epb_packetid, its own
# interface and direction), which Wireshark 4.0's TCP analysis reads as retransmissions.
ALL_INTERFACES = "all-interfaces.pcapng"
_PARAGRAPH = ("This domain is for use in illustrative examples in documents. You may use this domain in literature "
              "without prior coordination or asking for permission. ")


def page() -> bytes:
    """The web server's page: a few kilobytes of HTML, so the response spans several TCP segments."""
    body = "".join(f"    <p>{i + 1}. {_PARAGRAPH}</p>\n" for i in range(20))
    return (f"<!doctype html>\n<html>\n<head>\n    <title>Example Domain</title>\n</head>\n<body>\n"
            f"    <h1>Example Domain</h1>\n{body}</body>\n</html>\n").encode()


def _site(request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    """The web server's handler: the page at /, "Hello World" at /hello and for hello.example.com, 404 elsewhere."""
    if (request.header("host") or "").split(":")[0].lower() == HELLO and request.path == "/":
        return 200, [("Content-Type", "text/plain")], b"Hello World"
    if request.path in ("/", "/index.html"):
        return 200, [("Content-Type", "text/html; charset=utf-8")], page()
    if request.path == "/hello":
        return 200, [("Content-Type", "text/plain")], b"Hello World"
    return 404, [("Content-Type", "text/plain")], b"not found\n"


def build(seed: int = 1, loss: float = 0.0, *, trace: str = "all") -> Network:
    """laptop (10.0.0.2) - home (NAT) - isp1 - isp2 - web (example.com), and dns on isp1; `loss` on the ISP links."""
    if not 0.0 <= loss <= 0.5:
        raise LayersimError(f"demo: loss {loss} must be between 0 and 0.5")
    net = Network(seed=seed, trace=trace)
    laptop, home = net.add_host("laptop"), net.add_router("home")
    isp1, isp2 = net.add_router("isp1"), net.add_router("isp2")
    dns, web = net.add_host("dns"), net.add_host("web")
    net.link(laptop, home, a_ip="10.0.0.2/24", b_ip="10.0.0.1/24", bandwidth="100Mbit", delay="1ms")
    net.link(home, isp1, a_ip="198.51.100.2/24", b_ip="198.51.100.1/24", bandwidth="50Mbit", delay="5ms",
             loss=loss)
    net.link(isp1, isp2, a_ip="192.0.2.1/30", b_ip="192.0.2.2/30", bandwidth="1Gbit", delay="10ms", loss=loss)
    net.link(isp2, web, a_ip="93.184.216.1/24", b_ip=f"{WEB_ADDRESS}/24", bandwidth="1Gbit", delay="1ms")
    net.link(isp1, dns, a_ip="203.0.113.1/24", b_ip=f"{DNS_ADDRESS}/24", bandwidth="1Gbit", delay="1ms")
    home.routes.add("0.0.0.0/0", via="198.51.100.1")
    isp1.routes.add("93.184.216.0/24", via="192.0.2.2")
    isp2.routes.add("0.0.0.0/0", via="192.0.2.1")
    home.enable_nat("eth1")
    use_dns(laptop, DNS_ADDRESS)
    dns.spawn(serve_dns, dns.socket, Zone.from_dict(ZONE), spawn=dns.spawn, name="named")
    web.spawn(serve_http, web.socket, handler=_site, spawn=web.spawn, name="httpd")
    tls = net.runtime.tls.server_context(CERTIFICATE_NAMES)  # issued by the network's simulated CA
    web.spawn(serve_http, web.socket, ("", 443), handler=_site, spawn=web.spawn, tls=tls, name="httpsd")
    return net


def tutorial_client(host: str = "example.com", port: int = 80) -> bytes:
    """The tutorial's socket-only client, as printed: GET, then read until one recv returns under 4096 bytes."""
    import socket  # inside a simulated process this is the host's socket module

    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect((socket.gethostbyname(host), port))
    client.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    response = b""
    while True:
        chunk = client.recv(4096)
        response += chunk
        if len(chunk) < 4096:
            break
    client.close()
    return response


@dataclass
class DemoRun:
    """What `run` did: the network, the processes, the netstat snapshot and the files written."""

    network: Network
    seed: int
    loss: float
    requests_process: Process
    tutorial_process: Process
    netstat: str = ""
    netstat_ns: int | None = None
    files: list[Path] = field(default_factory=list)  # the laptop's view, every interface, then one pcap per link
    capture: CaptureSession | None = None  # the laptop's view (LAPTOP_VIEW)

    @property
    def failures(self) -> dict[str, str]:
        """What failed, by process name ("requests.get": "ConnectionError: ..."): a result of the run (under loss
        a lookup or a connection can fail), told by the story, not an error in what was asked for."""
        return {proc.name: f"{type(proc.exception).__name__}: {proc.exception}"
                for proc in (self.requests_process, self.tutorial_process) if proc.exception is not None}


def _watch_netstat(run: DemoRun, laptop: Host, port: int = 80) -> None:
    """Take `netstat -tan` on the laptop once the response is arriving (data received, or in flight)."""
    for _ in range(20_000):
        for endpoint in laptop.tcp.connections.values():
            conn = endpoint.conn
            if endpoint.key[3] == port and conn.state is State.ESTABLISHED and (conn.readable or conn.unacked):
                run.netstat, run.netstat_ns = laptop.netstat(), laptop.clock.now
                return
        sleep(250_000)


def run(seed: int = 1, loss: float = 0.0, out: str | Path | None = None, *, url: str = URL,
        https: bool = False) -> DemoRun:
    """Build the demo network, capture it (to `out`, when given), run requests.get then the tutorial client;
    `https`: requests.get of HTTPS_URL (verification on), and no tutorial client (its plain socket speaks no TLS).
    """
    import requests

    if https:
        url = HTTPS_URL

    net = build(seed, loss)
    laptop: Host = net.hosts["laptop"]  # type: ignore[assignment]
    files: list[Path] = []
    capture = None
    if out is not None:
        folder = Path(out)
        capture = net.capture(folder / LAPTOP_VIEW, ["laptop:eth0"])
        files += [capture.path, net.capture(folder / ALL_INTERFACES).path]
        for link in net.links:
            path = folder / f"{link.a.node.name}-{link.b.node.name}.pcap"
            net.capture(path, [link.a.full_name])
            files.append(path)
    fetch = laptop.spawn(_get_https if https else _get, requests, url, at="10ms", name="requests.get")
    demo = DemoRun(net, seed, loss, fetch, fetch, files=files, capture=capture)
    laptop.spawn(_watch_netstat, demo, laptop, 443 if https else 80, at="10ms", name="netstat")
    net.run_until(lambda: fetch.done, 600_000_000_000)
    if not https:
        demo.tutorial_process = laptop.spawn(tutorial_client, HELLO, at=net.now + 100_000_000,
                                             name="tutorial-client")
        net.run_until(lambda: demo.tutorial_process.done, 600_000_000_000)
    net.run(until=net.now + 61_000_000_000)  # let every connection leave TIME-WAIT
    net.close()
    return demo


def _get_https(requests: Any, url: str) -> Any:
    """requests.get over TLS (verify=True), with what the laptop's end of TLS knows kept on the response as
    `tls`: version, cipher, ALPN, the server's certificate as verified."""
    with requests.get(url, timeout=30, stream=True) as response:
        sock = response.raw.connection.sock
        response.tls = {"version": sock.version(), "cipher": sock.cipher()[0], "alpn": sock.selected_alpn_protocol(),
                        "certificate": sock.getpeercert()}
        _ = response.content
    return response


def _get(requests: Any, url: str) -> Any:
    """requests.get, with its body read (so the connection's whole story is in the trace)."""
    response = requests.get(url, timeout=30)
    _ = response.content
    return response
