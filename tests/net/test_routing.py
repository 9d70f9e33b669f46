"""The routing table: `ip route` text, prefix parsing and errors, and longest-prefix match checked against a
scan of every route (hypothesis) and against pytricia."""

from __future__ import annotations

import gc
import random
import weakref
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layersim.errors import LayersimError
from layersim.net.ip import routing
from layersim.net.ip.routing import Route, RouteKind, RoutingError, RoutingTable

MAX = 0xFFFFFFFF


def network(addr: int, length: int) -> str:
    """'a.b.c.d/n' for the network of `addr` with `length` bits."""
    return f"{IPv4Address(addr & (MAX << (32 - length)) & MAX)}/{length}"


def reference(routes: dict[str, Route], addr: int) -> Route | None:
    """Longest-prefix match the slow, obvious way: every route, the longest that contains `addr`."""
    best = None
    for route in routes.values():
        length = route.prefix.prefixlen
        contains = (addr ^ int(route.prefix.network_address)) >> (32 - length) == 0
        if contains and (best is None or length > best.prefix.prefixlen):
            best = route
    return best


def boundaries(routes: dict[str, Route]) -> list[int]:
    """0, 2**32-1, the first and last address of every route, the addresses just outside it, and those that
    share only its first n bits for every n below its length (they hit its markers, then miss)."""
    found = {0, MAX}
    for route in routes.values():
        first, last = int(route.prefix.network_address), int(route.prefix.broadcast_address)
        found |= {first, last, max(first - 1, 0), min(last + 1, MAX)}
        found |= {first ^ (1 << (31 - n)) for n in range(route.prefix.prefixlen)}
    return sorted(found)


# `ip route` text ------------------------------------------------------------------------------------------


def test_route_text_matches_ip_route():
    static = Route(IPv4Network("10.0.2.0/24"), IPv4Address("10.0.12.2"), "eth1")
    connected = Route(IPv4Network("10.0.1.0/24"), None, "eth0", kind=RouteKind.CONNECTED)
    default = Route(IPv4Network("0.0.0.0/0"), IPv4Address("10.0.1.1"), "eth0")
    assert str(static) == "10.0.2.0/24 via 10.0.12.2 dev eth1"
    assert str(connected) == "10.0.1.0/24 dev eth0 proto kernel scope link"
    assert str(default) == "default via 10.0.1.1 dev eth0"
    # `ip route add 10.0.3.0/24 dev eth2` and `... metric 100` print like this on Linux:
    assert str(Route(IPv4Network("10.0.3.0/24"), None, "eth2")) == "10.0.3.0/24 dev eth2 scope link"
    assert str(Route(IPv4Network("0.0.0.0/0"), IPv4Address("10.0.1.1"), "eth0", 100)) == (
        "default via 10.0.1.1 dev eth0 metric 100"
    )


def test_table_text_in_ip_route_order():
    # The kernel dumps its fib_trie by network address, and a longer prefix first when addresses tie, so
    # OpenVPN's "def1" routes print as `ip route` shows them: 0.0.0.0/1 above default.
    table = RoutingTable()
    table.add("10.0.2.0/24", via="10.0.12.2", interface="eth1")
    table.add("128.0.0.0/1", via="10.8.0.1", interface="tun0")
    table.add("10.0.1.0/24", interface="eth0", kind=RouteKind.CONNECTED)
    table.add("default", via="10.0.1.1", interface="eth0")
    table.add("0.0.0.0/1", via="10.8.0.1", interface="tun0")
    table.add("10.0.0.0/8", via="10.0.1.254", interface="eth0")
    assert str(table) == "\n".join(
        [
            "0.0.0.0/1 via 10.8.0.1 dev tun0",
            "default via 10.0.1.1 dev eth0",
            "10.0.0.0/8 via 10.0.1.254 dev eth0",
            "10.0.1.0/24 dev eth0 proto kernel scope link",
            "10.0.2.0/24 via 10.0.12.2 dev eth1",
            "128.0.0.0/1 via 10.8.0.1 dev tun0",
        ]
    )
    assert list(table) == table.routes()
    assert len(table) == 6
    assert repr(table) == "<RoutingTable: 6 routes>"
    assert str(RoutingTable()) == ""


# Adding and removing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("default", "0.0.0.0/0"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("10.0.2.0/24", "10.0.2.0/24"),
        ("10.0.2.7", "10.0.2.7/32"),
        ("10.0.2.7/32", "10.0.2.7/32"),
        ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
        (IPv4Network("192.0.2.0/25"), "192.0.2.0/25"),
        ("255.255.255.255/32", "255.255.255.255/32"),
        ("128.0.0.0/1", "128.0.0.0/1"),
    ],
)
def test_add_accepts_prefix_forms(prefix, expected):
    table = RoutingTable()
    route = table.add(prefix, via="192.0.2.1")
    assert route.prefix == IPv4Network(expected)
    assert table.get(expected) is route
    assert table.lookup(IPv4Network(expected).network_address) is route


