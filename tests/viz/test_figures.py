"""`layersim demo --figures DIR` and `layersim run ... --figures DIR` write real, non-trivial PNG and SVG files."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt

from layersim.cli import main

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def check_pair(folder: Path, name: str, min_width: int = 600) -> None:
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    width, height = png_size(png)
    assert width >= min_width and height >= 250 and png.stat().st_size > 15_000, (name, width, height)
    image = plt.imread(png)
    assert image.std() > 0.05  # not a blank canvas
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.stat().st_size > 15_000 and len(list(root.iter("{http://www.w3.org/2000/svg}path"))) > 20


def test_demo_figures(tmp_path, capsys):
    figures = tmp_path / "figures"
    assert main(["demo", "--out", str(tmp_path / "out"), "--figures", str(figures), "--quiet"]) == 0
    printed = capsys.readouterr().out.split()
    names = ["encapsulation_get", "path_get", "ladder_get", "cwnd_get", "link_home-isp1", "state_machine"]
    expected = [str(figures / f"{name}{suffix}") for name in names for suffix in (".png", ".svg")]
    assert printed[-len(expected):] == expected
    assert sorted(p.name for p in figures.iterdir()) == sorted(Path(p).name for p in expected)
    for name in names:
        check_pair(figures, name)


def test_run_figures(tmp_path, capsys):
    figures = tmp_path / "figs"
    assert main(["run", str(ROOT / "examples" / "tutorial.toml"), "--figures", str(figures)]) == 0
    out = capsys.readouterr().out
    assert f"figures: 8 files written to {figures}" in out
    assert sorted(p.name for p in figures.iterdir()) == sorted(
        f"{name}{suffix}" for name in ("path_1_server", "path_2_client", "ladder_tcp1", "cwnd_tcp1")
        for suffix in (".png", ".svg"))
    for name in ("path_2_client", "ladder_tcp1", "cwnd_tcp1"):
        check_pair(figures, name)


def test_demo_story_says_where_the_figures_went(tmp_path, capsys):
    figures = tmp_path / "figs"
    assert main(["demo", "--out", str(tmp_path / "out"), "--figures", str(figures)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"figures: 12 files (PNG and SVG) in {figures}")
    assert len(list(figures.iterdir())) == 12
