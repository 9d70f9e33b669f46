"""Bulk UDP over client - r1 - r2 - server in layersim and, in the same run, in ns-3: packet-hops per wall second.

Run by hand, not by pytest:

    python benchmarks/bench_bulk.py [--datagrams 10000,100000] [--repeats 3] [--no-capture] [--json]
    python benchmarks/bench_bulk.py --trace-levels all,events,drops,none --datagrams 10000,100000,1000000
    python benchmarks/bench_bulk.py --profile 10000     # cProfile layersim's run, top 25 by own time
    python benchmarks/bench_bulk.py --flows 1,3,10 --no-ns3 --no-capture   # the cost of concurrent processes

The scenario: the client sends 1472-byte UDP datagrams to the server two routers away, every link
100 Mb/s with 1 ms of delay, one datagram every 121,120 ns (layersim's line rate; bulkscenario.udp_interval_ns),
so nothing queues and nothing is dropped. A packet-hop is one link transmission: three per datagram.

Each run is a fresh Python process (bulkscenario.run_worker), layersim's and ns-3's alike, so peak memory
belongs to one run and a crash costs one row. Only the simulation run is timed: layersim's `net.run()` after
the topology is built and ARP is warmed up by one datagram, ns-3's `Simulator::Run()`. With a capture,
layersim writes one pcapng of every interface and ns-3 one pcap per device; both record every frame at the
sending and at the receiving interface, so a capture holds two records per packet-hop.

Before printing, the script checks that both sides delivered every datagram with its full size, that each
side's counted packet-hops are three per datagram (layersim: the IPv4 frames its trace shows sent; ns-3: a C++
counter on PhyTxEnd), that layersim dropped nothing, and that the captures hold two records per packet-hop.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import inspect
import json
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ns3_peer
from benchenv import environment
from bulkscenario import (
    CLIENT_IP,
    DELAY_NS,
    LINKS,
    PORT,
    R1_IPS,
    R2_IPS,
    SERVER_IP,
    UDP_PAYLOAD,
    BenchError,
    BulkResult,
    Failed,
    cell,
    fastest,
    mib,
    peak_rss,
    ratio,
    reset_peak_rss,
    result_json,
    run_worker,
    udp_interval_ns,
    udp_scenario,
)

from layersim.net.engine.process import sleep
from layersim.net.host.host import Host, UDPSocket
from layersim.net.network import Network
from layersim.net.trace.log import EventKind

PAYLOAD = bytes(range(256)) * 5 + bytes(UDP_PAYLOAD - 1280)
TRACE_LEVELS = ("all", "events", "drops", "none")
PROFILE_TOP = 25
ETH_IPV4 = b"\x08\x00"


# layersim's side ------------------------------------------------------------------------------------------

def has_trace_levels() -> bool:
    """True once `Network` takes a `trace=` keyword (the planned trace levels)."""
    return "trace" in inspect.signature(Network).parameters


def build(trace: str | None) -> tuple[Network, Host, Host]:
    """client - r1 - r2 - server, 100 Mb/s and 1 ms links, static routes on the routers."""
    if trace is not None and not has_trace_levels():
        raise BenchError(f"trace={trace!r}: Network has no trace= keyword yet")
    net = Network(seed=1, trace=trace) if trace is not None else Network(seed=1)  # type: ignore[call-arg]
    client, r1, r2, server = (net.add_host("client"), net.add_router("r1"), net.add_router("r2"),
                              net.add_host("server"))
    link = {"delay": f"{DELAY_NS}ns", "bandwidth": "100Mbit"}
    net.link(client, r1, a_ip=f"{CLIENT_IP}/24", b_ip=f"{R1_IPS[0]}/24", **link)
    net.link(r1, r2, a_ip=f"{R1_IPS[1]}/24", b_ip=f"{R2_IPS[0]}/24", **link)
    net.link(r2, server, a_ip=f"{R2_IPS[1]}/24", b_ip=f"{SERVER_IP}/24", **link)
    r1.routes.add("10.0.2.0/24", via=R2_IPS[0])
    r2.routes.add("10.0.1.0/24", via=R1_IPS[1])
    return net, client, server


class Receiver:
    """The server's application, a simulated process: recvfrom in a loop, counting datagrams and bytes."""

    def __init__(self, sock: UDPSocket) -> None:
        self.sock = sock
        self.sock.keep_received = False
        self.datagrams = 0
        self.bytes = 0
        self.wrong = 0
        self.last_ns = 0

    def run(self) -> None:
        """Read datagrams until the socket closes (the process is simply left parked at the end)."""
        sock = self.sock
        while True:
            datagram = sock.recvfrom()
            if datagram is None:
                return
            self.datagrams += 1
            self.bytes += len(datagram.data)
            self.wrong += datagram.data != PAYLOAD
            self.last_ns = datagram.time_ns


