"""Draw the pictures under docs/ (run from the repository root: python docs/make_pictures.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from layersim import TCP, Ethernet, EventKind, HTTPRequest, IPv4, decode
from layersim.app.narrative import run_scenario
from layersim.capture import read_capture
from layersim.demo import run
from layersim.net.topology import load_topology
from layersim.viz import bit_layout, demo_figures, encapsulation, path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def save(ax: object, name: str) -> None:
    ax.figure.savefig(DOCS / name, dpi=120)  # type: ignore[attr-defined]
    plt.close(ax.figure)  # type: ignore[attr-defined]


def main() -> None:
    frame = decode((Ethernet(src="02:00:00:00:01:10", dst="02:00:00:00:01:01")
                    / IPv4(src="10.0.1.10", dst="93.184.216.34", ttl=64)
                    / TCP(sport=50512, dport=80, seq=1000, ack=2000, flags="PA")
                    / HTTPRequest("GET", "/", headers={"Host": "example.com"})).encode())
    save(encapsulation(frame), "encapsulation.png")
    save(bit_layout(frame[IPv4]), "bit_layout_ipv4.png")
    capture = [decode(record.data) for record in read_capture(ROOT / "captures" / "linux_namespaces.pcap")]
    syn = next(p for p in capture if TCP in p and p[TCP].flags == 0x02)  # a real Linux SYN, with its options
    save(bit_layout(syn[TCP]), "bit_layout_tcp.png")
    scenario = load_topology(ROOT / "examples" / "client_r1_r2_server.toml")
    run_scenario(scenario)
    net = scenario.network
    first = next(e.frame for e in net.trace.select(EventKind.SEND, node="client") if IPv4 in decode(e.frame))
    save(path(net, first), "path.png")
    with tempfile.TemporaryDirectory() as scratch:  # the tutorial's pictures: what `layersim demo --figures` draws
        for png in (p for p in demo_figures(run(seed=1, out=scratch), scratch) if p.suffix == ".png"):
            if not png.stem.startswith("link_"):
                shutil.copy(png, DOCS / f"demo_{png.name}")


if __name__ == "__main__":
    main()
