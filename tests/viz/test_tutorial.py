"""docs/TUTORIAL.md shows what the commands really print and the pictures they really draw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layersim.cli import main

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "TUTORIAL.md").read_text(encoding="utf-8")


def test_the_demo_output_shown_is_what_the_demo_prints(tmp_path, monkeypatch, capsys):
    command = ".venv/bin/layersim demo --figures demo-out/figures"
    shown = TEXT.split(f"```sh\n{command}\n```\n\n```\n", 1)[1].split("\n```", 1)[0]
    monkeypatch.chdir(tmp_path)
    assert main(command.split()[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") == shown
    figures = sorted(p.name for p in (tmp_path / "demo-out" / "figures").glob("*.png"))
    for name in re.findall(r"!\[[^\]]*\]\((demo_[\w-]+\.png)\)", TEXT):  # each picture shown is one the demo drew
        assert name.removeprefix("demo_") in figures
        data = (ROOT / "docs" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 30_000, name


@pytest.mark.parametrize("path", sorted(set(re.findall(r"`((?:examples|notebooks|captures|benchmarks)/[\w./-]+)`",
                                                       TEXT))))
def test_every_file_named_exists(path):
    assert (ROOT / path).exists(), path


def test_the_setup_commands_are_the_readmes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = TEXT.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[1] in readme  # the test-suite command, as the README says it
    assert block[0].startswith("python3 -m venv .venv && .venv/bin/pip install -q -e . && ")
