"""The [[run]] kinds for services and measurements: an HTTP server (a directory or a body), a DNS server for a
zone, an HTTP GET client, a bulk transfer timed like iperf, and `hosts` (node names resolve on every host)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from layersim.app.narrative import run_scenario
from layersim.cli import main
from layersim.net.topology import TopologyError, load_topology
from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TUTORIAL = (EXAMPLES / "tutorial.toml").read_text(encoding="utf-8")
NETWORK = TUTORIAL[:TUTORIAL.index("[[run]]")]  # client - r1 - r2 - server, the client 10.0.1.10, the server 10.0.2.20


def write(tmp_path: Path, runs: str, files: dict[str, str] | None = None, top: str = "") -> Path:
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "t.toml"
    path.write_text(top + NETWORK + runs, encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], path: Path) -> dict:
    assert main(["run", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def server_payload(path: Path, port: int) -> bytes:
    """The bytes the server's TCP sent from `port`, in order, read from the trace (not from any result)."""
    scenario = load_topology(path)
    run_scenario(scenario)
    data = {}
    for event in scenario.network.trace.select(EventKind.SEND, node="server"):
        packet = decode(event.frame)
        if TCP in packet and packet[TCP].sport == port and packet.payload_of(TCP):
            data[packet[TCP].seq] = packet.payload_of(TCP)
    return b"".join(data[seq] for seq in sorted(data))


WEB = '''[[run]]
kind = "http_server"
on = "server"
root = "www"

[[run]]
kind = "http_server"
on = "server"
port = 8080
body = "hello\\n"

[[run]]
kind = "http_get"
from = "client"
to = "server"
at = "10ms"

[[run]]
kind = "http_get"
from = "client"
to = "10.0.2.20"
port = 8080
path = "/x"
at = "20ms"

[[run]]
kind = "http_get"
from = "client"
to = "server"
path = "/missing.html"
at = "30ms"
'''


def test_http_servers_and_gets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = "<h1>index</h1>\n"
    path = write(tmp_path, WEB, {"www/index.html": page})
    data = run_json(capsys, path)
    files, body, get, get_body, missing = (run["result"] for run in data["runs"])
    assert get["url"] == "http://server/" and get["status"] == 200 and get["body_bytes"] == len(page)
    assert get_body["url"] == "http://10.0.2.20:8080/x" and get_body["status"] == 200 and get_body["body_bytes"] == 6
    assert missing["status"] == 404 and missing["error"] is None
    assert files["requests"] == [{"method": "GET", "target": "/", "status": 200, "bytes": len(page)},
                                 {"method": "GET", "target": "/missing.html", "status": 404,
                                  "bytes": missing["body_bytes"]}]
    assert body["requests"] == [{"method": "GET", "target": "/x", "status": 200, "bytes": 6}]
    sent = server_payload(path, 8080)  # what the server put on the wire: the head, then the body
    head, _, rest = sent.partition(b"\r\n\r\n")
    assert get_body["header_bytes"] == len(head) + 4 and rest == b"hello\n"
    assert [run["running"] for run in data["runs"]] == ["blocked in accept()"] * 2 + [None] * 3
    assert main(["run", str(path)]) == 0
    story = capsys.readouterr().out
    assert "[[run]] #1: http_server www on server at 0 s\n  serving files under www on port 80\n" in story
    assert f"  GET http://server/: 200 OK, headers {get['header_bytes']} bytes, body {len(page)} bytes" in story


QUERY = '''import socket, struct
name = b"\\x03www\\x07example\\x03com\\x00"
query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(query, ("server", 53))
reply, _ = s.recvfrom(512)
print(reply.hex())
'''

DNS = '''[[run]]
kind = "dns_server"
on = "server"
zone = { origin = "example.com", records = ["www 300 IN A 10.0.2.80"] }

[[run]]
kind = "script"
on = "client"
path = "query.py"
at = "5ms"
'''


