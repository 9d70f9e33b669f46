"""The Ethernet FCS: a frame a link corrupts is dropped by the receiving interface (DropReason.BAD_FCS) before any
capture, IP or TCP sees it; `corrupt_fcs="pass"` delivers it instead, for the checksums to catch, or to miss."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Any

import pytest

from layersim.app.narrative import narrative, narrative_json, run_scenario
from layersim.errors import LayersimError
from layersim.net.engine.link import Faults, Link
from layersim.net.network import Network
from layersim.net.topology import build_network
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire.packet import decode
from layersim.wire.udp import UDP

from .conftest import SERVER_IP, Chain, build_chain, events, ipv4_frames, records_by_interface, send_over_tcp
from .test_faults import warm_arp

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "client_r1_r2_server.toml"
UDP_DATA = 42  # Ethernet 14 + IPv4 20 + UDP 8: where a datagram's data starts in its frame (word-aligned)


def bad_fcs(chain: Chain) -> list[Any]:
    return chain.net.trace.drops(DropReason.BAD_FCS)


def send_datagrams(chain: Chain, count: int, size: int = 64) -> Any:
    """`count` datagrams client -> server:9999 with every next hop's MAC known; the server's socket."""
    warm_arp(chain)
    server_socket = chain.server.udp_socket(9999)
    sender = chain.client.udp_socket(40000)
    for i in range(count):
        sender.sendto(bytes([i]) * size, (SERVER_IP, 9999))
    chain.net.run_until_idle()
    return server_socket


def test_every_corrupted_frame_is_dropped_by_the_receiving_interface_and_never_reaches_ip() -> None:
    chain = build_chain(link_a={"corrupt": 1.0, "faults_ba": Faults()})  # client -> r1: one flipped bit each
    server_socket = send_datagrams(chain, 60)
    flips = events(chain.net, EventKind.LINK, "client:eth0")
    sent = events(chain.net, EventKind.SEND, "client:eth0")
    drops = bad_fcs(chain)
    assert len(flips) == len(sent) == len(drops) == 60
    link = chain.iface("client:eth0").link
    assert link is not None
    for flip, out, drop in zip(flips, sent, drops, strict=True):
        assert (drop.node, drop.interface, drop.packet_id) == ("r1", "eth0", out.packet_id)
        assert drop.frame == flip.frame != out.frame  # the damaged bytes, as they arrived
        assert drop.time_ns >= out.time_ns + link.serialization_ns(len(out.frame)) + link.delay_ns
    regions = {0 if bit < 14 * 8 else 1 if bit < 34 * 8 else 2 for bit in (f.details["bit"] for f in flips)}
    assert regions == {0, 1, 2}, "flips in the Ethernet header, the IPv4 header and past it: all dropped alike"
    assert events(chain.net, EventKind.RECEIVE, "r1") == []  # the node never saw them
    assert chain.net.trace.drops(DropReason.BAD_CHECKSUM) == [] and chain.net.trace.drops(DropReason.NOT_FOR_ME) == []
    assert events(chain.net, EventKind.SEND, "r1") == [] and server_socket.received == []


def test_only_the_corrupted_frames_are_dropped_and_their_duplicates_too() -> None:
    chain = build_chain(seed=11, link_b={"corrupt": 0.3, "duplicate": 0.3, "faults_ba": Faults()})
    server_socket = send_datagrams(chain, 80)
    flipped = {e.packet_id for e in events(chain.net, EventKind.LINK, "r1:eth1") if e.details["fault"] == "corrupt"}
    doubled = {e.packet_id for e in events(chain.net, EventKind.LINK, "r1:eth1") if e.details["fault"] == "duplicate"}
    assert 0 < len(flipped) < 80 and flipped & doubled and doubled - flipped
    dropped = [d.packet_id for d in bad_fcs(chain)]
    assert sorted(dropped) == sorted([p for p in flipped] + [p for p in flipped & doubled])  # a copy is as bad
    assert all((d.node, d.interface) == ("r2", "eth0") for d in bad_fcs(chain))
    arrived = {e.packet_id for e in events(chain.net, EventKind.RECEIVE, "r2:eth0")}
    assert arrived.isdisjoint(flipped) and len(arrived) == 80 - len(flipped)
    assert len(server_socket.received) == 80 - len(flipped) + len(doubled - flipped)


def test_tcp_never_sees_the_damage_and_the_stream_survives() -> None:
    chain = build_chain(seed=3, link_b={"corrupt": 0.2, "faults_ba": Faults()})
    warm_arp(chain)
    data = random.Random(3).randbytes(200_000)

    assert send_over_tcp(chain, data) == data
    flips = events(chain.net, EventKind.LINK, "r1:eth1")
    assert len(flips) > 10 and [d.frame for d in bad_fcs(chain)] == [f.frame for f in flips]
    assert chain.net.trace.drops(DropReason.BAD_CHECKSUM) == []
    assert not {f.frame for f in flips} & set(ipv4_frames(chain.net, EventKind.RECEIVE, "r2:eth0"))
    assert any(e.info.what == "retransmit" for e in chain.net.trace.select(EventKind.TCP))


def test_the_receivers_capture_never_shows_the_bad_frame_and_the_senders_is_unchanged(tmp_path: Path) -> None:
    chain = build_chain(seed=5, link_a={"corrupt": 0.5, "faults_ba": Faults()})
    path = tmp_path / "fcs.pcapng"
    chain.net.capture(path, ["client:eth0", "r1:eth0"])
    send_datagrams(chain, 40)
    chain.net.close()
    records = records_by_interface(path)
    flips = events(chain.net, EventKind.LINK, "client:eth0")
    assert 0 < len(flips) < 40
    assert [r.data for r in records["client:eth0"]] == ipv4_frames(chain.net, EventKind.SEND, "client:eth0")
    assert [r.data for r in records["r1:eth0"]] == ipv4_frames(chain.net, EventKind.RECEIVE, "r1:eth0")
    assert len(records["r1:eth0"]) == 40 - len(flips)
    assert not {f.frame for f in flips} & {r.data for r in records["r1:eth0"]}


def test_the_hop_list_ends_at_the_interface_that_dropped_it() -> None:
    chain = build_chain(link_b={"corrupt": 1.0, "faults_ba": Faults()})
    send_datagrams(chain, 1)
    drop = bad_fcs(chain)[0]
    hops = chain.net.trace.hops(drop.packet_id)
    assert [(h.node, h.outcome) for h in hops] == [("client", "sent"), ("r1", "forwarded"), ("r2", "dropped: bad_fcs")]
    last = hops[-1]
    assert (last.in_interface, last.out_interface, last.arrived_ns, last.left_ns) == ("eth0", None, drop.time_ns, None)


class FlipBit(random.Random):
    """A link's generator that corrupts every frame it is asked about, always at bit `bit`."""

    def __init__(self, bit: int) -> None:
        super().__init__(0)
        self.bit = bit

    def random(self) -> float:
        return 0.0

    def randrange(self, *args: Any, **kwargs: Any) -> int:
        return self.bit


