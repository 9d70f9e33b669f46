"""The IPv6 node runtime on real links: neighbour discovery before the first packet, echo through two routers
(hop limit 64 -> 62, nothing else changed but the MACs), Packet Too Big from a router with a smaller MTU, the host
learning the path MTU and fragmenting at the source, Address Unreachable when no neighbour answers."""

from __future__ import annotations

from ipaddress import IPv6Address
from pathlib import Path

import pytest

from layersim.net.network import Network
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.icmpv6 import ICMPv6, ICMPv6EchoRequest
from layersim.wire.ipv6 import IPv6
from tests.tools import expert_problems

scapy = pytest.importorskip("scapy.all")

SECOND = 1_000_000_000
H1, H2 = "2001:db8:1::10", "2001:db8:2::20"


def chain(middle_mtu: int = 1500) -> Network:
    """h1 - r1 - r2 - h2, IPv6 only on top of the automatic IPv4; the r1 - r2 link's MTU as given."""
    net = Network(seed=7)
    h1, h2 = net.add_host("h1"), net.add_host("h2")
    r1, r2 = net.add_router("r1"), net.add_router("r2")
    net.link(h1, r1, a_ip6=f"{H1}/64", b_ip6="2001:db8:1::1/64")
    net.link(r1, r2, a_ip6="2001:db8:12::1/64", b_ip6="2001:db8:12::2/64", mtu=middle_mtu)
    net.link(r2, h2, a_ip6="2001:db8:2::1/64", b_ip6=f"{H2}/64")
    r1.routes.add("2001:db8:2::/64", via="2001:db8:12::2")
    r2.routes.add("2001:db8:1::/64", via="2001:db8:12::1")
    return net


def echo(seq: int, size: int, dst: str = H2) -> bytes:
    """An Echo Request from h1 with `size` bytes of data (the IPv6 packet is 48 + size bytes)."""
    return (IPv6(src=H1, dst=dst) / ICMPv6() / ICMPv6EchoRequest(identifier=0x77, sequence=seq)
            / (b"p" * size)).encode()


def ping(net: Network, *packets: bytes, wait: int = 2) -> list[tuple[IPv6Address, int, bytes, int]]:
    """Send the packets from h1 a second apart, run `wait` seconds more; the replies h1 heard (source, sequence,
    data, hop limit)."""
    h1 = net.hosts["h1"]
    replies: list[tuple[IPv6Address, int, bytes, int]] = []
    h1.ipv6.input.echo_listeners[0x77] = lambda *reply: replies.append(reply)
    for n, packet in enumerate(packets, 1):
        net.clock.at(n * SECOND, h1.send_ip6, packet)
    net.run(until=(len(packets) + wait) * SECOND)
    return replies


def sent(net: Network, node: str, interface: str) -> list[bytes]:
    """The frames `node` put on `interface`, in order."""
    return [e.frame for e in net.trace.select(EventKind.SEND, node=node, interface=interface)]


def test_echo_through_two_routers_after_neighbour_discovery():
    net = chain()
    replies = ping(net, echo(1, 56))
    assert [(str(src), seq, len(data), hops) for src, seq, data, hops in replies] == [(H2, 1, 56, 62)]
    # h1 asks for its router first: NS from h1 to the solicited-node group of 2001:db8:1::1, hop limit 255
    first = scapy.Ether(sent(net, "h1", "eth0")[0])
    assert first.dst == "33:33:ff:00:00:01" and first[scapy.IPv6].dst == "ff02::1:ff00:1"
    assert first[scapy.IPv6].hlim == 255 and first[scapy.ICMPv6ND_NS].tgt == "2001:db8:1::1"
    assert first[scapy.ICMPv6NDOptSrcLLAddr].lladdr == net.hosts["h1"].interfaces["eth0"].mac.__str__()
    answer = scapy.Ether(sent(net, "r1", "eth0")[0])  # r1's NA: solicited, router, to h1's MAC
    assert answer[scapy.ICMPv6ND_NA].S == 1 and answer[scapy.ICMPv6ND_NA].R == 1 and answer.dst == first.src
    # the request at each hop: hop limit 64, 63, 62 and the same bytes above it
    requests = [scapy.Ether(f) for node, iface in (("h1", "eth0"), ("r1", "eth1"), ("r2", "eth1"))
                for f in sent(net, node, iface) if scapy.ICMPv6EchoRequest in scapy.Ether(f)]
    assert [r[scapy.IPv6].hlim for r in requests] == [64, 63, 62]
    assert len({bytes(r[scapy.IPv6])[8:] for r in requests}) == 1
    assert all(r[scapy.ICMPv6EchoRequest].cksum == requests[0][scapy.ICMPv6EchoRequest].cksum for r in requests)
    assert not net.trace.drops()


