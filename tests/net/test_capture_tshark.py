"""tshark reads the chain scenario's captures: no expert warnings or errors, the same TTLs and MACs as the trace per
link, interfaces named "node:iface", and the routers' packet comments.

One file per interface: a file holding every interface repeats each frame once per end of each link, which tshark
would read as retransmissions."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersim.app import ping
from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from layersim.wire.addresses import MAC
from tests.tools import expert_problems, run_tshark, tshark_stderr

from .conftest import SERVER_IP, build_chain, events, records_by_interface

pytestmark = pytest.mark.tshark

# One end of each link, and the file each is written to (the last as classic pcap).
LINK_FILES = {"r1:eth0": "link_a.pcapng", "r1:eth1": "link_b.pcapng", "server:eth0": "link_c.pcap"}


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, Path]:
    """Two pings and a UDP datagram from client to server, captured per link and on every interface at once."""
    directory = tmp_path_factory.mktemp("captures")
    chain = build_chain()
    for interface, name in LINK_FILES.items():
        chain.net.capture(directory / name, interfaces=[interface])
    chain.net.capture(directory / "all.pcapng")
    assert ping(chain.client, SERVER_IP, count=2).received == 2
    chain.server.udp_socket(9999)
    chain.client.udp_socket(40000).sendto(b"hello over three links", (SERVER_IP, 9999))
    chain.net.run_until_idle()
    chain.net.close()
    return chain.net, directory


def tshark_fields(path: Path, *names: str) -> list[list[str]]:
    """One row per frame with the first occurrence of each field (the outer header of an ICMP error)."""
    args = [x for name in names for x in ("-e", name)]
    proc = run_tshark("-r", path, "-T", "fields", *args, "-E", "occurrence=f")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


@pytest.mark.parametrize("interface", LINK_FILES)
def test_each_link_dissects_without_expert_warnings(captured, interface: str) -> None:
    _, directory = captured
    assert expert_problems(directory / LINK_FILES[interface]) == []


@pytest.mark.parametrize("interface", LINK_FILES)
def test_tshark_sees_the_traces_ttls_and_macs_on_each_link(captured, interface: str) -> None:
    net, directory = captured
    traced = [e.frame for e in net.trace.events
              if e.kind in (EventKind.SEND, EventKind.RECEIVE) and f"{e.node}:{e.interface}" == interface]
    expected = [[str(f[22]) if f[12:14] == b"\x08\x00" else "", str(MAC(f[6:12])), str(MAC(f[0:6]))] for f in traced]
    assert tshark_fields(directory / LINK_FILES[interface], "ip.ttl", "eth.src", "eth.dst") == expected
    assert any(row[0] for row in expected), "the link carried IPv4"


def test_all_interfaces_file_names_every_interface_node_colon_iface(captured) -> None:
    net, directory = captured
    names = [row[0] for row in tshark_fields(directory / "all.pcapng", "frame.interface_name")]
    in_file = [name for name, records in records_by_interface(directory / "all.pcapng").items() for _ in records]
    assert sorted(names) == sorted(in_file)
    assert set(names) == {f"{n}:{i}" for n, node in net.nodes.items() for i in node.interfaces}
    assert len(names) == len(events(net, EventKind.SEND)) + len(events(net, EventKind.RECEIVE))


def test_packet_comments_say_what_each_node_did(captured) -> None:
    _, directory = captured
    rows = tshark_fields(directory / "all.pcapng", "frame.interface_name", "frame.comment")
    comments = {(name, comment) for name, comment in rows if comment}
    assert ("r1:eth1", "r1: forwarded via eth1, TTL 64->63") in comments
    assert ("r2:eth1", "r2: forwarded via eth1, TTL 63->62") in comments
    assert ("r2:eth0", "r2: forwarded via eth0, TTL 64->63") in comments
    assert ("client:eth0", f"client: ping {SERVER_IP} seq 1") in comments
    assert ("server:eth0", "server: echo reply to 10.0.1.10") in comments