@pytest.mark.parametrize(
    ("prefix", "network"),
    [("10.0.2.5/24", "10.0.2.0/24"), ("10.0.2.5/255.255.255.0", "10.0.2.0/24"), ("0.0.0.1/0", "0.0.0.0/0")],
)
def test_host_bits_are_an_error_naming_the_prefix(prefix, network):
    with pytest.raises(RoutingError, match=f"'{prefix}' has host bits set \\(the network is {network}\\)"):
        RoutingTable().add(prefix, via="192.0.2.1")


@pytest.mark.parametrize(
    "prefix",
    ["", "10.0.0.0/33", "10.0.0/24", "300.0.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "010.0.0.0/8", " 10.0.0.0/8",
     "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0.0/٨", "::/0", "default ", 167772160, None],
)  # fmt: skip
def test_bad_prefixes_are_routing_errors(prefix):
    with pytest.raises(RoutingError, match="is not an IPv4 prefix"):
        RoutingTable().add(prefix, via="192.0.2.1")


def test_route_needs_a_next_hop_or_interface_and_sensible_fields():
    table = RoutingTable()
    with pytest.raises(RoutingError, match=r"route to 10.0.0.0/8: give a next hop \(via\) or an interface"):
        table.add("10.0.0.0/8")
    with pytest.raises(RoutingError, match=r"connected route to 10\.0\.0\.0/8: needs an interface and no next hop"):
        table.add("10.0.0.0/8", via="10.0.0.1", interface="eth0", kind="connected")
    with pytest.raises(RoutingError, match="metric -1 is not an integer"):
        table.add("10.0.0.0/8", interface="eth0", metric=-1)
    with pytest.raises(RoutingError, match="route kind 'bgp' is not one of connected, static"):
        table.add("10.0.0.0/8", interface="eth0", kind="bgp")
    with pytest.raises(RoutingError, match=r"'10\.0\.0\.300' is not an IPv4 address"):
        table.add("10.0.0.0/8", via="10.0.0.300")
    assert len(table) == 0
    assert issubclass(RoutingError, LayersimError)


def test_duplicate_prefix_names_the_existing_route_unless_replace():
    table = RoutingTable()
    first = table.add("10.0.2.0/24", via="10.0.12.2", interface="eth1")
    message = "10.0.2.0/24 already has a route: '10.0.2.0/24 via 10.0.12.2 dev eth1' (pass replace=True"
    with pytest.raises(RoutingError, match=message.replace(".", r"\.").replace("(", r"\(")):
        table.add("10.0.2.0/24", via="10.0.12.3", interface="eth1")
    assert table.lookup("10.0.2.9") is first
    second = table.add(IPv4Network("10.0.2.0/24"), via="10.0.12.3", interface="eth1", replace=True)
    assert table.lookup("10.0.2.9") is second
    assert len(table) == 1


def test_remove_returns_the_route_and_lookups_follow():
    table = RoutingTable()
    default = table.add("default", via="10.0.1.1", interface="eth0")
    specific = table.add("10.0.2.0/24", via="10.0.12.2", interface="eth1")
    assert table.lookup("10.0.2.1") is specific
    assert table.remove("10.0.2.0/24") is specific
    assert table.lookup("10.0.2.1") is default
    assert table.remove("0.0.0.0/0") is default
    assert table.lookup("10.0.2.1") is None
    with pytest.raises(RoutingError, match=r"no route to 10\.0\.2\.0/24 to remove"):
        table.remove("10.0.2.0/24")


def test_add_many_is_all_or_nothing():
    table = RoutingTable()
    assert table.add_many([("10.0.1.0/24", None, "eth0"), ("default", "10.0.1.1", "eth0")]) == 2
    batch = [("10.0.2.0/24", "10.0.1.2", "eth0"), ("10.0.3.0/24", "10.0.1.3", "eth0")]
    for bad in [("10.0.1.0/24", "10.0.1.9", "eth0"), ("10.0.2.0/24", "10.0.1.9", "eth0"), ("10.0.4.1/24", None, "e")]:
        with pytest.raises(RoutingError):
            table.add_many([*batch, bad])
        assert len(table) == 2
        assert table.lookup("10.0.2.1").prefix == IPv4Network("0.0.0.0/0")
    assert table.add_many([*batch, ("10.0.1.0/24", "10.0.1.9", "eth0")], replace=True) == 2  # 2 new, 1 replaced
    assert str(table.get("10.0.1.0/24")) == "10.0.1.0/24 via 10.0.1.9 dev eth0"
    assert table.add_many([("192.0.2.0/24", None, "eth9")], metric=5, kind="connected") == 1
    assert str(table.get("192.0.2.0/24")) == "192.0.2.0/24 dev eth9 proto kernel scope link metric 5"


