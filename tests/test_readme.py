"""The README's Python examples run as written (in a scratch directory), and its commands are the CI's."""

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from layersim.cli import main

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


def matches(example: Any, real: Any, where: str) -> None:
    """Assert that the README's `example` is `real` with parts left out: a "..." key or list item stands for more."""
    if isinstance(example, dict):
        assert isinstance(real, dict), where
        for key, value in example.items():
            if key != "...":
                assert key in real, f"{where}: no {key!r} in the real output"
                matches(value, real[key], f"{where}.{key}")
        if "..." not in example:
            assert set(real) == set(example), f"{where}: the real output has keys {sorted(real)}"
    elif isinstance(example, list):
        assert isinstance(real, list), where
        shown = [item for item in example if item != "..."]
        assert len(real) >= len(shown) if "..." in example else len(real) == len(shown), where
        for index, item in enumerate(shown):
            matches(item, real[index], f"{where}[{index}]")
    else:
        assert example == real, f"{where}: the README says {example!r}, the real output has {real!r}"


def test_inspect_json_example_is_real_output(tmp_path, capsys, monkeypatch):
    """The `inspect --json` example is the packet the README's own `layersim run ... --pcap` command captures."""
    section = README.split("### `inspect --json` format", 1)[1]
    example = json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))
    command = re.search(r"^\$ (layersim run .*--pcap .*)$", README, flags=re.M).group(1)
    argv = shlex.split(command)[1:]
    argv[1] = str(ROOT / argv[1])  # the topology path is relative to the repository; the capture goes to tmp_path
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    capture = tmp_path / argv[argv.index("--pcap") + 1]
    capsys.readouterr()
    assert main(["inspect", "--json", str(capture)]) == 0
    packets = json.loads(capsys.readouterr().out)
    matches(example, packets[example["index"]], f"packet {example['index']}")


def git_ignores(path: str) -> bool:
    """Whether the repository's ignore rules match `path` (tracked or not, present or not)."""
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False)
    assert done.returncode in (0, 1), f"git check-ignore failed on {path}"
    return done.returncode == 0


def test_files_the_examples_write_are_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    written = set(re.findall(r"--pcap ([\w./-]+\.pcap(?:ng)?)", README))
    written |= set(re.findall(r'capture\("([^"]+)"', README))
    written |= set(re.findall(r'(?:--html|--out|to_html\(")\s*"?([a-z][\w./-]*\.html)', README))
    assert {"client_r1_r2_server.pcapng", "captures/x.pcapng", "demo.html", "run.html"} <= written
    for path in sorted(written):
        assert git_ignores(path), f"{path} (written by a README example) is not in .gitignore"
    for shipped in ("captures/http_get.pcapng", "tests/data/linux_golden.pcap", "examples/client_r1_r2_server.toml"):
        assert not git_ignores(shipped), f"{shipped} is shipped with the project but .gitignore matches it"
