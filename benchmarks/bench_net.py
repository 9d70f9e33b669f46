"""Frames forwarded per second through a chain of N simulated routers, against the wire layer's bare router hop.

Run by hand, not by pytest:

    python benchmarks/bench_net.py [--hops 1,4,16,64] [--datagrams M] [--repeats R] [--json]
    python benchmarks/bench_net.py --profile [N]    # cProfile the simulated hop with N routers (default 16)

The topology is host A - r1 - r2 - ... - rN - host B, built with `layersim.net.network.Network`. Every link is
fast (10 Gbit/s, 1 us) with a queue that holds the whole burst, so nothing is dropped, and captures are off.
Each router has a static route to B's subnet via the next router and one to A's subnet via the previous router.
One datagram warms up ARP along the chain. Then A's UDPSocket queues M datagrams with the same 16-byte
payload, and only `net.run_until_idle()` is timed, with `time.perf_counter` and the garbage collector on.
That is N * M forwarded frames, plus M deliveries at B.

Before the burst, the script checks the warm-up datagram with `trace.hops()`: A sent it, r1 ... rN forwarded
it, and B delivered it. After each timed run (outside the timed part), it checks that B received all M
datagrams with the right payload, that every delivery at B shows TTL start - N, that the trace holds N * M
FORWARD events, and that there are no drops. If any check fails, it prints no numbers.

The reference is the same frame through `decode(frame, until=IPv4)`, a TTL check and
`layersim.wire.ipv4.rewrite_for_next_hop`, which is the "router hop" row of bench_wire.py. Its output must be
the bytes r1 really sent.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from benchenv import environment

from layersim.net.host.host import Host, UDPSocket
from layersim.net.ipv4.router import Router
from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from layersim.wire.addresses import MAC
from layersim.wire.ipv4 import IPv4, rewrite_for_next_hop
from layersim.wire.packet import decode

PAYLOAD = b"layersim bench!\n"  # 16 bytes: a 58-byte frame on the wire
PORT_A, PORT_B = 5000, 9000
BANDWIDTH, DELAY = "10Gbit", "1us"
LINUX_TTL = 64
MAX_HOPS = 254  # with TTL 255, the last router must still see a TTL of 2 or more
BARE_CALLS = 20_000
PROFILE_TOP = 15
# The hot path of one simulated hop, shown with cumulative time under --profile: (module file, function, depth
# in the call tree). A function called from several places has one row with all its calls: node.event (depth 1)
# is every trace event of a hop, and the ipaddress __str__ rows include the calls made inside Route.__str__.
HOT_PATH = (("clock.py", "run", 0), ("interface.py", "deliver", 1), ("ipnode.py", "on_frame", 2),
            ("packet.py", "decode", 3), ("ipv4.py", "checksum_ok", 3), ("ipnode.py", "_is_local", 3),
            ("ipnode.py", "_forward", 3), ("<layersim.net.ip.routing lookup>", "lookup_int", 4),
            ("routing.py", "__str__", 4), ("ipaddress.py", "__str__", 4),
            ("ipv4.py", "decrement_ttl", 4), ("ipnode.py", "output", 4), ("arp.py", "lookup", 5),
            ("ipnode.py", "transmit", 5), ("interface.py", "send", 6), ("link.py", "transmit", 7),
            ("clock.py", "at", 8), ("ipnode.py", "_local_in", 3), ("node.py", "event", 1),
            ("trace.py", "record", 2))
ETH_IPV4 = b"\x08\x00"


# The chain ------------------------------------------------------------------------------------------------

def start_ttl(hops: int) -> int:
    """The TTL A sends with: Linux's 64 while it reaches B, else 255 (64 routers would drop it at rN)."""
    return LINUX_TTL if hops < LINUX_TTL else 255


def subnet(k: int) -> str:
    """The first three octets of link k's /24 (link 1 is A - r1, link N + 1 is rN - B)."""
    return f"10.{k >> 8}.{k & 0xFF}"


@dataclass
class Chain:
    """A network A - r1 - ... - rN - B, with A's sending socket and B's receiving socket."""

    net: Network
    a: Host
    routers: list[Router]
    b: Host
    sender: UDPSocket
    receiver: UDPSocket

    @property
    def hops(self) -> int:
        """N, the number of routers."""
        return len(self.routers)

    @property
    def b_address(self) -> str:
        """B's IPv4 address."""
        return f"{subnet(self.hops + 1)}.2"


