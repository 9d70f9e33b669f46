"""Helpers for the integration tests on simulated networks: one interface of a capture split out with tshark,
tshark's fields row by row, and a TCP byte stream put back together from the frames a node sent."""

from __future__ import annotations

import struct
from pathlib import Path

from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from tests.tools import run_tshark, tshark_stderr


def split_interface(capture: Path, interface: str, out: Path) -> Path:
    """The frames of one interface ("node:iface") of a pcapng, written to `out` by tshark itself."""
    proc = run_tshark("-r", capture, "-Y", f'frame.interface_name == "{interface}"', "-w", out)
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    return out


def tshark_rows(path: Path, *names: str, display_filter: str | None = None, occurrence: str = "f") -> list[list[str]]:
    """One row per frame (matching `display_filter`) with each field tshark dissected, checksums validated;
    with occurrence "a", a field's values joined by "|"."""
    args = [x for name in names for x in ("-e", name)]
    extra = ["-Y", display_filter] if display_filter else []
    proc = run_tshark("-r", path, *extra, "-T", "fields", *args, "-E", f"occurrence={occurrence}",
                      "-E", "aggregator=|")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def frames(net: Network, where: str, kind: EventKind = EventKind.SEND) -> list[tuple[int, bytes]]:
    """(time, frame) of every frame `where` ("node:iface") sent (or received), in order."""
    node, _, iface = where.partition(":")
    return [(e.time_ns, e.frame) for e in net.trace.events
            if e.kind is kind and e.node == node and e.interface == iface and e.frame is not None]


def ipv4_tcp(frame: bytes) -> tuple[bytes, bytes, int, int, int, int, bytes] | None:
    """(src, dst, sport, dport, seq, flags, payload) of an Ethernet/IPv4/TCP frame, or None for anything else."""
    if frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    tcp = 14 + ihl
    sport, dport, seq = struct.unpack_from("!HHI", frame, tcp)
    offset = (frame[tcp + 12] >> 4) * 4
    return frame[26:30], frame[30:34], sport, dport, seq, frame[tcp + 13], frame[tcp + offset:14 + total]


def tcp_stream(net: Network, where: str, sport: int, dport: int | None = None) -> bytes:
    """The byte stream `where` sent from TCP port `sport`, rebuilt from its segments by sequence number
    (retransmissions overlap and are checked to carry the same bytes)."""
    isn, data = None, bytearray()
    for _, frame in frames(net, where):
        parsed = ipv4_tcp(frame)
        if parsed is None or parsed[2] != sport or (dport is not None and parsed[3] != dport):
            continue
        _, _, _, _, seq, flags, payload = parsed
        if flags & 0x02:
            isn = seq
            continue
        if not payload or isn is None:
            continue
        start = (seq - isn - 1) & 0xFFFFFFFF
        assert start <= len(data), f"{where}: a hole before byte {start} of the stream from port {sport}"
        overlap = data[start:start + len(payload)]
        assert payload[:len(overlap)] == overlap, f"{where}: a retransmission at {start} carries other bytes"
        data[start:start + len(payload)] = payload
    return bytes(data)


PI_WARN = 0x00600000  # epan/proto.h: PI_COMMENT 0x001, PI_CHAT 0x002, PI_NOTE 0x004, PI_WARN 0x006, PI_ERROR 0x008 <<20


def expert_summary(path: Path) -> dict[str, int]:
    """The counts `tshark -q -z expert` prints per severity: {"Errors": n, "Warns": n, "Notes": n, ...}."""
    proc = run_tshark("-r", path, "-q", "-z", "expert")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    counts = {}
    for line in proc.stdout.splitlines():
        words = line.split()
        if len(words) == 2 and words[1].startswith("(") and words[1].endswith(")"):
            counts[words[0]] = int(words[1][1:-1])
    return counts

