"""`layersim demo --https`: requests.get("https://example.com/") with verification on the demo's laptop, the story
of the TLS handshake (what each side sends, what an ISP observer reads, what only the ends know), the capture
that tshark decrypts, and the same structure (every byte but TLS's) for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layersim.capture import read_capture
from layersim.cli import main
from layersim.demo import CERTIFICATE_NAMES, LAPTOP_VIEW, DemoRun, page, run
from layersim.demo_https import NONDETERMINISM, https_story, render_https
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from layersim.wire.tls import TLSRecord
from tests.sim_tools import tshark_rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, Path]:
    out = tmp_path_factory.mktemp("demo-https")
    return run(seed=2, out=out, https=True), out


def test_the_story_tells_the_tls_handshake_and_who_sees_what(demo: tuple[DemoRun, Path]) -> None:
    data = https_story(demo[0])
    assert data["failures"] == {} and data["response"] == {"status": "200 OK", "body_bytes": len(page())}
    assert [s["flags"] for s in data["handshake"]] == ["S", "S.", "."]
    first, second = data["tls"][0], data["tls"][1]
    hello = first["records"][0]["handshake"][0]
    assert first["direction"] == "out" and hello["message"] == "ClientHello"
    assert (hello["server_name"], hello["alpn"], "0x304" in hello["supported_versions"],
            hello["key_share_groups"]) == ("example.com", ["http/1.1"], True, ["0x1d"])
    answer = second["records"][0]["handshake"][0]
    assert second["direction"] == "in" and answer["message"] == "ServerHello"
    assert answer["supported_versions"] == ["0x304"]
    assert all(r.get("opaque") for item in data["tls"][2:] for r in item["records"] if r["type"] == "application_data")
    seen = data["observer"]
    assert seen["server_name"] == "example.com" and seen["alpn"] == ["http/1.1"]
    assert seen["addresses"].startswith("198.51.100.2:") and seen["addresses"].endswith("93.184.216.34:443")
    ends = data["endpoints"]
    assert (ends["version"], ends["alpn"], ends["request"], ends["host"]) == ("TLSv1.3", "http/1.1",
                                                                              "GET / HTTP/1.1", "example.com")
    assert ends["certificate"]["names"] == CERTIFICATE_NAMES
    assert ends["certificate"]["issuer"] == "layersim Simulated Root CA"
    assert "CLIENT_TRAFFIC_SECRET_0" in data["key_log"]
    text = render_https(data)
    assert "ClientHello (SNI example.com" in text and NONDETERMINISM in text


@pytest.mark.tshark
def test_the_laptop_capture_decrypts_in_tshark(demo: tuple[DemoRun, Path]) -> None:
    rows = tshark_rows(demo[1] / LAPTOP_VIEW, "http.request.method", "http.request.uri", "http.host",
                       display_filter="tls && http.request")
    assert rows == [["GET", "/", "example.com"]]


def _structure(path: Path) -> list[tuple[object, ...]]:
    """Per frame: its bytes when it carries no TLS, else its length, TCP ports and flags, and its records' types and
    lengths (what OpenSSL's randomness leaves alone)."""
    out: list[tuple[object, ...]] = []
    for record in read_capture(path):
        packet = decode(record.data)
        if TCP in packet and 443 in (packet[TCP].sport, packet[TCP].dport) and packet.payload_of(TCP):
            tcp = packet[TCP]
            records = tuple((int(r.content_type), r.length) for r in packet.layers if isinstance(r, TLSRecord))
            out.append((record.time_ns, len(record.data), tcp.sport, tcp.dport, int(tcp.flags), records))
        else:
            out.append((record.time_ns, record.data))
    return out


def test_cli_demo_https_json_and_the_same_structure_for_the_same_seed(
        demo: tuple[DemoRun, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--https", "--json", "--seed", "2", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["url"] == "https://example.com/" and data["response"]["status"] == "200 OK"
    assert _structure(tmp_path / LAPTOP_VIEW) == _structure(demo[1] / LAPTOP_VIEW)