def two_flips_in_one_column(corrupt_fcs: str) -> tuple[Chain, Any, bytes]:
    """One datagram client -> server; client -> r1 sets the top bit of its data's first 16-bit word, r1 -> r2
    clears the top bit of the second: +0x8000 and -0x8000 in the same column of the one's complement sum."""
    chain = build_chain(link_a={"corrupt": 1.0, "corrupt_fcs": corrupt_fcs, "faults_ba": Faults()},
                        link_b={"corrupt": 1.0, "corrupt_fcs": corrupt_fcs, "faults_ba": Faults()})
    for where, byte in (("client:eth0", UDP_DATA), ("r1:eth1", UDP_DATA + 2)):
        link = chain.iface(where).link
        assert isinstance(link, Link)
        link._ab.rng = FlipBit(byte * 8)  # the fault's own path, with the bit chosen (0x80 >> 0: the top bit)
    warm_arp(chain)
    server_socket = chain.server.udp_socket(9999)
    data = b"\x00\x00\x80\x00" + b"weak sum" * 4
    chain.client.udp_socket(40000).sendto(data, (SERVER_IP, 9999))
    chain.net.run_until_idle()
    return chain, server_socket, data


def test_with_pass_two_flips_in_one_column_reach_the_application_changed() -> None:
    chain, server_socket, data = two_flips_in_one_column("pass")
    assert [e.details["bit"] for e in events(chain.net, EventKind.LINK)] == [UDP_DATA * 8, (UDP_DATA + 2) * 8]
    assert bad_fcs(chain) == [] and chain.net.trace.drops(DropReason.BAD_CHECKSUM) == []
    changed = b"\x80\x00\x00\x00" + data[4:]
    assert [d.data for d in server_socket.received] == [changed]  # the UDP checksum could not see it
    arrived = ipv4_frames(chain.net, EventKind.RECEIVE, "server:eth0")[0]
    sent = ipv4_frames(chain.net, EventKind.SEND, "client:eth0")[0]
    assert arrived[UDP_DATA - 2:UDP_DATA] == sent[UDP_DATA - 2:UDP_DATA] and decode(arrived)[UDP].checksum_ok


