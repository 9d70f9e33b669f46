"""The page's JSON (layersim.view.model) against the trace and the field tables it is built from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layersim.cli import main
from layersim.errors import LayersimError
from layersim.net import EventKind, Network
from layersim.view import SCHEMA, page_html, view_data
from layersim.view.model import EVENT_COLUMNS
from layersim.wire.hexdump import PALETTE, field_map
from layersim.wire.packet import decode
from layersim.wire.valuefmt import brief
from tests.view.tools import get_packet_id, sends_of

ARRIVE = EVENT_COLUMNS.index("arrive")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data(demo_run):
    return view_data(demo_run.network, title="demo")


def test_every_event_is_on_the_page_in_trace_order(demo_run, data):
    events = demo_run.network.trace.events
    names = [node["name"] for node in data["topology"]["nodes"]]
    assert data["schema"] == SCHEMA and data["event_columns"] == list(EVENT_COLUMNS)
    assert len(data["events"]) == len(events) and data["sampling"]["notes"] == []
    for row, event in zip(data["events"], events, strict=True):
        assert (row[0], names[row[1]], row[2], row[3], row[4]) == (event.time_ns, event.node, event.interface,
                                                                    event.kind.value, event.packet_id)
        if event.kind is EventKind.DROP:
            assert row[7] == event.reason.value


def test_changes_at_each_hop_are_the_trace_hops(demo_run, data):
    """The GET's hops: the laptop made it (no changes), home rewrote MACs, TTL, checksums and the NAT source,
    the ISP routers MACs, TTL and the header checksum; the page shows the same changes as Trace.hops."""
    net = demo_run.network
    packet = get_packet_id(net)
    sends = sends_of(net, packet)
    hops = net.trace.hops(packet)
    assert [h.node for h in hops] == ["laptop", "home", "isp1", "isp2", "web"]
    assert str(sends[0]) not in data["changes"]  # the first hop made the packet: nothing to compare
    for index, hop in zip(sends[1:], hops[1:4], strict=True):
        shown = data["changes"][str(index)]
        assert shown == [[c.layer, c.field, brief(c.old, c.spec_field, 40), brief(c.new, c.spec_field, 40)]
                         for c in hop.changes]
    home = {(layer, field): (old, new) for layer, field, old, new in data["changes"][str(sends[1])]}
    assert home[("IPv4", "src")] == ("10.0.0.2", "198.51.100.2") and home[("IPv4", "ttl")] == ("64", "63")


def test_each_send_arrives_at_the_peer_with_the_same_packet(data):
    rows = data["events"]
    links = {(link["a"], link["a_iface"]): link["b"] for link in data["topology"]["links"]}
    links.update({(link["b"], link["b_iface"]): link["a"] for link in data["topology"]["links"]})
    sends = [row for row in rows if row[3] == "send" and row[ARRIVE] is not None]
    assert sends
    for row in sends:
        arrive = rows[row[ARRIVE]]
        assert arrive[3] == "receive" and arrive[4] == row[4] and arrive[1] == links[(row[1], row[2])]
        assert arrive[0] >= row[0]


def test_frame_details_come_from_the_field_tables(demo_run, data):
    """Each detailed frame's byte map is field_map's: every byte in exactly one colour group, hexdump's palette."""
    assert data["palette"] == list(PALETTE)
    assert data["frame_columns"] == ["proto", "flow", "summary", "size", "detail"]
    by_bytes = {bytes.fromhex(f[4]["hex"]): f[4] for f in data["frames"] if f[4]}
    assert len(by_bytes) == len(data["frames"])
    for event in demo_run.network.trace.select(EventKind.SEND)[:40]:
        detail = by_bytes[event.frame]
        rows = field_map(decode(event.frame))
        assert detail["spans"] == [[r.group, r.start, r.end, r.title] for r in rows]
        owner: dict[int, int] = {}
        for group, start, end, _ in detail["spans"]:
            for byte in range(start, end):
                assert owner.setdefault(byte, group) == group  # fields share bytes only inside one colour group
        assert sorted(owner) == list(range(len(event.frame)))  # and every byte has one
        fields = [name for layer in detail["layers"] for name, _, _ in layer["fields"]]
        assert fields == [r.field for r in rows]


def test_protocols_flows_and_ladders(data):
    assert {f[0] for f in data["frames"]} == {"ARP", "DNS", "TCP", "HTTP"}
    assert all(f[1] is None or data["flows"][f[1]].startswith(("TCP ", "UDP ")) for f in data["frames"])
    laptop = [ladder for ladder in data["ladders"] if data["topology"]["nodes"][ladder["node"]]["name"] == "laptop"]
    assert len(laptop) == 2  # requests.get and the tutorial client
    first = laptop[0]["rows"]
    assert first[0][1] == "out" and first[0][2].startswith("SYN ") and first[1][1] == "in"
    assert first[1][2].startswith("SYN|ACK ")
    assert all(data["events"][i][1] == laptop[0]["node"] for i, _, _ in first)


