"""Shared test helpers: running tshark, which CI requires (LAYERSIM_REQUIRE_TSHARK=1) and laptops may lack."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

TSHARK_REQUIRED = os.environ.get("LAYERSIM_REQUIRE_TSHARK") == "1"


def rfc1071_sum(data: bytes) -> int:
    """RFC 1071 §4.1's one's complement sum, word by word: a reference independent of layersim.wire.checksum."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    return total


def tshark_path() -> str:
    """The tshark binary: skips the test when missing, or fails it when CI requires tshark."""
    path = shutil.which("tshark")
    if path is None:
        if TSHARK_REQUIRED:
            pytest.fail("tshark is required (LAYERSIM_REQUIRE_TSHARK=1) but not installed")
        pytest.skip("tshark not installed")
    return path


def run_tshark(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run tshark with checksum validation on, returning the finished process."""
    checks = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
    return subprocess.run([tshark_path(), *checks, *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)


def tshark_json(path: Path, *extra: str) -> list[dict[str, Any]]:
    """tshark's -T json dissection of a capture file (stderr must be empty)."""
    proc = run_tshark("-r", path, "-T", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    assert tshark_stderr(proc) == "", proc.stderr
    return json.loads(proc.stdout)


def tshark_stderr(proc: subprocess.CompletedProcess[str]) -> str:
    """tshark's stderr without the notice it prints when run as root (as CI does)."""
    return "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("Running as user")).strip()


def expert_problems(path: Path) -> list[str]:
    """Expert-info entries of severity Warning or Error (malformed packets, bad checksums...) in a capture."""
    proc = run_tshark("-r", path, "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.severity",
                      "-e", "_ws.expert.message", "-E", "occurrence=a", "-E", "aggregator=|")
    assert proc.returncode == 0, proc.stderr
    problems = []
    for line in proc.stdout.splitlines():
        number, severities, messages = ([*line.split("\t"), "", ""])[:3]
        for severity, message in zip(severities.split("|"), messages.split("|"), strict=False):
            # Severity values (epan/proto.h): 0x00400000 warning, 0x00800000 error.
            if severity and int(severity, 0) >= 0x00400000:
                problems.append(f"frame {number}: {message}")
    return problems


def field(packet: dict[str, Any], layer: str, name: str) -> Any:
    """A field of one layer from tshark's JSON (searching nested trees), or None."""
    return _find(packet["_source"]["layers"].get(layer), name)


def _find(tree: Any, name: str) -> Any:
    if isinstance(tree, dict):
        if name in tree:
            return tree[name]
        for value in tree.values():
            found = _find(value, name)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = _find(value, name)
            if found is not None:
                return found
    return None
