"""A tiny sweep for the tests: client - router - server, 2 loss values x 2 seeds, 150 kB transfers."""

from __future__ import annotations

from pathlib import Path

TOPOLOGY = """\
[[node]]
name = "client"
kind = "host"

[[node]]
name = "router"
kind = "router"

[[node]]
name = "server"
kind = "host"

[[link]]
a = "client"
b = "router"

[[link]]
a = "router"
b = "server"
delay = "4ms"
loss = 0.0

[[run]]
kind = "bulk"
from = "client"
to = "server"
bytes = 150000
"""

SPEC = """\
topology = "bulk.toml"
seeds = 2

[grid]
"link#2.loss" = [0.0, 0.03]
"""


def write_sweep(folder: Path, spec: str = SPEC, topology: str = TOPOLOGY) -> Path:
    """The SPEC file (and its topology beside it) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bulk.toml").write_text(topology, encoding="utf-8")
    path = folder / "spec.toml"
    path.write_text(spec, encoding="utf-8")
    return path
