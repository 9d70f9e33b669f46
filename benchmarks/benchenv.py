"""What the benchmark scripts print about the machine they ran on (shared by bench_wire and bench_net)."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def environment(packages: tuple[str, ...] = ()) -> dict[str, str]:
    """Python, CPU model and core count, and the versions of `packages`, for a report header."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed as a distribution"
    return {"python": f"{platform.python_implementation()} {platform.python_version()}",
            "machine": f"{cpu or platform.machine()}, {os.cpu_count()} CPUs ({platform.system()} "
                       f"{platform.machine()})",
            **versions}