@pytest.mark.parametrize("enabled", [True, False])
def test_add_many_leaves_the_garbage_collector_as_it_found_it(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        RoutingTable().add_many([("10.0.0.0/8", None, "eth0")])
        with pytest.raises(RoutingError):
            RoutingTable().add_many([("10.0.0.1/8", None, "eth0")])
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


# Looking up -----------------------------------------------------------------------------------------------


def test_lookup_takes_text_addresses_and_ints():
    table = RoutingTable()
    route = table.add("10.0.2.0/24", via="10.0.12.2", interface="eth1")
    for addr in ["10.0.2.200", IPv4Address("10.0.2.200"), 0x0A0002C8]:
        assert table.lookup(addr) is route
    assert table.lookup_int(0x0A0002C8) is route
    assert table.lookup("10.0.3.1") is None
    for bad in ["10.0.2", "10.0.2.256", -1, 2**32, True, None, b"\n\0\2\1"]:
        with pytest.raises(RoutingError, match="is not an IPv4 address"):
            table.lookup(bad)


def test_marker_without_a_covering_route_answers_none():
    # Lengths 8, 16, 24: the search starts at /16, where 10.1.2.0/24 leaves a marker 10.1.0.0/16 that no route
    # covers. 10.1.9.9 hits that marker, misses at /24, and must get None, not the marker's placeholder.
    table = RoutingTable()
    table.add("10.1.2.0/24", via="192.0.2.1")
    table.add("192.168.0.0/16", via="192.0.2.1")
    table.add("11.0.0.0/8", via="192.0.2.1")
    assert table.lookup("10.1.9.9") is None
    assert table.lookup("10.1.2.9").prefix == IPv4Network("10.1.2.0/24")
    assert table.lookup("11.1.2.9").prefix == IPv4Network("11.0.0.0/8")


def test_every_length_in_use_costs_at_most_six_probes():
    # Waldvogel et al.: a balanced search over 32 lengths is 6 levels deep (1..32; /0 is the fallback).
    def depth(tree):
        return 0 if tree is None else 1 + max(depth(tree[1]), depth(tree[2]))

    assert depth(routing._balanced(list(range(1, 33)))) == 6
    table = RoutingTable()
    table.add_many((network(0x0A000000, length), None, "eth0") for length in range(33))
    assert table.lookup("10.0.0.0").prefix.prefixlen == 32
    assert table.lookup("10.0.0.1").prefix.prefixlen == 31
    assert table.lookup("11.0.0.0").prefix.prefixlen == 7
    assert table.lookup("200.0.0.0").prefix.prefixlen == 0


def test_markers_are_rebuilt_once_per_change(monkeypatch):
    builds = []
    compile_lookup = routing._compile
    monkeypatch.setattr(routing, "_compile", lambda *args: builds.append(1) or compile_lookup(*args))
    table = RoutingTable()
    table.add_many((network(i << 12, 20), None, "eth0") for i in range(1000))
    for i in range(100):
        assert table.lookup_int(i << 12).prefix.prefixlen == 20
    assert len(builds) == 1
    table.add("default", via="10.0.0.1", interface="eth0")
    table.add("10.0.0.0/8", via="10.0.0.1", interface="eth0")
    assert table.lookup("10.200.0.1").prefix.prefixlen == 8
    assert table.lookup("200.0.0.1").prefix.prefixlen == 0
    assert len(builds) == 2


def test_a_kept_lookup_function_stays_correct_after_changes():
    table = RoutingTable()
    table.add("10.0.0.0/8", via="192.0.2.1")
    assert table.lookup_int(0x0A010203).prefix.prefixlen == 8  # compiles the lookup
    lookup = table.lookup_int  # the compiled function, kept by the caller
    assert not hasattr(lookup, "__self__")
    route = table.add("10.1.0.0/16", via="192.0.2.2")
    assert lookup(0x0A010203) is route  # stale: it asks the table
    table.remove("10.1.0.0/16")
    assert lookup(0x0A010203).prefix.prefixlen == 8
    table.add("10.2.0.0/16", via="192.0.2.2")
    gone = weakref.ref(table)
    del table
    gc.collect()
    assert gone() is None
    with pytest.raises(RoutingError, match="no longer exists"):
        lookup(0x0A010203)


# Longest-prefix match against a scan of every route -------------------------------------------------------

lengths = st.one_of(st.sampled_from([0, 1, 8, 16, 24, 31, 32]), st.integers(0, 32))


@st.composite
def operations(draw):
    """A base address and a list of adds, bulk adds, removes and lookups near it (so prefixes nest)."""
    base = draw(st.integers(0, MAX))
    near = st.builds(lambda bits, shift: base ^ (bits >> shift), st.integers(0, MAX), st.integers(0, 32))
    shortest = draw(st.sampled_from([0, 0, 12, 20]))  # without short routes, many markers cover no route
    route = st.tuples(near, lengths.filter(lambda length: length >= shortest))
    op = st.one_of(
        st.tuples(st.just("add"), route),
        st.tuples(st.just("bulk"), st.lists(route, max_size=12)),
        st.tuples(st.just("remove"), st.integers(0, 1000)),
        st.tuples(st.just("lookup"), st.lists(near, min_size=1, max_size=8)),
    )
    return draw(st.lists(op, max_size=40)), draw(st.lists(near, max_size=20))


# How levels are probed: a bytearray up to (this size, bytes per key), else a bitmap up to this many bits per
# key, else a set. The hypothesis tables are small, so the last two settings force bitmaps and sets.
PROBES = {"default": (1 << 16, 32, 1024), "bitmaps": (0, 0, 2**15), "sets": (0, 0, 0)}


@pytest.mark.parametrize("probes", PROBES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=operations())
def test_lookup_matches_a_scan_of_all_routes(probes, case):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routing, "_BYTEMAP_BYTES", PROBES[probes][0])
        patch.setattr(routing, "_BYTEMAP_BYTES_PER_KEY", PROBES[probes][1])
        patch.setattr(routing, "_BITMAP_BITS_PER_KEY", PROBES[probes][2])
        check_against_scan(*case)