def link_chain(net: Network, nodes: list[Any], queue: int) -> None:
    """Link each node to the next: on link k, the node towards A is .1 and the node towards B is .2."""
    for k in range(1, len(nodes)):
        net.link(nodes[k - 1], nodes[k], a_ip=f"{subnet(k)}.1/24", b_ip=f"{subnet(k)}.2/24",
                 bandwidth=BANDWIDTH, delay=DELAY, queue=queue)


def route_chain(a: Host, routers: list[Router], b: Host) -> None:
    """Static routes along the chain; the hosts' default routes point at their router."""
    n = len(routers)
    a.routes.add("0.0.0.0/0", via=f"{subnet(1)}.2", interface="eth0")
    b.routes.add("0.0.0.0/0", via=f"{subnet(n + 1)}.1", interface="eth0")
    for i, router in enumerate(routers, start=1):  # ri: eth0 on link i (towards A), eth1 on link i + 1
        if i < n:
            router.routes.add(f"{subnet(n + 1)}.0/24", via=f"{subnet(i + 1)}.2", interface="eth1")
        if i > 1:
            router.routes.add(f"{subnet(1)}.0/24", via=f"{subnet(i - 1)}.1", interface="eth0")


def build_chain(hops: int, queue: int) -> Chain:
    """A fresh network with `hops` routers between A and B, links that queue up to `queue` frames."""
    net = Network(seed=1)
    a = net.add_host("A")
    routers = [net.add_router(f"r{i}") for i in range(1, hops + 1)]
    b = net.add_host("B")
    link_chain(net, [a, *routers, b], queue)
    route_chain(a, routers, b)
    sender = a.udp_socket(PORT_A)
    sender.ttl = start_ttl(hops)
    receiver = b.udp_socket(PORT_B)
    receiver.queue_limit = 1 << 30  # nobody reads during the burst: keep every datagram for the check
    return Chain(net, a, routers, b, sender, receiver)


# Checks ---------------------------------------------------------------------------------------------------

class BenchError(Exception):
    """A check failed: the simulation did not do what the benchmark assumes."""


def first_ipv4_frame(chain: Chain, kind: EventKind, node: str) -> bytes:
    """The first IPv4 frame in the trace that `node` sent or received (`kind`)."""
    for event in chain.net.trace.select(kind, node=node):
        if event.frame is not None and event.frame[12:14] == ETH_IPV4:
            return event.frame
    raise BenchError(f"{node} has no IPv4 {kind.value} event in the trace")


def check_warm_up(chain: Chain) -> None:
    """The warm-up datagram went A -> r1 ... rN -> B, each router changed the TTL, and B has it."""
    if [d.data for d in chain.receiver.received] != [PAYLOAD]:
        raise BenchError(f"warm-up: B received {chain.receiver.received!r}")
    hops = chain.net.trace.hops(first_ipv4_frame(chain, EventKind.SEND, "A"))
    want = [("A", "sent")] + [(r.name, "forwarded") for r in chain.routers] + [("B", "delivered")]
    if [(h.node, h.outcome) for h in hops] != want:
        raise BenchError(f"warm-up: hops are {[(h.node, h.outcome) for h in hops]}, expected {want}")
    for hop in hops[1:-1]:
        if not any("ttl" in str(change) for change in hop.changes):
            raise BenchError(f"warm-up: {hop.node} forwarded without changing the TTL: {hop}")


def check_burst(chain: Chain, datagrams: int, mark: int) -> None:
    """After the burst (trace events from `mark` on): all M delivered intact with TTL start - N, no drops."""
    received = chain.receiver.received[1:]
    if len(received) != datagrams or any(d.data != PAYLOAD for d in received):
        bad = sum(d.data != PAYLOAD for d in received)
        raise BenchError(f"B received {len(received)} of {datagrams} datagrams, {bad} with a wrong payload")
    ttl = start_ttl(chain.hops) - chain.hops
    forwards = delivered = 0
    for event in chain.net.trace.events[mark:]:
        if event.kind is EventKind.DROP:
            raise BenchError(f"a drop during the burst: {event}")
        if event.kind is EventKind.FORWARD:
            forwards += 1
        elif event.kind is EventKind.DELIVER and event.node == "B":  # frame: the IPv4 packet, TTL at byte 8
            delivered += 1
            if event.frame is None or event.frame[8] != ttl:
                raise BenchError(f"B got a packet with TTL {event.frame and event.frame[8]}, expected {ttl}")
    if forwards != chain.hops * datagrams or delivered != datagrams:
        raise BenchError(f"{forwards} FORWARD events (expected {chain.hops * datagrams}), "
                         f"{delivered} deliveries at B (expected {datagrams})")


