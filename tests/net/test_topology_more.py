"""Topology files, the newer keys: the `start` date in captures, chosen MACs (a_mac / b_mac) and their errors, a
misspelled run kind, and runs that overlap (a ping due during a traceroute starts on time)."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.l2 import ARP as ScapyARP
from scapy.layers.l2 import Ether

from layersim.app.narrative import run_scenario
from layersim.capture import read_capture
from layersim.errors import LayersimError
from layersim.net.network import Network
from layersim.net.topology import RUN_KINDS, Scenario, TopologyError, build_network
from layersim.net.trace.log import EventKind
from tests.tools import run_tshark, tshark_stderr

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "client_r1_r2_server.toml"
NS = 1_000_000_000


def example(**top: Any) -> dict[str, Any]:
    """The client - r1 - r2 - server example as data, with top-level keys replaced."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.update(top)
    return data


def build(data: dict[str, Any]) -> Scenario:
    return build_network(data, "t.toml")


def captured(data: dict[str, Any], path: Path) -> tuple[Scenario, list[Any]]:
    """Run a scenario with a capture on every interface; the records."""
    scenario = build(data)
    scenario.network.capture(path)
    run_scenario(scenario)
    scenario.network.close()
    return scenario, list(read_capture(path))


def epoch_ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * NS


# --- start ------------------------------------------------------------------------------------------------------

def test_capture_times_are_start_plus_simulated_time(tmp_path: Path) -> None:
    scenario, records = captured(example(start="2030-06-15T12:34:56Z"), tmp_path / "a.pcapng")
    start = epoch_ns("2030-06-15T12:34:56Z")
    assert scenario.network.start_ns == start
    sent = [e.time_ns for e in scenario.network.trace.select(EventKind.SEND)]
    assert records[0].time_ns == start + sent[0]
    assert sorted(r.time_ns - start for r in records) == sorted(
        [e.time_ns for e in scenario.network.trace.select(EventKind.SEND)]
        + [e.time_ns for e in scenario.network.trace.select(EventKind.RECEIVE)])
    assert all(start <= r.time_ns < start + 60 * NS for r in records)


def test_default_start_and_offsets(tmp_path: Path) -> None:
    assert build(example()).network.start_ns == epoch_ns("2026-01-01T00:00:00Z")
    assert Network().start_ns == epoch_ns("2026-01-01T00:00:00Z")
    assert build(example(start="2030-06-15T14:34:56+02:00")).network.start_ns == epoch_ns("2030-06-15T12:34:56Z")
    assert build(example(start=datetime(2030, 6, 15, 12, 34, 56, tzinfo=UTC))).network.start_ns == epoch_ns(
        "2030-06-15T12:34:56Z")  # a TOML date-time value


def test_same_seed_same_start_same_bytes(tmp_path: Path) -> None:
    captured(example(start="2030-06-15T12:34:56Z"), tmp_path / "1.pcapng")
    captured(example(start="2030-06-15T12:34:56Z"), tmp_path / "2.pcapng")
    captured(example(start="2031-06-15T12:34:56Z"), tmp_path / "3.pcapng")
    one, two, three = ((tmp_path / f"{n}.pcapng").read_bytes() for n in (1, 2, 3))
    assert one == two and one != three


@pytest.mark.parametrize("bad", ["yesterday", "2030-13-01T00:00:00Z", "1960-01-01T00:00:00Z"])
def test_bad_start_is_named(bad: str) -> None:
    with pytest.raises(TopologyError, match=r"t\.toml: .*start"):
        build(example(start=bad))


@pytest.mark.tshark
def test_tshark_sees_the_start_date(tmp_path: Path) -> None:
    path = tmp_path / "a.pcapng"
    _, records = captured(example(start="2030-06-15T12:34:56Z"), path)
    proc = run_tshark("-r", path, "-c", "1", "-T", "fields", "-e", "frame.time_epoch")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    epoch = proc.stdout.splitlines()[0].strip()
    seconds, _, fraction = epoch.partition(".")
    assert int(seconds) * NS + int(fraction.ljust(9, "0")) == records[0].time_ns
    when = datetime.fromtimestamp(int(seconds), UTC)
    assert when.replace(second=0) == datetime(2030, 6, 15, 12, 34, tzinfo=UTC) and when.second >= 56


# --- MACs ----------------------------------------------------------------------------------------------------------

def with_macs(**macs: str) -> dict[str, Any]:
    data = example()
    data["link"][0].update(macs)
    return data


