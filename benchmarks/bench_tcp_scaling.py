"""How layersim's TCP cost grows with bytes, routers and concurrent connections: wall µs per packet-hop.

    python benchmarks/bench_tcp_scaling.py [--bytes 4000000] [--repeats 2]

Bulk transfers between the unmodified socket programs of `tcp_apps/` (one sender and one sink per connection, each
a simulated process) over client - r1 - ... - rK - server, 100 Mb/s 1 ms links, MSS 1448, no loss. Linear cost
means the µs per packet-hop column stays flat down each table. (The peer comparison is bench_tcp.py's.)
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
import time
from pathlib import Path

from benchenv import environment

from layersim.net.network import Network

HERE = Path(__file__).resolve().parent
PORT = 5001


def transfer(total_bytes: int, routers: int, connections: int) -> tuple[float, int, int]:
    """(wall seconds, packet-hops, bytes delivered) of `connections` transfers sharing `total_bytes`."""
    net = Network(seed=1, trace="drops")
    client, server = net.add_host("client"), net.add_host("server")
    chain = [net.add_router(f"r{i + 1}") for i in range(routers)]
    nodes = [client, *chain, server]
    for i, (a, b) in enumerate(itertools.pairwise(nodes)):
        net.link(a, b, a_ip=f"10.{i}.0.1/24", b_ip=f"10.{i}.0.2/24", bandwidth="100Mbit", delay="1ms")
    last = len(nodes) - 2
    for i, router in enumerate(chain, start=1):  # routes both ways along the chain
        if i < len(chain):
            router.routes.add(f"10.{last}.0.0/24", via=f"10.{i}.0.2")
        if i > 1:
            router.routes.add("10.0.0.0/24", via=f"10.{i - 1}.0.1")
    server_ip = f"10.{last}.0.2"
    share = total_bytes // connections
    sinks = [server.run_script(HERE / "tcp_apps" / "sink.py", argv=[str(PORT + n)]) for n in range(connections)]
    senders = [client.run_script(HERE / "tcp_apps" / "bulk_send.py", argv=[server_ip, str(PORT + n), str(share)])
               for n in range(connections)]
    gc.collect()
    start = time.perf_counter()
    net.run()
    seconds = time.perf_counter() - start
    received = 0
    for proc in sinks + senders:
        if proc.exception is not None:
            raise SystemExit(f"bench_tcp_scaling: {proc.name} failed: {proc.exception!r}")
    for sink in sinks:
        received += int(sink.stdout.split()[1])
    if received != share * connections:
        raise SystemExit(f"bench_tcp_scaling: {received} of {share * connections} bytes arrived")
    return seconds, sum(link.frames for link in net.links), received


def best(total: int, routers: int, connections: int, repeats: int) -> tuple[float, int, int]:
    """The fastest of `repeats` runs."""
    return min((transfer(total, routers, connections) for _ in range(repeats)), key=lambda r: r[0])


def table(title: str, rows: list[tuple[str, tuple[float, int, int]]]) -> None:
    """Print one table: wall µs per packet-hop and per MB."""
    print(f"\n{title}\n")
    print("| case | packet-hops | wall s | µs per packet-hop | wall s per MB |")
    print("|---|---:|---:|---:|---:|")
    for label, (seconds, hops, delivered) in rows:
        per_mb = seconds / (delivered / 1e6)
        print(f"| {label} | {hops:,} | {seconds:.2f} | {seconds / hops * 1e6:.2f} | {per_mb:.3f} |")


def main() -> int:
    """Run the three sweeps and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=4_000_000, help="bytes per run (4000000)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per case, fastest kept (2)")
    args = parser.parse_args()
    for key, value in environment().items():
        print(f"{key}: {value}")
    total, repeats = args.bytes, args.repeats
    table("bytes (2 routers, 1 connection)",
          [(f"{n * total / 1e6:g} MB", best(n * total, 2, 1, repeats)) for n in (1, 2, 4)])
    table("routers (1 connection)", [(f"{k} router(s)", best(total, k, 1, repeats)) for k in (1, 2, 4)])
    table("concurrent connections (2 routers, the same bytes in all)",
          [(f"{c} connection(s)", best(total, 2, c, repeats)) for c in (1, 10, 100)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
