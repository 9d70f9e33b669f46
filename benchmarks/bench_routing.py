"""Longest-prefix-match speed and memory of layersim's RoutingTable against pytricia and py-radix.

Run by hand, not by pytest:

    python benchmarks/bench_routing.py [--prefixes N] [--lookups N] [--repeats N] [--sample N] [--seed S]

All three tables get the same distinct random prefixes (a seeded random.Random), with every length from
/0 to /32 in use: each length gets an equal share, short lengths as many as exist (all 2 /1s, ...), the rest
spread over the longer ones. Before timing lookups the script stops with an error unless all three return
the same prefix for a sample of addresses. py-radix is skipped, with a note, if it is not installed
(`pip install py-radix`); pytricia is required, since the ratios are against it.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import socket
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from importlib import metadata
from ipaddress import IPv4Address
from typing import Any

import pytricia

from layersim.net.ip.routing import RoutingTable

try:
    import radix
except ImportError:  # optional peer
    radix = None

NEXT_HOPS = [f"192.0.2.{n}" for n in range(1, 9)]
INTERFACES = ["eth0", "eth1", "eth2", "eth3"]
INPUTS = ("int", "str", "IPv4Address")


def make_prefixes(count: int, rng: random.Random) -> list[tuple[int, int]]:
    """`count` distinct (network int, length) pairs with every length 0-32 in use (if count >= 33)."""
    prefixes: list[tuple[int, int]] = []
    remaining = count
    for length in range(33):
        take = min(2**length, remaining // (33 - length))
        prefixes += [(key << (32 - length), length) for key in rng.sample(range(2**length), take)]
        remaining -= take
    rng.shuffle(prefixes)
    return prefixes


def text(addr: int) -> str:
    """Dotted quad of an int."""
    return socket.inet_ntoa(addr.to_bytes(4, "big"))


def rss_bytes() -> int:
    """Resident set size of this process (Linux), or 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def timed(build: Callable[[], Any]) -> tuple[Any, float, int]:
    """(result, seconds, RSS growth in bytes) of one build."""
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    result = build()
    seconds = time.perf_counter() - start
    return result, seconds, rss_bytes() - before


PASS = """
def one_pass(lookup, keys):
    start = perf_counter()
    for key in keys:
        lookup({argument})
    return perf_counter() - start
"""


def timer(packed: bool) -> Callable[[Callable[..., Any], Sequence[Any]], float]:
    """A function that times one pass of lookups over the keys, with its own code object.

    CPython 3.11 specialises a call site for the kind of callable it sees, so one loop shared by layersim's
    Python function and the C methods of pytricia and py-radix would be tuned for whichever came last.
    py-radix takes 4 bytes only as the keyword `packed`.
    """
    namespace: dict[str, Any] = {"perf_counter": time.perf_counter}
    exec(PASS.format(argument="packed=key" if packed else "key"), namespace)
    return namespace["one_pass"]


