"""Ephemeral port choice: bind every port of Linux's range 32768-60999 (28,232 UDP sockets) on one simulated host.

    python benchmarks/bench_ports.py [--repeats 3]

Each socket is made and bound the way a program does it, `host.socket.socket(AF_INET, SOCK_DGRAM).bind(("", 0))`,
so the time covers the file descriptor as well as the port. The script prints the wall time of each block of
2,000 binds (flat when a bind costs the same at any fill), of the whole fill, and of the bind after it, which
must fail at once with EADDRINUSE. Before any number is printed it checks that the sockets hold every port of
the range once.
"""

from __future__ import annotations

import argparse
import errno
import socket as std
import statistics
import time

from benchenv import environment

from layersim.net.host.datagram_sockets import EPHEMERAL_PORTS
from layersim.net.network import Network

LOW, HIGH = EPHEMERAL_PORTS
SPAN = HIGH - LOW + 1
BLOCK = 2000


def fill() -> tuple[list[float], float, float]:
    """One run on a fresh host: wall seconds per block of binds, for the whole fill, and for the failing bind."""
    net = Network(seed=1)
    host = net.add_host("h")
    net.link(host, net.add_host("peer"), a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")
    make = host.socket.socket
    socks = []
    blocks = []
    start = block_start = time.perf_counter()
    for i in range(1, SPAN + 1):
        sock = make(std.AF_INET, std.SOCK_DGRAM)
        sock.bind(("", 0))
        socks.append(sock)
        if i % BLOCK == 0 or i == SPAN:
            now = time.perf_counter()
            blocks.append(now - block_start)
            block_start = now
    total = time.perf_counter() - start
    ports = sorted(sock.getsockname()[1] for sock in socks)
    if ports != list(range(LOW, HIGH + 1)):
        raise SystemExit("the sockets do not hold every port of the range exactly once")
    one_more = make(std.AF_INET, std.SOCK_DGRAM)
    start = time.perf_counter()
    try:
        one_more.bind(("", 0))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise SystemExit(f"the bind after the fill failed with {exc!r}, not EADDRINUSE") from None
    else:
        raise SystemExit("a bind succeeded with every port of the range bound")
    return blocks, total, time.perf_counter() - start


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh hosts to fill (the median is printed)")
    args = parser.parse_args()
    for key, value in environment().items():
        print(f"{key}: {value}")
    runs = [fill() for _ in range(args.repeats)]
    print(f"\nmedian of {args.repeats} runs, {SPAN:,} UDP binds to port 0 on one host\n")
    print("| sockets already bound | wall ms for the next 2,000 binds (or the rest) |")
    print("|---:|---:|")
    for index in range(len(runs[0][0])):
        done = index * BLOCK
        print(f"| {done:,} | {statistics.median(run[0][index] for run in runs) * 1e3:.1f} |")
    print(f"\nwhole fill: {statistics.median(run[1] for run in runs):.2f} s; the bind after it (EADDRINUSE): "
          f"{statistics.median(run[2] for run in runs) * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