def pace(net: Network, sock: UDPSocket, datagrams: int, interval: int, start: int, port: int = PORT) -> None:
    """The client's application, a simulated process: one datagram every `interval` ns from `start`, as ns-3's
    UdpClient sends them."""
    destination = (SERVER_IP, port)
    clock = net.clock

    def sender() -> None:
        for i in range(datagrams):
            wait = start + i * interval - clock.now
            if wait > 0:
                sleep(wait)
            if not sock.sendto(PAYLOAD, destination):
                raise BenchError("the client has no route to the server")

    sock.host.spawn(sender, name="udp-sender")


class GcTimer:
    """Adds up the wall-clock time the garbage collector runs while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def layersim_bulk_udp(datagrams: int, capture: Path | None = None, trace: str | None = None,
                      profiler: cProfile.Profile | None = None, flows: int = 1) -> BulkResult:
    """The bulk UDP scenario in layersim: `datagrams` datagrams at line rate, timed and checked.

    `capture` is a .pcapng path for every interface; `trace` a trace level for `Network(trace=...)`;
    with `profiler`, the run is profiled (and its time is not comparable). `flows` splits the burst between that
    many sender processes (each its own socket, taking every flows-th slot of the same line-rate schedule) and as
    many receiver processes (one port each): the same frames on the wire, more processes.
    """
    net, client, server = build(trace)
    receivers = [Receiver(server.udp_socket(PORT + i)) for i in range(flows)]
    for i, receiver in enumerate(receivers):
        server.spawn(receiver.run, name=f"udp-receiver-{i}")
    socks = [client.udp_socket() for _ in range(flows)]
    socks[0].sendto(PAYLOAD, (SERVER_IP, PORT))  # warm up ARP along the path
    net.run()
    if receivers[0].datagrams != 1:
        raise BenchError(f"layersim: the warm-up datagram did not arrive ({receivers[0].datagrams} received)")
    receivers[0].datagrams = receivers[0].bytes = 0
    mark = len(net.trace)
    frames_before = sum(link.frames for link in net.links)
    interval, first = udp_interval_ns(), net.now + 1_000_000  # the warm-up's ARP timers ran out at 1 s
    for i, sock in enumerate(socks):  # flow i sends in slots i, i + flows, i + 2 * flows, ...
        pace(net, sock, len(range(i, datagrams, flows)), interval * flows, first + i * interval, PORT + i)
    if capture is not None:
        net.capture(capture)
    gc.collect()
    collector = GcTimer()
    gc.callbacks.append(collector)
    before = reset_peak_rss()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    net.run()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - start
    peak = peak_rss()
    gc.callbacks.remove(collector)
    net.close()
    got = sum(r.datagrams for r in receivers)
    got_bytes = sum(r.bytes for r in receivers)
    wrong = sum(r.wrong for r in receivers)
    expected = [len(range(i, datagrams, flows)) for i in range(flows)]
    if [r.datagrams for r in receivers] != expected or got_bytes != datagrams * UDP_PAYLOAD or wrong:
        raise BenchError(f"layersim: the server got {got} of {datagrams} datagrams ({got_bytes} bytes, {wrong} with "
                         f"the wrong payload; per flow {[r.datagrams for r in receivers]}, expected {expected})")
    hops, counted_by, notes = count_hops(net, mark, frames_before, datagrams)
    last_ns = max(r.last_ns for r in receivers)
    flow_note = [f"{flows} sender and {flows} receiver processes"] if flows > 1 else []
    return BulkResult("layersim", udp_scenario(datagrams), seconds, hops, counted_by, got_bytes, got,
                      (last_ns - first) / 1e9, before, peak, collector.seconds,
                      notes=[f"1514-byte frames, one every {interval} ns", *flow_note, *notes])


def count_hops(net: Network, mark: int, frames_before: int, datagrams: int) -> tuple[int, str, list[str]]:
    """Packet-hops of the burst: every frame the links carried (ARP included, as each link counts them), checked
    against 3 per datagram; no drops."""
    drops = [e for e in net.trace.events[mark:] if e.kind is EventKind.DROP]
    if drops:
        raise BenchError(f"layersim: a drop during the burst: {drops[0]}")
    frames = sum(link.frames for link in net.links) - frames_before
    extra = frames - LINKS * datagrams
    if extra < 0 or extra > 12 * max(1, datagrams // 100_000):
        raise BenchError(f"layersim: the links carried {frames} frames for {datagrams} datagrams")
    notes = [f"{extra} ARP frames (entries expire after 30 s)"] if extra else []
    return frames, "link frame counters", notes


# The runs -------------------------------------------------------------------------------------------------

def layersim_in_process(datagrams: int, *, capture: bool = False, trace: str | None = None,
                        flows: int = 1) -> BulkResult | Failed:
    """layersim_bulk_udp in a fresh process."""
    args = [str(Path(__file__)), "--worker", "--datagrams", str(datagrams), "--flows", str(flows)]
    if trace is not None:
        args += ["--trace", trace]
    return run_worker(args, udp_scenario(datagrams), capture)


@dataclass
class Pair:
    """layersim and ns-3 on one scenario (the fastest of the repeats each), with or without a capture."""

    datagrams: int
    capture: bool
    layersim: BulkResult | Failed
    ns3: BulkResult | Failed | None  # None: ns-3 not installed or skipped


def check_pair(pair: Pair) -> None:
    """Both sides delivered every datagram, and captures hold two records per packet-hop."""
    for result in (pair.layersim, pair.ns3):
        if not isinstance(result, BulkResult):
            continue
        if result.delivered != pair.datagrams:
            raise BenchError(f"{result.simulator}: delivered {result.delivered} of {pair.datagrams}")
        if pair.capture and result.captured_frames != 2 * result.packet_hops:
            raise BenchError(f"{result.simulator}: {result.captured_frames} frames captured for "
                             f"{result.packet_hops} packet-hops (expected two records each)")


def run_all(sizes: list[int], repeats: int, capture: bool, ns3: bool,
            progress: Callable[[str], None], trace: str | None = None) -> list[Pair]:
    """Every size, without and (if `capture`) with a capture, `repeats` times each side, in rounds."""
    cases = [(n, c) for n in sizes for c in ((False, True) if capture else (False,))]
    runs: dict[tuple[int, bool, str], list[BulkResult | Failed]] = {}
    for round_ in range(1, repeats + 1):
        for n, c in cases:
            progress(f"round {round_}/{repeats}: layersim, {n:,} datagrams{', capture' if c else ''}")
            runs.setdefault((n, c, "layersim"), []).append(layersim_in_process(n, capture=c, trace=trace))
            if ns3:
                progress(f"round {round_}/{repeats}: ns-3, {n:,} datagrams{', capture' if c else ''}")
                runs.setdefault((n, c, "ns-3"), []).append(ns3_peer.udp_in_process(n, capture=c))
    pairs = [Pair(n, c, fastest(runs[n, c, "layersim"]), fastest(runs[n, c, "ns-3"]) if ns3 else None)
             for n, c in cases]
    for pair in pairs:
        check_pair(pair)
    return pairs


def flow_runs(datagrams: int, flows: list[int], repeats: int, trace: str | None,
              progress: Callable[[str], None]) -> dict[int, BulkResult | Failed]:
    """The same burst split between 1, 3, ... sender and receiver process pairs (fastest of `repeats`, in rounds)."""
    runs: dict[int, list[BulkResult | Failed]] = {}
    for round_ in range(1, repeats + 1):
        for n in flows:
            progress(f"round {round_}/{repeats}: layersim, {datagrams:,} datagrams in {n} flows")
            runs.setdefault(n, []).append(layersim_in_process(datagrams, trace=trace, flows=n))
    return {n: fastest(results) for n, results in runs.items()}


def flow_table(datagrams: int, results: dict[int, BulkResult | Failed]) -> str:
    """µs per packet-hop against the number of concurrent processes, and the ratio to the fewest."""
    base = results[min(results)]
    lines = ["| flows | processes (senders + receivers) | packet-hops | layersim µs/hop | against one flow |",
             "|---:|---:|---:|---:|---:|"]
    for n, r in sorted(results.items()):
        hops = f"{r.packet_hops:,}" if isinstance(r, BulkResult) else "n/a"
        against = (f"{r.us_per_hop / base.us_per_hop:.2f}x" if isinstance(r, BulkResult)
                   and isinstance(base, BulkResult) else "n/a")
        lines.append(f"| {n} | {2 * n} | {hops} | {cell(r, lambda x: f'{x.us_per_hop:.2f}')} | {against} |")
    failures = [f"- {datagrams:,} datagrams in {n} flows: {r.reason}" for n, r in results.items()
                if isinstance(r, Failed)]
    return "\n".join(lines + (["", "Failed runs:", *failures] if failures else []))


def trace_memory(sizes: list[int], levels: list[str], progress: Callable[[str], None]) -> dict[tuple[int, str],
                                                                                                BulkResult | Failed]:
    """layersim's run at each trace level and size (one run each: memory does not need repeats)."""
    results = {}
    for n in sizes:
        for level in levels:
            progress(f"trace level {level}: {n:,} datagrams")
            results[n, level] = layersim_in_process(n, trace=level)
    return results


