"""client - r1 - r2 - server: a ping and a UDP datagram cross every link, checked on the bytes of the trace and of a
capture file: link MACs, TTL, header checksum, unchanged payload, and the per-hop field diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from layersim.app import ping
from layersim.capture import CaptureRecord
from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from layersim.wire.addresses import MAC

from .conftest import (
    CHAIN_LINKS,
    SERVER_IP,
    Chain,
    eth_dst,
    eth_src,
    first_ipv4_sent,
    frame_on,
    header_checksum_ok,
    ip_header,
    ip_key,
    ip_payload,
    records_by_interface,
)

PAYLOAD = b"layersim says hello over three links"


def run_traffic(chain: Chain) -> None:
    """One ping and one UDP datagram from client to server."""
    result = ping(chain.client, SERVER_IP, count=1)
    assert result.received == 1
    server_socket = chain.server.udp_socket(9999)
    chain.client.udp_socket(40000).sendto(PAYLOAD, (SERVER_IP, 9999))
    chain.net.run_until_idle()
    assert [d.data for d in server_socket.received] == [PAYLOAD]
    assert server_socket.received[0].source == (chain.client.interfaces["eth0"].address.ip, 40000)


def packet_of(chain: Chain, which: str) -> tuple[bytes, bool]:
    """The frame as its origin sent it, and whether it travels server -> client."""
    if which == "echo request":
        return first_ipv4_sent(chain.net, "client", 1), False
    if which == "echo reply":
        return first_ipv4_sent(chain.net, "server", 1), True
    return first_ipv4_sent(chain.net, "client", 17), False


PACKETS = ["echo request", "echo reply", "udp datagram"]


@pytest.fixture
def ran(chain: Chain, tmp_path: Path) -> Chain:
    """The chain after run_traffic, captured on every interface into all.pcapng."""
    chain.net.capture(tmp_path / "all.pcapng")
    run_traffic(chain)
    chain.net.close()
    return chain


@pytest.fixture
def records(ran: Chain, tmp_path: Path) -> dict[str, list[CaptureRecord]]:
    """The frames of all.pcapng by interface name."""
    return records_by_interface(tmp_path / "all.pcapng")


@pytest.mark.parametrize("which", PACKETS)
def test_packet_crosses_each_link_with_that_links_macs(ran: Chain, which: str) -> None:
    origin, reverse = packet_of(ran, which)
    key = ip_key(origin)
    for sender, receiver in ran.path(reverse):
        sent = frame_on(ran.net, EventKind.SEND, sender, key)
        received = frame_on(ran.net, EventKind.RECEIVE, receiver, key)
        assert sent == received, f"{sender.full_name} -> {receiver.full_name} changed the frame"
        assert eth_src(sent) == sender.mac
        assert eth_dst(sent) == receiver.mac


@pytest.mark.parametrize("which", PACKETS)
def test_ttl_drops_by_one_per_router_and_checksum_stays_right(ran: Chain, which: str) -> None:
    origin, reverse = packet_of(ran, which)
    key = ip_key(origin)
    on_links = [frame_on(ran.net, EventKind.SEND, sender, key) for sender, _ in ran.path(reverse)]
    assert [frame[22] for frame in on_links] == [64, 63, 62]
    assert all(header_checksum_ok(frame) for frame in on_links)
    for frame in on_links:
        assert ip_payload(frame) == ip_payload(origin)
        header, first = ip_header(frame), ip_header(origin)
        assert header[:8] + header[9:10] + header[12:] == first[:8] + first[9:10] + first[12:], \
            "a router changed an IPv4 field other than TTL and checksum"


@pytest.mark.parametrize("which", PACKETS)
def test_capture_file_holds_the_frame_on_both_ends_of_every_link(ran: Chain, records, which: str) -> None:
    chain = ran
    origin, reverse = packet_of(chain, which)
    key = ip_key(origin)
    for sender, receiver in chain.path(reverse):
        for iface, kind in ((sender, EventKind.SEND), (receiver, EventKind.RECEIVE)):
            in_file = [r for r in records[iface.full_name] if r.data[12:14] == b"\x08\x00" and ip_key(r.data) == key]
            assert len(in_file) == 1, f"{iface.full_name}: {len(in_file)} copies of the packet"
            assert in_file[0].data == frame_on(chain.net, kind, iface, key)
            traced = chain.net.trace.select(kind, iface.node.name, iface.name)
            start = ran.net.start_ns
            assert in_file[0].time_ns - start == next(e.time_ns for e in traced if e.frame == in_file[0].data)


def test_capture_file_has_every_trace_frame_and_nothing_else(ran: Chain, records) -> None:
    for sender, receiver in CHAIN_LINKS:
        for full_name in (sender, receiver):
            node, _, iface = full_name.partition(":")
            traced = [(e.time_ns, e.frame) for e in ran.net.trace.events
                      if e.node == node and e.interface == iface and e.kind in (EventKind.SEND, EventKind.RECEIVE)]
            assert [(r.time_ns - ran.net.start_ns, r.data) for r in records[full_name]] == traced


def test_routers_add_packet_comments_to_the_capture(ran: Chain, records) -> None:
    assert "r1: forwarded via eth1, TTL 64->63" in {r.comment for r in records["r1:eth1"]}
    assert "r2: forwarded via eth1, TTL 63->62" in {r.comment for r in records["r2:eth1"]}
    received = [r.comment for r in records["r1:eth0"] if r.data[0:6] == ran.r1.interfaces["eth0"].mac]
    assert received and all(c is None for c in received), "frames coming in carry no comment"


@pytest.mark.parametrize("which", ["echo request", "udp datagram"])
def test_hops_show_only_the_router_rewrites(ran: Chain, which: str) -> None:
    origin, _ = packet_of(ran, which)
    key = ip_key(origin)
    link_frames = [frame_on(ran.net, EventKind.SEND, sender, key) for sender, _ in ran.path()]
    hops = ran.net.trace.hops(origin)
    assert [(h.node, h.in_interface, h.out_interface, h.outcome) for h in hops] == [
        ("client", None, "eth0", "sent"),
        ("r1", "eth0", "eth1", "forwarded"),
        ("r2", "eth0", "eth1", "forwarded"),
        ("server", "eth0", None, "delivered"),
    ]
    assert hops[0].changes == () and hops[3].changes == ()
    for hop, before, after in ((hops[1], link_frames[0], link_frames[1]), (hops[2], link_frames[1], link_frames[2])):
        changed = {(c.layer, c.field): (c.old, c.new) for c in hop.changes}
        assert changed == {
            ("Ethernet", "dst"): (MAC(eth_dst(before)), MAC(eth_dst(after))),
            ("Ethernet", "src"): (MAC(eth_src(before)), MAC(eth_src(after))),
            ("IPv4", "ttl"): (before[22], after[22]),
            ("IPv4", "header_checksum"): (int.from_bytes(before[24:26], "big"), int.from_bytes(after[24:26], "big")),
        }
        assert hop.arrived_ns is not None and hop.left_ns is not None and hop.arrived_ns <= hop.left_ns


def test_a_hosts_default_route_exists_before_the_first_run() -> None:
    net = Network(seed=7)
    client, router, server = net.add_host("client"), net.add_router("r"), net.add_host("server")
    net.link(client, router)
    net.link(router, server)
    server_socket = server.udp_socket(9999)
    assert client.udp_socket(40000).sendto(PAYLOAD, (server.interfaces["eth0"].address.ip, 9999)) is True
    net.run_until_idle()
    assert [d.data for d in server_socket.received] == [PAYLOAD]
