"""Wireshark's tshark and capinfos as independent readers of capture files, for the tests to compare with."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from layersim.capture import CaptureRecord

DATA = Path(__file__).parent / "data"
# Wireshark's tools print this on stderr whenever they run as root (as CI does); it is not a complaint
# about the file, so it is the one stderr line the tests tolerate.
ROOT_WARNING = 'Running as user "root" and group "root". This could be dangerous.'


@dataclass(frozen=True)
class ToolFrame:
    """One frame as tshark reports it."""

    data: bytes
    time_ns: int
    orig_len: int
    interface_id: int | None
    interface: str | None
    comment: str | None


def run_tool(*args: str | Path) -> str:
    """Run a Wireshark tool, check that it succeeded and printed nothing on stderr; return its stdout."""
    done = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, check=False)
    complaints = [line for line in done.stderr.splitlines() if line.strip() and line != ROOT_WARNING]
    assert done.returncode == 0, f"{args[0]} exited {done.returncode}: {done.stderr}"
    assert complaints == [], f"{args[0]} printed on stderr: {complaints}"
    return done.stdout


def epoch_ns(text: str) -> int:
    """tshark's frame.time_epoch ("1700000000.123456789") as integer nanoseconds, without floats."""
    seconds, _, fraction = text.partition(".")
    return int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])


def _text(value: str | list[str] | None) -> str | None:
    """A field tshark printed once, several times (a list, with --no-duplicate-keys) or not at all."""
    return "\n".join(value) if isinstance(value, list) else value


def tshark_frames(path: Path) -> list[ToolFrame]:
    """The frames of a capture file as tshark reads them (custom and secrets blocks left out)."""
    args = ["-T", "json", "--no-duplicate-keys", "-x", "-J", "frame pkt_comment"]  # raw bytes, frame fields
    output = run_tool("tshark", "-r", path, *args)
    frames = []
    for packet in json.loads(output):
        layers = packet["_source"]["layers"]
        frame = layers["frame"]
        if "frame.encap_type" not in frame:  # tshark lists custom and decryption-secrets blocks as frames
            continue
        name = frame.get("frame.interface_id_tree", {}).get("frame.interface_name")
        epoch = frame.get("frame.time_epoch")
        frames.append(
            ToolFrame(
                data=bytes.fromhex(layers["frame_raw"][0]),
                time_ns=epoch_ns(epoch) if epoch is not None else 0,  # SPBs have no time; layersim says 0
                orig_len=int(frame["frame.len"]),
                interface_id=int(frame["frame.interface_id"]) if "frame.interface_id" in frame else None,
                interface=None if name == "unknown" else name,  # tshark's word for an IDB without if_name
                comment=_text(layers.get("pkt_comment", {}).get("frame.comment")),
            )
        )
    return frames


def as_tool_frames(records: list[CaptureRecord], *, pcapng: bool) -> list[ToolFrame]:
    """Our records in the shape tshark_frames returns, to compare the two lists in one assert."""
    return [
        ToolFrame(
            data=record.data,
            time_ns=record.time_ns,
            orig_len=record.orig_len,
            interface_id=record.interface_id if pcapng else None,
            interface=record.interface,
            comment=record.comment,
        )
        for record in records
    ]


def capinfos(path: Path) -> dict[str, list[str]]:
    """capinfos' report ("Key: value" lines, and "Key = value" lines of each interface), values by key."""
    report: dict[str, list[str]] = {}
    for line in run_tool("capinfos", "-M", path).splitlines():
        key, separator, value = line.partition(" = ") if " = " in line else line.partition(":")
        if separator:
            report.setdefault(key.strip(), []).append(value.strip())
    return report


def scapy_golden_frames() -> list[bytes]:
    """The three frames data/make_golden.sh step 1 wrote with scapy, built again by scapy (not by us)."""
    from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw

    frames = [
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="10.0.0.1", dst="10.0.0.2", id=1)
        / UDP(sport=40000, dport=53)
        / Raw(b"layersim golden 1"),
        Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
        / IP(src="10.0.0.2", dst="10.0.0.1", id=2)
        / ICMP(id=7, seq=1)
        / Raw(b"ping"),
        Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.3"),
    ]
    return [bytes(frame) for frame in frames]


def scapy_rdpcap(path: Path) -> list[tuple[bytes, int, int]]:
    """(data, orig_len, time_ns) of each frame as scapy's rdpcap reads the file."""
    from scapy.all import rdpcap

    return [(bytes(packet), packet.wirelen, int(packet.time * 1_000_000_000)) for packet in rdpcap(str(path))]