# Reporting ------------------------------------------------------------------------------------------------

def markdown(pairs: list[Pair]) -> str:
    """The side-by-side table and what each failure said."""
    lines = ["| datagrams | capture | packet-hops | layersim hops/s | ns-3 hops/s | layersim / ns-3 | layersim µs/hop "
             "| ns-3 µs/hop | layersim sim MB/s | ns-3 sim MB/s | layersim peak (growth) MiB "
             "| ns-3 peak (growth) MiB | layersim gc |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    failures = []
    for p in pairs:
        hops = p.layersim.packet_hops if isinstance(p.layersim, BulkResult) else 0
        lines.append(
            f"| {p.datagrams:,} | {'pcapng / pcap' if p.capture else 'none'} | {hops:,} "
            f"| {cell(p.layersim, lambda r: f'{r.hops_per_second:,.0f}')} "
            f"| {cell(p.ns3, lambda r: f'{r.hops_per_second:,.0f}')} "
            f"| {ratio(p.layersim, p.ns3, lambda r: r.hops_per_second)} "
            f"| {cell(p.layersim, lambda r: f'{r.us_per_hop:.2f}')} | {cell(p.ns3, lambda r: f'{r.us_per_hop:.2f}')} "
            f"| {cell(p.layersim, lambda r: f'{r.mb_per_second:.1f}')} "
            f"| {cell(p.ns3, lambda r: f'{r.mb_per_second:.1f}')} "
            f"| {cell(p.layersim, lambda r: f'{mib(r.peak_rss)} ({mib(r.growth)})')} "
            f"| {cell(p.ns3, lambda r: f'{mib(r.peak_rss)} ({mib(r.growth)})')} "
            f"| {cell(p.layersim, lambda r: f'{r.gc_seconds / r.wall_seconds:.0%}')} |")
        failures += [f"- {p.datagrams:,}{' with capture' if p.capture else ''}: {r.scenario}: {r.reason}"
                     for r in (p.layersim, p.ns3) if isinstance(r, Failed)]
    return "\n".join(lines + (["", "Failed runs:", *failures] if failures else []))


def checks_text(pairs: list[Pair]) -> str:
    """What both sides did, per scenario: datagrams delivered, simulated seconds, capture records and size."""
    lines = []
    for p in pairs:
        parts = []
        for r in (p.layersim, p.ns3):
            if isinstance(r, BulkResult):
                captured = (f", {r.captured_frames:,} frames captured ({mib(r.capture_bytes or 0)} MiB)"
                            if r.captured_frames is not None else "")
                parts.append(f"{r.simulator} delivered {r.delivered:,} in {r.sim_seconds:.6f} simulated s, "
                             f"{r.packet_hops:,} hops by {r.hops_counted_by}{captured}")
        lines.append(f"- {p.datagrams:,}{' with capture' if p.capture else ''}: " + "; ".join(parts))
    return "\n".join(lines)


def trace_table(results: dict[tuple[int, str], BulkResult | Failed], pairs: list[Pair], levels: list[str],
                available: bool) -> str:
    """Peak memory (and growth during the run) per size at each trace level."""
    lines = ["| datagrams | forwarded frames | "
             + " | ".join(f"trace={lv!r} peak (growth) MiB" for lv in levels) + " |",
             "|---:|---:|" + "---:|" * len(levels)]
    for p in pairs:
        if p.capture:
            continue
        memory = [cell(results.get((p.datagrams, lv)), lambda r: f"{mib(r.peak_rss)} ({mib(r.growth)})")
                  if available else "n/a" for lv in levels]
        lines.append(f"| {p.datagrams:,} | {2 * p.datagrams:,} | " + " | ".join(memory) + " |")
    failures = [f"- {n:,} datagrams, trace={level!r}: {r.reason}" for (n, level), r in results.items()
                if isinstance(r, Failed)]
    return "\n".join(lines + (["", "Failed runs:", *failures] if failures else []))


def as_json(env: dict[str, str], pairs: list[Pair], traces: dict[tuple[int, str], BulkResult | Failed],
            flows: dict[int, BulkResult | Failed]) -> str:
    """Every result as JSON (stable keys)."""
    return json.dumps({"environment": env, "interval_ns": udp_interval_ns(), "payload_bytes": UDP_PAYLOAD,
                       "pairs": [{"datagrams": p.datagrams, "capture": p.capture, "layersim": result_json(p.layersim),
                                  "ns3": result_json(p.ns3)} for p in pairs],
                       "trace_levels": [{"datagrams": n, "level": lv, "result": result_json(r)}
                                        for (n, lv), r in traces.items()],
                       "flows": [{"flows": n, "result": result_json(r)} for n, r in flows.items()]}, indent=2)


# Profile --------------------------------------------------------------------------------------------------

def profile(datagrams: int) -> None:
    """Time one run, then cProfile another; print the top functions by own time per packet-hop."""
    plain = layersim_bulk_udp(datagrams)
    profiler = cProfile.Profile()
    profiled = layersim_bulk_udp(datagrams, profiler=profiler)
    hops = profiled.packet_hops
    print(f"layersim, {datagrams:,} datagrams, {hops:,} packet-hops: {plain.us_per_hop:.2f} µs per packet-hop "
          f"without the profiler ({plain.gc_seconds / plain.wall_seconds:.0%} in gc), {profiled.us_per_hop:.2f} "
          f"under it.\nTop {PROFILE_TOP} by own time; µs are per packet-hop under the profiler:\n")
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:PROFILE_TOP]  # type: ignore[attr-defined]
    total = sum(s[2] for s in stats.stats.values())  # type: ignore[attr-defined]
    print("| function | calls per hop | own µs per hop | own share | cumulative µs per hop |")
    print("|---|---:|---:|---:|---:|")
    for (path, line, name), (_cc, calls, own, cumulative, _callers) in rows:
        print(f"| `{Path(path).name}:{line} {name}` | {calls / hops:.2f} | {own / hops * 1e6:.2f} "
              f"| {own / total:.1%} | {cumulative / hops * 1e6:.2f} |")


