"""Running a function as a process on the client - r1 - r2 - server chain, and reading its TCP segments back."""

from __future__ import annotations

from typing import Any

from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from tests.net.conftest import Chain

S = 10**9


def run(chain: Chain, fn: Any, *args: Any, host: str = "client", limit_s: float = 20_000) -> Any:
    """Run fn(*args) as a process on `host`; its result (its exception raised here)."""
    proc = getattr(chain, host).spawn(fn, *args)
    chain.net.run_until(lambda: proc.done, timeout_ns=round(limit_s * S))
    assert proc.done, "the process did not finish"
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def listener(chain: Chain, port: int = 8080) -> Any:
    """A socket of the server listening on `port`."""
    srv = chain.server.socket.socket()
    srv.bind(("", port))
    srv.listen(4)
    return srv


def tcp_sent(chain: Chain, where: str = "client:eth0") -> list[tuple[int, int, int, int, int]]:
    """(time, flags, seq, payload length, ack) of the TCP segments sent on an interface."""
    node, _, iface = where.partition(":")
    out = []
    for event in chain.net.trace.select(EventKind.SEND, node=node, interface=iface):
        packet = decode(event.frame)
        if TCP in packet:
            tcp = packet[TCP]
            out.append((event.time_ns, int(tcp.flags), tcp.seq, len(packet.payload_of(TCP)), tcp.ack))
    return out
