"""Routing table with longest-prefix match (RFC 1812 §5.2.4, RFC 4291 §2.5) by binary search on prefix lengths.

The lookup follows Waldvogel, Varghese, Turner and Plattner, "Scalable High Speed IP Routing Lookups"
(SIGCOMM 1997). Each prefix length in use has a dict keyed by `addr >> (bits - length)` (bits: 32 for IPv4, 128
for IPv6; a table holds one version), and the lengths form a balanced binary search tree. A probe that misses
means "nothing this long matches, try shorter"; a probe that hits means "remember this entry's best matching
prefix (bmp), try longer". So that a miss never hides a longer match, every route leaves a *marker* at each
shorter length where the search must turn longer to reach it, and each marker carries the bmp of its own bits:
the answer is the bmp of the last hit. With all 32 lengths in use a lookup makes at most 6 probes instead of 32
(8 instead of 128 for IPv6).

A probe only asks whether a key exists, so on the way down each length is tested with something cheaper than
its dict (see `_probe`), and only the last hit's dict is read. Markers depend on every route, so a change only
marks the table stale; the next lookup rebuilds the markers in O(routes) and compiles the search tree into a
function of nested `if`s (`_lookup_source` holds its text). `add_many` loads many routes for one rebuild.
"""

from __future__ import annotations

import gc
import socket
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import AddressValueError, IPv4Address, IPv4Network, IPv6Address, IPv6Network, NetmaskValueError
from typing import Any

from layersim.errors import LayersimError
from layersim.net.ip.families import IPV4, IPV6, Family

__all__ = ["Route", "RouteKind", "RoutingError", "RoutingTable"]

Lookup = Callable[[int], "Route | None"]
Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
_NO_ROUTE = False  # the bmp of a marker that no route covers
_BYTEMAP_BYTES, _BYTEMAP_BYTES_PER_KEY = 1 << 16, 32  # a byte per possible key: up to 64 KiB, or 32 B a key
_BITMAP_BITS_PER_KEY = 1024  # else a bit per possible key, up to 128 bytes a key; else a set


class RoutingError(LayersimError):
    """A route that cannot be added, removed or looked up: the message names the prefix or address."""


