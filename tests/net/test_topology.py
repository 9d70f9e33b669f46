"""Topology files: the client - r1 - r2 - server example end to end, `layersim run`, and every kind of mistake."""

import json
import tomllib
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from layersim.app.narrative import narrative, narrative_json, run_scenario
from layersim.capture import read_capture
from layersim.cli import main
from layersim.net.topology import TopologyError, build_network, load_topology
from layersim.net.trace.log import EventKind
from layersim.wire.fielddiff import diff
from layersim.wire.packet import decode
from tests.tools import expert_problems, run_tshark, tshark_path, tshark_stderr

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "client_r1_r2_server.toml"
README = ROOT / "README.md"


def readme_toml_block() -> str | None:
    """The README's first ```toml block, or None while it has none."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    if "```toml" not in text:
        return None
    return text.split("```toml\n", 1)[1].split("```", 1)[0]


def example_text() -> str:
    """The example the README shows (its first toml block), or the example file until the README has one."""
    return readme_toml_block() or EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "client_r1_r2_server.toml"
    path.write_text(example_text(), encoding="utf-8")
    return path


def test_readme_shows_the_example_file():
    block = readme_toml_block()
    if block is None:
        pytest.skip("README.md has no ```toml block yet")
    assert block == EXAMPLE.read_text(encoding="utf-8")


# The example, end to end ----------------------------------------------------------------------------------
def test_example_ping_traceroute_and_udp(example):
    scenario = load_topology(example)
    outcomes = run_scenario(scenario)
    ping, trace, udp = (o.result for o in outcomes)
    assert ping.sent == 3 and ping.received == 3 and not ping.errors
    assert trace.reached
    assert trace.path == [IPv4Address("10.0.1.1"), IPv4Address("10.0.12.2"), IPv4Address("10.0.2.20")]
    assert udp.sent and udp.delivered and udp.error is None
    server = scenario.network.nodes["server"]
    assert [d.data for d in server.sockets.udp[(0, 9999)].received] == [b"hello, server"]


def test_example_first_packet_hop_by_hop(example):
    scenario = load_topology(example)
    report = narrative_json(scenario, run_scenario(scenario))
    hops = report["runs"][0]["hops"]
    assert [(h["node"], h["in"], h["out"], h["outcome"]) for h in hops] == [
        ("client", None, "eth0", "sent"), ("r1", "eth0", "eth1", "forwarded"), ("r2", "eth0", "eth1", "forwarded"),
        ("server", "eth0", None, "delivered")]
    assert "IPv4.ttl: 64 -> 63" in hops[1]["changes"] and "IPv4.ttl: 63 -> 62" in hops[2]["changes"]
    assert [h["next"] for h in hops] == ["r1", "r2", "server", None]
    # The traceroute's first probe has TTL 1: r1 drops it and answers Time Exceeded.
    assert report["runs"][1]["hops"][-1] == {**report["runs"][1]["hops"][-1], "node": "r1",
                                             "outcome": "dropped: ttl_exceeded"}
    assert report["runs"][2]["hops"][-1]["outcome"] == "delivered"
    # Linux traceroute sends 16 probes at once (TTL 1,1,1,2,2,2,...,6): 10 reach the server, whose ICMP rate
    # limit (a burst of 6) answers only the first 6 (tests/data/LINUX_FACTS.md, traceroute).
    assert report["drops"] == {"no_listener": 10, "ttl_exceeded": 6}
    assert len([e for e in scenario.network.trace.select(EventKind.ICMP_ERROR, node="server")
                if e.details.get("suppressed") is None]) == 6


def test_udp_to_a_closed_port(example):
    example.write_text(example.read_text(encoding="utf-8").replace('data = "hello, server"', "listen = false"),
                       encoding="utf-8")
    scenario = load_topology(example)
    report = narrative_json(scenario, run_scenario(scenario))
    udp = report["runs"][2]
    assert udp["result"]["delivered"] is False
    assert udp["result"]["error"] == "From 10.0.2.20 Destination Port Unreachable"
    assert [(h["node"], h["outcome"]) for h in udp["hops"]][-1] == ("server", "dropped: no_listener")


def test_narrative_text(example):
    scenario = load_topology(example)
    text = narrative(scenario, run_scenario(scenario))
    assert "3 packets transmitted, 3 received, 0% packet loss" in text
    assert " 2  10.0.12.2 " in text
    assert "r1 eth0 -> eth1 -> r2: forwarded" in text and "TTL 64 -> 63, IP checksum 0x" in text
    assert "r1 eth0: dropped: ttl_exceeded" in text
    assert "UDP 13 bytes from port" in text and "10.0.2.20:9999: delivered in" in text
    assert "ttl_exceeded" in text.split("drops by reason:")[1]


def lossy(tmp_path, loss, seed=1):
    path = tmp_path / "lossy.toml"
    path.write_text(LOSSY.format(loss=loss, seed=seed), encoding="utf-8")
    scenario = load_topology(path)
    return narrative_json(scenario, run_scenario(scenario))


def test_packet_lost_on_the_link(tmp_path):
    report = lossy(tmp_path, 0.5, seed=3)  # with seed 3, ARP gets through and the first echo request does not
    assert report["runs"][0]["hops"][-1] == {**report["runs"][0]["hops"][-1], "node": "a",
                                             "outcome": "dropped: link_loss"}
    assert report["runs"][0]["result"]["replies"][0]["rtt_ms"] is None


def test_packet_that_never_got_a_frame(tmp_path):
    report = lossy(tmp_path, 1.0)  # every ARP request is lost, so the echo requests are never framed
    assert report["runs"][0]["result"]["received"] == 0
    assert report["runs"][0]["hops"] == [{"node": "a", "in": None, "out": "eth0", "next": "b", "arrived_ns": None,
                                          "left_ns": None, "changes": [], "outcome": "dropped: arp_failed"}]
    assert report["drops"]["arp_failed"] == 2


LOSSY = """seed = {seed}
[[node]]
name = "a"
kind = "host"
[[node]]
name = "b"
kind = "host"
[[link]]
a = "a"
b = "b"
loss = {loss}
[[route]]
node = "a"
to = "default"
dev = "eth0"
[[run]]
kind = "ping"
from = "a"
to = "b"
count = 2
"""


# The command line ---------------------------------------------------------------------------------------
def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_run_json_and_pcapng(example, tmp_path, capsys):
    pcap = tmp_path / "run.pcapng"
    code, out, err = run_cli(capsys, "run", example, "--pcap", pcap, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["seed"] == 1 and [n["name"] for n in report["nodes"]] == ["client", "r1", "r2", "server"]
    ping, trace, udp = (run["result"] for run in report["runs"])
    assert ping["transmitted"] == 3 and ping["received"] == 3 and ping["loss_percent"] == 0
    assert trace["reached"] and trace["path"] == ["10.0.1.1", "10.0.12.2", "10.0.2.20"]
    assert udp["delivered"] and udp["port"] == 9999 and udp["bytes"] == len("hello, server")
    assert report["events"] > 0 and report["end_ns"] > 5_000_000_000
    records = list(read_capture(pcap))
    assert len(records) == report["capture"]["frames"] > 0
    names = {r.interface for r in records}
    assert {"client:eth0", "r1:eth0", "r1:eth1", "r2:eth0", "r2:eth1", "server:eth0"} == names
    # `layersim inspect` reads the simulated capture back: every frame decodes, with its interface and comment.
    code, out, _ = run_cli(capsys, "inspect", pcap, "--json")
    packets = json.loads(out)
    assert code == 0 and len(packets) == len(records) and not any("error" in p for p in packets)
    assert {p["interface"] for p in packets} == names
    assert any(p.get("comment", "").startswith("r1: forwarded via eth1, TTL 64->63") for p in packets)


def test_cli_run_text(example, capsys):
    code, out, _ = run_cli(capsys, "run", example)
    assert code == 0
    assert out.startswith(f"{example}: 4 nodes, 3 links, seed 1\n")
    assert "first packet, hop by hop: ICMP echo request 10.0.1.10 -> 10.0.2.20" in out


def test_cli_seed_and_until(example, capsys):
    code, out, _ = run_cli(capsys, "run", example, "--json", "--seed", "7", "--until", "4.5s")
    assert code == 0
    report = json.loads(out)
    assert report["seed"] == 7 and report["end_ns"] == 4_500_000_000
    assert report["runs"][2]["skipped"] == "at 6 s is after the end, 4.5 s" and report["runs"][2]["result"] is None


def test_cli_error_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "topology.toml"
    path.write_text('[[node]]\nname = "r1"\nkind = "firewall"\n', encoding="utf-8")
    code, out, err = run_cli(capsys, "run", path)
    assert code == 2 and out == ""
    assert err == f"layersim: error: {path}: [[node]] #1: kind: unknown node kind 'firewall' (use host, router, " \
                  "switch)\n"
    code, _, err = run_cli(capsys, "run", tmp_path / "missing.toml")
    assert code == 2 and "missing.toml: cannot read: No such file or directory" in err


@pytest.mark.tshark
def test_tshark_reads_the_capture(example, tmp_path, capsys):
    tshark_path()
    pcap = tmp_path / "run.pcapng"
    assert run_cli(capsys, "run", example, "--pcap", pcap)[0] == 0
    proc = run_tshark("-r", pcap)
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    assert proc.stdout.count("Echo (ping) reply") == 3 * 3 * 2  # 3 replies, 3 links, sent and received on each
    # Only traceroute's deliberately low TTLs draw expert warnings.
    assert all('"Time To Live" only' in problem for problem in expert_problems(pcap))


# Determinism --------------------------------------------------------------------------------------------
def capture(example, tmp_path, seed, name):
    path = tmp_path / name
    scenario = load_topology(example, seed=seed)
    scenario.network.capture(path)
    run_scenario(scenario)
    scenario.network.close()
    return path


def test_same_seed_same_bytes_other_seed_only_random_fields(example, tmp_path):
    first = capture(example, tmp_path, 1, "a.pcapng")
    again = capture(example, tmp_path, 1, "b.pcapng")
    other = capture(example, tmp_path, 2, "c.pcapng")
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    a, c = list(read_capture(first)), list(read_capture(other))
    assert len(a) == len(c)
    assert [(r.time_ns, r.interface, len(r.data)) for r in a] == [(r.time_ns, r.interface, len(r.data)) for r in c]
    random_fields = {("ICMP", "rest_of_header"), ("ICMP", "checksum"), ("UDP", "sport"), ("UDP", "checksum"),
                     ("IPv4", "identification"), ("IPv4", "header_checksum")}
    changed = {(ch.layer, ch.field) for x, y in zip(a, c, strict=True) for ch in diff(decode(x.data), decode(y.data))}
    assert changed and changed <= random_fields


# Mistakes: each names the file, the table and the key ---------------------------------------------------------
BASE = """seed = 1
[[node]]
name = "client"
kind = "host"
[[node]]
name = "r1"
kind = "router"
[[link]]
a = "client:eth0"
b = "r1:eth0"
a_ip = "10.0.1.10/24"
b_ip = "10.0.1.1/24"
"""
ROUTER2 = """[[node]]
name = "r2"
kind = "router"
[[link]]
a = "r1:eth1"
b = "r2:eth0"
a_ip = "10.0.12.1/24"
b_ip = "10.0.12.2/24"
"""

MISTAKES = {
    "unknown_key": (BASE + '[[link]]\na = "r1"\nb = "client"\ndealy = "2ms"\n',
                    "[[link]] #2: dealy: unknown key (did you mean 'delay'?)"),
    "unknown_top_level_key": ("sede = 1\n" + BASE, "sede: unknown key (did you mean 'seed'?)"),
    "unknown_node": (BASE + '[[link]]\na = "r1"\nb = "r3:eth0"\n',
                     "[[link]] #2: b: unknown node 'r3' (nodes: client, r1)"),
    "unknown_node_kind": (BASE + '[[node]]\nname = "fw"\nkind = "firewall"\n',
                          "[[node]] #3: kind: unknown node kind 'firewall' (use host, router, switch)"),
    "duplicate_node_name": (BASE + '[[node]]\nname = "r1"\nkind = "host"\n',
                            "[[node]] #3: name: duplicate node name 'r1' (already [[node]] #2)"),
    "duplicate_address": (BASE + '[[node]]\nname = "s"\nkind = "host"\n[[link]]\na = "r1"\nb = "s"\n'
                          'a_ip = "10.0.5.1/24"\nb_ip = "10.0.5.10/24"\n[[link]]\na = "s"\nb = "client"\n'
                          'a_ip = "10.0.6.1/24"\nb_ip = "10.0.1.10/24"\n',
                          "[[link]] #3: b_ip: duplicate address 10.0.1.10 (already used in [[link]] #1 "
                          "(client:eth0))"),
    "duplicate_address_on_one_link": (BASE.replace('"10.0.1.1/24"', '"10.0.1.10/24"'),
                                      "[[link]] #1: b_ip: duplicate address 10.0.1.10 (a_ip is the same)"),
    "subnet_already_connected": (BASE + ROUTER2.replace('"10.0.12.2/24"', '"10.0.1.12/24"')
                                 .replace('"10.0.12.1/24"', '"10.0.1.11/24"'),
                                 "[[link]] #2: a_ip: r1 is already connected to 10.0.1.0/24 on eth0; one subnet "
                                 "per interface"),
    "address_outside_prefix": (BASE.replace('b_ip = "10.0.1.1/24"', 'b_ip = "10.0.2.1/24"'),
                               "[[link]] #1: b_ip: address 10.0.2.1/24 is outside the link's prefix 10.0.1.0/24 "
                               "(a_ip)"),
    "network_address": (BASE.replace('"10.0.1.1/24"', '"10.0.1.0/24"'),
                        "[[link]] #1: b_ip: 10.0.1.0/24 is the network address of 10.0.1.0/24, not a host address"),
    "unreachable_next_hop": (BASE + ROUTER2 + '[[route]]\nnode = "r1"\nto = "10.0.2.0/24"\nvia = "10.0.99.1"\n',
                             "[[route]] #1: via: next hop 10.0.99.1 is not on a subnet connected to r1 "
                             "(10.0.1.0/24 on eth0, 10.0.12.0/24 on eth1)"),
    "missing_interface": (BASE + ROUTER2 + '[[route]]\nnode = "r1"\nto = "10.0.2.0/24"\nvia = "10.0.12.2"\n'
                          'dev = "eth9"\n',
                          "[[route]] #1: dev: interface 'r1:eth9' does not exist (r1 has eth0, eth1)"),
    "interface_linked_twice": (BASE + ROUTER2.replace('"r1:eth1"', '"r1:eth0"'),
                               "[[link]] #2: a: interface 'r1:eth0' is already linked ([[link]] #1)"),
    "bad_units": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\ndelay = "2 parsecs"\n'),
                  "[[link]] #1: delay: duration '2 parsecs' has unknown unit 'parsecs' (use one of ns, us, µs, ms, s)"),
    "bad_bandwidth": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\nbandwidth = "fast"\n'),
                      "[[link]] #1: bandwidth: bandwidth 'fast' is not a number with a unit (e.g. 'bps')"),
    "wrong_type": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\nmtu = "1500"\n'),
                   "[[link]] #1: mtu: expected an integer, got a string '1500'"),
    "wrong_type_bool": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\nqueue = true\n'),
                        "[[link]] #1: queue: expected an integer, got a boolean True"),
    "out_of_range": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\nloss = 1.5\n'),
                     "[[link]] #1: loss: 1.5 is not a probability between 0 and 1"),
    "bad_corrupt_fcs": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\ncorrupt_fcs = "keep"\n'),
                        '[[link]] #1: corrupt_fcs: expected "drop" or "pass", got a string \'keep\''),
    "corrupt_fcs_not_a_string": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\ncorrupt_fcs = true\n'),
                                 "[[link]] #1: corrupt_fcs: expected a string, got a boolean True"),
    "corrupt_fcs_misspelled": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\ncorrupt_fsc = "pass"\n'),
                               "[[link]] #1: corrupt_fsc: unknown key (did you mean 'corrupt_fcs'?)"),
    "not_an_array_of_tables": ('node = "client"\n', "node: expected an array of tables, written [[node]]"),
    "toml_syntax": (BASE + "[[run]]\nkind = ping\n", "TOML syntax error: Invalid value (at line 14, column 8)"),
    "missing_required_key": (BASE + '[[link]]\na = "r1"\n', "[[link]] #2: b: missing required key"),
    "missing_node_kind": ('[[node]]\nname = "a"\n', "[[node]] #1: kind: missing required key"),
    "builder_error": ('[[node]]\nname = "my host"\nkind = "host"\n',
                      "[[node]] #1: name: node name 'my host' must be letters, digits, '-', '_' or '.'"),
    "mtu_too_small": (BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\nmtu = 40\n'),
                      "[[link]] #1: mtu: 40 must be between 68 and 65535"),
    "switch_address": (BASE + '[[node]]\nname = "sw"\nkind = "switch"\n[[link]]\na = "r1"\nb = "sw"\n'
                       'b_ip = "10.0.7.2/24"\n', "[[link]] #2: b_ip: sw is a switch; switch ports have no IP address"),
    "run_unknown_kind": (BASE + '[[run]]\nkind = "wget"\nfrom = "client"\nto = "r1"\n',
                         "[[run]] #1: kind: unknown run kind 'wget' (use ping, traceroute, udp, script, http_server, "
                         "https_server, dns_server, http_get, bulk)"),
    "run_from_router": (BASE + '[[run]]\nkind = "ping"\nfrom = "r1"\nto = "client"\n',
                        "[[run]] #1: from: r1 is a router; applications run on hosts"),
    "run_key_of_other_kind": (BASE + '[[run]]\nkind = "udp"\nfrom = "client"\nto = "10.0.1.1"\nport = 53\n'
                              'count = 3\n',
                              "[[run]] #1: count: not an option of a udp run (it has port, data, sport, ttl, listen)"),
    "run_unknown_option": (BASE + '[[run]]\nkind = "ping"\nfrom = "client"\nto = "r1"\ncuont = 3\n',
                           "[[run]] #1: cuont: unknown key (did you mean 'count'?)"),
    "run_unknown_target": (BASE + '[[run]]\nkind = "ping"\nfrom = "client"\nto = "srv"\n',
                           "[[run]] #1: to: 'srv' is neither an IPv4 address nor a node (nodes: client, r1)"),
    "run_udp_missing_port": (BASE + '[[run]]\nkind = "udp"\nfrom = "client"\nto = "r1"\n',
                             "[[run]] #1: port: missing required key"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_mistake_names_file_table_and_key(tmp_path, name):
    text, message = MISTAKES[name]
    path = tmp_path / "topology.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    assert str(caught.value) == f"{path}: {message}"


def test_build_network_names_its_source():
    with pytest.raises(TopologyError, match=r"^inline: \[\[node\]\] #1: kind: missing required key$"):
        build_network(tomllib.loads('[[node]]\nname = "a"\n'), "inline")


def test_route_interface_is_derived_from_the_next_hop(tmp_path):
    path = tmp_path / "topology.toml"
    path.write_text(BASE + ROUTER2 + '[[route]]\nnode = "r1"\nto = "10.0.2.0/24"\nvia = "10.0.12.2"\n'
                    '[[route]]\nnode = "r2"\nto = "default"\nvia = "10.0.12.1"\n', encoding="utf-8")
    network = load_topology(path).network
    assert str(network.nodes["r1"].routes.lookup("10.0.2.5")) == "10.0.2.0/24 via 10.0.12.2 dev eth1"
    assert str(network.nodes["r2"].routes.lookup("10.0.1.10")) == "default via 10.0.12.1 dev eth0"