def main() -> int:
    """Build the three tables, check they agree, time them and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefixes", type=int, default=1_000_000, help="routes in each table")
    parser.add_argument("--lookups", type=int, default=200_000, help="addresses per timed pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--sample", type=int, default=20_000, help="addresses checked for agreement")
    parser.add_argument("--seed", type=int, default=1812)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    prefixes = make_prefixes(args.prefixes, rng)
    texts = [f"{text(addr)}/{length}" for addr, length in prefixes]
    vias = [NEXT_HOPS[i % len(NEXT_HOPS)] for i in range(len(texts))]
    ifaces = [INTERFACES[i % len(INTERFACES)] for i in range(len(texts))]
    lengths_used = sorted({length for _, length in prefixes})
    notes: list[str] = []

    # Insertion --------------------------------------------------------------------------------------------
    table = RoutingTable()
    _, add_seconds, table_rss = timed(lambda: table.add_many(zip(texts, vias, ifaces, strict=True)))
    _, build_seconds, marker_rss = timed(lambda: table.lookup_int(0))

    def fill_pytricia() -> pytricia.PyTricia:
        tree = pytricia.PyTricia(32)
        for prefix, via in zip(texts, vias, strict=True):
            tree[prefix] = via
        return tree

    def fill_radix() -> Any:
        tree = radix.Radix()
        add = tree.add
        for prefix, via in zip(texts, vias, strict=True):
            add(prefix).data["via"] = via
        return tree

    pyt, pyt_seconds, pyt_rss = timed(fill_pytricia)
    rdx, rdx_seconds, rdx_rss = (None, 0.0, 0) if radix is None else timed(fill_radix)
    if radix is None:
        notes.append("py-radix is not installed (`pip install py-radix`): its column is empty.")

    # Addresses: random ones, and ones inside a random /24-/32 route (so the answer is at least that long) ---
    random_ints = [rng.getrandbits(32) for _ in range(args.lookups)]
    long_routes = [(addr, length) for addr, length in prefixes if length >= 24]
    long_ints = []
    for addr, length in rng.choices(long_routes, k=args.lookups) if long_routes else []:
        long_ints.append(addr | rng.getrandbits(32 - length) if length < 32 else addr)
    workloads = {name: ints for name, ints in [("random", random_ints), ("inside /24-/32", long_ints)] if ints}

    # Agreement ----------------------------------------------------------------------------------------------
    for name, ints in workloads.items():
        for addr in ints[: args.sample]:
            route = table.lookup_int(addr)
            if table.lookup(text(addr)) is not route or table.lookup(IPv4Address(addr)) is not route:
                sys.exit(f"layersim gives different answers for {text(addr)} as int, text and IPv4Address")
            ours = None if route is None else str(route.prefix)
            answers = {"layersim": ours, "pytricia": pyt.get_key(text(addr))}
            if pyt.get(addr) != pyt.get(text(addr)):
                sys.exit(f"pytricia gives different answers for {text(addr)} as int and as text")
            if rdx is not None:
                node = rdx.search_best(text(addr))
                answers["py-radix"] = None if node is None else node.prefix
            if len(set(answers.values())) != 1 or (name != "random" and route is None):
                sys.exit(f"disagreement on {text(addr)} ({name}): {answers}")
    checked = min(args.sample, args.lookups)

    # Lookups, in rounds over all cells so that a burst of load elsewhere spoils one run of many cells -------
    cells: dict[tuple[str, str, str], tuple[Callable[..., Any], Sequence[Any], bool]] = {}  # (lookup, keys, packed)
    for name, ints in workloads.items():
        keys = {"int": ints, "str": [text(a) for a in ints], "IPv4Address": [IPv4Address(a) for a in ints]}
        for kind in INPUTS:
            cells[name, kind, "layersim"] = (table.lookup_int if kind == "int" else table.lookup, keys[kind], False)
            cells[name, kind, "pytricia"] = (pyt.get, keys[kind], False)
        if rdx is not None:
            cells[name, "str", "py-radix"] = (rdx.search_best, keys["str"], False)
            cells[name, "int", "py-radix"] = (rdx.search_best, [a.to_bytes(4, "big") for a in ints], True)
    timers = {cell: timer(packed) for cell, (_, _, packed) in cells.items()}
    best = dict.fromkeys(cells, float("inf"))
    for _ in range(args.repeats):
        for cell, (lookup, keys_, _) in cells.items():
            best[cell] = min(best[cell], timers[cell](lookup, keys_))
    results: dict[tuple[str, str], dict[str, float]] = {}
    for (name, kind, implementation), seconds in best.items():
        results.setdefault((name, kind), {})[implementation] = len(cells[name, kind, implementation][1]) / seconds

    # Memory of layersim's table by tracemalloc (a separate, untimed build) ------------------------------
    gc.collect()
    tracemalloc.start()
    again = RoutingTable()
    again.add_many(zip(texts, vias, ifaces, strict=True))
    routes_bytes = tracemalloc.get_traced_memory()[0]
    again.lookup_int(0)
    search_bytes = tracemalloc.get_traced_memory()[0] - routes_bytes
    tracemalloc.stop()

    # Report -------------------------------------------------------------------------------------------------
    def per_s(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f}"

    def ratio(value: float | None, base: float) -> str:
        return "n/a" if value is None else f"{value / base:.2f}"

    versions = f"pytricia {metadata.version('pytricia')}"
    if radix is not None:
        versions += f", py-radix {metadata.version('py-radix')}"
    print(
        f"{len(prefixes):,} distinct prefixes, lengths /{lengths_used[0]}-/{lengths_used[-1]} "
        f"({len(lengths_used)} lengths), seed {args.seed}; {args.lookups:,} addresses per pass, best of "
        f"{args.repeats}; {checked:,} addresses per workload checked for agreement.\n"
        f"CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; {versions}.\n"
    )
    print("| | layersim | pytricia | py-radix | layersim / pytricia | py-radix / pytricia |")
    print("|---|---:|---:|---:|---:|---:|")
    total = add_seconds + build_seconds
    print(
        f"| insert all, seconds | {total:.2f} (add_many {add_seconds:.2f} + markers {build_seconds:.2f}) "
        f"| {pyt_seconds:.2f} | {f'{rdx_seconds:.2f}' if rdx is not None else 'n/a'} "
        f"| {total / pyt_seconds:.2f} | {ratio(rdx_seconds if rdx is not None else None, pyt_seconds)} |"
    )
    for (name, kind), row in results.items():
        base = row["pytricia"]
        radix_rate = row.get("py-radix")
        radix_kind = {"int": " (packed)", "str": ""}.get(kind, "")
        print(
            f"| lookups/s, {name}, {kind} | {per_s(row['layersim'])} | {per_s(base)} "
            f"| {per_s(radix_rate)}{radix_kind if radix_rate else ''} "
            f"| {ratio(row['layersim'], base)} | {ratio(radix_rate, base)} |"
        )
    mib = 1024 * 1024
    ours_rss = table_rss + marker_rss
    print(
        f"| memory, RSS growth, MiB | {ours_rss / mib:.0f} | {pyt_rss / mib:.0f} "
        f"| {f'{rdx_rss / mib:.0f}' if rdx is not None else 'n/a'} "
        f"| {ratio(ours_rss if pyt_rss >= mib else None, pyt_rss)} "  # no ratio of page-sized noise
        f"| {ratio(rdx_rss if rdx is not None and pyt_rss >= mib else None, pyt_rss)} |"
    )
    print(
        f"\nlayersim by tracemalloc: {(routes_bytes + search_bytes) / mib:.0f} MiB = routes "
        f"{routes_bytes / mib:.0f} MiB ({routes_bytes / len(prefixes):.0f} B/route: Route, IPv4Network, dict slot)"
        f" + search dicts and markers {search_bytes / mib:.0f} MiB. tracemalloc cannot see pytricia's or "
        "py-radix's C allocations, so the RSS row compares all three (approximate: allocator reuse)."
    )
    print(
        "The int row gives py-radix the same address as 4 packed bytes (`search_best(packed=...)`), since it "
        "takes no ints; it has no IPv4Address row. Insertion stores a value per prefix in every table: "
        "layersim builds a Route (with an IPv4Network) per prefix, pytricia and py-radix store the next hop. "
        "Each pass runs with the caches holding whatever the previous cell (another table) left there."
    )
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
