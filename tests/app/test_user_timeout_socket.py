"""TCP_USER_TIMEOUT set with setsockopt reaches the connection (RFC 5482): a connect() or a send() to a peer that
has gone silent fails with ETIMEDOUT after the user timeout, not after the retry counts' minutes."""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

import pytest

from layersim.net.ip.hooks import ACCEPT, Drop, HookPacket, HookPoint
from layersim.net.network import Network


class Silence:
    """An INPUT hook on the peer: once `on`, every packet to it is dropped (the peer has gone away)."""

    def __init__(self) -> None:
        self.on = False

    def __call__(self, packet: HookPacket) -> Any:
        return Drop(detail="test: the peer is gone") if self.on else ACCEPT


def silent_peer() -> tuple[Network, Any, Silence]:
    net = Network(seed=3)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24", delay="5ms")
    silence = Silence()
    b.hooks.add(HookPoint.INPUT, silence, "test-silence")
    return net, a, silence


def outcome(net: Network, proc: Any) -> Any:
    net.run(until="600s")
    assert proc.done
    if proc.exception is not None:
        raise proc.exception
    return proc.result


@pytest.mark.parametrize("timeout_ms", [0, 3000])
def test_connect_to_a_silent_peer(timeout_ms: int) -> None:
    net, a, silence = silent_peer()
    silence.on = True

    def dial() -> Any:
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, timeout_ms)
        try:
            s.connect(("10.0.0.2", 80))
        except OSError as exc:
            return exc.errno, time.monotonic()
        return None, time.monotonic()

    code, at = outcome(net, a.spawn(dial))
    assert code == errno.ETIMEDOUT
    if timeout_ms:
        assert 3.0 <= at < 4.0  # the user timeout, counted from the first SYN
    else:
        assert at > 60  # Linux's tcp_syn_retries (6): about 127 s


def test_send_to_a_peer_gone_silent_times_out_after_the_user_timeout() -> None:
    net, a, silence = silent_peer()
    b = net.hosts["b"]

    def serve() -> None:
        with socket.create_server(("0.0.0.0", 80)) as listener:
            conn, _ = listener.accept()
            time.sleep(1000)
            conn.close()

    def talk() -> Any:
        s = socket.create_connection(("10.0.0.2", 80))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 5000)
        time.sleep(1)
        silence.on = True
        started = time.monotonic()
        s.sendall(b"x" * 1000)
        try:
            s.recv(10)
        except OSError as exc:
            return exc.errno, time.monotonic() - started
        return None, 0.0

    b.spawn(serve)
    code, waited = outcome(net, a.spawn(talk, at="0.1s"))
    assert code == errno.ETIMEDOUT and 5.0 <= waited < 6.5


def test_a_negative_user_timeout_is_einval() -> None:
    net, a, _ = silent_peer()

    def set_negative() -> Any:
        try:
            socket.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, -1)
        except OSError as exc:
            return exc.errno
        return None

    assert outcome(net, a.spawn(set_negative)) == errno.EINVAL