def test_dns_server_answers_from_its_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, write(tmp_path, DNS, {"query.py": QUERY}))
    server, client = data["runs"]
    assert server["result"] == {"origin": "example.com", "records": 1, "port": 53, "queries": 1}
    reply = bytes.fromhex(client["result"]["stdout"].strip())
    ident, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    assert ident == 0x1234 and flags & 0x8000 and flags & 0x000F == 0 and answers == 1
    assert reply[-4:] == bytes([10, 0, 2, 80])
    assert server["hops"][0]["node"] == "server" and server["running"] == "blocked in recvfrom()"


def test_dns_zone_from_a_file_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = '[[run]]\nkind = "dns_server"\non = "server"\nzone = "zone.toml"\n'
    zone = 'origin = "example.com"\nrecords = ["www 300 IN A 10.0.2.80", "mail IN A 10.0.2.81"]\n'
    data = run_json(capsys, write(tmp_path, runs, {"zone.toml": zone}))
    assert data["runs"][0]["result"]["records"] == 2
    with pytest.raises(TopologyError, match=r"\[\[run\]\] #1: zone: no such file 'nope.toml'"):
        load_topology(write(tmp_path, runs.replace("zone.toml", "nope.toml")))
    with pytest.raises(TopologyError, match=r"\[\[run\]\] #1: zone: zone 'example.com': unknown key"):
        load_topology(write(tmp_path, '[[run]]\nkind = "dns_server"\non = "server"\n'
                                      'zone = { origin = "example.com", recrods = [] }\n'))


