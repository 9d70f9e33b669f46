"""What the Linux tools printed in tests/data/linux_facts_output.txt, with timings masked so a simulation's output
compares line for line."""

from __future__ import annotations

import re

from tests.data.linux_facts import DATA

OUTPUT = DATA / "linux_facts_output.txt"
_TIMES = [(re.compile(r"time=[\d.]+ ms"), "time=T ms"), (re.compile(r", time \d+ms"), ", time Tms"),
          (re.compile(r"(rtt min/avg/max(?:/mdev)?) = [\d./]+ ms"), r"\1 = R ms"),
          (re.compile(r"  [\d.]+ ms"), "  T ms")]


def masked(text: str) -> list[str]:
    """The non-blank lines of a tool's output with every timing replaced by a placeholder."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        for pattern, placeholder in _TIMES:
            line = pattern.sub(placeholder, line)
        lines.append(line.rstrip())
    return lines


def printed(command: str) -> list[str]:
    """The masked output of the first recorded command that starts with `command` (without its exit status)."""
    blocks = OUTPUT.read_text(encoding="utf-8").split("\n## ")
    for block in blocks:
        header, _, body = block.partition("\n")
        if header.split("] ", 1)[-1].startswith(command):
            return [line for line in masked(body) if not line.startswith(("(exit status", "# Output", "uname -r"))]
    raise KeyError(f"no recorded command starting with {command!r}")