# Main -----------------------------------------------------------------------------------------------------

def size_list(text: str) -> list[int]:
    """Parse "10000,100000"."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give datagram counts separated by commas") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: each count must be at least 1")
    return sizes


def show_progress(text: str) -> None:
    """Overwrite one terminal line with what is running."""
    print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=size_list, default=[10_000, 100_000],
                        help="burst sizes, separated by commas (default 10000,100000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario and side, fastest kept (3)")
    parser.add_argument("--no-capture", action="store_true", help="skip the runs with a capture")
    parser.add_argument("--compare-trace", default="drops",
                        help="layersim's trace level in the comparison table (default drops: like ns-3, which "
                             "keeps no trace, it keeps only what went wrong); the memory table shows every level")
    parser.add_argument("--no-ns3", action="store_true", help="run layersim's side only")
    parser.add_argument("--trace-levels", type=lambda t: [v.strip() for v in t.split(",") if v.strip()],
                        default=list(TRACE_LEVELS), help="trace levels for the memory table (all,events,drops,none)")
    parser.add_argument("--profile", type=int, nargs="?", const=10_000, metavar="N",
                        help="cProfile layersim's run of N datagrams (default 10000) instead")
    parser.add_argument("--flows", type=size_list, default=[1, 3],
                        help="the first size again, split between this many sender/receiver process pairs (1,3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", help=argparse.SUPPRESS)
    parser.add_argument("--capture-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def worker(args: argparse.Namespace) -> int:
    """One layersim run, printed as one line of JSON."""
    capture = args.capture_dir / "layersim.pcapng" if args.capture_dir is not None else None
    try:
        result = layersim_bulk_udp(args.datagrams[0], capture=capture, trace=args.trace, flows=args.flows[0])
    except BenchError as exc:
        print(f"bench_bulk: check failed: {exc}", file=sys.stderr)
        return 1
    print(result.to_json())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run both sides, check them, print the tables."""
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.profile is not None:
        profile(args.profile)
        return 0
    with_ns3 = not args.no_ns3 and ns3_peer.available()
    env = environment(("ns3",) if with_ns3 else ())
    progress = show_progress if sys.stderr.isatty() else (lambda _: None)
    try:
        pairs = run_all(args.datagrams, args.repeats, not args.no_capture, with_ns3, progress,
                        args.compare_trace if has_trace_levels() else None)
        levels = has_trace_levels()
        traces = trace_memory(args.datagrams, args.trace_levels, progress) if levels else {}
        flows = flow_runs(args.datagrams[0], args.flows, args.repeats, args.compare_trace, progress)
    except BenchError as exc:
        print(f"\nbench_bulk: check failed: {exc}", file=sys.stderr)
        return 1
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    if args.json:
        print(as_json(env, pairs, traces, flows))
        return 0
    for key, value in env.items():
        print(f"{key}: {value}")
    if not with_ns3:
        print("ns-3: not installed (pip install ns3) or --no-ns3; its columns are n/a")
    print(f"layersim's trace level in this table: {args.compare_trace!r} (ns-3 keeps no trace)")
    print(f"{UDP_PAYLOAD}-byte datagrams, one every {udp_interval_ns()} ns, client - r1 - r2 - server over 100 Mb/s "
          f"1 ms links; fastest of {args.repeats} runs, each in its own process; gc on\n")
    print(markdown(pairs))
    print("\nChecks passed:\n" + checks_text(pairs))
    print("\nlayersim's peak memory by trace level (resident set, one run each; growth is the rise during the run):\n")
    if not levels:
        print("`Network` has no `trace=` keyword yet, so the trace levels are n/a; `Network()` keeps every event.\n")
    print(trace_table(traces, pairs, args.trace_levels, levels))
    print(f"\nConcurrent processes: {args.datagrams[0]:,} datagrams on the same schedule, split between flows, each a "
          "sender process with its own socket and a receiver process on its own port (no capture):\n")
    print(flow_table(args.datagrams[0], flows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
