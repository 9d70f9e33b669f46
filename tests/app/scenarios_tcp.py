"""Socket scenarios for TCP: connecting, binding and listening, data and closing (see socket_scenarios)."""

from __future__ import annotations

import select
import struct
import time
from typing import Any

from .scenario_tools import (
    PAUSE,
    catch,
    closed_port,
    connected_pair,
    listener_on,
)


# Connecting ------------------------------------------------------------------------------------------------------
def connect_refused(srv: Any, cli: Any, ip: str) -> Any:
    _, port = closed_port(srv)
    cli.socket(cli.AF_INET, cli.SOCK_STREAM).connect((ip, port))


def connect_ex_refused(srv: Any, cli: Any, ip: str) -> Any:
    _, port = closed_port(srv)
    return cli.socket(cli.AF_INET, cli.SOCK_STREAM).connect_ex((ip, port))


def connect_ex_ok_then_isconn(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(srv)
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    return c.connect_ex((ip, lst.getsockname()[1])), c.connect_ex((ip, lst.getsockname()[1]))


def connect_empty_host_is_this_host(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(cli)  # on the client's own host
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.connect(("", lst.getsockname()[1]))
    conn, peer = lst.accept()
    return lst.getsockname()[0], c.getpeername()[0], conn.getsockname()[0], peer[0], peer[1] == c.getsockname()[1]


def nonblocking_connect_sequence(srv: Any, cli: Any, ip: str) -> Any:
    """connect_ex while connecting, then once it is done: EINPROGRESS first, 0 once established, then EISCONN."""
    lst = listener_on(srv)
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.setblocking(False)
    first = catch(c.connect, (ip, lst.getsockname()[1]))
    _, writable, _ = select.select([], [c], [], 5)
    return first, writable == [c], c.connect_ex((ip, lst.getsockname()[1])), \
        c.connect_ex((ip, lst.getsockname()[1]))


def so_error_after_refused(srv: Any, cli: Any, ip: str) -> Any:
    _, port = closed_port(srv)
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.setblocking(False)
    first = c.connect_ex((ip, port))
    _, writable, _ = select.select([], [c], [], 5)
    return first, writable == [c], c.getsockopt(cli.SOL_SOCKET, cli.SO_ERROR), \
        c.getsockopt(cli.SOL_SOCKET, cli.SO_ERROR)


# Binding and listening -------------------------------------------------------------------------------------------
def accept_before_listen(srv: Any, cli: Any, ip: str) -> Any:
    s = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    s.bind(("", 0))
    s.accept()


def bind_twice(srv: Any, cli: Any, ip: str) -> Any:
    _held, port = closed_port(srv)
    srv.socket(srv.AF_INET, srv.SOCK_STREAM).bind(("", port))


def bind_over_listener_with_reuseaddr(srv: Any, cli: Any, ip: str) -> Any:
    a = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    a.setsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR, 1)
    a.bind(("", 0))
    a.listen(1)
    b = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    b.setsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR, 1)
    b.bind(("", a.getsockname()[1]))


def _server_closes_first(srv: Any, cli: Any, ip: str, reuse: bool) -> Any:
    """A connection the server closes first (its end in TIME_WAIT), the listener closed; bind the port again.

    SO_REUSEADDR lets the new bind through only when the old listener had it too (the TIME_WAIT socket inherits
    it), which is why servers set it before bind()."""
    lst = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    if reuse:
        lst.setsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR, 1)
    lst.bind(("", 0))
    lst.listen(1)
    port = lst.getsockname()[1]
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.connect((ip, port))
    conn, _ = lst.accept()
    conn.close()
    time.sleep(PAUSE)
    c.close()
    time.sleep(PAUSE)
    lst.close()
    again = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    if reuse:
        again.setsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR, 1)
    again.bind(("", port))
    again.listen(1)
    return "bound"


def rebind_time_wait_port(srv: Any, cli: Any, ip: str) -> Any:
    return _server_closes_first(srv, cli, ip, reuse=False)


def rebind_time_wait_port_reuseaddr(srv: Any, cli: Any, ip: str) -> Any:
    return _server_closes_first(srv, cli, ip, reuse=True)


def bind_empty_host(srv: Any, cli: Any, ip: str) -> Any:
    s = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    s.bind(("", 0))
    return s.getsockname()[0], 32768 <= s.getsockname()[1] <= 60999


