"""The IPv6 routing table: `ip -6 route` text, prefix parsing and errors, and longest-prefix match over 128-bit
addresses checked against a scan of every route (hypothesis); a node's routes keep both versions apart."""

from __future__ import annotations

from ipaddress import IPv6Address, IPv6Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.net.ip.routing import Route, RouteKind, RoutingError, RoutingTable

MAX = (1 << 128) - 1


def network(addr: int, length: int) -> str:
    """'2001:db8::/n' for the network of `addr` with `length` bits."""
    return f"{IPv6Address(addr & (MAX << (128 - length)) & MAX)}/{length}"


def reference(routes: dict[str, Route], addr: int) -> Route | None:
    """Longest-prefix match the slow, obvious way."""
    best = None
    for route in routes.values():
        length = route.prefix.prefixlen
        if (addr ^ int(route.prefix.network_address)) >> (128 - length) == 0 and (
                best is None or length > best.prefix.prefixlen):
            best = route
    return best


def test_route_text_matches_ip_6_route():
    # as iproute2 prints them on Linux 6.x (`ip -6 route`): no scope, the metric and the preference always
    connected = Route(IPv6Network("2001:db8:1::/64"), None, "eth0", 256, RouteKind.CONNECTED)
    static = Route(IPv6Network("2001:db8:2::/64"), IPv6Address("2001:db8:12::2"), "eth1", 1024)
    default = Route(IPv6Network("::/0"), IPv6Address("fe80::1"), "eth0", 1024)
    assert str(connected) == "2001:db8:1::/64 dev eth0 proto kernel metric 256 pref medium"
    assert str(static) == "2001:db8:2::/64 via 2001:db8:12::2 dev eth1 metric 1024 pref medium"
    assert str(default) == "default via fe80::1 dev eth0 metric 1024 pref medium"


def test_longest_prefix_wins_at_every_boundary_length():
    table = RoutingTable(6)
    table.add("::/0", via="fe80::1", interface="eth0")
    table.add("2001:db8::/32", via="2001:db8:ff::1", interface="eth0")
    table.add("2001:db8:2::/64", via="2001:db8:ff::2", interface="eth0")
    table.add("2001:db8:2:0:8000::/65", via="2001:db8:ff::3", interface="eth0")
    table.add("2001:db8:2::5/128", via="2001:db8:ff::4", interface="eth0")
    hops = {addr: str(table.lookup(addr).via) for addr in (
        "2001:db8:2::4", "2001:db8:2::5", "2001:db8:2::6", "2001:db8:2:0:7fff:ffff:ffff:ffff",
        "2001:db8:2:0:8000::", "2001:db8:2:1::", "2001:db8:ffff::", "2001:db9::", "::", "ffff::")}
    assert hops == {"2001:db8:2::4": "2001:db8:ff::2", "2001:db8:2::5": "2001:db8:ff::4",
                    "2001:db8:2::6": "2001:db8:ff::2", "2001:db8:2:0:7fff:ffff:ffff:ffff": "2001:db8:ff::2",
                    "2001:db8:2:0:8000::": "2001:db8:ff::3", "2001:db8:2:1::": "2001:db8:ff::1",
                    "2001:db8:ffff::": "2001:db8:ff::1", "2001:db9::": "fe80::1", "::": "fe80::1",
                    "ffff::": "fe80::1"}
    assert table.lookup(IPv6Address("2001:db8:2::5")).prefix.prefixlen == 128
    assert table.lookup(MAX).prefix.prefixlen == 0
    table.remove("::/0")
    assert table.lookup("2001:db9::") is None


def test_ip_6_route_order_and_default_spelling():
    table = RoutingTable(6)
    table.add("default", via="fe80::1", interface="eth0", metric=1024)
    table.add("2001:db8:2::/64", via="2001:db8:1::1", metric=1024)
    table.add("2001:db8:1::/64", interface="eth0", kind="connected", metric=256)
    assert str(table).splitlines() == [
        "default via fe80::1 dev eth0 metric 1024 pref medium",
        "2001:db8:1::/64 dev eth0 proto kernel metric 256 pref medium",
        "2001:db8:2::/64 via 2001:db8:1::1 metric 1024 pref medium"]
    assert repr(table) == "<RoutingTable: 3 IPv6 routes>"


@pytest.mark.parametrize(("prefix", "message"), [
    ("2001:db8::1/64", "has host bits set (the network is 2001:db8::/64)"),
    ("2001:db8::/129", "is not an IPv6 prefix"),
    ("10.0.0.0/8", "is not an IPv6 prefix"),
    ("2001:db8::g/64", "is not an IPv6 prefix"),
])
def test_bad_ipv6_prefixes_say_what_is_wrong(prefix, message):
    with pytest.raises(RoutingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RoutingTable(6).add(prefix, via="2001:db8::1")


def test_addresses_of_the_other_version_are_refused():
    with pytest.raises(RoutingError, match="is not an IPv6 address"):
        RoutingTable(6).lookup("10.0.0.1")
    with pytest.raises(RoutingError, match=r"0\.\.2\*\*128-1"):
        RoutingTable(6).lookup(1 << 128)
    with pytest.raises(RoutingError, match="is not an IPv4 prefix"):
        RoutingTable().add("2001:db8::/32", via="10.0.0.1")
    with pytest.raises(RoutingError, match="IP version 5 is not 4 or 6"):
        RoutingTable(5)


prefixes = st.builds(network, st.integers(0, MAX), st.integers(0, 128))


@settings(max_examples=60, deadline=None)
@given(st.lists(prefixes, max_size=12, unique=True), st.lists(st.integers(0, MAX), max_size=8))
def test_lookup_equals_a_scan_of_every_route(texts, probes):
    table = RoutingTable(6)
    routes = {text: table.add(text, interface="eth0") for text in texts}
    for route in routes.values():  # each route's first and last address, and the ones just outside it
        first, last = int(route.prefix.network_address), int(route.prefix.broadcast_address)
        probes += [first, last, max(first - 1, 0), min(last + 1, MAX)]
    for addr in probes:
        assert table.lookup(addr) is reference(routes, addr)
