"""tshark's TCP analysis of a tcp_pair exchange, captured at the client: clean when nothing is lost, and the
retransmissions it flags are exactly the ones the connection reports."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from layersim.capture import write_pcap
from layersim.wire import IPv4, IPv4Flags
from tests.tcp.pair import CLIENT, MS, SERVER, TCPPair, drop_where
from tests.tools import run_tshark

pytestmark = pytest.mark.tshark
LINKTYPE_IPV4 = 228


def capture_at_client(p: TCPPair, path: Path) -> list[tuple[int, object]]:
    """Write what a tap on the client's interface sees: its segments when sent, the server's when they arrive."""
    frames = []
    ident = 1
    for sent in p.log:
        if sent.direction == "s>c" and sent.fate == "dropped":
            continue
        at = sent.time + (p.delay_ns if sent.direction == "s>c" else 0)
        src, dst = (CLIENT, SERVER) if sent.direction == "c>s" else (SERVER, CLIENT)
        seg = sent.segment
        ip = IPv4(src=src[0], dst=dst[0], ttl=64, flags=IPv4Flags.DF if seg.df else IPv4Flags(0),
                  identification=0 if seg.ip_id_zero else ident)
        ident += 1
        frames.append((at, (ip / seg.tcp / seg.payload).encode(), sent))
    frames.sort(key=lambda f: f[0])
    write_pcap(path, [(t, data) for t, data, _ in frames], linktype=LINKTYPE_IPV4)
    return [(t, s) for t, _, s in frames]


def analysis_flags(path: Path) -> dict[int, str]:
    proc = run_tshark("-r", path, "-Y", "tcp.analysis.flags", "-T", "fields", "-e", "frame.number",
                      "-e", "_ws.expert.message", "-E", "aggregator=|")
    assert proc.returncode == 0, proc.stderr
    out = {}
    for line in proc.stdout.splitlines():
        number, _, message = line.partition("\t")
        out[int(number)] = message
    return out


def test_lossless_transfer_has_no_tcp_analysis_flags(tmp_path):
    p = TCPPair().open()
    rng = random.Random(3)
    up, down = rng.randbytes(300_000), rng.randbytes(200_000)
    assert p.transfer(up, down) == (up, down)
    p.call("c", "close")
    p.run_for(20 * MS)
    p.call("s", "close")
    p.run()
    path = tmp_path / "clean.pcap"
    capture_at_client(p, path)
    assert analysis_flags(path) == {}


def test_tshark_flags_exactly_our_retransmissions(tmp_path):
    p = TCPPair().open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and len(s.payload) > 0 and i % 9 == 4, times=3))
    data = random.Random(4).randbytes(150_000)
    assert p.transfer(data, b"") == (data, b"")
    p.run_for(1000 * MS)
    path = tmp_path / "lossy.pcap"
    frames = capture_at_client(p, path)
    ours = {n for n, (_, sent) in enumerate(frames, 1) if sent.direction == "c>s" and sent.segment.retransmission}
    flags = analysis_flags(path)
    # A retransmission sent in the same instant as new data (the capture has no time between them) is what
    # tshark's timing heuristic calls "out-of-order"; either way it is flagged at exactly our frames.
    theirs = {n for n, message in flags.items() if "etransmission" in message or "out-of-order" in message}
    assert len(ours) >= 3 and theirs == ours
    # the receiver's 77 KiB window fills behind the holes: its window updates when the reader catches up
    assert all("Duplicate ACK" in m or m == "TCP window update" for n, m in flags.items() if n not in ours)
