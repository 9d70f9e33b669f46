"""The script socket layer: descriptors, errors as the kernel returns them, options, listener teardown."""

from __future__ import annotations

import pytest

from layersim.tcpcheck.callargs import CallError, check_call, value_of
from layersim.tcpcheck.model import Flags, Symbol
from layersim.tcpcheck.parser import parse_script
from layersim.tcpcheck.report import render
from layersim.tcpcheck.runner import RunConfig, run_script

SOCKET = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
OPEN = SOCKET + """+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1000>
+0 > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
"""


def passes(text: str, profile: str = "linux") -> None:
    """The script must pass."""
    result = run_script(parse_script(text, "s.pkt"), RunConfig(profile=profile))
    assert result.passed, render(result)


def test_descriptors_are_the_lowest_free_from_3():
    passes(SOCKET + "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n+0 close(3) = 0\n"
                    "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 5\n")


def test_kernel_errors():
    # write() on a socket that never connected is EPIPE on Linux: tcp_sendmsg_locked -> sk_stream_wait_connect,
    # which returns -EPIPE for any state but SYN_SENT/SYN_RECV (CPython's send() raises BrokenPipeError there)
    passes(SOCKET + "+0 close(7) = -1 EBADF (Bad file descriptor)\n"
                    "+0 read(3, ..., 10) = -1 ENOTCONN (Transport endpoint is not connected)\n"
                    "+0 write(3, ..., 10) = -1 EPIPE\n+0 shutdown(3, SHUT_WR) = -1 ENOTCONN\n"
                    "+0 accept(3, ..., ...) = -1 EINVAL (Invalid argument)\n")


def test_options_read_back():
    passes(OPEN + "+0 getsockopt(4, IPPROTO_TCP, TCP_NODELAY, [0], [4]) = 0\n"
                  "+0 setsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0\n"
                  "+0 getsockopt(4, IPPROTO_TCP, TCP_NODELAY, [1], [4]) = 0\n"
                  "+0 getsockopt(3, SOL_SOCKET, SO_REUSEADDR, [0], [4]) = 0\n"
                  "+0 getsockopt(4, IPPROTO_TCP, TCP_MAXSEG, [1000], [4]) = 0\n"
                  "+0 fcntl(4, F_GETFL) = 0x2\n+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                  "+0 fcntl(4, F_GETFL) = 0x802\n")


def test_nonblocking_connect_refused_reports_the_error_once():
    passes(SOCKET + "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                    "+0 > S 0:0(0) <...>\n+0 connect(3, ..., ...) = -1 EALREADY\n+.01 < R. 0:0(0) ack 1 win 0\n"
                    "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n"
                    "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n")


def test_closing_a_listener_resets_connections_nobody_accepted():
    passes(SOCKET + "+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1000>\n"
                    "+0 > S. 0:0(0) ack 1 <...>\n+.01 < . 1:1(0) ack 1 win 65535\n+0 close(3) = 0\n"
                    "+0 > R. 1:1(0) ack 1\n")


def test_values_and_checks():
    assert value_of(Flags((Symbol("O_RDWR"), Symbol("O_NONBLOCK")))) == 0o4002
    assert value_of(Symbol("ECONNRESET")) == 104
    with pytest.raises(CallError, match="unknown constant SO_WHAT"):
        value_of(Symbol("SO_WHAT"))
    with pytest.raises(CallError, match="expected a number"):
        value_of("text")
    call = parse_script("0 setsockopt(3, SOL_SOCKET, SO_OOBINLINE, [1], 4) = 0\n").events[0].action
    assert check_call(call).startswith("socket option SO_OOBINLINE is not supported (SO_REUSEADDR, ")
    assert check_call(parse_script("0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [1], 4) = 0\n").events[0].action) is None
    assert check_call(parse_script("0 fcntl(3, 1) = 0\n").events[0].action) == \
        "fcntl command 1 (supported: F_GETFL, F_SETFL)"
    assert check_call(parse_script("0 close(3) = 0\n").events[0].action) is None


def test_msg_more_is_refused_before_the_run():
    text = "0 sendmsg(4, {msg_iov(1)=[{..., 40}], msg_flags=0}, MSG_MORE) = 40\n"
    assert check_call(parse_script(text).events[0].action) == "sendmsg() with MSG_MORE (corking) is not modelled"
    assert check_call(parse_script("0 send(4, ..., 40, MSG_MORE|MSG_NOSIGNAL) = 40\n").events[0].action) == \
        "send() with MSG_MORE (corking) is not modelled"
    assert check_call(parse_script("0 send(4, ..., 40, MSG_NOSIGNAL) = 40\n").events[0].action) is None
