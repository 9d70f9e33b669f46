"""An IPv6 router hop: hop limit - 1 and nothing else changed, Time Exceeded at 1, no route, Packet Too Big with the
next link's MTU (never below 1280), link-local never forwarded."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from layersim.net.ip.routing import RoutingTable
from layersim.net.ipv6.forward import Forward6, Refuse6, forward6
from layersim.net.trace.details import DropReason
from layersim.wire.icmpv6 import ICMPv6Type

scapy = pytest.importorskip("scapy.all")


def table() -> RoutingTable:
    routes = RoutingTable(6)
    routes.add("2001:db8:2::/64", via="2001:db8:12::2", interface="eth1")
    routes.add("2001:db8:1::/64", interface="eth0", kind="connected")
    return routes


MTUS = {"eth0": 1500, "eth1": 1400}


def packet(size: int = 10, hlim: int = 64, src: str = "2001:db8:1::10", dst: str = "2001:db8:2::20") -> bytes:
    return bytes(scapy.IPv6(src=src, dst=dst, hlim=hlim) / scapy.UDP(sport=1, dport=2) / (b"x" * size))


def test_a_hop_decrements_the_hop_limit_and_changes_nothing_else():
    original = packet()
    result = forward6(original, table(), MTUS.__getitem__)
    assert isinstance(result, Forward6)
    assert (result.interface, result.next_hop, result.hop_limit) == ("eth1", IPv6Address("2001:db8:12::2"), 64)
    assert result.packet[7] == 63 and result.packet[:7] == original[:7] and result.packet[8:] == original[8:]
    assert scapy.IPv6(bytes(result.packet))[scapy.UDP].chksum == scapy.IPv6(original)[scapy.UDP].chksum


def test_an_on_link_destination_is_its_own_next_hop():
    result = forward6(packet(dst="2001:db8:1::99", src="2001:db8:2::20"), table(), MTUS.__getitem__)
    assert result.next_hop == IPv6Address("2001:db8:1::99") and result.interface == "eth0"


@pytest.mark.parametrize(("hlim", "forwarded"), [(0, False), (1, False), (2, True), (255, True)])
def test_time_exceeded_when_the_hop_limit_would_reach_zero(hlim, forwarded):
    result = forward6(packet(hlim=hlim), table(), MTUS.__getitem__)
    assert isinstance(result, Forward6) == forwarded
    if not forwarded:
        assert result == Refuse6(DropReason.TTL_EXCEEDED, ICMPv6Type.TIME_EXCEEDED, 0)


def test_no_route_is_destination_unreachable_code_0():
    assert forward6(packet(dst="2001:db8:9::1"), table(), MTUS.__getitem__) == Refuse6(
        DropReason.NO_ROUTE, ICMPv6Type.DEST_UNREACHABLE, 0)


@pytest.mark.parametrize(("size", "too_big"), [(1352, False), (1353, True)])  # 40 + 8 + 1352 = 1400
def test_packet_too_big_carries_the_next_links_mtu(size, too_big):
    result = forward6(packet(size), table(), MTUS.__getitem__)
    if too_big:
        assert result == Refuse6(DropReason.MTU_EXCEEDED, ICMPv6Type.PACKET_TOO_BIG, 0, 1400)
    else:
        assert isinstance(result, Forward6)


def test_packet_too_big_never_announces_less_than_1280():
    result = forward6(packet(1300), table(), {"eth1": 1000}.__getitem__)
    assert result.parameter == 1280


@pytest.mark.parametrize(("src", "dst"), [("fe80::1", "2001:db8:2::20"), ("2001:db8:1::10", "fe80::2"),
                                          ("febf::1", "2001:db8:2::20")])
def test_link_local_is_never_forwarded(src, dst):
    result = forward6(packet(src=src, dst=dst), table(), MTUS.__getitem__)
    assert result == Refuse6(DropReason.NO_ROUTE, ICMPv6Type.DEST_UNREACHABLE, 2)


def test_fec0_is_not_link_local():
    assert isinstance(forward6(packet(src="fec0::1"), table(), MTUS.__getitem__), Forward6)