# The simulated run ----------------------------------------------------------------------------------------

def prepared_chain(hops: int, datagrams: int) -> tuple[Chain, int]:
    """A chain with ARP warmed up and checked, and M datagrams queued at A; also the trace length before them."""
    chain = build_chain(hops, queue=datagrams + 1)
    chain.sender.sendto(PAYLOAD, (chain.b_address, PORT_B))
    chain.net.run_until_idle()
    check_warm_up(chain)
    mark = len(chain.net.trace)
    for _ in range(datagrams):
        if not chain.sender.sendto(PAYLOAD, (chain.b_address, PORT_B)):
            raise BenchError("A has no route to B")
    return chain, mark


@contextmanager
def gc_timer() -> Iterator[list[float]]:
    """Add up the wall-clock time the garbage collector runs inside the block, in seconds ([total])."""
    total = [0.0]
    started = [0.0]

    def callback(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            total[0] += time.perf_counter() - started[0]

    gc.callbacks.append(callback)
    try:
        yield total
    finally:
        gc.callbacks.remove(callback)


@dataclass
class Run:
    """One timed burst: N routers, M datagrams, wall-clock seconds (and the collector's share), events run."""

    hops: int
    datagrams: int
    seconds: float
    gc_seconds: float
    events: int

    @property
    def frames_forwarded(self) -> int:
        """N * M."""
        return self.hops * self.datagrams

    @property
    def hops_per_second(self) -> float:
        """Router hops (forwarded frames) per wall-clock second, B's deliveries included in the time."""
        return self.frames_forwarded / self.seconds

    @property
    def us_per_hop(self) -> float:
        """Wall-clock microseconds per forwarded frame."""
        return self.seconds / self.frames_forwarded * 1e6

    @property
    def us_per_hop_without_gc(self) -> float:
        """Microseconds per forwarded frame, not counting the time the garbage collector ran."""
        return (self.seconds - self.gc_seconds) / self.frames_forwarded * 1e6


def timed_run(hops: int, datagrams: int) -> Run:
    """Build, warm up and queue a burst, time `run_until_idle()`, then check what happened."""
    chain, mark = prepared_chain(hops, datagrams)
    gc.collect()
    with gc_timer() as in_gc:
        start = time.perf_counter()
        events = chain.net.run_until_idle()
        seconds = time.perf_counter() - start
    check_burst(chain, datagrams, mark)
    return Run(hops, datagrams, seconds, in_gc[0], events)


def best_runs(hop_counts: list[int], datagrams: int, repeats: int,
              progress: Callable[[str], None]) -> list[Run]:
    """The fastest of `repeats` runs for each N, taken in rounds over all N."""
    best: dict[int, Run] = {}
    for round_ in range(1, repeats + 1):
        for hops in hop_counts:
            progress(f"round {round_}/{repeats}: {hops} routers")
            run = timed_run(hops, datagrams)
            if hops not in best or run.seconds < best[hops].seconds:
                best[hops] = run
    return [best[hops] for hops in hop_counts]


# The bare router hop --------------------------------------------------------------------------------------

@dataclass
class BareHop:
    """The wire layer's router hop on the frame r1 received: wall-clock microseconds per call."""

    us: float
    frame_bytes: int

    @property
    def per_second(self) -> float:
        """Calls per second."""
        return 1e6 / self.us


def bare_hop_op(frame: bytes, src: MAC, dst: MAC) -> Callable[[], bytearray]:
    """decode(frame, until=IPv4), the TTL check, then rewrite_for_next_hop: what a router must do at least."""

    def hop() -> bytearray:
        if decode(frame, until=IPv4)[IPv4].ttl <= 1:
            raise BenchError("TTL exceeded")
        return rewrite_for_next_hop(frame, src, dst)

    return hop


def r1_frames() -> tuple[bytes, bytes, MAC, MAC]:
    """From a warmed-up one-router chain: the frame r1 received, the frame it sent, and the MACs it used."""
    chain, _ = prepared_chain(1, 0)
    router = chain.routers[0]
    received = first_ipv4_frame(chain, EventKind.RECEIVE, router.name)
    sent = first_ipv4_frame(chain, EventKind.SEND, router.name)
    return received, sent, router.interface("eth1").mac, chain.b.interface("eth0").mac


def bare_hop(repeats: int) -> BareHop:
    """Time the bare hop (best of `repeats` loops of BARE_CALLS calls) after checking it gives r1's output."""
    received, sent, src, dst = r1_frames()
    op = bare_hop_op(received, src, dst)
    if bytes(op()) != sent:
        raise BenchError(f"the bare hop gives {bytes(op()).hex()}, but r1 sent {sent.hex()}")
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(BARE_CALLS):
            op()
        best = min(best, (time.perf_counter() - start) / BARE_CALLS)
    return BareHop(best * 1e6, len(received))


# Analysis -------------------------------------------------------------------------------------------------

@dataclass
class Fit:
    """Least squares of microseconds per datagram outside gc against N: fixed + per_hop * N.

    The collector's time is left out because it grows faster than N: the trace keeps every event, so each
    full collection has more objects to walk (see the "of which gc" column).
    """

    per_hop_us: float
    fixed_us: float
    worst_deviation: float  # the largest |measured - fitted| / fitted over the runs


def linear_fit(runs: list[Run]) -> Fit | None:
    """Fit the time per datagram outside gc to a line in N; None with fewer than two different N."""
    xs = [float(r.hops) for r in runs]
    ys = [(r.seconds - r.gc_seconds) / r.datagrams * 1e6 for r in runs]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    fixed = mean_y - slope * mean_x
    worst = max(abs(y - (fixed + slope * x)) / (fixed + slope * x) for x, y in zip(xs, ys, strict=True))
    return Fit(slope, fixed, worst)


def growth_ratio(runs: list[Run]) -> tuple[Run, Run, float]:
    """Per-hop cost at the largest N over that at the smallest N (1.0 is perfectly linear growth)."""
    low, high = min(runs, key=lambda r: r.hops), max(runs, key=lambda r: r.hops)
    return low, high, high.us_per_hop / low.us_per_hop


# Reporting ------------------------------------------------------------------------------------------------

def markdown(runs: list[Run], bare: BareHop) -> str:
    """The results table in Markdown, then the reference hop, the linear fit and the growth ratio."""
    lines = ["| routers N | frames forwarded | TTL at B | run (s) | of which gc | router hops/s | µs per hop "
             "| µs per hop outside gc | simulated / bare hop |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        ttl = start_ttl(r.hops)
        lines.append(f"| {r.hops} | {r.frames_forwarded:,} | {ttl - r.hops} ({ttl}-{r.hops}) | {r.seconds:.3f} "
                     f"| {r.gc_seconds / r.seconds:.0%} | {r.hops_per_second:,.0f} | {r.us_per_hop:.2f} "
                     f"| {r.us_per_hop_without_gc:.2f} | {r.us_per_hop / bare.us:.1f}x |")
    lines += ["", f"- bare router hop (`decode(frame, until=IPv4)` + TTL check + `rewrite_for_next_hop`, "
                  f"{bare.frame_bytes}-byte frame): {bare.us:.2f} µs, {bare.per_second:,.0f}/s"]
    fit = linear_fit(runs)
    if fit is not None:
        lines.append(f"- linear fit of the time outside gc, µs per datagram = {fit.fixed_us:.1f} + "
                     f"{fit.per_hop_us:.2f} * N (largest deviation {fit.worst_deviation:.1%}): a marginal router "
                     f"hop costs {fit.per_hop_us:.2f} µs, {fit.per_hop_us / bare.us:.1f}x the bare hop (target: "
                     f"within 3x); the fixed part is mostly B's delivery")
        low, high, ratio = growth_ratio(runs)
        lines.append(f"- µs per hop at N={high.hops} / at N={low.hops}: {ratio:.2f} with gc, "
                     f"{high.us_per_hop_without_gc / low.us_per_hop_without_gc:.2f} outside gc (the N={low.hops} "
                     "figure also carries B's delivery)")
    return "\n".join(lines)


def as_json(env: dict[str, str], runs: list[Run], bare: BareHop, repeats: int) -> str:
    """The numbers as JSON (stable keys): environment, settings, runs, bare_hop, fit, growth_ratio."""
    fit = linear_fit(runs)
    return json.dumps({
        "environment": env, "repeats": repeats, "bandwidth": BANDWIDTH, "delay": DELAY,
        "payload_bytes": len(PAYLOAD),
        "runs": [{**asdict(r), "start_ttl": start_ttl(r.hops), "frames_forwarded": r.frames_forwarded,
                  "hops_per_second": r.hops_per_second, "us_per_hop": r.us_per_hop,
                  "us_per_hop_without_gc": r.us_per_hop_without_gc,
                  "simulated_over_bare": r.us_per_hop / bare.us} for r in runs],
        "bare_hop": {"us": bare.us, "per_second": bare.per_second, "frame_bytes": bare.frame_bytes},
        "fit": None if fit is None else {**asdict(fit), "per_hop_over_bare": fit.per_hop_us / bare.us},
        "growth_ratio": growth_ratio(runs)[2] if fit is not None else None,
    }, indent=2)


# Profile --------------------------------------------------------------------------------------------------

@dataclass
class ProfileRow:
    """One function's share of the profiled run, per forwarded frame."""

    function: str
    calls_per_hop: float
    own_us_per_hop: float
    cumulative_us_per_hop: float
    own_share: float


def function_label(code: Any) -> str:
    """"module.py:line name" for Python code, the builtin's description otherwise."""
    if isinstance(code, str):
        return code
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno} {code.co_name}"


def profile_rows(profiler: cProfile.Profile, hops: int) -> tuple[list[ProfileRow], float]:
    """Every profiled function as a row (per router hop), sorted by own time; and the whole run in seconds.

    Read from `getstats()` rather than pstats, which keeps only one of several code objects that share a file,
    line and name (each routing table compiles its own `lookup_int`). Shares are of the whole run: Clock.run's
    cumulative time, or the sum of own times if that is larger.
    """
    totals: dict[str, list[float]] = {}
    for entry in profiler.getstats():
        total = totals.setdefault(function_label(entry.code), [0, 0.0, 0.0])
        total[0] += entry.callcount
        total[1] += entry.inlinetime
        total[2] += entry.totaltime
    whole = max(sum(own for _, own, _ in totals.values()),
                max((t[2] for name, t in totals.items() if name.startswith("clock.py:") and name.endswith(" run")),
                    default=0.0))
    rows = [ProfileRow(name, calls / hops, own / hops * 1e6, cumulative / hops * 1e6, own / whole)
            for name, (calls, own, cumulative) in totals.items()]
    return sorted(rows, key=lambda row: -row.own_us_per_hop), whole


def hot_path_rows(rows: list[ProfileRow]) -> list[tuple[int, ProfileRow]]:
    """The rows of the HOT_PATH functions in call-tree order, each with its depth."""
    return [(depth, row) for module, name, depth in HOT_PATH for row in rows
            if row.function.startswith(f"{module}:") and row.function.endswith(f" {name}")]


def profile_table(rows: list[tuple[int, ProfileRow]], whole_us: float) -> str:
    """(depth, row) pairs as Markdown, names indented by depth; cumulative shares are of `whole_us` per hop."""
    lines = ["| function | calls per hop | own µs per hop | own share | cumulative µs per hop | cumulative share |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {'· ' * depth}`{r.function}` | {r.calls_per_hop:.2f} | {r.own_us_per_hop:.2f} "
              f"| {r.own_share:.1%} | {r.cumulative_us_per_hop:.2f} | {r.cumulative_us_per_hop / whole_us:.0%} |"
              for depth, r in rows]
    return "\n".join(lines)


def profiled_run(hops: int, datagrams: int) -> tuple[cProfile.Profile, float]:
    """One checked burst through `hops` routers with `run_until_idle()` under cProfile; also its seconds."""
    chain, mark = prepared_chain(hops, datagrams)
    gc.collect()
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    chain.net.run_until_idle()
    profiler.disable()
    seconds = time.perf_counter() - start
    check_burst(chain, datagrams, mark)
    return profiler, seconds


def profile(hops: int, datagrams: int, as_json_output: bool) -> None:
    """Time one burst, then cProfile another through the same chain length; print where a hop's time goes."""
    plain = timed_run(hops, datagrams)
    profiler, seconds = profiled_run(hops, datagrams)
    rows, whole = profile_rows(profiler, hops * datagrams)
    per_hop = whole / (hops * datagrams) * 1e6
    top, hot = rows[:PROFILE_TOP], hot_path_rows(rows)
    if as_json_output:
        print(json.dumps({"hops": hops, "datagrams": datagrams, "us_per_hop": plain.us_per_hop,
                          "seconds_under_profiler": seconds, "profiled_us_per_hop": per_hop,
                          "top": [asdict(r) for r in top],
                          "hot_path": [{"depth": depth, **asdict(r)} for depth, r in hot]}, indent=2))
        return
    print(f"cProfile of run_until_idle(): {hops} routers, {datagrams} datagrams, {hops * datagrams:,} forwarded "
          f"frames. Without the profiler: {plain.us_per_hop:.2f} µs per hop ({plain.gc_seconds / plain.seconds:.0%} "
          f"in gc); under it: {per_hop:.2f} µs per hop ({per_hop / plain.us_per_hop:.1f}x), so compare shares "
          f"rather than absolute times. Per hop means divided by N * M, so B's {datagrams} deliveries are spread "
          f"over the {hops} hops of each datagram. Garbage collection is charged to whichever function was "
          "allocating when it ran.\n")
    print(f"Top {PROFILE_TOP} functions by own time (tottime):\n")
    print(profile_table([(0, r) for r in top], per_hop))
    print("\nThe hot path as a call tree, with cumulative time (the function and everything it calls):\n")
    print(profile_table(hot, per_hop))
    print("\nA row counts every call of that function, wherever it came from: `node.py event` is all the trace "
          "events of a hop, and the `ipaddress.py __str__` rows include the calls made inside `Route.__str__`. "
          "Calls of builtin types (`bytes(...)`, `bytearray(...)`) are not profiled, so their time is the "
          "caller's own time; `<string>:2 __init__` is the generated `__init__` of dataclasses such as "
          "TraceEvent.")


# Main -----------------------------------------------------------------------------------------------------

def hop_list(text: str) -> list[int]:
    """Parse "--hops 1,4,16,64"."""
    try:
        hops = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hops {text!r}: give router counts separated by commas") from None
    if not hops or any(not 1 <= n <= MAX_HOPS for n in hops):
        raise argparse.ArgumentTypeError(f"--hops {text!r}: each count must be between 1 and {MAX_HOPS}")
    return hops


def show_progress(text: str) -> None:
    """Overwrite one terminal line with what is being timed."""
    print(f"\r\033[Ktiming {text}", end="", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hops", type=hop_list, default=[1, 4, 16, 64],
                        help="router counts N, separated by commas (default 1,4,16,64)")
    parser.add_argument("--datagrams", type=int, default=2000, help="datagrams M in the burst (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per N, the fastest is kept (default 3)")
    parser.add_argument("--profile", type=int, nargs="?", const=16, metavar="N",
                        help="cProfile one burst through N routers (default 16) instead of timing")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of Markdown")
    args = parser.parse_args(argv)
    if args.datagrams < 1 or args.repeats < 1:
        parser.error("--datagrams and --repeats must be at least 1")
    if args.profile is not None and not 1 <= args.profile <= MAX_HOPS:
        parser.error(f"--profile N must be between 1 and {MAX_HOPS}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Check the chain works, time it and the bare hop, print the report (or the profile)."""
    args = parse_args(argv)
    try:
        if args.profile is not None:
            profile(args.profile, args.datagrams, args.json)
            return 0
        env = environment()
        if not args.json:
            for key, value in env.items():
                print(f"{key}: {value}")
            print(f"links {BANDWIDTH}, {DELAY}; {args.datagrams} datagrams of {len(PAYLOAD)} bytes per burst; "
                  f"fastest of {args.repeats} runs; gc on; captures off", flush=True)
        tty = sys.stderr.isatty()
        bare = bare_hop(args.repeats)
        runs = best_runs(args.hops, args.datagrams, args.repeats, show_progress if tty else lambda _: None)
    except BenchError as exc:
        print(f"bench_net: check failed: {exc}", file=sys.stderr)
        return 1
    if tty:
        print("\r\033[K", end="", file=sys.stderr)
    print(as_json(env, runs, bare, args.repeats) if args.json else "\n" + markdown(runs, bare))
    return 0


if __name__ == "__main__":
    sys.exit(main())
