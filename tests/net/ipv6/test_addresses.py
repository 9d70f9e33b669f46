"""Addresses an IPv6 interface derives: modified EUI-64 link-local, SLAAC, solicited-node groups, multicast MACs."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from layersim.net.ipv6.addresses import interface_id, link_local, multicast_mac, slaac_address, solicited_node


def test_link_local_from_a_mac_flips_the_universal_local_bit():
    # RFC 4291 appendix A; the same addresses Linux gives these MACs (`ip -6 addr` after `ip link set ... up`)
    assert str(link_local("02:00:00:00:00:01")) == "fe80::ff:fe00:1/64"
    assert str(link_local("00:1b:21:3a:4f:5c")) == "fe80::21b:21ff:fe3a:4f5c/64"
    assert str(link_local("ff:ff:ff:ff:ff:ff")) == "fe80::fdff:ffff:feff:ffff/64"
    assert interface_id("00:00:00:00:00:00") == 0x0200_00FF_FE00_0000


def test_slaac_puts_the_interface_id_under_a_64_prefix():
    assert str(slaac_address("2001:db8:1::/64", "02:00:00:00:00:0a")) == "2001:db8:1::ff:fe00:a/64"
    with pytest.raises(ValueError, match="needs a /64 prefix, not 2001:db8::/48"):
        slaac_address("2001:db8::/48", "02:00:00:00:00:0a")


def test_solicited_node_keeps_the_low_24_bits():
    assert solicited_node("2001:db8:1::10") == IPv6Address("ff02::1:ff00:10")
    assert solicited_node("fe80::21b:21ff:fe3a:4f5c") == IPv6Address("ff02::1:ff3a:4f5c")
    assert solicited_node("::") == IPv6Address("ff02::1:ff00:0")
    assert solicited_node("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == IPv6Address("ff02::1:ffff:ffff")


def test_multicast_macs_are_33_33_and_the_low_32_bits():
    assert str(multicast_mac("ff02::1")) == "33:33:00:00:00:01"
    assert str(multicast_mac("ff02::1:ff3a:4f5c")) == "33:33:ff:3a:4f:5c"
    assert str(multicast_mac("ff05::1:3")) == "33:33:00:01:00:03"
    with pytest.raises(ValueError, match="2001:db8::1 is not a multicast address"):
        multicast_mac("2001:db8::1")


@pytest.mark.parametrize("mac", ["02:00:00:00:00:01", "00:1b:21:3a:4f:5c", "ff:ff:ff:ff:ff:ff", "fe:dc:ba:98:76:54"])
def test_same_addresses_as_scapy(mac):
    utils6 = pytest.importorskip("scapy.utils6")
    from scapy.pton_ntop import inet_ntop, inet_pton

    ll = link_local(mac).ip
    assert ll == IPv6Address("fe80::" + utils6.in6_mactoifaceid(mac))
    group = inet_ntop(10, utils6.in6_getnsma(inet_pton(10, str(ll))))
    assert solicited_node(ll) == IPv6Address(group)
    assert str(multicast_mac(group)) == utils6.in6_getnsmac(inet_pton(10, group))
