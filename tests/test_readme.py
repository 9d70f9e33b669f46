"""The README's Python examples run as written (in a scratch directory), and its commands are the CI's."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example_runs(index, tmp_path):
    """Each block runs without raising (the tour's claims are asserted in tests/wire)."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(PYTHON_BLOCKS[index], f"README python block {index + 1}", "exec"), {})
    finally:
        os.chdir(cwd)


def test_network_example_prints_real_results(tmp_path, capsys):
    block = next(b for b in PYTHON_BLOCKS if "Network(seed=1)" in b)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(block, "README network example", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "10.0.2.0/24 via 10.0.12.2 dev eth1" in out  # r1's table, like `ip route`
    assert "icmp_seq=3" in out and "traceroute to 10.0.2.20" in out
    assert (tmp_path / "captures" / "x.pcapng").stat().st_size > 0


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert len(commands) >= 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
