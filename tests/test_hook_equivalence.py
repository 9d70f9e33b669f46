"""The network scenario tests run twice: as they are (fast paths where no hook is installed) and with a no-op hook
at every netfilter point of every node (the general path everywhere). Both runs must pass and put the same bytes
on every link at the same times, test by test: the fast path packs only what the general path's policy decided."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ["tests/net", "tests/app", "tests/test_demo.py"]


@pytest.mark.slow
def test_scenarios_put_the_same_bytes_on_the_wire_with_and_without_hooks(tmp_path: Path) -> None:
    runs = {}
    for name, extra in (("plain", []), ("hooked", ["--noop-hooks"])):
        digest = tmp_path / f"{name}.json"
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
               "-p", "tests.hook_equivalence", "-m", "not slow", "--frames-digest", str(digest), *extra, *SCENARIOS]
        runs[name] = (subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       env={**os.environ, "MPLBACKEND": "Agg"}), digest)
    for name, (proc, _) in runs.items():
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"the {name} run failed:\n{out[-4000:]}"
    plain = json.loads(runs["plain"][1].read_text())
    hooked = json.loads(runs["hooked"][1].read_text())
    assert len(plain) > 500 and len(set(plain.values())) > 200  # many tests, over 200 of them with frames of their own
    compared = [test for test in plain if test in hooked]
    differ = [test for test in compared if plain[test] != hooked[test]]
    assert not differ, f"{len(differ)} of {len(compared)} tests put other bytes on the wire with hooks: {differ[:20]}"