def test_chosen_macs_appear_in_captures(tmp_path: Path) -> None:
    scenario, records = captured(with_macs(a_mac="52:54:00:12:34:56", b_mac="52:54:00:AB:CD:EF"),
                                 tmp_path / "m.pcapng")
    client, r1 = b"\x52\x54\x00\x12\x34\x56", b"\x52\x54\x00\xab\xcd\xef"
    on_link = [r.data for r in records if r.interface == "client:eth0"]
    assert on_link and all({d[0:6], d[6:12]} <= {client, r1, b"\xff" * 6} for d in on_link)
    assert any(d[6:12] == client for d in on_link) and any(d[6:12] == r1 for d in on_link)
    arps = [Ether(d) for d in on_link if d[12:14] == b"\x08\x06"]
    assert {a[ScapyARP].hwsrc for a in arps} == {"52:54:00:12:34:56", "52:54:00:ab:cd:ef"}
    assert str(scenario.network.interface("r1:eth0").mac) == "52:54:00:ab:cd:ef"
    other = [r.data for r in records if r.interface == "r1:eth1"]
    assert other and not any(client in (d[0:6], d[6:12]) for d in other)  # a MAC stays on its link


@pytest.mark.parametrize(("macs", "key", "message"), [
    ({"a_mac": "52:54:00:00:00:01", "b_mac": "52:54:00:00:00:01"}, "b_mac", "same MAC as a_mac"),
    ({"a_mac": "01:00:5e:00:00:01"}, "a_mac", "multicast"),
    ({"b_mac": "33:33:00:00:00:01"}, "b_mac", "multicast"),
    ({"a_mac": "52:54:00:12:34"}, "a_mac", "not valid"),
    ({"a_mac": "52:54:00:12:34:zz"}, "a_mac", "not valid"),
    ({"a_mac": "00:00:00:00:00:00"}, "a_mac", "all zeros"),
])
def test_bad_macs_in_a_topology(macs: dict[str, str], key: str, message: str) -> None:
    with pytest.raises(TopologyError, match=rf"t\.toml: \[\[link\]\] #1: {key}: .*{message}"):
        build(with_macs(**macs))


def test_duplicate_mac_across_links() -> None:
    data = example()
    data["link"][0]["a_mac"] = "52:54:00:00:00:07"
    data["link"][2]["b_mac"] = "52:54:00:00:00:07"
    with pytest.raises(TopologyError, match=r"\[\[link\]\] #3: b_mac: .*52:54:00:00:00:07.*already used by "
                                            r"client:eth0"):
        build(data)


def test_duplicate_of_an_automatic_mac() -> None:
    net = Network()
    a, b, c = net.add_host("a"), net.add_host("b"), net.add_host("c")
    net.link(a, b)
    taken = str(net.interface("a:eth0").mac)
    with pytest.raises(LayersimError, match=f"MAC {taken} is already used by a:eth0"):
        net.link(b, c, b_mac=taken)
    net.link(b, c, b_mac="52:54:00:00:00:09")
    net.link(a, c)  # the automatic numbering steps around chosen MACs
    macs = [i.mac for n in net.nodes.values() for i in n.interfaces.values()]
    assert len(set(macs)) == len(macs)


# --- runs -----------------------------------------------------------------------------------------------------------

def test_misspelled_run_kind_named_first() -> None:
    data = example()
    data["run"][0]["kind"] = "pign"  # still holding ping's own keys (count)
    with pytest.raises(TopologyError, match=r"\[\[run\]\] #1: kind: unknown run kind 'pign' \(did you mean 'ping'\?\)"):
        build(data)
    data["run"][0]["kind"] = "tracert"
    with pytest.raises(TopologyError, match=r"did you mean 'traceroute'\?"):
        build(data)
    data["run"][0]["kind"] = "zzz"
    with pytest.raises(TopologyError, match=re.escape(f"unknown run kind 'zzz' (use {', '.join(RUN_KINDS)})")):
        build(data)


def test_ping_due_during_a_traceroute_starts_on_time() -> None:
    data = example()
    data["run"] = [
        # nobody has 10.0.2.99: r2 answers the probes that reach it only when its ARP gives up, about 3 s on
        {"kind": "traceroute", "from": "client", "to": "10.0.2.99", "max_hops": 4, "at": "0s"},
        {"kind": "ping", "from": "client", "to": "server", "count": 2, "at": "1500ms"},
    ]
    scenario = build(data)
    outcomes = run_scenario(scenario)
    trace, ping = outcomes
    assert ping.started_ns == 1_500_000_000 and ping.result.received == 2
    requests = [e.time_ns for e in scenario.network.trace.select(EventKind.SEND, node="client")
                if e.info.note and e.info.note[0] == "ping"]
    assert requests == [1_500_000_000, 2_500_000_000]  # each on time, not after the traceroute
    assert trace.process.ended_ns > 2_500_000_000  # the traceroute was still waiting for r2's ARP to fail
    assert trace.result.path[:2] == [IPv4Address("10.0.1.1"), IPv4Address("10.0.12.2")]
