"""HTTPS on simulated hosts: unmodified requests with verification on against the demo's web server, the real
ssl exceptions for a wrong name or an expired certificate, the SSLSocket API over simulated TCP (server side
included), and captures whose key log lets tshark decrypt the GET."""

from __future__ import annotations

import socket
import ssl
import struct
from pathlib import Path
from typing import Any

import pytest
import requests

from layersim.app.http_server import serve_http
from layersim.demo import CERTIFICATE_NAMES, HTTPS_URL, WEB_ADDRESS, _site, build, page
from layersim.net.network import Network
from tests.sim_tools import tshark_rows

pytestmark = pytest.mark.random_tls  # TLS bytes carry OpenSSL's randomness (see hook_equivalence)

HOUR = 3_600_000_000_000


def _on_laptop(net: Network, fn: Any, *args: Any) -> Any:
    """Run fn(*args) on the laptop to its end and return its result (re-raising what it raised)."""
    proc = net.hosts["laptop"].spawn(fn, *args, at=net.now + 10_000_000)
    net.run_until(lambda: proc.done, HOUR)
    assert proc.done, "the process did not finish"
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def _serve(net: Network, port: int, names: list[str], *, expired: bool = False) -> None:
    """One more HTTPS server on the web host, with a certificate for `names`."""
    web = net.hosts["web"]
    tls = net.runtime.tls.server_context(names, expired=expired)
    web.spawn(serve_http, web.socket, ("", port), handler=_site, spawn=web.spawn, tls=tls)


def _get_with_socket(url: str) -> tuple[bytes, Any]:
    with requests.get(url, timeout=30, stream=True) as response:
        sock = response.raw.connection.sock
        facts = (isinstance(sock, ssl.SSLSocket), sock.version(), sock.selected_alpn_protocol(),
                 sock.getpeercert()["subjectAltName"], sock.server_hostname)
        return response.content, facts


def test_requests_gets_the_page_over_https_with_verification() -> None:
    net = build(3)
    body, facts = _on_laptop(net, _get_with_socket, HTTPS_URL)
    assert body == page()
    assert facts == (True, "TLSv1.3", "http/1.1", tuple(("DNS", name) for name in CERTIFICATE_NAMES), "example.com")


def _httpx_get(url: str) -> tuple[bytes, Any]:
    import httpx

    response = httpx.get(url, timeout=30)
    return response.content, response.extensions["http_version"]


def _urllib_get(url: str) -> tuple[bytes, Any]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read(), answer.status


@pytest.mark.parametrize(("fetch", "extra"), [(_httpx_get, b"HTTP/1.1"), (_urllib_get, 200)])
def test_httpx_and_urllib_get_the_page_over_https_with_verification(fetch: Any, extra: Any) -> None:
    import httpcore  # imported before the run (importing it inside a process is the client matrix's concern)

    assert httpcore
    assert _on_laptop(build(3), fetch, HTTPS_URL) == (page(), extra)


def _error_chain(exc: BaseException) -> list[BaseException]:
    """Every exception reachable from `exc` through causes, contexts, `reason` and exception arguments."""
    out: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop()
        if any(current is seen for seen in out):
            continue
        out.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo += [x for x in linked if isinstance(x, BaseException)]
    return out


@pytest.mark.parametrize(("names", "expired", "url", "message"), [
    (["other.example"], False, "https://example.com:8443/", "Hostname mismatch"),
    (["example.com"], True, "https://example.com:8443/", "certificate has expired"),
    (["example.com"], False, f"https://{WEB_ADDRESS}:8443/", "IP address mismatch"),  # names only, no IP SAN
])
def test_a_wrong_name_or_an_expired_certificate_fails_as_it_does_for_real(
        names: list[str], expired: bool, url: str, message: str) -> None:
    net = build(3)
    _serve(net, 8443, names, expired=expired)

    def get() -> BaseException:
        try:
            requests.get(url, timeout=30)
        except requests.exceptions.SSLError as exc:
            return exc
        raise AssertionError("the request succeeded")

    error = _on_laptop(net, get)
    verify = [e for e in _error_chain(error) if isinstance(e, ssl.SSLCertVerificationError)]
    assert verify and message in verify[0].verify_message, _error_chain(error)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_without_verification_a_wrong_certificate_is_accepted() -> None:
    net = build(3)
    _serve(net, 8443, ["other.example"], expired=True)
    assert _on_laptop(net, lambda: requests.get("https://example.com:8443/", timeout=30, verify=False).content) \
        == page()


def test_the_trust_store_of_a_process_is_the_simulated_ca_and_no_context_outside_learns_it() -> None:
    import certifi

    net = build(3)
    context = ssl.create_default_context()  # made outside the run: the real trust store
    before = len(context.get_ca_certs())

    def program() -> tuple[str, str]:
        where = certifi.where()
        with socket.create_connection(("example.com", 443)) as raw, \
                context.wrap_socket(raw, server_hostname="example.com") as tls:
            return Path(where).read_text(), tls.getpeercert()["issuer"][-1][0][1]

    bundle, issuer = _on_laptop(net, program)
    assert bundle == net.runtime.tls.ca.cert_pem.decode() and issuer == "layersim Simulated Root CA"
    assert len(context.get_ca_certs()) == before  # the simulated CA was trusted by a copy, not by `context`
    assert certifi.where() != bundle  # the real one again outside the run