def check_against_scan(ops, extra):
    """Apply the operations to a table and to a dict of routes; every lookup must match the scan."""
    table, routes = RoutingTable(), {}
    for name, arg in ops:
        if name == "add":
            prefix = network(*arg)
            routes[prefix] = table.add(prefix, via="192.0.2.1", interface="eth0", replace=True)
        elif name == "bulk":
            batch = [(network(*item), "192.0.2.2", "eth1") for item in arg]
            table.add_many(batch, replace=True)
            routes.update({prefix: table.get(prefix) for prefix, _, _ in batch})
        elif name == "remove":
            if routes:
                prefix = sorted(routes)[arg % len(routes)]
                assert table.remove(prefix) is routes.pop(prefix)
        else:
            for addr in arg:
                assert table.lookup_int(addr) is reference(routes, addr)
    assert len(table) == len(routes)
    for addr in boundaries(routes) + extra:
        expected = reference(routes, addr)
        assert table.lookup_int(addr) is expected
        assert table.lookup(str(IPv4Address(addr))) is expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, MAX), lengths), max_size=30), st.integers(0, MAX))
def test_routes_are_listed_by_address_then_longest_first(items, addr):
    table = RoutingTable()
    table.add_many({network(*item): (network(*item), None, "eth0") for item in items}.values())
    listed = [(int(r.prefix.network_address), -r.prefix.prefixlen) for r in table]
    assert listed == sorted(listed)
    assert len(listed) == len(table) == len(str(table).splitlines())
    assert table.lookup_int(addr) is reference({str(r.prefix): r for r in table}, addr)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, MAX), st.integers(0, 32))
def test_prefix_parsing_agrees_with_ipaddress(addr, length):
    text = f"{IPv4Address(addr)}/{length}"
    try:
        expected = IPv4Network(text)
    except ValueError:
        with pytest.raises(RoutingError, match="has host bits set"):
            RoutingTable().add(text, interface="eth0")
    else:
        assert RoutingTable().add(text, interface="eth0").prefix == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=24))
def test_any_text_is_a_prefix_or_a_routing_error(text):
    try:
        route = RoutingTable().add(text, interface="eth0")
    except RoutingError:
        return
    assert route.prefix == (IPv4Network("0.0.0.0/0") if text == "default" else IPv4Network(text))


# Against pytricia -----------------------------------------------------------------------------------------


def test_agrees_with_pytricia_on_a_random_100k_table():
    pytricia = pytest.importorskip("pytricia")
    rng = random.Random(1812)
    prefixes = {network(rng.getrandbits(32), rng.choice(range(33))) for _ in range(100_000)}
    table, tree = RoutingTable(), pytricia.PyTricia(32)
    table.add_many((prefix, "192.0.2.1", "eth0") for prefix in prefixes)
    for prefix in prefixes:
        tree[prefix] = prefix
    addrs = [rng.getrandbits(32) for _ in range(20_000)]
    for prefix in map(IPv4Network, rng.sample(sorted(prefixes), 5_000)):  # inside a route, so it may be nested
        addrs.append(int(prefix.network_address) | rng.getrandbits(32) & (MAX >> prefix.prefixlen))
    for addr in addrs:
        route = table.lookup_int(addr)
        assert (None if route is None else str(route.prefix)) == tree.get_key(str(IPv4Address(addr)))
