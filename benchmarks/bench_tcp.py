"""A bulk TCP transfer over client - r1 - r2 - server in ns-3 and (once it has TCP) layersim: packet-hops per second.

Run by hand, not by pytest:

    python benchmarks/bench_tcp.py [--bytes 10000000] [--mss 1448,536] [--loss 0,0.01] [--variant cubic|newreno]
                                   [--repeats 3] [--no-capture] [--json]

The scenario: the client sends B bytes to the server two routers away over one TCP connection, every
link 100 Mb/s with 1 ms of delay; MSS 1448 and 536 bytes of payload per segment; 0% and 1% loss of the frames
r1 sends to r2 (the data direction). A packet-hop is one link transmission, data and ACKs alike, lost frames
included. Simulated MB per second is the bytes the server's application received.

ns-3 (ns3_peer.ns3_bulk_tcp): BulkSendApplication to a PacketSink, TCP NewReno (or CUBIC) with ns-3's defaults
otherwise (SACK, timestamps, initial window 10, delayed ACK), a RateErrorModel on r2's receiving device.

layersim (layersim_bulk_tcp): the same two programs as plain socket scripts, tcp_apps/bulk_send.py and
tcp_apps/sink.py, run on the simulated hosts with `host.run_script` (the planned socket API); the segment size is set
through the MTU (payload = MTU - 52 with timestamps on). Until `layersim.tcp` exists, its rows say so.

Each run is a fresh process (bulkscenario.run_worker), and only the simulation run is timed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import re
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
    PORT,
    R1_IPS,
    R2_IPS,
    SERVER_IP,
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
    tcp_scenario,
)

HERE = Path(__file__).parent
IP_TCP_TIMESTAMPS = 52  # IPv4 (20) + TCP (20) + the timestamps option padded (12): MTU = payload per segment + 52
ETH_IPV4 = b"\x08\x00"


# layersim's side ------------------------------------------------------------------------------------------

def layersim_has_tcp() -> bool:
    """True once the `layersim.tcp` package exists."""
    return importlib.util.find_spec("layersim.tcp") is not None


def layersim_bulk_tcp(total_bytes: int, mss: int, loss: float, capture: Path | None = None,
                      variant: str = "cubic") -> BulkResult:
    """The bulk TCP scenario in layersim: tcp_apps/bulk_send.py to tcp_apps/sink.py over two routers, checked."""
    from layersim.net.engine.link import Faults
    from layersim.net.network import Network
    from layersim.net.trace.log import DropReason

    # like ns-3, keep no trace but the drops (flat memory); the same congestion control as the ns-3 side
    net = Network(seed=1, trace="drops", congestion=variant)
    client, r1, r2, server = (net.add_host("client"), net.add_router("r1"), net.add_router("r2"),
                              net.add_host("server"))
    link = {"delay": f"{DELAY_NS}ns", "bandwidth": "100Mbit", "mtu": mss + IP_TCP_TIMESTAMPS}
    net.link(client, r1, a_ip=f"{CLIENT_IP}/24", b_ip=f"{R1_IPS[0]}/24", **link)
    net.link(r1, r2, a_ip=f"{R1_IPS[1]}/24", b_ip=f"{R2_IPS[0]}/24", loss=loss, faults_ba=Faults(), **link)
    net.link(r2, server, a_ip=f"{R2_IPS[1]}/24", b_ip=f"{SERVER_IP}/24", **link)
    r1.routes.add("10.0.2.0/24", via=R2_IPS[0])
    r2.routes.add("10.0.1.0/24", via=R1_IPS[1])
    if capture is not None:
        net.capture(capture)
    sink = server.run_script(HERE / "tcp_apps" / "sink.py", argv=[str(PORT)])  # type: ignore[attr-defined]
    sender = client.run_script(HERE / "tcp_apps" / "bulk_send.py",  # type: ignore[attr-defined]
                               argv=[SERVER_IP, str(PORT), str(total_bytes)])
    gc.collect()
    before = reset_peak_rss()
    start = time.perf_counter()
    net.run()
    seconds = time.perf_counter() - start
    peak = peak_rss()
    net.close()
    for proc in (sink, sender):
        if proc.exception is not None:
            raise BenchError(f"layersim: a program failed: {proc.exception!r}")
    got = re.search(r"received (\d+) bytes, last at ([0-9.]+)", "".join(sink.stdout))
    began = re.search(r"first at ([0-9.]+)", "".join(sender.stdout))
    if got is None or began is None or int(got.group(1)) != total_bytes:
        raise BenchError(f"layersim: the sink printed {sink.stdout!r}, the sender {sender.stdout!r}")
    hops = sum(link.frames for link in net.links)
    # Frames captured once: lost on a link (sent, never received) minus those a full queue refused before the wire
    # (captured at the sender, not a packet-hop).
    lost = len(net.trace.drops(DropReason.LINK_LOSS)) - len(net.trace.drops(DropReason.QUEUE_FULL))
    if hops == 0:
        raise BenchError("layersim: no frame crossed a link")
    return BulkResult("layersim", tcp_scenario(total_bytes, mss, loss), seconds, hops, "link frame counters",
                      total_bytes, total_bytes, float(got.group(2)) - float(began.group(1)), before, peak,
                      lost=lost, notes=["ARP frames included (6)"])


def layersim_in_process(total_bytes: int, mss: int, loss: float, capture: bool,
                        variant: str = "cubic") -> BulkResult | Failed:
    """layersim_bulk_tcp in a fresh process."""
    args = [str(Path(__file__)), "--worker", "--bytes", str(total_bytes), "--mss", str(mss), "--loss", str(loss),
            "--variant", variant]
    return run_worker(args, tcp_scenario(total_bytes, mss, loss), capture)


# The runs -------------------------------------------------------------------------------------------------

@dataclass
class Row:
    """One scenario: layersim (None until it has TCP) and ns-3 (None when not installed), fastest of the repeats."""

    total_bytes: int
    mss: int
    loss: float
    capture: bool
    layersim: BulkResult | Failed | None
    ns3: BulkResult | Failed | None


def run_all(args: argparse.Namespace, with_layersim: bool, with_ns3: bool,
            progress: Callable[[str], None]) -> list[Row]:
    """Every (bytes, MSS, loss, capture) case, `repeats` times on each side present, in rounds."""
    cases = [(b, m, loss, c) for b in args.bytes for m in args.mss for loss in args.loss
             for c in ((False, True) if not args.no_capture else (False,))]
    runs: dict[tuple[int, int, float, bool, str], list[BulkResult | Failed]] = {}
    for round_ in range(1, args.repeats + 1):
        for b, m, loss, c in cases:
            name = f"round {round_}/{args.repeats}: {tcp_scenario(b, m, loss)}{', capture' if c else ''}"
            if with_layersim:
                progress(f"{name}: layersim")
                result = layersim_in_process(b, m, loss, c, args.variant)
                runs.setdefault((b, m, loss, c, "layersim"), []).append(result)
            if with_ns3:
                progress(f"{name}: ns-3")
                runs.setdefault((b, m, loss, c, "ns-3"), []).append(
                    ns3_peer.tcp_in_process(b, m, loss, variant=args.variant, capture=c))
    rows = [Row(b, m, loss, c, fastest(runs.get((b, m, loss, c, "layersim"), [])),
                fastest(runs.get((b, m, loss, c, "ns-3"), []))) for b, m, loss, c in cases]
    for row in rows:
        for result in (row.layersim, row.ns3):
            if isinstance(result, BulkResult) and result.captured_frames is not None \
                    and result.captured_frames != 2 * result.packet_hops - result.lost:
                raise BenchError(f"{result.simulator}: {result.captured_frames} frames captured for "
                                 f"{result.packet_hops} packet-hops, {result.lost} lost (expected two records "
                                 "per hop, one for a lost frame)")
    return rows


# Reporting ------------------------------------------------------------------------------------------------

def markdown(rows: list[Row], layersim_missing: str) -> str:
    """The side-by-side table, then every failure's reason."""
    lines = ["| transfer | MSS | loss | capture | layersim hops/s | ns-3 hops/s | layersim / ns-3 | ns-3 packet-hops "
             "| ns-3 µs/hop | layersim sim MB/s | ns-3 sim MB/s | ns-3 simulated s | ns-3 frames lost "
             "| layersim peak (growth) MiB | ns-3 peak (growth) MiB |",
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    failures = []
    for r in rows:
        lines.append(
            f"| {r.total_bytes / 1e6:g} MB | {r.mss} | {r.loss:.0%} | {'pcapng / pcap' if r.capture else 'none'} "
            f"| {cell(r.layersim, lambda x: f'{x.hops_per_second:,.0f}', layersim_missing)} "
            f"| {cell(r.ns3, lambda x: f'{x.hops_per_second:,.0f}', 'n/a')} "
            f"| {ratio(r.layersim, r.ns3, lambda x: x.hops_per_second)} "
            f"| {cell(r.ns3, lambda x: f'{x.packet_hops:,}', 'n/a')} "
            f"| {cell(r.ns3, lambda x: f'{x.us_per_hop:.2f}', 'n/a')} "
            f"| {cell(r.layersim, lambda x: f'{x.mb_per_second:.1f}', layersim_missing)} "
            f"| {cell(r.ns3, lambda x: f'{x.mb_per_second:.1f}', 'n/a')} "
            f"| {cell(r.ns3, lambda x: f'{x.sim_seconds:.3f}', 'n/a')} "
            f"| {cell(r.ns3, lambda x: f'{x.lost:,}', 'n/a')} "
            f"| {cell(r.layersim, lambda x: f'{mib(x.peak_rss)} ({mib(x.growth)})', layersim_missing)} "
            f"| {cell(r.ns3, lambda x: f'{mib(x.peak_rss)} ({mib(x.growth)})', 'n/a')} |")
        failures += [f"- {x.scenario}{' with capture' if r.capture else ''}: {x.reason}"
                     for x in (r.layersim, r.ns3) if isinstance(x, Failed)]
    return "\n".join(lines + (["", "Failed runs:", *failures] if failures else []))


def as_json(env: dict[str, str], rows: list[Row], variant: str) -> str:
    """Every result as JSON (stable keys)."""
    rows_json = [{"bytes": r.total_bytes, "mss": r.mss, "loss": r.loss, "capture": r.capture,
                  "layersim": result_json(r.layersim), "ns3": result_json(r.ns3)} for r in rows]
    return json.dumps({"environment": env, "variant": variant, "rows": rows_json}, indent=2)


# Main -----------------------------------------------------------------------------------------------------

def number_list(kind: type[int] | type[float]) -> Callable[[str], list]:
    """An argparse type for "1448,536" or "0,0.01"."""
    def parse(text: str) -> list:
        try:
            values = [kind(float(part)) if kind is int else kind(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: give numbers separated by commas") from None
        if not values or min(values) < 0:
            raise argparse.ArgumentTypeError(f"{text!r}: give one or more numbers, none negative")
        return values
    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=number_list(int), default=[10_000_000],
                        help="transfer sizes in bytes, separated by commas (default 10000000)")
    parser.add_argument("--mss", type=number_list(int), default=[1448, 536], help="payload per segment (1448,536)")
    parser.add_argument("--loss", type=number_list(float), default=[0.0, 0.01], help="loss r1 -> r2 (0,0.01)")
    parser.add_argument("--variant", choices=sorted(ns3_peer.VARIANTS), default="cubic",
                        help="congestion control on both sides (default cubic, Linux's)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario and side, fastest kept (3)")
    parser.add_argument("--no-capture", action="store_true", help="skip the runs with a capture")
    parser.add_argument("--no-ns3", action="store_true", help="run layersim's side only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--capture-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1 or any(b < 1 for b in args.bytes) or any(m < 16 for m in args.mss) \
            or any(loss >= 1 for loss in args.loss):
        parser.error("--repeats and --bytes must be at least 1, --mss at least 16, --loss below 1")
    return args


def worker(args: argparse.Namespace) -> int:
    """One layersim run, printed as one line of JSON."""
    capture = args.capture_dir / "layersim.pcapng" if args.capture_dir is not None else None
    try:
        result = layersim_bulk_tcp(args.bytes[0], args.mss[0], args.loss[0], capture, args.variant)
    except BenchError as exc:
        print(f"bench_tcp: check failed: {exc}", file=sys.stderr)
        return 1
    print(result.to_json())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run what is available, check it, print the table."""
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    with_layersim, with_ns3 = layersim_has_tcp(), not args.no_ns3 and ns3_peer.available()
    env = environment(("ns3",) if with_ns3 else ())
    progress = ((lambda text: print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True))
                if sys.stderr.isatty() else (lambda _: None))
    try:
        rows = run_all(args, with_layersim, with_ns3, progress)
    except BenchError as exc:
        print(f"\nbench_tcp: check failed: {exc}", file=sys.stderr)
        return 1
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    if args.json:
        print(as_json(env, rows, args.variant))
        return 0
    for key, val in env.items():
        print(f"{key}: {val}")
    if not with_layersim:
        print("layersim TCP: not available yet (no layersim.tcp); its columns say so")
    if not with_ns3:
        print("ns-3: not installed (pip install ns3) or --no-ns3; its columns are n/a")
    print(f"client - r1 - r2 - server over 100 Mb/s 1 ms links, ns-3 {args.variant}; fastest of {args.repeats} runs, "
          "each in its own process\n")
    print(markdown(rows, "not available yet" if not with_layersim else "n/a"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
