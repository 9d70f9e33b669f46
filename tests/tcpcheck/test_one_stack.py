"""tcpcheck runs a script on the simulated host's own TCP stack and socket API: one demux, one listen/accept, one
errno table, so what the host's sockets do (and what is fixed there) is what a script sees."""

from __future__ import annotations

import errno
from collections import Counter
from typing import Any

import pytest

from layersim.net.host.socketapi.sim_socket import SimSocket
from layersim.net.host.tcp_stack import TcpStack
from layersim.tcpcheck.parser import parse_script
from layersim.tcpcheck.report import render
from layersim.tcpcheck.runner import RunConfig, run_script

OPEN = """0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1000>
+0 > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
"""
TRAFFIC = OPEN + """+0 write(4, ..., 10) = 10
+0 > P. 1:11(10) ack 1
+.01 < P. 1:6(5) ack 11 win 65535
*  > . 11:11(0) ack 6
+0 read(4, ..., 100) = 5
+0 shutdown(4, SHUT_WR) = 0
+0 > F. 11:11(0) ack 6
+0 close(4) = 0
+0 close(3) = 0
+0 < . 6:6(0) ack 12 win 65535
"""


def run(text: str, profile: str = "linux") -> Any:
    """Run a script given as text."""
    return run_script(parse_script(text, "one.pkt"), RunConfig(profile=profile))


def spy(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, calls: Counter[str]) -> None:
    """Count the calls of `cls.name` while it still does its work."""
    original = getattr(cls, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[f"{cls.__name__}.{name}"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, counted)


def test_a_run_goes_through_the_hosts_demux_and_socket_methods(monkeypatch):
    calls: Counter[str] = Counter()
    for name in ("segment_in", "listen", "settle"):
        spy(monkeypatch, TcpStack, name, calls)
    for name in ("bind", "listen", "accept", "send", "recv", "shutdown", "close"):
        spy(monkeypatch, SimSocket, name, calls)
    result = run(TRAFFIC)
    assert result.passed, render(result)
    # every inbound segment went through the host's demux (listener, then connection)
    assert calls["TcpStack.segment_in"] == 4
    assert calls["TcpStack.listen"] == calls["SimSocket.listen"] == calls["SimSocket.accept"] == 1
    assert calls["SimSocket.send"] == calls["SimSocket.recv"] == calls["SimSocket.shutdown"] == 1
    assert calls["SimSocket.close"] == 2
    assert calls["TcpStack.settle"] > 0


def test_an_error_the_host_socket_raises_is_the_scripts_errno(monkeypatch):
    def refused(self: SimSocket, bufsize: int, flags: int = 0) -> bytes:
        raise OSError(errno.ECONNABORTED, "Software caused connection abort")

    monkeypatch.setattr(SimSocket, "recv", refused)
    assert run(OPEN + "+0 read(4, ..., 10) = -1 ECONNABORTED\n").passed


@pytest.mark.parametrize("profile", ["linux", "rfc"])
def test_shutdown_of_a_listener_is_not_enotconn(profile):
    # Linux inet_shutdown: SHUT_WR on a listener does nothing and returns 0; SHUT_RDWR (and SHUT_RD) stop it
    # listening (tcp_disconnect -> inet_csk_listen_stop), after which accept() is EINVAL. The host's socket layer
    # said ENOTCONN for both; fixed there, a script sees it. The accepted connection is not touched: nothing is sent.
    text = ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n"
            "+0 shutdown(3, SHUT_WR) = 0\n+0 < S 0:0(0) win 65535 <mss 1000>\n+0 > S. 0:0(0) ack 1 <...>\n"
            "+.01 < . 1:1(0) ack 1 win 65535\n+0 accept(3, ..., ...) = 4\n+0 shutdown(3, SHUT_RDWR) = 0\n"
            "+0 accept(3, ..., ...) = -1 EINVAL\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
            "+0 accept(3, ..., ...) = -1 EINVAL\n")
    result = run(text, profile)
    assert result.passed, render(result)


def test_a_listener_shut_down_answers_a_new_syn_with_rst():
    text = ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n"
            "+0 shutdown(3, SHUT_RD) = 0\n+0 < S 0:0(0) win 65535 <mss 1000>\n+0 > R. 0:0(0) ack 1\n")
    result = run(text)
    assert result.passed, render(result)


def test_segments_still_reach_an_active_connection_after_close():
    # the connection outlives its descriptor (FIN-WAIT-2, TIME-WAIT): the peer's FIN goes to its port, not to 8080
    text = ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0...0.01 connect(3, ..., ...) = 0\n+0 > S 0:0(0) <...>\n"
            "+.01 < S. 0:0(0) ack 1 win 65535 <mss 1000>\n+0 > . 1:1(0) ack 1\n+0 close(3) = 0\n"
            "+0 > F. 1:1(0) ack 1\n+.01 < . 1:1(0) ack 2 win 65535\n+.01 < F. 1:1(0) ack 2 win 65535\n"
            "+0 > . 2:2(0) ack 2\n")
    result = run(text)
    assert result.passed, render(result)


def test_an_accepted_socket_has_its_listeners_options():
    # Linux clones the listener for the connection (sk_clone_lock); fixed in the host's accept(), seen by scripts
    text = ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0\n"
            "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n" + OPEN.split("\n", 1)[1] +
            "+0 getsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1], [4]) = 0\n"
            "+0 getsockopt(4, SOL_SOCKET, SO_REUSEADDR, [1], [4]) = 0\n")
    result = run(text)
    assert result.passed, render(result)
