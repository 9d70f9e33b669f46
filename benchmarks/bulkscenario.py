"""The client - r1 - r2 - server bulk scenario both simulators run: its parameters, its result, and one run per process.

bench_bulk.py (UDP) and bench_tcp.py (TCP) run each scenario in a fresh Python process, layersim's side and
ns-3's side alike, so that each process's peak memory belongs to one scenario only and a crash in one (ns-3
runs C++ through cppyy) costs one row of the table, not the benchmark. A worker prints its `BulkResult` as one
line of JSON, the last line of its standard output.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The topology, the same on both sides: 10.0.1.0/24, 10.0.12.0/24 and 10.0.2.0/24 as in
# examples/client_r1_r2_server.toml, but every link 100 Mb/s with a 1 ms propagation delay.
BANDWIDTH_BPS = 100_000_000
DELAY_NS = 1_000_000
LINKS = 3
CLIENT_IP, R1_IPS, R2_IPS, SERVER_IP = "10.0.1.10", ("10.0.1.1", "10.0.12.1"), ("10.0.12.2", "10.0.2.1"), "10.0.2.20"
PORT = 9000
UDP_PAYLOAD = 1472  # the largest datagram that fits a 1500-byte MTU: 1472 + 8 (UDP) + 20 (IPv4)
ETHERNET_HEADER = 14  # layersim's frames: Ethernet II without preamble or FCS, as a capture shows them
PPP_HEADER = 2  # ns-3's PointToPointNetDevice
WORKER_TIMEOUT_S = 3600


def frame_ns(frame_bytes: int) -> int:
    """Serialization time of a frame at BANDWIDTH_BPS, rounded up as layersim's Link does."""
    return -(-frame_bytes * 8 * 1_000_000_000 // BANDWIDTH_BPS)


def udp_interval_ns() -> int:
    """The gap between datagrams on both sides: layersim's line rate for a 1472-byte datagram (121,120 ns).

    That datagram is a 1514-byte Ethernet frame in layersim and a 1502-byte PPP frame on ns-3's point-to-point
    link. Sending one every `interval` keeps layersim's links exactly at line rate and ns-3's at 99.2%, so
    neither side builds a queue and both offer the same datagrams per simulated second.
    """
    ip_bytes = UDP_PAYLOAD + 28
    return max(frame_ns(ip_bytes + ETHERNET_HEADER), frame_ns(ip_bytes + PPP_HEADER))


def udp_scenario(datagrams: int) -> str:
    """A UDP scenario's name in the tables."""
    return f"udp {datagrams:,} x {UDP_PAYLOAD} B"


def tcp_scenario(total_bytes: int, mss: int, loss: float) -> str:
    """A TCP scenario's name in the tables."""
    return f"tcp {total_bytes / 1e6:g} MB, MSS {mss}, loss {loss:.0%}"


# What a run reports ---------------------------------------------------------------------------------------

@dataclass
class BulkResult:
    """One timed bulk run of one simulator, as a worker process reports it."""

    simulator: str  # "layersim" or "ns-3"
    scenario: str  # e.g. "udp 10000 x 1472 B" or "tcp 10 MB mss 1448 loss 1%"
    wall_seconds: float  # the simulation run only, not building the topology (nor importing ns-3)
    packet_hops: int  # link transmissions (every frame put on a link, lost ones included)
    hops_counted_by: str  # how packet_hops was found: "trace", "tx counter", ...
    payload_bytes: int  # application bytes delivered at the server
    delivered: int  # datagrams delivered (UDP), or the same as payload_bytes (TCP)
    sim_seconds: float  # simulated time from the first send to the last delivery
    rss_before: int  # resident memory (bytes) just before the run
    peak_rss: int  # the process's peak resident memory during the run (bytes; the peak is reset before it)
    gc_seconds: float = 0.0  # time in Python's garbage collector during the run (layersim only)
    lost: int = 0  # frames a link lost (transmitted, so counted in packet_hops, but never received)
    captured_frames: int | None = None  # records in the capture files, when capturing
    capture_bytes: int | None = None  # size of the capture files
    notes: list[str] = field(default_factory=list)

    @property
    def hops_per_second(self) -> float:
        """Packet-hops per wall-clock second."""
        return self.packet_hops / self.wall_seconds

    @property
    def us_per_hop(self) -> float:
        """Wall-clock microseconds per packet-hop."""
        return self.wall_seconds / self.packet_hops * 1e6

    @property
    def mb_per_second(self) -> float:
        """Simulated application megabytes (10^6 bytes) delivered per wall-clock second."""
        return self.payload_bytes / 1e6 / self.wall_seconds

    @property
    def growth(self) -> int:
        """How far resident memory rose above where it was when the run started (bytes)."""
        return max(0, self.peak_rss - self.rss_before)

    def to_json(self) -> str:
        """One line of JSON."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BulkResult:
        """The inverse of to_json."""
        return cls(**json.loads(text))


@dataclass
class Failed:
    """A worker that did not report a result: what it was asked and the end of what it printed."""

    scenario: str
    reason: str


class BenchError(Exception):
    """A check failed: a simulator did not do what the benchmark assumes, so its numbers would mean nothing."""


# Memory ---------------------------------------------------------------------------------------------------

def _status_kib(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        match = re.search(rf"^{key}:\s+(\d+) kB", status.read(), re.MULTILINE)
    if match is None:
        raise BenchError(f"/proc/self/status has no {key}")
    return int(match.group(1))


def rss_now() -> int:
    """This process's resident memory in bytes."""
    return _status_kib("VmRSS") * 1024


def reset_peak_rss() -> int:
    """Start measuring the peak from here (Linux: "5" to /proc/self/clear_refs); returns the RSS now."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")
    return rss_now()


def peak_rss() -> int:
    """The peak resident memory since the last reset_peak_rss(), in bytes."""
    return _status_kib("VmHWM") * 1024


# Captures -------------------------------------------------------------------------------------------------

def count_capture_records(paths: Iterable[Path]) -> tuple[int, int]:
    """(packet records, total bytes) in pcap and pcapng files, walking record headers only."""
    records = size = 0
    for path in paths:
        data = path.read_bytes()
        size += len(data)
        if data[:4] == b"\x0a\x0d\x0d\x0a":
            records += _pcapng_packets(data, path)
        else:
            records += _pcap_records(data, path)
    return records, size


def _pcap_records(data: bytes, path: Path) -> int:
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<",
             b"\xa1\xb2\x3c\x4d": ">"}.get(data[:4])
    if order is None:
        raise BenchError(f"{path}: neither pcap nor pcapng")
    count, offset = 0, 24
    while offset < len(data):
        captured = struct.unpack_from(f"{order}I", data, offset + 8)[0]
        offset += 16 + captured
        count += 1
    return count


def _pcapng_packets(data: bytes, path: Path) -> int:
    order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    count, offset = 0, 0
    while offset + 8 <= len(data):
        block_type, length = struct.unpack_from(f"{order}II", data, offset)
        if length < 12:
            raise BenchError(f"{path}: block at offset {offset} has length {length}")
        count += block_type in (3, 6)  # simple and enhanced packet blocks
        offset += length
    return count


# Running a worker -----------------------------------------------------------------------------------------

def run_worker(args: Sequence[str], scenario: str, capture: bool = False) -> BulkResult | Failed:
    """Run `python args...` in a fresh process and read the BulkResult it prints last.

    With `capture`, the worker also gets `--capture-dir DIR`, a temporary directory, and the records and bytes
    of the files it wrote there are counted once it has exited (ns-3 completes its pcap files only at exit).
    """
    if not capture:
        return _run(list(args), scenario)
    with tempfile.TemporaryDirectory(prefix="layersim-bench-") as directory:
        result = _run([*args, "--capture-dir", directory], scenario)
        if isinstance(result, BulkResult):
            files = sorted(Path(directory).iterdir())
            if not files:
                return Failed(scenario, "the worker wrote no capture files")
            result.captured_frames, result.capture_bytes = count_capture_records(files)
        return result


def _run(args: list[str], scenario: str) -> BulkResult | Failed:
    try:
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=WORKER_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        return Failed(scenario, f"no result after {WORKER_TIMEOUT_S} s")
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        try:
            return BulkResult.from_json(lines[-1])
        except (ValueError, TypeError) as exc:
            return Failed(scenario, f"unreadable result {lines[-1][:200]!r}: {exc}")
    # cppyy's harmless start-up messages with ns-3 (github.com/wlav/cppyy/issues/156)
    noise = ("Failed to materialize symbols",)
    tail = [line for line in done.stderr.strip().splitlines() if not any(n in line for n in noise)][-3:]
    return Failed(scenario, f"exit status {done.returncode}: {' | '.join(tail) or 'no output'}")


# Reporting ------------------------------------------------------------------------------------------------

def fastest(runs: list[BulkResult | Failed]) -> BulkResult | Failed | None:
    """The run with the least wall time, the first failure if none succeeded, None if nothing ran."""
    done = [r for r in runs if isinstance(r, BulkResult)]
    return min(done, key=lambda r: r.wall_seconds) if done else (runs[0] if runs else None)


def cell(result: BulkResult | Failed | None, show: Callable[[BulkResult], str], missing: str = "n/a") -> str:
    """A table cell: `show(result)`, "failed", or `missing` when the run did not happen."""
    if result is None:
        return missing
    return show(result) if isinstance(result, BulkResult) else "failed"


def ratio(a: BulkResult | Failed | None, b: BulkResult | Failed | None, value: Callable[[BulkResult], float]) -> str:
    """a's value over b's as "0.23x", or n/a."""
    if not isinstance(a, BulkResult) or not isinstance(b, BulkResult):
        return "n/a"
    return f"{value(a) / value(b):.2f}x"


def result_json(result: BulkResult | Failed | None) -> object:
    """A result for JSON output: its fields and the derived rates, a failure's reason, or None."""
    if isinstance(result, BulkResult):
        return {**asdict(result), "hops_per_second": result.hops_per_second, "us_per_hop": result.us_per_hop,
                "mb_per_second": result.mb_per_second, "growth": result.growth}
    return None if result is None else asdict(result)


def mib(value: int) -> str:
    """Bytes as MiB with one decimal."""
    return f"{value / 2**20:,.1f}"