def test_bulk_transfer_reports_goodput(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = '[[run]]\nkind = "bulk"\nfrom = "client"\nto = "server"\nbytes = 2000000\n'
    (run,) = run_json(capsys, write(tmp_path, runs))["runs"]
    result = run["result"]
    assert result["sent"] == result["bytes"] == 2_000_000 and result["error"] is None
    assert result["mbit_per_s"] == pytest.approx(2_000_000 * 8 / result["seconds"] / 1e6, rel=1e-6)
    assert 0 < result["mbit_per_s"] < 100  # the links run at 100 Mbit/s: goodput stays below
    assert main(["run", str(tmp_path / "t.toml")]) == 0
    assert f"[  1] 0.000-{result['seconds']:.3f} sec  2000000 bytes  {result['mbit_per_s']:.2f} Mbit/s" \
        in capsys.readouterr().out


def test_one_byte_bulk_and_a_second_bulk_to_the_same_sink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = ('[[run]]\nkind = "bulk"\nfrom = "client"\nto = "server"\nbytes = 1\n'
            '[[run]]\nkind = "bulk"\nfrom = "client"\nto = "server"\nbytes = 3000\nat = "1s"\n')
    first, second = run_json(capsys, write(tmp_path, runs))["runs"]
    assert first["result"]["sent"] == 1 and second["result"]["sent"] == 3000
    assert first["result"]["error"] is None and second["result"]["error"] is None


@pytest.mark.parametrize(("runs", "message"), [
    ('[[run]]\nkind = "bulk"\nfrom = "client"\nto = "r1"\n', "to: r1 is not a host's address"),
    ('[[run]]\nkind = "bulk"\nfrom = "client"\nto = "server"\nbytes = 0\n', "bytes: 0 must be between 1 and"),
    ('[[run]]\nkind = "http_server"\non = "server"\n', "give one of root (a directory to serve) or body"),
    ('[[run]]\nkind = "http_server"\non = "server"\nroot = "www"\nbody = "x"\n', "root: give one of root"),
    ('[[run]]\nkind = "http_server"\non = "server"\nroot = "nowhere"\n', "root: no such directory 'nowhere'"),
    ('[[run]]\nkind = "http_server"\non = "r1"\nbody = "x"\n', "on: r1 is a router; servers run on hosts"),
    ('[[run]]\nkind = "http_get"\nfrom = "client"\nto = "server"\npath = "x"\n', "path: 'x' must start with '/'"),
    ('[[run]]\nkind = "http_get"\nfrom = "client"\nto = "server"\nroot = "x"\n',
     "root: not an option of a http_get run"),
])
def test_run_kind_mistakes(tmp_path: Path, runs: str, message: str) -> None:
    with pytest.raises(TopologyError, match=r"\[\[run\]\] #1: " + message.replace("(", r"\(").replace(")", r"\)")):
        load_topology(write(tmp_path, runs))


def test_two_servers_on_one_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = '[[run]]\nkind = "http_server"\non = "server"\nbody = "a"\n' * 2
    assert main(["run", str(write(tmp_path, runs))]) == 2
    assert "[[run]] #2: http_server on server: [Errno 98] Address already in use" in capsys.readouterr().err


NAMES = '''import socket
for name in ("server", "r2", "client"):
    try:
        print(name, socket.gethostbyname(name))
    except OSError as exc:
        print(name, type(exc).__name__)
'''


@pytest.mark.parametrize(("top", "expected"), [
    ("", "server 10.0.2.20\nr2 10.0.12.2\nclient 10.0.1.10\n"),
    ("hosts = true\n", "server 10.0.2.20\nr2 10.0.12.2\nclient 10.0.1.10\n"),
    ("hosts = false\n", "server gaierror\nr2 gaierror\nclient 10.0.1.10\n"),
])
def test_node_names_resolve_on_every_host(tmp_path: Path, capsys: pytest.CaptureFixture[str], top: str,
                                          expected: str) -> None:
    runs = '[[run]]\nkind = "script"\non = "client"\npath = "names.py"\n'
    data = run_json(capsys, write(tmp_path, runs, {"names.py": NAMES}, top))
    assert data["runs"][0]["result"]["stdout"] == expected


def test_hosts_must_be_true_or_false(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="hosts: expected true or false, got a string 'yes'"):
        load_topology(write(tmp_path, "", top='hosts = "yes"\n'))


def test_the_services_example(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, EXAMPLES / "services.toml")
    web, dns, get, bulk = (run["result"] for run in data["runs"])
    assert web["requests"] == [{"method": "GET", "target": "/index.html", "status": 200, "bytes": 32}]
    assert dns["origin"] == "example.com" and get["status"] == 200 and get["body_bytes"] == 32
    assert bulk["sent"] == 1_000_000 and 0 < bulk["mbit_per_s"] < 10  # the 10 Mbit/s link is the bottleneck
    assert data["runs"][0]["target"] == "(a 32-byte body)"


@pytest.mark.random_tls
def test_https_server_run_serves_over_tls_with_a_certificate_for_the_host(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import requests

    runs = '[[run]]\nkind = "https_server"\non = "server"\nbody = "hello\\n"\n'
    scenario = load_topology(write(tmp_path, runs))
    (spec,) = scenario.runs
    assert (spec.options["port"], spec.options["names"]) == (443, ["server", "10.0.2.20"])
    client = scenario.network.hosts["client"]
    got = client.spawn(lambda: requests.get("https://10.0.2.20/", timeout=10).text, at="50ms")
    run_scenario(scenario)
    assert got.exception is None and got.result == "hello\n"
    assert main(["run", str(write(tmp_path, runs + 'port = 8443\nnames = ["secure.test"]\n'))]) == 0
    assert "https_server (a 6-byte body) on server" in capsys.readouterr().out


@pytest.mark.parametrize(("names", "message"), [("[]", "names: expected a non-empty array"),
                                                ('[""]', "names: expected a non-empty array"),
                                                ('"x"', "names: expected an array, got a string")])
def test_https_server_names_must_be_a_list_of_names(tmp_path: Path, names: str, message: str) -> None:
    runs = f'[[run]]\nkind = "https_server"\non = "server"\nbody = "x"\nnames = {names}\n'
    with pytest.raises(TopologyError, match=r"\[\[run\]\] #1: " + message):
        load_topology(write(tmp_path, runs))
