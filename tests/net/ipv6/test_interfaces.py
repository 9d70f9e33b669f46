"""Dual-stack links: link-local on every interface, a_ip6/b_ip6 from Python and topology files, IPv6 routes."""

from __future__ import annotations

import tomllib

import pytest

from layersim.errors import LayersimError
from layersim.net.ip.routing import RoutingError
from layersim.net.network import Network
from layersim.net.topology import TopologyError, build_network

TOPOLOGY = """
[[node]]
name = "client"
kind = "host"
[[node]]
name = "r1"
kind = "router"
[[node]]
name = "server"
kind = "host"
[[link]]
a = "client"
b = "r1"
a_ip6 = "2001:db8:1::10/64"
b_ip6 = "2001:db8:1::1/64"
[[link]]
a = "r1"
b = "server"
a_ip6 = "2001:db8:12::1/64"
b_ip6 = "2001:db8:12::2/64"
[[route]]
node = "r1"
to = "2001:db8:2::/64"
via = "2001:db8:12::2"
[[route]]
node = "server"
to = "::/0"
via = "fe80::ff:fe00:3"
dev = "eth0"
"""


def three_nodes() -> Network:
    net = Network()
    client, r1, server = net.add_host("client"), net.add_router("r1"), net.add_host("server")
    net.link(client, r1, a_ip6="2001:db8:1::10/64", b_ip6="2001:db8:1::1/64")
    net.link(r1, server, a_ip6="2001:db8:12::1/64", b_ip6="2001:db8:12::2/64")
    return net


def test_every_interface_gets_its_link_local_first_then_the_global_address():
    net = three_nodes()
    client = net.hosts["client"].interfaces["eth0"]
    assert [str(a) for a in client.addresses6] == ["fe80::ff:fe00:1/64", "2001:db8:1::10/64"]
    assert [str(a) for a in net.routers["r1"].interfaces["eth1"].addresses6] == [
        "fe80::ff:fe00:3/64", "2001:db8:12::1/64"]


def test_a_link_without_ipv6_addresses_still_has_link_local_ones():
    net = Network()
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b)
    assert [str(x) for x in a.interfaces["eth0"].addresses6] == ["fe80::ff:fe00:1/64"]
    assert len(a.routes.v6) == 0 and str(a.routes.v6) == ""


def test_connected_routes_and_the_automatic_default_print_like_ip_6_route():
    net = three_nodes()
    assert str(net.hosts["client"].routes.v6).splitlines() == [
        "default via 2001:db8:1::1 dev eth0 metric 1024 pref medium",
        "2001:db8:1::/64 dev eth0 proto kernel metric 256 pref medium"]
    assert str(net.hosts["client"].routes).splitlines() == [  # `ip route` stays IPv4 only
        "default via 10.0.1.2 dev eth0", "10.0.1.0/24 dev eth0 proto kernel scope link"]


def test_static_ipv6_routes_from_python_find_their_interface():
    r1 = three_nodes().routers["r1"]
    route = r1.routes.add("2001:db8:2::/64", via="2001:db8:12::2")
    assert str(route) == "2001:db8:2::/64 via 2001:db8:12::2 dev eth1 metric 1024 pref medium"
    assert r1.routes.lookup("2001:db8:2::99") is route
    assert r1.routes.lookup("2001:db8:12::99").interface == "eth1"
    assert r1.routes.lookup("2001:db8:3::1") is None
    with pytest.raises(RoutingError, match="next hop fe80::1 is link-local; say which interface"):
        r1.routes.add("2001:db8:4::/64", via="fe80::1")
    with pytest.raises(RoutingError, match="next hop 2001:db8:99::1 is not on a connected subnet"):
        r1.routes.add("2001:db8:4::/64", via="2001:db8:99::1")
    assert r1.routes.remove("2001:db8:2::/64") is route


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"a_ip6": "2001:db8:1::10"}, "needs a prefix length"),
    ({"a_ip6": "2001:db8:1::10/64", "b_ip6": "2001:db8:2::1/64"}, "are not in the same subnet"),
    ({"a_ip6": "2001:db8:1::10/64", "b_ip6": "2001:db8:1::10/64"}, "a_ip6 and b_ip6 are both 2001:db8:1::10"),
    ({"a_ip6": "fe80::1/64"}, "link-local"),
    ({"a_ip6": "ff02::1/64"}, "multicast"),
    ({"a_ip6": "::/64"}, "unspecified"),
    ({"a_ip6": "10.0.0.1/24"}, "is not an IPv6 address"),
])
def test_bad_ipv6_link_addresses_name_the_link_and_key(kwargs, message):
    net = Network()
    net.add_host("a"), net.add_host("b")
    with pytest.raises(LayersimError, match=message):
        net.link("a", "b", **kwargs)
    assert not net.links and not net.hosts["a"].interfaces  # nothing half made


def test_an_ipv6_address_used_twice_is_refused():
    net = three_nodes()
    net.add_host("d")
    with pytest.raises(LayersimError, match="2001:db8:1::10 is already used by client:eth0"):
        net.link("d", "r1", a_ip6="2001:db8:1::10/64")


def test_topology_file_with_ipv6_links_and_routes():
    scenario = build_network(tomllib.loads(TOPOLOGY), "v6.toml")
    net = scenario.network
    assert str(net.routers["r1"].routes.v6.lookup("2001:db8:2::1")) == (
        "2001:db8:2::/64 via 2001:db8:12::2 dev eth1 metric 1024 pref medium")
    assert str(net.hosts["server"].routes.v6.get("::/0")) == (
        "default via fe80::ff:fe00:3 dev eth0 metric 1024 pref medium")


def test_topology_file_ipv6_mistakes_point_at_the_table():
    bad = TOPOLOGY.replace('via = "fe80::ff:fe00:3"\ndev = "eth0"', 'via = "fe80::ff:fe00:3"')
    with pytest.raises(TopologyError, match=r"\[\[route\]\] #2.*link-local"):
        build_network(tomllib.loads(bad), "v6.toml")
    bad = TOPOLOGY.replace('b_ip6 = "2001:db8:12::2/64"', 'b_ip6 = "2001:db8:13::2/64"')
    with pytest.raises(TopologyError, match=r"\[\[link\]\] #2.*not in the same subnet"):
        build_network(tomllib.loads(bad), "v6.toml")
