"""tshark's TCP analysis of our captures: one interface of a loss-free transfer raises no tcp.analysis flag at
all; on a lossy one it flags as retransmissions (or out-of-order resends) exactly the frames our trace records TCP
"retransmit" events for, and no other frame we sent."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from tests.net.conftest import SERVER_IP, Chain, build_chain
from tests.tools import run_tshark, tshark_stderr

pytestmark = pytest.mark.tshark

# tshark calls a resent segment "Out-Of-Order" instead of a retransmission when it follows the highest segment
# sooner than its RTT estimate (SACK-driven resends during recovery): from the sender's interface that is a resend.
RETRANSMISSION = ("tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
                  "tcp.analysis.spurious_retransmission || tcp.analysis.out_of_order")


def transfer(path: Path, seed: int, loss: float, size: int = 300_000) -> Chain:
    """A request, `size` bytes back and both closes, captured on server:eth0; loss on the r1 - r2 link."""
    chain = build_chain(seed=seed, link_b={"loss": loss})
    chain.net.capture(path, interfaces=["server:eth0"])
    data = bytes(range(256)) * (size // 256)

    def server() -> None:
        lst = socket.socket()
        lst.bind(("", 80))
        lst.listen(1)
        conn, _ = lst.accept()
        assert conn.recv(100) == b"send it"
        conn.sendall(data)
        conn.close()

    def client() -> int:
        c = socket.create_connection((SERVER_IP, 80))
        c.sendall(b"send it")
        got = bytearray()
        while chunk := c.recv(65536):
            got += chunk
        c.close()
        return got == data

    srv = chain.server.spawn(server)
    cli = chain.client.spawn(client, at="1ms")
    chain.net.run_until(lambda: srv.done and cli.done, timeout_ns=600 * 10**9)
    chain.net.run(chain.net.now + 2 * 10**9)
    chain.net.close()
    assert srv.exception is None and cli.exception is None and cli.result is True
    return chain


def tshark_frames(path: Path, display_filter: str) -> list[list[str]]:
    proc = run_tshark("-r", path, "-Y", display_filter, "-T", "fields", "-e", "frame.number", "-e", "tcp.seq_raw",
                      "-e", "tcp.len")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def traced_retransmission_frames(chain: Chain) -> list[list[str]]:
    """[frame number, seq, length] of the frame each server "retransmit" event put on server:eth0.

    The capture holds the interface's SEND and RECEIVE events in trace order, so frame N is the N-th of them; a
    connection's event follows the SEND of its segment at the same simulated time."""
    out = []
    number = 0
    sent_now: list[tuple[int, int, int, int]] = []  # (time, frame number, seq, length) sent at the latest time
    for event in chain.net.trace.events:
        if event.node != "server":
            continue
        if event.kind is EventKind.TCP and event.info.what == "retransmit":
            facts = dict(event.info.facts)
            match = [s for s in sent_now if (s[0], s[2], s[3]) == (event.time_ns, facts["seq"], facts["length"])]
            assert len(match) == 1, f"no frame sent for the retransmission at {event.time_ns} ns: {facts}"
            out.append([str(match[0][1]), str(facts["seq"]), str(facts["length"])])
        elif event.kind in (EventKind.SEND, EventKind.RECEIVE) and event.interface == "eth0":
            number += 1
            packet = decode(event.frame)
            if event.kind is EventKind.SEND and TCP in packet:
                sent_now = [s for s in sent_now if s[0] == event.time_ns]
                sent_now.append((event.time_ns, number, packet[TCP].seq, len(packet.payload_of(TCP))))
    return out


def test_loss_free_transfer_has_no_tcp_analysis_flags(tmp_path: Path) -> None:
    path = tmp_path / "clean.pcapng"
    chain = transfer(path, seed=3, loss=0.0)
    assert len(tshark_frames(path, "tcp")) > 200
    assert tshark_frames(path, "tcp.analysis.flags") == []
    assert traced_retransmission_frames(chain) == []


@pytest.mark.parametrize("seed", [5, 11])
def test_tshark_flags_retransmissions_where_the_trace_says(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "lossy.pcapng"
    chain = transfer(path, seed=seed, loss=0.03)
    traced = traced_retransmission_frames(chain)
    assert len(traced) >= 2, "the seed should lose a few segments"
    assert tshark_frames(path, RETRANSMISSION) == traced