# Data and closing ------------------------------------------------------------------------------------------------
def send_after_peer_reset(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    conn.setsockopt(srv.SOL_SOCKET, srv.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # linger 0: an RST
    time.sleep(PAUSE)
    return catch(c.send, b"x"), catch(c.send, b"x"), catch(c.recv, 10)


def recv_after_peer_reset(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    conn.setsockopt(srv.SOL_SOCKET, srv.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    time.sleep(PAUSE)
    return catch(c.recv, 10), catch(c.recv, 10), catch(c.send, b"x")


def recv_after_peer_close(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    conn.sendall(b"bye")
    conn.close()
    time.sleep(PAUSE)
    return c.recv(100), c.recv(100), c.recv(100)


def use_after_own_close(srv: Any, cli: Any, ip: str) -> Any:
    _, c, _ = connected_pair(srv, cli, ip)
    c.close()
    c.close()  # a second close does nothing
    return c.fileno(), catch(c.recv, 10), catch(c.send, b"x")


def close_with_unread_data_resets(srv: Any, cli: Any, ip: str) -> Any:
    """close() with unread data sends RST (RFC 2525 2.17): the peer's recv raises ConnectionResetError."""
    _, c, conn = connected_pair(srv, cli, ip)
    c.sendall(b"unread")
    time.sleep(PAUSE)
    conn.close()
    time.sleep(PAUSE)
    return catch(c.recv, 10)


def shutdown_write(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    c.sendall(b"request")
    c.shutdown(cli.SHUT_WR)
    got = b""
    while chunk := conn.recv(100):
        got += chunk
    conn.sendall(b"reply")
    conn.close()
    return got, c.recv(100), c.recv(100), catch(c.send, b"more")


def recv_into_and_sendall_large(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    data = bytes(range(256)) * 1000
    c.sendall(data)
    c.close()
    buffer = bytearray(70000)
    got = bytearray()
    while n := conn.recv_into(buffer):
        got += buffer[:n]
    return bytes(got) == data, len(got)


def names(srv: Any, cli: Any, ip: str) -> Any:
    lst, c, conn = connected_pair(srv, cli, ip)
    return (c.getpeername() == (ip, lst.getsockname()[1]), conn.getpeername() == c.getsockname(),
            conn.getsockname() == c.getpeername(), 32768 <= c.getsockname()[1] <= 60999,
            catch(lst.getpeername), catch(cli.socket(cli.AF_INET, cli.SOCK_STREAM).getsockname))


def filenos(srv: Any, cli: Any, ip: str) -> Any:
    """File descriptors are per process on Linux and per host here: three sockets of one host over loopback."""
    lst, c, conn = connected_pair(cli, cli, "127.0.0.1")
    numbers = [s.fileno() for s in (lst, c, conn)]
    c.close()
    return len(set(numbers)), all(isinstance(n, int) and n > 2 for n in numbers), c.fileno()


def makefile_lines(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    writer = conn.makefile("w")
    writer.write("first line\nsecond line\n")
    writer.flush()
    writer.close()
    conn.sendall(b"third\n")
    conn.close()
    reader = c.makefile("rb")
    lines = [reader.readline(), reader.readline(), reader.readline(), reader.readline()]
    reader.close()
    return lines


def context_manager_closes(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(srv)
    with cli.socket(cli.AF_INET, cli.SOCK_STREAM) as c:
        c.connect((ip, lst.getsockname()[1]))
        conn, _ = lst.accept()
    time.sleep(PAUSE)
    return c.fileno(), conn.recv(10)


def timeout_on_accept(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(srv)
    lst.settimeout(0.2)
    try:
        lst.accept()
    except TimeoutError as exc:
        return type(exc).__name__, str(exc), isinstance(exc, srv.timeout), lst.gettimeout()


def timeout_on_recv(srv: Any, cli: Any, ip: str) -> Any:
    _, c, _ = connected_pair(srv, cli, ip)
    c.settimeout(0.2)
    try:
        c.recv(10)
    except srv.timeout as exc:
        return type(exc).__name__, str(exc)


def nonblocking_recv_and_accept(srv: Any, cli: Any, ip: str) -> Any:
    lst, c, _ = connected_pair(srv, cli, ip)
    c.setblocking(False)
    lst.setblocking(False)
    return catch(c.recv, 10), catch(lst.accept), c.getblocking(), c.gettimeout()