def test_sslsocket_api_both_sides_close_notify_makefile_timeout_and_nonblocking() -> None:
    net = build(4)
    web = net.hosts["web"]
    seen: dict[str, Any] = {}

    def server() -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate = net.runtime.tls.ca.issue(["example.com"])
        folder = net.runtime.tls.directory
        (folder / "t.pem").write_bytes(certificate.cert_pem)
        (folder / "t.key").write_bytes(certificate.key_pem)
        context.load_cert_chain(folder / "t.pem", folder / "t.key")
        context.set_alpn_protocols(["echo/1"])
        with socket.create_server(("", 7443)) as listener, \
                context.wrap_socket(listener, server_side=True) as tls_listener:
            conn, _ = tls_listener.accept()
            seen["server"] = (conn.server_side, conn.version(), conn.selected_alpn_protocol())
            line = conn.makefile("rb").readline()
            conn.sendall(line.upper())
            seen["eof"] = conn.recv(100)  # the client's close_notify: b""
            conn.unwrap().close()

    def client() -> Any:
        context = ssl.create_default_context()
        context.set_alpn_protocols(["echo/1", "h2"])
        raw = socket.create_connection(("example.com", 7443))
        tls = context.wrap_socket(raw, server_hostname="example.com")
        facts = [raw.fileno(), tls.cipher()[1], tls.selected_alpn_protocol(), tls.getpeername()[1]]
        tls.settimeout(0.5)
        with pytest.raises(TimeoutError):
            tls.recv(10)  # nothing sent yet
        tls.setblocking(False)
        with pytest.raises(ssl.SSLWantReadError):
            tls.recv(10)
        tls.setblocking(True)
        tls.sendall(b"hello tls\n")
        facts.append(tls.recv(100))
        tls.unwrap().close()
        return facts

    web.spawn(server)
    facts = _on_laptop(net, client)
    assert facts == [-1, "TLSv1.3", "echo/1", 7443, b"HELLO TLS\n"]
    assert seen == {"server": (True, "TLSv1.3", "echo/1"), "eof": b""}


def _tcp_payload(frame: bytes) -> bytes:
    """What an Ethernet/IPv4/TCP frame carries (b"" for anything else)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return b""
    tcp = 14 + (frame[14] & 0x0F) * 4
    return frame[tcp + (frame[tcp + 12] >> 4) * 4:]


def _blocks(path: Path) -> list[tuple[int, bytes]]:
    """(block type, body) of every pcapng block, in file order."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        out.append((kind, data[pos + 8:pos + length - 4]))
        pos += length
    return out


@pytest.mark.tshark
def test_the_capture_carries_the_key_log_so_tshark_shows_the_get_inside_tls(tmp_path: Path) -> None:
    net = build(3)
    path = tmp_path / "https.pcapng"
    net.capture(path, ["laptop:eth0"])
    _on_laptop(net, lambda: requests.get(HTTPS_URL, timeout=30).content)
    net.close()
    rows = tshark_rows(path, "tcp.dstport", "tls.record.content_type", "http.request.method", "http.host",
                       display_filter="tls && http.request")
    assert rows == [["443", "23", "GET", "example.com"]]
    blocks = _blocks(path)
    secrets = [i for i, (kind, _) in enumerate(blocks) if kind == 0x0A]
    assert secrets and all(blocks[i][1][:4] == struct.pack("<I", 0x544C534B) for i in secrets)
    labels = {line.split()[0] for i in secrets for line in blocks[i][1][8:].split(b"\n") if line.strip(b"\0")}
    assert labels == {b"CLIENT_HANDSHAKE_TRAFFIC_SECRET", b"SERVER_HANDSHAKE_TRAFFIC_SECRET",
                      b"CLIENT_TRAFFIC_SECRET_0", b"SERVER_TRAFFIC_SECRET_0", b"EXPORTER_SECRET"}
    # Each secret before the first encrypted record: the first block of secrets precedes the ServerHello's frame.
    server_hello = next(i for i, (kind, body) in enumerate(blocks) if kind == 6 and _tcp_payload(body[20:])[:1]
                        == b"\x16" and _tcp_payload(body[20:])[5:6] == b"\x02")
    assert secrets[0] < server_hello


def test_with_tls_1_2_an_observer_sees_the_certificate_the_ca_issued() -> None:
    from cryptography import x509

    from layersim.net.trace.log import EventKind
    from layersim.wire.packet import decode
    from layersim.wire.tls import TLSHandshakeType, TLSRecord

    net = build(3)

    def program() -> tuple[str | None, bytes]:
        context = ssl.create_default_context()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("example.com", 443)) as raw, \
                context.wrap_socket(raw, server_hostname="example.com") as tls:
            return tls.version(), tls.getpeercert(binary_form=True)

    version, der = _on_laptop(net, program)
    seen = [message for event in net.trace.select(EventKind.RECEIVE, node="laptop") if event.frame
            for layer in decode(event.frame).layers if isinstance(layer, TLSRecord)
            for message in layer.handshake if message.msg_type is TLSHandshakeType.CERTIFICATE]
    assert version == "TLSv1.2" and len(seen) == 1
    leaf, root = seen[0].certificates
    assert leaf == der and x509.load_der_x509_certificate(root).subject.rfc4514_string().endswith(
        "O=layersim")
