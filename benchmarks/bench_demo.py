"""The demo's speed: `layersim demo` end to end, simulated time per wall second, and requests.get calls per wall
second on a simulated host against the same calls on this machine's real loopback, measured in the same run.

    python benchmarks/bench_demo.py [--gets 100] [--repeats 3]

The peer for requests.get is requests.get itself over the kernel's loopback to a real HTTP server in a thread,
serving the same page: the simulated calls also carry DNS, NAT, three routers and their links, byte for byte.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from benchenv import environment

from layersim.demo import build, page

ROOT = Path(__file__).resolve().parent.parent


def demo_wall(repeats: int) -> list[float]:
    """Wall seconds of `layersim demo --quiet` as a whole process (interpreter start and imports included)."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "layersim.cli", "demo", "--quiet", "--out", "/tmp/bench-demo-out"],
                       check=True, capture_output=True, cwd=ROOT)
        out.append(time.perf_counter() - start)
    return out


def simulated_gets(gets: int) -> tuple[float, float, int]:
    """`gets` sequential requests.get calls on the demo's laptop: (wall s, simulated s, bytes received)."""
    net = build(seed=1, trace="drops")
    laptop = net.hosts["laptop"]
    received: list[int] = []

    def client() -> None:
        for _ in range(gets):
            received.append(len(requests.get("http://example.com/", timeout=30).content))

    proc = laptop.spawn(client, at="10ms")
    start_sim, start = net.now, time.perf_counter()
    net.run_until(lambda: proc.done)
    wall = time.perf_counter() - start
    if proc.exception is not None or len(received) != gets or set(received) != {len(page())}:
        raise SystemExit(f"bench_demo: simulated gets failed: {proc.exception!r}, {received[:3]}")
    return wall, (net.now - start_sim) / 1e9, sum(received)


class _Page(http.server.BaseHTTPRequestHandler):
    """The demo's page over the real loopback."""

    def do_GET(self) -> None:
        body = page()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def loopback_gets(gets: int) -> float:
    """The same calls over the real loopback (127.0.0.1, a threaded http.server): wall seconds."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        start = time.perf_counter()
        for _ in range(gets):
            if len(requests.get(url, timeout=30).content) != len(page()):
                raise SystemExit("bench_demo: the loopback server sent a wrong page")
        return time.perf_counter() - start
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=100, help="sequential requests.get calls (100)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measure; the median is shown (3)")
    args = parser.parse_args()
    for key, value in environment(("requests",)).items():
        print(f"{key}: {value}")
    demo = demo_wall(args.repeats)
    sims = [simulated_gets(args.gets) for _ in range(args.repeats)]
    loops = [loopback_gets(args.gets) for _ in range(args.repeats)]
    wall = statistics.median(s[0] for s in sims)
    simulated = statistics.median(s[1] for s in sims)
    loop = statistics.median(loops)
    print(f"\nmedian of {args.repeats} runs each\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| `layersim demo --quiet`, whole process (target under 2 s) | {statistics.median(demo):.2f} s |")
    print(f"| {args.gets} sequential requests.get on the simulated laptop | {args.gets / wall:,.0f} per wall s |")
    print(f"| the same calls over this machine's loopback (peer) | {args.gets / loop:,.0f} per wall s |")
    print(f"| simulated / loopback calls per wall second | {loop / wall:.2f}x |")
    print(f"| simulated time per wall second during those calls | {simulated / wall:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
