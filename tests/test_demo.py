"""`layersim demo` in the suite: layersim.demo.run and the command line, the captures checked by tshark (demo.pcapng,
the laptop's view, and every interface one at a time: clean, with DNS, ARP, the handshake, the GET and the 200, and
the NAT rewrite on the home router's outside link; the all-interfaces file with its packet ids and directions),
byte-identical for the same seed, and retransmitting but complete under loss."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from layersim.app.narrative import run_scenario
from layersim.capture import Direction, read_capture
from layersim.cli import main
from layersim.demo import ALL_INTERFACES, DNS_ADDRESS, LAPTOP_VIEW, WEB_ADDRESS, DemoRun, page, run
from layersim.demo_story import story
from layersim.net.topology import load_topology
from tests.sim_tools import expert_summary, split_interface, tshark_rows
from tests.tools import rfc1071_sum, run_tshark, tshark_stderr

ROOT = Path(__file__).resolve().parent.parent

LAPTOP, OUTSIDE = "10.0.0.2", "198.51.100.2"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, Path]:
    """The demo with seed 1 and no loss, its captures in a folder of its own."""
    out = tmp_path_factory.mktemp("demo")
    return run(seed=1, out=out), out


@pytest.fixture(scope="module")
def per_interface(demo: tuple[DemoRun, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """all-interfaces.pcapng split by tshark into one file per interface."""
    outcome, out = demo
    folder = tmp_path_factory.mktemp("split")
    names = [f"{node.name}:{i}" for node in outcome.network.nodes.values() for i in node.interfaces]
    return {name: split_interface(out / ALL_INTERFACES, name, folder / f"{name.replace(':', '_')}.pcapng")
            for name in names}


def test_the_demo_fetches_the_page_and_writes_its_captures(demo: tuple[DemoRun, Path]) -> None:
    outcome, out = demo
    response = outcome.requests_process.result
    assert response.status_code == 200 and response.content == page()
    assert response.headers["Content-Length"] == str(len(page()))
    assert outcome.tutorial_process.exception is None and outcome.tutorial_process.result.startswith(b"HTTP/1.1 200")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["all-interfaces.pcapng", "demo.pcapng", "home-isp1.pcap", "isp1-dns.pcap", "isp1-isp2.pcap",
                     "isp2-web.pcap", "laptop-home.pcap"]
    assert outcome.files[:2] == [out / LAPTOP_VIEW, out / ALL_INTERFACES]
    # Every interface is in the all-interfaces file; demo.pcapng is the laptop's part of it, frame for frame (with
    # the same packet ids and directions), and each per-link pcap holds what its first interface sent and received.
    records = list(read_capture(out / ALL_INTERFACES))
    assert {r.interface for r in records} == {f"{n}:{i}" for n, node in outcome.network.nodes.items()
                                              for i in node.interfaces}
    laptop = [r for r in records if r.interface == "laptop:eth0"]
    view = list(read_capture(out / LAPTOP_VIEW))
    assert [(r.time_ns, r.data, r.comment, r.packet_id, r.direction) for r in view] == [
        (r.time_ns, r.data, r.comment, r.packet_id, r.direction) for r in laptop]
    assert {r.interface for r in view} == {"laptop:eth0"}
    for link in outcome.network.links:
        pcap = [r.data for r in read_capture(out / f"{link.a.node.name}-{link.b.node.name}.pcap")]
        assert pcap == [r.data for r in records if r.interface == link.a.full_name], link


def test_cli_demo_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["response"]["status"] == "200 OK" and data["response"]["body_bytes"] == len(page())
    assert [d["direction"] for d in data["dns"]] == ["out", "in"]
    assert data["dns"][1]["answers"] == [f"example.com A {WEB_ADDRESS} (TTL 300)"]
    assert [s["flags"] for s in data["handshake"]] == ["S", "S.", "."]
    assert data["get"]["request_line"] == "GET / HTTP/1.1"
    assert [h["node"] for h in data["get"]["hops"]] == ["laptop", "home", "isp1", "isp2", "web"]
    home = data["get"]["hops"][1]["changes"]
    assert any(c.startswith("IPv4.src") and LAPTOP in c and OUTSIDE in c for c in home), home
    assert data["retransmissions"] == 0 and "link_loss" not in data["drops"]
    # The home router's table, as conntrack -L prints it: both connections (requests and the tutorial client),
    # still in TIME_WAIT.
    lines = data["nat_table"].splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(rf"tcp +6 \d+ TIME_WAIT src={LAPTOP} dst={WEB_ADDRESS} sport=(\d+) dport=80 "
                            rf"src={WEB_ADDRESS} dst={OUTSIDE} sport=80 dport=\1 \[ASSURED\]", line), line
    tutorial = data["tutorial_client"]
    assert tutorial["body"] == "Hello World" and not tutorial["short_read"] and tutorial["host"] == "hello.example.com"
    created = [n for n in data["nat"] if n["what"] == "created"]
    assert {n["protocol"] for n in created} == {6, 17} and all(n["inside"].startswith(LAPTOP) for n in created)
    assert (tmp_path / "demo.pcapng").is_file() and data["files"][0] == str(tmp_path / "demo.pcapng")


def test_cli_demo_quiet_prints_the_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path), "--quiet", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [str(tmp_path / LAPTOP_VIEW), str(tmp_path / ALL_INTERFACES)] and len(lines) == 7
    assert all(Path(line).is_file() for line in lines)


def _problems(per_interface: dict[str, Path]) -> dict[str, dict[str, int]]:
    """Per interface, the Errors and Warns counts of `tshark -z expert` that are not zero."""
    out = {}
    for name, path in per_interface.items():
        counts = {k: v for k, v in expert_summary(path).items() if k in ("Errors", "Warns") and v}
        if counts:
            out[name] = counts
    return out


@pytest.mark.tshark
def test_each_interface_has_zero_expert_warnings(demo: tuple[DemoRun, Path],
                                                 per_interface: dict[str, Path]) -> None:
    assert _problems(per_interface) == {}
    frames = sum(len(tshark_rows(path, "frame.number")) for path in per_interface.values())
    assert frames == len(list(read_capture(demo[1] / ALL_INTERFACES)))  # every frame was looked at


@pytest.mark.tshark
def test_the_file_users_open_first_has_nothing_for_wiresharks_analysis_to_flag(demo: tuple[DemoRun, Path]) -> None:
    # demo.pcapng is what Wireshark opens first: no expert error or warning, no retransmission, out-of-order or
    # duplicate-ACK note (before, every interface in one file gave 6 errors, 28 warnings and 72 such notes), and
    # each GET the laptop sent is found once.
    path = demo[1] / LAPTOP_VIEW
    summary = expert_summary(path)
    assert (summary.get("Errors", 0), summary.get("Warns", 0)) == (0, 0), summary
    # The notes left are the two connections' closings, the chats their handshakes, GETs and 200s.
    assert (summary["Notes"], summary["Chats"]) == (4, 12), summary
    analysis = ("tcp.analysis.retransmission or tcp.analysis.out_of_order or tcp.analysis.duplicate_ack"
                " or tcp.analysis.spurious_retransmission or tcp.analysis.fast_retransmission or dns.retransmission")
    assert tshark_rows(path, "frame.number", display_filter=analysis) == []
    gets = tshark_rows(path, "http.request.method", "http.host", "frame.packet_flags_direction",
                       display_filter="http.request")
    assert gets == [["GET", "example.com", "0x00000002"], ["GET", "hello.example.com", "0x00000002"]]
    assert len(tshark_rows(path, "frame.number")) == len(list(read_capture(path))) > 20


@pytest.mark.tshark
def test_all_interfaces_file_opens_with_the_packet_ids_and_directions_we_wrote(demo: tuple[DemoRun, Path]) -> None:
    outcome, out = demo
    path = out / ALL_INTERFACES
    proc = run_tshark("-r", path, "-q")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    rows = tshark_rows(path, "frame.interface_name", "frame.packet_id", "frame.packet_flags_direction")
    ours = [(r.interface, r.packet_id, r.direction) for r in read_capture(path)]
    assert [(name, int(ident), Direction(int(bits, 16))) for name, ident, bits in rows] == ours
    # The trace's own ids: every frame a node sent (out) or got (in) on an interface, in the same order.
    events = [(f"{e.node}:{e.interface}", e.packet_id, Direction.OUTBOUND if e.kind.value == "send"
               else Direction.INBOUND) for e in outcome.network.trace.events if e.kind.value in ("send", "receive")]
    assert sorted(ours, key=str) == sorted(events, key=str)
    # One packet across interfaces: the GET has one id from the laptop to the web server, NATed on the way.
    get_id = next(ident for ident, in tshark_rows(path, "frame.packet_id", display_filter="http.request"))
    hops = tshark_rows(path, "frame.interface_name", "frame.packet_flags_direction", "ip.src",
                       display_filter=f"frame.packet_id == {get_id}")
    assert hops == [["laptop:eth0", "0x00000002", LAPTOP], ["home:eth0", "0x00000001", LAPTOP],
                    ["home:eth1", "0x00000002", OUTSIDE], ["isp1:eth0", "0x00000001", OUTSIDE],
                    ["isp1:eth1", "0x00000002", OUTSIDE], ["isp2:eth0", "0x00000001", OUTSIDE],
                    ["isp2:eth1", "0x00000002", OUTSIDE], ["web:eth0", "0x00000001", OUTSIDE]]


@pytest.mark.tshark
def test_laptop_link_shows_arp_dns_handshake_get_and_200(per_interface: dict[str, Path]) -> None:
    path = per_interface["laptop:eth0"]
    rows = tshark_rows(path, "arp.opcode", "dns.qry.name", "dns.a", "dns.flags.response", "tcp.flags.str",
                       "http.request.method", "http.request.uri", "http.response.code", "ip.src", "ip.dst")
    assert rows[0][0] == "1" and rows[1][0] == "2", "ARP request and reply for the gateway come first"
    dns = [r for r in rows if r[1]]
    assert [(r[1], r[2], r[3]) for r in dns[:2]] == [("example.com", "", "0"), ("example.com", WEB_ADDRESS, "1")]
    assert (dns[0][8], dns[0][9]) == (LAPTOP, DNS_ADDRESS)
    tcp = [r for r in rows if r[4]]
    flags = [r[4].replace("\u00b7", "") for r in tcp[:3]]
    assert flags == ["S", "AS", "A"]
    assert (tcp[0][8], tcp[0][9], tcp[1][8], tcp[1][9]) == (LAPTOP, WEB_ADDRESS, WEB_ADDRESS, LAPTOP)
    assert next((r[5], r[6]) for r in rows if r[5]) == ("GET", "/")
    assert next(r[7] for r in rows if r[7]) == "200"


@pytest.mark.tshark
def test_nat_rewrite_between_the_two_sides_of_the_home_router(per_interface: dict[str, Path]) -> None:
    fields = ("ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.flags", "tcp.payload",
              "ip.checksum.status", "tcp.checksum.status")
    inside = tshark_rows(per_interface["laptop:eth0"], *fields, display_filter="tcp")
    outside = tshark_rows(per_interface["home:eth1"], *fields, display_filter="tcp")
    assert len(inside) == len(outside) > 20
    assert all(r[7] == "1" and r[8] == "1" for r in inside + outside), "IP and TCP checksums good in tshark"
    # The laptop's side: 10.0.0.2 <-> web; the outside link: 198.51.100.2 <-> web, same ports, same bytes.
    assert {(r[0], r[1]) for r in inside} == {(LAPTOP, WEB_ADDRESS), (WEB_ADDRESS, LAPTOP)}
    assert {(r[0], r[1]) for r in outside} == {(OUTSIDE, WEB_ADDRESS), (WEB_ADDRESS, OUTSIDE)}
    key = sorted((r[2], r[3], r[4], r[5], r[6]) for r in inside)
    assert key == sorted((r[2], r[3], r[4], r[5], r[6]) for r in outside)
    assert sum(len(r[6]) for r in inside) // 2 > len(page())


def test_same_seed_same_bytes_other_seed_other_bytes(demo: tuple[DemoRun, Path], tmp_path: Path) -> None:
    _, first = demo
    run(seed=1, out=tmp_path / "again")
    run(seed=2, out=tmp_path / "other")
    for path in first.iterdir():
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (tmp_path / "other" / "demo.pcapng").read_bytes() != (first / "demo.pcapng").read_bytes()


@pytest.mark.tshark
def test_loss_still_completes_with_retransmissions(tmp_path: Path) -> None:
    outcome = run(seed=1, loss=0.05, out=tmp_path)
    assert outcome.requests_process.result.content == page()
    data = story(outcome)
    assert data["retransmissions"] > 0 and data["drops"]["link_loss"] > 0
    web = split_interface(tmp_path / ALL_INTERFACES, "web:eth0", tmp_path / "web.pcapng")
    marked = [r for path in (tmp_path / LAPTOP_VIEW, web) for r in
              tshark_rows(path, "frame.number", display_filter="tcp.analysis.retransmission")]
    assert marked, "tshark sees the retransmissions"


def test_data_after_close_is_answered_with_the_rst_linux_sends() -> None:
    # Recorded on Linux 6.18 between two network namespaces: the client reads 1000 bytes and closes (FIN), the
    # server's next 1000 bytes (ack 20) are answered by this 54-byte frame: RST only, seq 20, ack 0, window 0.
    linux_rst = bytes.fromhex("663da82c101a4ac52dc5a58a08004500" "002800004000400626bc0a0900010a09"
                              "000288ca0050a24410b3000000005004" "00005fba0000")
    assert rfc1071_sum(linux_rst[14:34]) == 0xFFFF, "the IP header as captured"
    assert linux_rst[47] == 0x04 and linux_rst[42:46] == bytes(4) and linux_rst[48:50] == bytes(2)
    # examples/tutorial_long.toml: the tutorial client stops at its first short read and closes; the rest of the
    # response arrives after its FIN and is answered with RSTs.
    scenario = load_topology(ROOT / "examples" / "tutorial_long.toml")
    run_scenario(scenario)
    net = scenario.network
    seen = [(e.kind, e.frame) for e in net.trace.events if e.node == "client" and e.frame is not None
            and e.frame[12:14] == b"\x08\x00" and e.frame[23] == 6]
    index = next(i for i, (kind, f) in enumerate(seen) if kind.value == "send" and f[47] & 0x04)
    data = next(f for kind, f in reversed(seen[:index]) if kind.value == "receive" and len(f) > 66)
    rst = seen[index][1]
    assert (rst[47], rst[38:42], rst[42:46], rst[48:50]) == (0x04, data[42:46], bytes(4), bytes(2))