class RouteKind(StrEnum):
    """Where a route came from, as `ip route` tells them apart."""

    CONNECTED = "connected"  # the interface's own subnet ("proto kernel scope link")
    STATIC = "static"  # configured, including the default route


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of a routing table: where packets for `prefix` go next."""

    prefix: IPv4Network | IPv6Network
    via: IPv4Address | IPv6Address | None = None  # None: the destination is on the link itself
    interface: str | None = None
    metric: int = 0
    kind: RouteKind = RouteKind.STATIC
    via_int: int | None = field(init=False, repr=False, compare=False)  # `via` as an int, for the per-frame paths

    def __post_init__(self) -> None:
        object.__setattr__(self, "via_int", None if self.via is None else int(self.via))

    def __str__(self) -> str:
        """The route as one line of Linux `ip route` (`ip -6 route` for an IPv6 one)."""
        words = ["default" if self.prefix.prefixlen == 0 else str(self.prefix)]
        if self.via is not None:
            words += ["via", str(self.via)]
        if self.interface is not None:
            words += ["dev", self.interface]
        if self.prefix.version == 6:  # rt6_fill_node: IPv6 routes have no scope; the metric and preference always
            proto = ["proto", "kernel"] if self.kind is RouteKind.CONNECTED else []
            return " ".join([*words, *proto, "metric", str(self.metric), "pref", "medium"])
        if self.kind is RouteKind.CONNECTED:
            words += ["proto", "kernel", "scope", "link"]
        elif self.via is None:
            words += ["scope", "link"]
        if self.metric:
            words += ["metric", str(self.metric)]
        return " ".join(words)


class RoutingTable:
    """Routes of one IP version (4 unless `version=6`) with longest-prefix-match lookup; one route per prefix."""

    def __init__(self, version: int = 4) -> None:
        if version not in (4, 6):
            raise RoutingError(f"IP version {version!r} is not 4 or 6")
        self.family = family = IPV4 if version == 4 else IPV6
        self._by_length: list[dict[int, Route]] = [{} for _ in range(family.bits + 1)]  # [length][addr >> shift]
        self._invalidate: Callable[[], None] | None = None
        self._lookup_source = ""

    def add(self, prefix: str | Network, via: str | Address | None = None, interface: str | None = None,
            metric: int = 0, kind: RouteKind | str = RouteKind.STATIC, *, replace: bool = False) -> Route:
        """Add a route to `prefix` ("10.0.2.0/24", "2001:db8::/32", "default"); an existing one is replaced only if
        `replace`."""
        length, key, route = _make_route(self.family, prefix, via, interface, metric, _kind(kind), {})
        routes = self._by_length[length]
        existing = routes.get(key)
        if existing is not None and not replace:
            raise _duplicate(existing)
        routes[key] = route
        self._changed()
        return route

    def add_many(self, routes: Iterable[tuple[str | Network, str | Address | None, str | None]], *,
                 metric: int = 0, kind: RouteKind | str = RouteKind.STATIC, replace: bool = False) -> int:
        """Add (prefix, via, interface) routes at once and return how many; on an error none is added."""
        kind = _kind(kind)
        staged: list[dict[int, Route]] = [{} for _ in range(self.family.bits + 1)]
        next_hops: dict[Any, Address | None] = {}
        collecting = gc.isenabled()
        gc.disable()  # else a million new Routes (none in a cycle) make it rescan the growing heap, doubling the time
        try:
            for prefix, via, interface in routes:
                length, key, route = _make_route(self.family, prefix, via, interface, metric, kind, next_hops)
                batch = staged[length]
                if not replace and key in batch:
                    raise _duplicate(batch[key])
                batch[key] = route
        finally:
            if collecting:
                gc.enable()
        before = len(self)
        if not replace:
            for batch, existing in zip(staged, self._by_length, strict=True):
                clash = batch.keys() & existing.keys()
                if clash:
                    raise _duplicate(existing[min(clash)])
        for batch, existing in zip(staged, self._by_length, strict=True):
            existing.update(batch)
        self._changed()
        return len(self) - before

    def remove(self, prefix: str | Network) -> Route:
        """Remove the route to exactly `prefix` and return it."""
        length, key = _parse_prefix(self.family, prefix)
        route = self._by_length[length].pop(key, None)
        if route is None:
            raise RoutingError(f"no route to {_prefix_text(self.family, length, key)} to remove")
        self._changed()
        return route

    def _changed(self) -> None:
        """Drop the compiled lookup; the next lookup rebuilds the markers."""
        if vars(self).pop("lookup_int", None) is not None and self._invalidate is not None:
            self._invalidate()
            self._invalidate = None

    def get(self, prefix: str | Network) -> Route | None:
        """The route to exactly `prefix`, or None (no longest-prefix matching)."""
        length, key = _parse_prefix(self.family, prefix)
        return self._by_length[length].get(key)

    def lookup(self, addr: Address | str | int) -> Route | None:
        """The route with the longest prefix containing `addr` (RFC 1812 §5.2.4.3), or None."""
        if type(addr) is self.family.address:
            return self.lookup_int(int(addr))
        return self.lookup_int(_address_int(self.family, addr))

    def lookup_int(self, addr: int) -> Route | None:
        """`lookup` for an int, the routers' hot path; it must be in 0..2**bits-1 (`lookup` checks, this does not).

        This method rebuilds the search structure; it then stores the compiled lookup as the instance
        attribute `lookup_int`, which shadows the method until the table changes. A reference kept across a
        change stays correct: the old function sees it is stale and asks the table again.
        """
        lookup, self._invalidate, self._lookup_source = _compile(self.family, self._by_length, weakref.ref(self))
        vars(self)["lookup_int"] = lookup
        return lookup(addr)

    def routes(self) -> list[Route]:
        """All routes in `ip route` order: by network address, a longer prefix first when addresses tie.

        This is the kernel's fib_trie dump order (leaves by key, a leaf's aliases by suffix length), so
        "default" comes first unless another 0.0.0.0/n route exists: OpenVPN's 0.0.0.0/1 prints above it.
        """
        bits = self.family.bits
        keyed = [((key << (bits - length), -length), route)
                 for length, routes in enumerate(self._by_length) for key, route in routes.items()]
        keyed.sort(key=lambda item: item[0])
        return [route for _, route in keyed]

    def __iter__(self) -> Iterator[Route]:
        """The routes in `ip route` order."""
        return iter(self.routes())

    def __len__(self) -> int:
        """The number of routes."""
        return sum(map(len, self._by_length))

    def __str__(self) -> str:
        """The table as `ip route` prints it, one route per line."""
        return "\n".join(map(str, self.routes()))

    def __repr__(self) -> str:
        """A short summary."""
        return f"<RoutingTable: {len(self)} {'IPv6 ' if self.family.version == 6 else ''}routes>"


# Parsing -------------------------------------------------------------------------------------------------


def _parse_prefix(family: Family, prefix: str | Network) -> tuple[int, int]:
    """(length, key) of a prefix of `family` given as text or as a network; host bits set are an error."""
    bits, name = family.bits, family.name
    if isinstance(prefix, family.network):
        return prefix.prefixlen, int(prefix.network_address) >> (bits - prefix.prefixlen)
    if not isinstance(prefix, str):
        raise RoutingError(f"{prefix!r} is not an {name} prefix (give text like {family.example!r} or an "
                           f"{family.network.__name__})")
    if prefix == "default":
        return 0, 0
    text, slash, length_text = prefix.partition("/")
    try:  # the usual "address/n" without ipaddress's slower parser; inet_pton is as strict as ipaddress
        addr = int.from_bytes(socket.inet_pton(family.af, text), "big")
        length = int(length_text) if length_text.isascii() and length_text.isdecimal() else bits + 1 if slash else bits
    except (OSError, ValueError):  # ValueError: a NUL or a character that is not ASCII
        length = bits + 1
    if length > bits:  # a netmask, or something wrong: let ipaddress accept it or say what is wrong
        try:
            network = family.network(prefix, strict=False)
        except (AddressValueError, NetmaskValueError, ValueError) as exc:
            raise RoutingError(f"{prefix!r} is not an {name} prefix: {exc}") from None
        addr, length = int(family.address(text)), network.prefixlen  # the network has parsed `text` already
    host_bits = addr & (family.all_ones >> length)
    if host_bits:
        network_text = _prefix_text(family, length, addr >> (bits - length))
        raise RoutingError(f"{prefix!r} has host bits set (the network is {network_text})")
    return length, addr >> (bits - length)


def _prefix_text(family: Family, length: int, key: int) -> str:
    """'10.0.2.0/24' for a (length, key) pair."""
    return f"{family.address((key << (family.bits - length)) if length else 0)}/{length}"


def _address_int(family: Family, addr: Address | str | int) -> int:
    """An address of `family` as an int, checked."""
    if isinstance(addr, str):
        try:
            return int.from_bytes(socket.inet_pton(family.af, addr), "big")
        except (OSError, ValueError):
            raise RoutingError(f"{addr!r} is not an {family.name} address") from None
    if isinstance(addr, family.address):
        return int(addr)
    if isinstance(addr, int) and not isinstance(addr, bool) and 0 <= addr <= family.all_ones:
        return addr
    raise RoutingError(f"{addr!r} is not an {family.name} address (give an {family.address.__name__}, text or an "
                       f"int 0..2**{family.bits}-1)")


def _make_route(family: Family, prefix: str | Network, via: str | Address | None, interface: str | None,
                metric: int, kind: RouteKind, next_hops: dict[Any, Address | None]) -> tuple[int, int, Route]:
    """(length, key, route) for one route, checked; `next_hops` caches parsed next-hop addresses."""
    length, key = _parse_prefix(family, prefix)
    network = (prefix if isinstance(prefix, family.network)
               else family.network((key << (family.bits - length), length)))
    try:
        next_hop = next_hops[via]
    except KeyError:
        next_hop = next_hops[via] = None if via is None else family.address(_address_int(family, via))
    if next_hop is None and interface is None:
        raise RoutingError(f"route to {network}: give a next hop (via) or an interface (dev), or both")
    if kind is RouteKind.CONNECTED and (next_hop is not None or interface is None):
        raise RoutingError(f"connected route to {network}: needs an interface and no next hop (via {via})")
    if type(metric) is not int or not 0 <= metric <= 0xFFFFFFFF:
        raise RoutingError(f"route to {network}: metric {metric!r} is not an integer 0..4294967295")
    return length, key, Route(network, next_hop, interface, metric, kind)


def _kind(kind: RouteKind | str) -> RouteKind:
    """A RouteKind from itself or its name."""
    try:
        return RouteKind(kind)
    except ValueError:
        raise RoutingError(f"route kind {kind!r} is not one of {', '.join(RouteKind)}") from None


def _duplicate(existing: Route) -> RoutingError:
    """The error for adding a prefix that already has a route."""
    return RoutingError(f"{existing.prefix} already has a route: '{existing}' (pass replace=True to replace it)")


# The search structure ----------------------------------------------------------------------------------

Tree = tuple[int, "Tree | None", "Tree | None"]  # (length, shorter lengths, longer lengths)


def _balanced(lengths: list[int]) -> Tree | None:
    """A balanced binary search tree over the sorted lengths."""
    if not lengths:
        return None
    middle = len(lengths) // 2
    return lengths[middle], _balanced(lengths[:middle]), _balanced(lengths[middle + 1 :])


def _search_paths(tree: Tree | None, turned_longer_at: int, into: dict[int, tuple[int, Tree | None]]) -> dict:
    """For each length: (its marker length, its subtree of shorter lengths).

    The marker length is the nearest shorter length on the length's search path, where the search turned
    longer, or 0. A route needs a marker there, that marker needs one at its own marker length, and so on: the
    chain visits every length where a search for the route must hit.
    """
    if tree is not None:
        length, shorter, longer = tree
        into[length] = turned_longer_at, shorter
        _search_paths(shorter, turned_longer_at, into)
        _search_paths(longer, length, into)
    return into


def _search_dicts(by_length: list[dict[int, Route]], tree: Tree | None) -> tuple[list[dict[int, Any]], set[int]]:
    """Per length, the routes plus markers, each mapped to its best matching route (or _NO_ROUTE); and the
    lengths that have markers (the others are the route dicts themselves)."""
    paths = _search_paths(tree, 0, {})
    markers: dict[int, list[int]] = {marker: [] for marker, _ in paths.values() if marker}  # new keys per length
    search = [dict(routes) if length in markers else routes for length, routes in enumerate(by_length)]
    for length in sorted(paths, reverse=True):  # longest first: a length's markers are complete before it is used
        marker = paths[length][0]
        if marker:
            shift, above = length - marker, search[marker]
            new = {key >> shift for key in search[length]}.difference(above)  # probes `above` per new key
            above.update(dict.fromkeys(new))  # a placeholder bmp, set below
            markers[marker] += new
    default = by_length[0].get(0, _NO_ROUTE)
    for length, keys in sorted(markers.items()):  # shortest first, so shorter lengths' bmps are known
        marker, shorter = paths[length]
        keys = _improve(shorter, length, keys, search)  # the best route between the marker length and here ...
        if marker:  # ... or else the marker length's bmp
            shift, above = length - marker, search[marker]
            search[length].update({key: above[key >> shift] for key in keys})
        else:
            search[length].update(dict.fromkeys(keys, default))
    return search, set(markers)


def _improve(tree: Tree | None, length: int, keys: list[int], search: list[dict[int, Any]]) -> list[int]:
    """Search `tree` for the keys of `length`, all at once level by level; set the bmps found, return the rest."""
    if tree is None or not keys:
        return keys
    level, shorter, longer = tree
    shift, entries = length - level, search[level]
    found = {key: bmp for key in keys if (bmp := entries.get(key >> shift)) is not None}
    search[length].update(found)
    _improve(longer, length, list(found), search)  # found keys keep this bmp unless a longer level has one
    return _improve(shorter, length, [key for key in keys if key not in found], search)


def _probe(length: int, keys: dict[int, Any]) -> tuple[str, bytearray | set[int]]:
    """How a search tests whether a key of this length exists: ("bytes" | "bits" | "set", the structure).

    A hit must not touch the entry's route, which the search will most likely not return: `dict.get` would
    fetch (and reference-count) a cold Route at every level. A bytearray with a byte or a bit per possible key
    costs one memory access; a set, used where that array would be large, costs two (slot and key).
    """
    if 1 << length <= max(_BYTEMAP_BYTES, _BYTEMAP_BYTES_PER_KEY * len(keys)):
        present = bytearray(1 << length)
        for key in keys:
            present[key] = 1
        return "bytes", present
    if 1 << length <= _BITMAP_BITS_PER_KEY * len(keys):
        present = bytearray(((1 << length) + 7) >> 3)
        for key in keys:
            present[key >> 3] |= 1 << (key & 7)
        return "bits", present
    return "set", set(keys)


def _source(bits: int, tree: Tree | None, probes: dict[int, str], may_miss: bool) -> str:
    """Python source of the lookup: the search tree unrolled into nested ifs, one probe per level."""
    lines = ["    def lookup_int(addr):", '        """Longest-prefix match for an int address."""']
    lines += ["        if stale:", "            return refresh(addr)"]
    tests = {"bytes": "has{0}[k{0}]", "bits": "has{0}[k{0} >> 3] >> (k{0} & 7) & 1", "set": "k{0} in has{0}"}
    or_none = " or None" if may_miss else ""  # a marker that no route covers holds _NO_ROUTE

    def emit(node: Tree | None, hit: int, indent: str) -> None:
        if node is None:  # the answer is the bmp of the longest length that hit
            lines.append(f"{indent}return {f'bmp{hit}[k{hit}]{or_none}' if hit else 'default'}")
            return
        length, shorter, longer = node
        key = f"addr >> {bits - length}" if length < bits else "addr"
        if longer is None:  # nothing longer to try: fetch the bmp right away
            lines.extend([f"{indent}e{length} = get{length}({key})", f"{indent}if e{length} is not None:"])
            lines.append(f"{indent}    return e{length}{or_none}")
            emit(shorter, hit, indent)
            return
        lines.extend([f"{indent}k{length} = {key}", f"{indent}if {tests[probes[length]].format(length)}:"])
        emit(longer, length, indent + "    ")
        lines.append(f"{indent}else:")
        emit(shorter, hit, indent + "    ")

    emit(tree, 0, " " * 8)
    lines += ["", "    def invalidate():", "        nonlocal stale", "        stale = True", ""]
    lines += ["    return lookup_int, invalidate", ""]
    return "\n".join(lines)


def _compile(family: Family, by_length: list[dict[int, Route]],
             table: weakref.ref[RoutingTable]) -> tuple[Lookup, Callable, str]:
    """Build markers and compile the lookup: (lookup, the function that marks it stale, its source)."""
    lengths = [length for length in range(1, family.bits + 1) if by_length[length]]
    tree = _balanced(lengths)
    search, with_markers = _search_dicts(by_length, tree)
    default = by_length[0].get(0)
    objects: dict[str, Any] = {"default": default}
    probes: dict[int, str] = {}
    for length in lengths:  # a length with longer ones to search gets a probe; the others only a dict.get
        if length in with_markers:
            probes[length], objects[f"has{length}"] = _probe(length, search[length])
            objects[f"bmp{length}"] = search[length]
        else:
            objects[f"get{length}"] = search[length].get
    body = _source(family.bits, tree, probes, may_miss=default is None)
    source = f"def make(refresh, {', '.join(objects)}):\n    stale = False\n\n{body}"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<layersim.net.ip.routing lookup>", "exec"), namespace)

    def refresh(addr: int) -> Route | None:
        """What a stale lookup does: ask the table, which compiles afresh."""
        current = table()
        if current is None:
            raise RoutingError("this lookup belongs to a routing table that no longer exists")
        return current.lookup_int(addr)

    lookup, invalidate = namespace["make"](refresh, **objects)
    return lookup, invalidate, source
