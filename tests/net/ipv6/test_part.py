"""A node's IPv6 part: source address choice over its interfaces and DAD states, `ra` on router interfaces."""

from __future__ import annotations

import tomllib
from ipaddress import IPv6Address, IPv6Network

import pytest

from layersim.errors import LayersimError
from layersim.net.ipv6.dad import DadState
from layersim.net.network import Network
from layersim.net.topology import TopologyError, build_network


def dual_homed() -> Network:
    net = Network()
    host, r1, r2 = net.add_host("h"), net.add_router("r1"), net.add_router("r2")
    net.link(host, r1, a_ip6="2001:db8:1::10/64", b_ip6="2001:db8:1::1/64", ra=True)
    net.link(host, r2, a_ip6="2001:db8:2::10/64", b_ip6="2001:db8:2::1/64")
    return net


def test_source_follows_rfc_6724_over_the_nodes_interfaces():
    part = dual_homed().hosts["h"].ipv6
    # rule 5 (the outgoing interface's address) comes before rule 8 (longest matching prefix)
    assert part.source_for(IPv6Address("2001:db8:2::99"), "eth0") == IPv6Address("2001:db8:1::10")
    assert part.source_for(IPv6Address("2001:db8:9::1"), "eth1") == IPv6Address("2001:db8:2::10")
    assert part.source_for(IPv6Address("fe80::1"), "eth1") == IPv6Address("fe80::ff:fe00:3")  # eth1's own


def test_a_tentative_or_duplicate_address_is_never_the_source():
    part = dual_homed().hosts["h"].ipv6
    part.dad.start(IPv6Address("2001:db8:2::10"), "eth1", 0)
    assert part.source_for(IPv6Address("2001:db8:2::99"), "eth1") == IPv6Address("2001:db8:1::10")
    assert not part.owns(IPv6Address("2001:db8:2::10"))
    part.dad.receive_ns(IPv6Address("2001:db8:2::10"), IPv6Address("::"))
    assert part.dad.state(IPv6Address("2001:db8:2::10")) is DadState.DUPLICATE
    assert "inet6 2001:db8:2::10/64 scope global dadfailed" in part.addr_text()
    assert part.owns(IPv6Address("2001:db8:1::10")) and not part.owns(IPv6Address("2001:db8:1::1"))


def test_ra_makes_only_the_router_end_advertise_its_prefix():
    net = dual_homed()
    assert list(net.routers["r1"].ipv6.advertisers) == ["eth0"]
    assert net.routers["r1"].ipv6.advertisers["eth0"][1][0].prefix == IPv6Network("2001:db8:1::/64")
    assert net.routers["r2"].ipv6.advertisers == {} and net.hosts["h"].ipv6.advertisers == {}


def test_ra_without_a_router_with_an_ipv6_address_is_an_error():
    net = Network()
    net.add_host("a"), net.add_host("b"), net.add_router("r")
    with pytest.raises(LayersimError, match="ra=True needs a router end with an IPv6 address"):
        net.link("a", "b", a_ip6="2001:db8:1::1/64", ra=True)
    with pytest.raises(LayersimError, match="ra=True needs a router end"):
        net.link("a", "r", ra=True)


def test_ra_in_a_topology_file():
    text = """
[[node]]
name = "h"
kind = "host"
[[node]]
name = "r"
kind = "router"
[[link]]
a = "h"
b = "r"
b_ip6 = "2001:db8:1::1/64"
ra = true
"""
    assert "eth0" in build_network(tomllib.loads(text), "ra.toml").network.routers["r"].ipv6.advertisers
    with pytest.raises(TopologyError, match="ra: expected"):
        build_network(tomllib.loads(text.replace("ra = true", 'ra = "yes"')), "ra.toml")


def test_ipv6_draws_leave_the_ipv4_generators_alone():
    a, b = Network(seed=3), Network(seed=3)
    a.add_host("x")
    b.add_host("x")
    assert a.hosts["x"].rng.random() == b.hosts["x"].rng.random()
    assert a.hosts["x"].ipv6.neighbours.reachable_ns == b.hosts["x"].ipv6.neighbours.reachable_ns
    assert Network(seed=4).add_host("x").ipv6.neighbours.reachable_ns != a.hosts["x"].ipv6.neighbours.reachable_ns
