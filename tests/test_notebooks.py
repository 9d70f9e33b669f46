"""The notebooks run top to bottom in a real Jupyter kernel (nbclient + ipykernel), as a reader would run them."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def execute(path: Path) -> nbformat.NotebookNode:
    """Run every cell in a fresh python3 kernel started in the notebook's folder, with this tree importable."""
    book = nbformat.read(path, as_version=4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as in Jupyter
    client = NotebookClient(book, timeout=120, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    return book


def outputs(book: nbformat.NotebookNode, kind: str = "text") -> list[str]:
    """Every stream text (kind "text") or every output's MIME types (kind "mime") of the executed cells."""
    found = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            if kind == "text" and output.get("output_type") == "stream":
                found.append(output["text"])
            elif kind == "mime":
                found.extend(output.get("data", {}))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    stored = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in stored.cells if cell.cell_type == "code"), f"{path.name}: outputs are not stripped"
    book = execute(path)
    text = "".join(outputs(book))
    mimes = outputs(book, "mime")
    if path.name == "00_encapsulation.ipynb":  # the router-hop cell prints exactly what a router changes
        assert "IPv4.ttl: 64 -> 63" in text
    elif path.name == "01_requests_get.ipynb":
        assert "requests.get returned (200, 'text/html; charset=utf-8', 3494)" in text
        assert "send     Ethernet / ARP" in text and "send     Ethernet / IPv4 / UDP / DNS" in text
        assert "answer: example.com A 93.184.216.34 (TTL 300)" in text
        assert "what=created, protocol=6, inside=10.0.0.2:" in text and "outside=198.51.100.2:" in text
        assert "IPv4.src: 10.0.0.2 -> 198.51.100.2" in text and "IPv4.ttl: 64 -> 61" in text
        assert "Transmission Control Protocol, Src Port:" in text and "200 OK" in text
        assert "laptop:eth0   18 frames" in text and "web:eth0      16 frames" in text
        assert mimes.count("image/png") == 5 and mimes.count("text/html") == 2  # pictures, routes, hex dump
    elif path.name == "02_header_bytes.ipynb":
        assert "IPv4.ttl: 64 -> 1" in text and "IPv4 checksum ok: False" in text
        assert "TCP checksum ok: False | IPv4 checksum ok: True" in text
        assert "Ethernet / IPv4 / TCP / HTTPRequest" in text  # the real capture's HTTP request decoded
        assert mimes.count("image/png") == 6 and "text/html" in mimes  # pictures and the hex dump
    elif path.name == "03_routing.ipynb":
        assert "10.0.2.200  -> 10.0.2.128/25 via 10.0.1.10 dev eth0" in text
        assert "Time to live exceeded" in text and "Frag needed and DF set (mtu = 1000)" in text
        assert "r2 (eth0): dropped: ttl_exceeded" in text
        assert "offset    0 bytes  length  996  flags MF" in text and "length  452  flags none" in text
        assert "server:eth0    deliver" in text and "r2:eth0        fragment     fragments=2, mtu=1000" in text
        assert "client:eth0    deliver      protocol=ICMP" in text
        assert mimes.count("image/png") == 2 and mimes.count("text/html") >= 4
    elif path.name == "04_tcp.ipynb":
        assert "flags=SYN      seq=0 ack=-" in text and "flags=SYN|ACK  seq=0 ack=1" in text
        assert "flags=ACK      seq=1 ack=1" in text and "MSS(value=1460)" in text
        assert "server segment payload sizes: {0: 3, 1082: 1, 1448: 20}" in text
        assert "downloaded 30042 bytes, all of them" in text and text.count("reason=link_loss") == 2
        assert "retransmit {'seq'" in text and "'reason': 'fast'" in text
        assert "downloaded 1000044 bytes" in text
        assert "the naive loop got 1448 of 20042 bytes" in text and "reading until b'' got 20042 of 20042" in text
        assert mimes.count("image/png") == 4  # two ladders, the cwnd plot, the state machine


PUBLIC = {"layersim", "layersim.viz", "layersim.capture", "layersim.demo", "layersim.app"}


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name != "00_encapsulation.ipynb"], ids=lambda p: p.name)
def test_notebook_uses_only_the_public_api(path):
    """Readers copy notebook code: it imports from layersim's public packages, never from a module inside them."""
    book = nbformat.read(path, as_version=4)
    source = "\n".join(cell.source for cell in book.cells if cell.cell_type == "code")
    imported = set(re.findall(r"^\s*(?:from|import)\s+(layersim[\w.]*)", source, flags=re.M))
    assert imported and imported <= PUBLIC, imported - PUBLIC


def test_there_is_a_notebook():
    assert NOTEBOOKS


def test_readme_lists_every_notebook_and_how_to_open_them():
    """A new user finds all of them, and the extra that opening them needs (not installed by CI)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Notebooks", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- `(\d\d_\w+\.ipynb)`: \S", section, flags=re.M)
    assert listed == [path.name for path in NOTEBOOKS]
    assert "pip install -e '.[notebooks]'" in section and "jupyter lab notebooks/" in section
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]["notebooks"]
    names = {re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0] for requirement in extra}
    assert names & {"jupyterlab", "notebook"} and "ipykernel" in names
    assert "notebooks" not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