def test_with_drop_the_same_two_flips_never_get_past_the_first_link() -> None:
    chain, server_socket, _ = two_flips_in_one_column("drop")
    assert [(d.node, d.interface) for d in bad_fcs(chain)] == [("r1", "eth0")]
    assert server_socket.received == [] and events(chain.net, EventKind.LINK, "r1:eth1") == []


def test_with_pass_one_flipped_bit_in_the_data_is_a_bad_checksum_at_the_server() -> None:
    chain = build_chain(link_a={"corrupt": 1.0, "corrupt_fcs": "pass", "faults_ba": Faults()})
    link = chain.iface("client:eth0").link
    assert isinstance(link, Link)
    link._ab.rng = FlipBit(UDP_DATA * 8 + 7)  # the lowest bit of the first data byte
    server_socket = send_datagrams(chain, 1)
    assert bad_fcs(chain) == [] and server_socket.received == []
    caught = chain.net.trace.drops(DropReason.BAD_CHECKSUM)
    assert [(d.node, d.details["layer"]) for d in caught] == [("server", "UDP")]


@pytest.mark.parametrize("bad", ["Drop", "keep", "", None, 1])
def test_an_unknown_fcs_mode_is_refused(bad: Any) -> None:
    with pytest.raises(LayersimError, match=r"corrupt_fcs=.* must be \"drop\" .* or \"pass\""):
        Faults(corrupt=0.1, corrupt_fcs=bad)
    net = Network()
    with pytest.raises(LayersimError, match="corrupt_fcs"):
        net.link(net.add_host("a"), net.add_host("b"), corrupt_fcs=bad)


def scenario(corrupt_fcs: str | None) -> Any:
    """The example topology with every frame client -> r1 corrupted, and only one ping."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["link"][0]["corrupt"] = 1.0
    if corrupt_fcs is not None:
        data["link"][0]["corrupt_fcs"] = corrupt_fcs
    data["run"] = [{"kind": "ping", "from": "client", "to": "server", "count": 2}]
    return build_network(data, "t.toml")


def test_the_narrator_names_and_explains_bad_fcs_drops() -> None:
    built = scenario(None)
    outcomes = run_scenario(built)
    text = narrative(built, outcomes)
    line = next(line for line in text.splitlines() if line.strip().startswith("bad_fcs"))
    assert "(r1 " in line and "FCS (CRC-32) did not match" in line
    drops = narrative_json(built, outcomes)["drops"]
    assert drops["bad_fcs"] == len(built.network.trace.drops(DropReason.BAD_FCS)) > 0
    assert "bad_checksum" not in drops


def test_a_topology_can_let_corrupted_frames_pass_the_fcs() -> None:
    built = scenario("pass")
    run_scenario(built)
    net = built.network
    assert net.trace.drops(DropReason.BAD_FCS) == []
    flips = {e.frame for e in net.trace.select(EventKind.LINK, node="client")}
    assert flips and flips <= {e.frame for e in net.trace.select(EventKind.RECEIVE, node="r1")}