def test_capture_of_the_ipv6_ping_opens_in_tshark_without_warnings(tmp_path: Path):
    pytest.importorskip("shutil").which("tshark") or pytest.skip("tshark is not installed")
    net = chain()
    net.capture(tmp_path / "ping6.pcapng", ["h1:eth0", "r1:eth1", "h2:eth0"])
    ping(net, echo(1, 56))
    net.close()
    assert expert_problems(tmp_path / "ping6.pcapng") == []


@pytest.mark.parametrize(("size", "too_big"), [(1352, False), (1353, True)])  # 48 + 1352 = 1400 fits
def test_packet_too_big_from_a_router_with_a_smaller_mtu(size: int, too_big: bool):
    net = chain(middle_mtu=1400)
    replies = ping(net, echo(1, size))
    drops = net.trace.drops(DropReason.MTU_EXCEEDED)
    h1 = net.hosts["h1"]
    if not too_big:
        assert not drops and h1.ipv6.pmtu.get(int(IPv6Address(H2)), net.now) is None
        return
    assert [(d.node, d.details["mtu"]) for d in drops] == [("r1", 1400)] and replies == []
    ptb = [scapy.Ether(f) for f in sent(net, "r1", "eth0") if scapy.ICMPv6PacketTooBig in scapy.Ether(f)]
    assert len(ptb) == 1 and ptb[0][scapy.ICMPv6PacketTooBig].mtu == 1400
    assert ptb[0][scapy.IPv6].src == "2001:db8:1::1" and ptb[0][scapy.IPv6].dst == H1
    assert h1.ipv6.pmtu.get(int(IPv6Address(H2)), net.now) == 1400  # RFC 8201: learned
    assert [e.details for e in net.trace.select(EventKind.PMTU, node="h1")] == [
        {"destination": H2, "mtu": 1400}]


def test_the_host_fragments_to_the_learned_path_mtu_and_the_echo_comes_back():
    net = chain(middle_mtu=1400)
    # the first is refused with Packet Too Big; the second goes in two fragments; h2's reply (1401 bytes, too
    # big for r2's 1400-byte link back) is refused in turn and teaches h2; the third gets through both ways
    replies = ping(net, echo(1, 1353), echo(2, 1353), echo(3, 1353))
    assert [seq for _, seq, _, _ in replies] == [3]
    pieces = [scapy.Ether(f) for f in sent(net, "h1", "eth0") if scapy.IPv6ExtHdrFragment in scapy.Ether(f)]
    assert len(pieces) == 4  # two per request 2 and 3
    assert all(len(p[scapy.IPv6]) <= 1400 for p in pieces)
    first, last = pieces[0][scapy.IPv6ExtHdrFragment], pieces[1][scapy.IPv6ExtHdrFragment]
    assert (first.offset, first.m, last.m, first.id == last.id) == (0, 1, 0, True)
    assert (len(bytes(first.payload)) % 8, first.nh) == (0, 58)
    assert len(replies[0][2]) == 1353


def test_no_answer_to_solicitations_is_address_unreachable_from_the_router():
    net = chain()
    replies = ping(net, echo(1, 8, dst="2001:db8:2::99"), wait=5)
    assert replies == []
    solicits = [scapy.Ether(f) for f in sent(net, "r2", "eth1") if scapy.ICMPv6ND_NS in scapy.Ether(f)]
    assert [s[scapy.ICMPv6ND_NS].tgt for s in solicits] == ["2001:db8:2::99"] * 3  # RFC 4861: 3 multicast
    times = [e.time_ns for e in net.trace.select(EventKind.SEND, node="r2", interface="eth1")]
    assert times[1] - times[0] == SECOND and times[2] - times[1] == SECOND  # retrans timer 1 s
    back = [scapy.Ether(f) for f in sent(net, "r1", "eth0") if scapy.ICMPv6DestUnreach in scapy.Ether(f)]
    assert len(back) == 1 and back[0][scapy.ICMPv6DestUnreach].code == 3 and back[0][scapy.IPv6].dst == H1
    assert [d.node for d in net.trace.drops(DropReason.ARP_FAILED)] == ["r2"]


def test_a_group_the_interface_has_not_joined_and_an_nd_message_from_off_link_are_dropped():
    net = chain()
    h1 = net.hosts["h1"]
    iface = h1.interfaces["eth0"]
    other = (IPv6(src="fe80::1", dst="ff02::1:ff00:99") / ICMPv6() / ICMPv6EchoRequest()).encode()
    frame = b"\x33\x33\xff\x00\x00\x99" + bytes(6) + b"\x86\xdd" + other
    h1.on_frame(iface, frame)
    ns = scapy.IPv6(src="fe80::1", dst="ff02::1:ff00:10", hlim=254) / scapy.ICMPv6ND_NS(tgt=H1)
    h1.on_frame(iface, b"\x33\x33\xff\x00\x00\x10" + bytes(6) + b"\x86\xdd" + bytes(ns))
    assert [d.reason for d in net.trace.drops()] == [DropReason.NOT_FOR_ME, DropReason.MALFORMED]
    assert not net.trace.select(EventKind.SEND)
