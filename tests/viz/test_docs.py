"""The Pictures text for the README: its example runs, the pictures it shows are committed PNGs, and drawing
needs matplotlib only when something is drawn."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs" / "PICTURES.md").read_text(encoding="utf-8")


def test_the_example_draws_and_saves(tmp_path):
    (block,) = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace: dict = {}
        exec(compile(block, "PICTURES.md example", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "encapsulation.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_every_picture_shown_is_committed():
    shown = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", TEXT)
    assert shown == ["docs/encapsulation.png", "docs/bit_layout_ipv4.png", "docs/bit_layout_tcp.png", "docs/path.png",
                     "docs/demo_ladder_get.png", "docs/demo_state_machine.png"]
    for name in shown:
        data = (ROOT / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name


def test_importing_viz_does_not_import_matplotlib():
    code = "import sys, layersim, layersim.viz; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