def test_limits_keep_the_first_events_and_say_so(demo_run):
    small = view_data(demo_run.network, max_events=10, max_detailed=0)
    assert len(small["events"]) == 10 and small["sampling"]["events_kept"] == 10
    assert all(f[4] is None for f in small["frames"])
    notes = " ".join(small["sampling"]["notes"])
    assert f"has {len(demo_run.network.trace)} events; the page keeps the first 10" in notes
    assert "shown for the first 0 of" in notes
    one = view_data(demo_run.network, max_events=1, max_detailed=1)
    assert len(one["events"]) == 1
    with pytest.raises(LayersimError, match="max_events"):
        view_data(demo_run.network, max_events=0)


def test_the_page_embeds_the_data_safely(demo_run):
    """A title or payload holding </script> cannot end the data early; the page loads nothing from outside."""
    data = view_data(demo_run.network, title="</script><script>alert(1)</script>{{DATA}}")
    page = page_html(data)
    assert page.count("</script>") == 2  # the data's and the code's own
    assert page.count('<h1 id="title">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;{{DATA}}</h1>') == 1
    start = page.index('id="layersim-data">') + len('id="layersim-data">')
    assert json.loads(page[start:page.index("</script>", start)])["title"] == data["title"]
    assert "default-src 'none'" in page
    assert "http://" not in page.split('id="layersim-data"')[0] and "https://" not in page


def test_to_html_and_the_command_line(demo_run, tmp_path, capsys):
    net: Network = demo_run.network
    path = net.to_html(tmp_path / "run.html", json=tmp_path / "run.json", max_events=50)
    assert path.read_text().startswith("<!doctype html>")
    assert len(json.loads((tmp_path / "run.json").read_text())["events"]) == 50
    assert net._repr_html_().startswith("<iframe srcdoc=")
    with pytest.raises(LayersimError, match="does not exist"):
        net.to_html(tmp_path / "missing" / "run.html")
    assert main(["view", "demo", "--out", str(tmp_path / "missing" / "x.html")]) == 2
    assert "--out: folder" in capsys.readouterr().err
    assert main(["view", "demo", "--out", str(tmp_path / "d.html"), "--until", "1s"]) == 2
    assert "only for a topology file" in capsys.readouterr().err


def test_a_topology_run_writes_its_page(tmp_path, capsys):
    """`layersim run FILE --html` and `layersim view FILE`: the same run, the same page data."""
    topology = str(ROOT / "examples" / "client_r1_r2_server.toml")
    assert main(["run", topology, "--quiet", "--html", str(tmp_path / "run.html"),
                 "--html-json", str(tmp_path / "run.json")]) == 0
    assert "run.html" in capsys.readouterr().out
    assert main(["view", topology, "--out", str(tmp_path / "view.html"), "--json", str(tmp_path / "view.json")]) == 0
    ran, viewed = (json.loads((tmp_path / name).read_text()) for name in ("run.json", "view.json"))
    assert ran == viewed and ran["title"] == "layersim run client_r1_r2_server.toml"
    names = {node["name"] for node in ran["topology"]["nodes"]}
    assert names == {"client", "r1", "r2", "server"} and ran["events"]
    page = (tmp_path / "run.html").read_text()
    assert f"<title>{ran['title']}</title>" in page and f'<h1 id="title">{ran["title"]}</h1>' in page


def test_output_lines_appear_when_printed(tmp_path):
    """What a process prints is on the page at the simulated time it printed it; app events and the process's
    start and end are lines too, all in time order."""
    from layersim.net import sleep

    net = Network(seed=1)
    host = net.add_host("h")

    def talk() -> None:
        print("first")
        sleep(1_000_000)
        print("second", end="")
        print()

    proc = host.spawn(talk, at="2ms", name="talker")
    net.run()
    assert proc.stdout == "first\nsecond\n"
    assert proc.stdout_pieces == [(2_000_000, "first\n"), (3_000_000, "second\n")]  # one piece per moment
    lines = view_data(net)["output"]
    assert [line for line in lines if line[2] == "talker"] == [[2_000_000, 0, "talker", "first\n"],
                                                               [3_000_000, 0, "talker", "second\n"]]
    process = [line for line in lines if line[2] == "process"]
    assert [line[0] for line in process] == [2_000_000, 3_000_000] and "what=exit" in process[1][3]
    assert [line[0] for line in lines] == sorted(line[0] for line in lines)


def test_the_demo_writes_its_page(demo_run, tmp_path, capsys):
    """`layersim demo --html --html-json`: the page of the same run (same seed, same events), named in the story's
    JSON under "pages" and not among the captures."""
    html, data = tmp_path / "demo.html", tmp_path / "demo.json"
    assert main(["demo", "--json", "--out", str(tmp_path / "out"), "--html", str(html), "--html-json", str(data)]) == 0
    story = json.loads(capsys.readouterr().out)
    assert story["pages"] == [str(data), str(html)] and all(f.endswith(".pcap") or f.endswith(".pcapng")
                                                             for f in story["files"])
    title = 'requests.get("http://example.com/") on a small internet'
    assert json.loads(data.read_text()) == json.loads(json.dumps(view_data(demo_run.network, title=title)))
