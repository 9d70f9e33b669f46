"""The notebooks run top to bottom: every code cell is executed in order, in one namespace."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, capsys):
    namespace: dict = {}
    cells = json.loads(path.read_text())["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    for number, cell in enumerate(code, 1):
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name} cell {number}", "exec"), namespace)
    if path.name == "01_encapsulation.ipynb":  # the router-hop cell prints exactly what a router changes
        assert "IPv4.ttl: 64 -> 63" in capsys.readouterr().out


def test_there_is_a_notebook():
    assert NOTEBOOKS
