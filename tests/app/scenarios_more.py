"""Socket scenarios for options, select and selectors, UDP, and the API's corners (see socket_scenarios)."""

from __future__ import annotations

import contextlib
import select
import selectors
import struct
import time
from typing import Any

from .scenario_tools import (
    PAUSE,
    catch,
    connected_pair,
    listener_on,
)


# Options -----------------------------------------------------------------------------------------------------
def socket_options(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    before = [s.getsockopt(cli.IPPROTO_TCP, cli.TCP_NODELAY), s.getsockopt(cli.SOL_SOCKET, cli.SO_KEEPALIVE),
              s.getsockopt(cli.SOL_SOCKET, cli.SO_REUSEADDR), s.getsockopt(cli.SOL_SOCKET, cli.SO_TYPE)]
    s.setsockopt(cli.IPPROTO_TCP, cli.TCP_NODELAY, 1)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_KEEPALIVE, 1)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_REUSEADDR, 1)
    after = [s.getsockopt(cli.IPPROTO_TCP, cli.TCP_NODELAY), s.getsockopt(cli.SOL_SOCKET, cli.SO_KEEPALIVE),
             s.getsockopt(cli.SOL_SOCKET, cli.SO_REUSEADDR)]
    return before, after


def buffer_sizes_are_doubled(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_RCVBUF, 65536)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_SNDBUF, 32768)
    return s.getsockopt(cli.SOL_SOCKET, cli.SO_RCVBUF), s.getsockopt(cli.SOL_SOCKET, cli.SO_SNDBUF)


def tiny_buffers_and_linger(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_RCVBUF, 1)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_SNDBUF, 1)
    before = s.getsockopt(cli.SOL_SOCKET, cli.SO_LINGER, 8)
    s.setsockopt(cli.SOL_SOCKET, cli.SO_LINGER, struct.pack("ii", 1, 5))
    return (s.getsockopt(cli.SOL_SOCKET, cli.SO_RCVBUF), s.getsockopt(cli.SOL_SOCKET, cli.SO_SNDBUF), before,
            s.getsockopt(cli.SOL_SOCKET, cli.SO_LINGER, 8), catch(s.setsockopt, cli.SOL_SOCKET, cli.SO_LINGER, 1))


# select and selectors ------------------------------------------------------------------------------------------
def select_echo_two_clients(srv: Any, cli: Any, ip: str) -> Any:
    """An echo server multiplexing a listener and two clients with select.select, in one process."""
    lst = listener_on(srv)
    lst.setblocking(False)
    port = lst.getsockname()[1]
    clients = [cli.socket(cli.AF_INET, cli.SOCK_STREAM) for _ in range(2)]
    for c in clients:
        c.connect((ip, port))
    clients[1].sendall(b"second says hi")
    clients[0].sendall(b"first")
    watched, echoed, rounds = [lst], 0, []
    while echoed < 2:
        readable, _, _ = select.select(watched, [], [], 5)
        rounds.append(sorted("listener" if s is lst else "conn" for s in readable))
        for s in readable:
            if s is lst:
                conn, _ = lst.accept()
                watched.append(conn)
            else:
                s.sendall(s.recv(100))
                echoed += 1
    nothing = select.select(watched, [], [], 0)
    return [c.recv(100) for c in clients], nothing, rounds[0]


def selector_echo_two_clients(srv: Any, cli: Any, ip: str) -> Any:
    """The same with selectors.DefaultSelector, each client closing after its echo."""
    lst = listener_on(srv)
    lst.setblocking(False)
    port = lst.getsockname()[1]
    sel = selectors.DefaultSelector()
    sel.register(lst, selectors.EVENT_READ, "listener")
    clients = [cli.socket(cli.AF_INET, cli.SOCK_STREAM) for _ in range(2)]
    for i, c in enumerate(clients):
        c.connect((ip, port))
        c.sendall(b"ping %d" % i)
    closed = 0
    replies = []
    while closed < 2:
        for key, mask in sel.select(5):
            if key.data == "listener":
                conn, _ = lst.accept()
                sel.register(conn, selectors.EVENT_READ, "conn")
            else:
                data = key.fileobj.recv(100)
                if data:
                    key.fileobj.sendall(data.upper())
                    replies.append(mask)
                else:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    closed += 1
        for c in clients:
            if c.fileno() != -1 and select.select([c], [], [], 0)[0]:
                replies.append(c.recv(100))
                c.close()
    sel.close()
    return sorted(map(str, replies))


# UDP -------------------------------------------------------------------------------------------------------------
def udp_sendto_recvfrom(srv: Any, cli: Any, ip: str) -> Any:
    s = srv.socket(srv.AF_INET, srv.SOCK_DGRAM)
    s.bind(("", 0))
    c = cli.socket(cli.AF_INET, cli.SOCK_DGRAM)
    sent = c.sendto(b"datagram one", (ip, s.getsockname()[1]))
    data, source = s.recvfrom(100)
    s.sendto(b"answer", source)
    back, origin = c.recvfrom(3)  # cut to the buffer; the rest of that datagram is lost
    c.connect((ip, s.getsockname()[1]))
    c.send(b"connected send")
    again, _ = s.recvfrom(100)
    return sent, data, source == c.getsockname(), back, origin == (ip, s.getsockname()[1]), again


def udp_connected_refused(srv: Any, cli: Any, ip: str) -> Any:
    hole = srv.socket(srv.AF_INET, srv.SOCK_DGRAM)
    hole.bind(("", 0))
    port = hole.getsockname()[1]
    hole.close()
    c = cli.socket(cli.AF_INET, cli.SOCK_DGRAM)
    c.connect((ip, port))
    c.send(b"anyone?")
    time.sleep(PAUSE)
    return catch(c.recv, 100), catch(c.send, b"again")  # the error is reported once


def udp_unconnected_ignores_port_unreachable(srv: Any, cli: Any, ip: str) -> Any:
    hole = srv.socket(srv.AF_INET, srv.SOCK_DGRAM)
    hole.bind(("", 0))
    port = hole.getsockname()[1]
    hole.close()
    c = cli.socket(cli.AF_INET, cli.SOCK_DGRAM)
    c.sendto(b"anyone?", (ip, port))
    time.sleep(PAUSE)
    c.setblocking(False)
    return catch(c.recvfrom, 100)


# More corners ----------------------------------------------------------------------------------------------------
def peek(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    conn.sendall(b"hello")
    time.sleep(PAUSE)
    return c.recv(3, cli.MSG_PEEK), c.recv(10)

def send_unconnected(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    return catch(s.send, b"x"), catch(s.recv, 1), catch(s.shutdown, cli.SHUT_WR), catch(s.getpeername)

def recv_on_listener(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(srv)
    return catch(lst.recv, 1), catch(lst.send, b"x")

def double_bind_and_connect_then_bind(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(srv)
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    s.bind(("", 0))
    first = catch(s.bind, ("", 0))
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.connect((ip, lst.getsockname()[1]))
    return first, catch(c.bind, ("", 0)), catch(c.listen, 1)

def listen_without_bind(srv: Any, cli: Any, ip: str) -> Any:
    s = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    s.listen(1)
    host, port = s.getsockname()
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.connect((ip, port))
    return host, 32768 <= port <= 60999, s.accept()[1] == c.getsockname()

def reuseaddr_two_unlistened(srv: Any, cli: Any, ip: str) -> Any:
    a = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    a.setsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR, 1)
    a.bind(("", 0))
    b = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    b.setsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR, 1)
    r = catch(b.bind, ("", a.getsockname()[1]))
    return r, catch(b.listen, 1), catch(a.listen, 1)

def bind_foreign_address(srv: Any, cli: Any, ip: str) -> Any:
    return catch(cli.socket(cli.AF_INET, cli.SOCK_STREAM).bind, ("192.0.2.1", 0)), \
        catch(cli.socket(cli.AF_INET, cli.SOCK_DGRAM).bind, ("192.0.2.1", 0))

def accepted_socket_timeouts(srv: Any, cli: Any, ip: str) -> Any:
    lst = listener_on(srv)
    lst.settimeout(5)
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.connect((ip, lst.getsockname()[1]))
    a, _ = lst.accept()
    lst.setblocking(False)
    c2 = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c2.connect((ip, lst.getsockname()[1]))
    time.sleep(PAUSE)
    b, _ = lst.accept()
    return a.gettimeout(), b.gettimeout(), b.getblocking()

def nonblock_flag_type(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM | cli.SOCK_NONBLOCK)
    return s.gettimeout(), s.type == cli.SOCK_STREAM, s.family == cli.AF_INET, s.proto, repr(s.type)

def sendto_on_tcp(srv: Any, cli: Any, ip: str) -> Any:
    """Linux ignores the address given to a stream socket."""
    _, c, conn = connected_pair(srv, cli, ip)
    sent = c.sendto(b"x", ("192.0.2.1", 1))
    return sent, conn.recv(10), catch(cli.socket(cli.AF_INET, cli.SOCK_STREAM).sendto, b"x", (ip, 1))

def udp_details(srv: Any, cli: Any, ip: str) -> Any:
    u = cli.socket(cli.AF_INET, cli.SOCK_DGRAM)
    u.bind(("", 0))
    v = cli.socket(cli.AF_INET, cli.SOCK_DGRAM)
    same = catch(v.bind, ("", u.getsockname()[1]))
    big = catch(u.sendto, b"x" * 65508, (ip, 9))
    ok = u.sendto(b"x" * 65507, ("127.0.0.1", u.getsockname()[1]))
    got = len(u.recv(70000))
    u.settimeout(0.1)
    to = catch(u.recvfrom, 10)
    return same, big, ok, got, to, u.getsockopt(cli.SOL_SOCKET, cli.SO_TYPE), catch(u.getpeername)

def udp_connected_sendto_other(srv: Any, cli: Any, ip: str) -> Any:
    s = srv.socket(srv.AF_INET, srv.SOCK_DGRAM)
    s.bind(("", 0))
    t = srv.socket(srv.AF_INET, srv.SOCK_DGRAM)
    t.bind(("", 0))
    c = cli.socket(cli.AF_INET, cli.SOCK_DGRAM)
    c.connect((ip, s.getsockname()[1]))
    c.sendto(b"to t", (ip, t.getsockname()[1]))
    got = t.recvfrom(10)[0]
    t.sendto(b"from t", c.getsockname())   # a connected socket drops datagrams from others
    s.sendto(b"from s", c.getsockname())
    return got, c.recv(10), c.getpeername() == (ip, s.getsockname()[1])

def select_timeout_and_eof(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    r0 = select.select([c], [c], [], 0.1)
    conn.close()
    time.sleep(PAUSE)
    r1 = select.select([c], [], [], 0.1)
    return (r0[0] == [], r0[1] == [c]), r1[0] == [c], c.recv(1)

def nonblocking_sendall_fills(srv: Any, cli: Any, ip: str) -> Any:
    _, c, _conn = connected_pair(srv, cli, ip)
    c.setblocking(False)
    total = 0
    while True:
        try:
            n = c.send(b"z" * 1_000_000)
        except BlockingIOError as e:
            return total > 100_000, e.errno, catch(c.sendall, b"z" * 10)[:3]
        total += n

def makefile_rw(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    f = c.makefile("rwb")
    f.write(b"ping\n")
    f.flush()
    g = conn.makefile("rwb")
    line = g.readline()
    g.write(line.upper())
    g.flush()
    back = f.readline()
    f.close()
    g.close()
    return line, back, c.fileno() != -1

def close_fileno_reuse(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    n = s.fileno()
    s.close()
    t = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    return t.fileno() == n

def detach(srv: Any, cli: Any, ip: str) -> Any:
    s = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    n = s.fileno()
    return s.detach() == n, s.fileno()



def writable_only_with_a_third_free(srv: Any, cli: Any, ip: str) -> Any:
    """poll/select say writable when a third of the send buffer is free (sk_stream_is_writeable), not one byte."""
    _, c, conn = connected_pair(srv, cli, ip)
    c.setblocking(False)
    for _ in range(2):
        with contextlib.suppress(BlockingIOError):
            while True:
                c.send(b"z" * 65536)
        time.sleep(0.2)
    out = [select.select([], [c], [], 0)[1] == [c]]
    for want in (20000, 40000):
        got = 0
        while got < want:
            got += len(conn.recv(want - got))
        time.sleep(0.2)
        out.append(select.select([], [c], [], 0)[1] == [c])
    return out


def listen_backlog(srv: Any, cli: Any, ip: str) -> Any:
    """listen(1) holds two finished connections (Linux: full when more than backlog wait); the third SYN is dropped."""
    lst = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    lst.bind(("", 0))
    lst.listen(1)
    clients = [cli.socket(cli.AF_INET, cli.SOCK_STREAM) for _ in range(3)]
    for c in clients:
        c.setblocking(False)
        c.connect_ex((ip, lst.getsockname()[1]))
        time.sleep(PAUSE)
    _, writable, _ = select.select([], clients, [], 0.3)
    accepted = [lst.accept()[1] for _ in range(2)]
    return [c in writable for c in clients], [a == c.getsockname() for a, c in zip(accepted, clients[:2], strict=True)]


def recv_zero_bytes(srv: Any, cli: Any, ip: str) -> Any:
    _, c, conn = connected_pair(srv, cli, ip)
    c.settimeout(0.5)
    empty = catch(c.recv, 0)
    conn.sendall(b"data")
    time.sleep(PAUSE)
    return empty, catch(c.recv, 0), c.recv(10)


def create_server_and_default_timeout(srv: Any, cli: Any, ip: str) -> Any:
    lst = srv.create_server(("", 0))
    reuse = lst.getsockopt(srv.SOL_SOCKET, srv.SO_REUSEADDR)
    cli.setdefaulttimeout(2.5)
    srv.setdefaulttimeout(2.5)
    try:
        c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
        c.connect((ip, lst.getsockname()[1]))
        conn, _ = lst.accept()
        return reuse, c.gettimeout(), conn.gettimeout(), lst.gettimeout(), cli.getdefaulttimeout()
    finally:
        cli.setdefaulttimeout(None)
        srv.setdefaulttimeout(None)


def reset_after_fin(srv: Any, cli: Any, ip: str) -> Any:
    """The peer closed (FIN), then answers our late data with RST: recv still says EOF, send says EPIPE."""
    _, c, conn = connected_pair(srv, cli, ip)
    conn.sendall(b"hi")
    conn.close()
    time.sleep(PAUSE)
    c.send(b"late")  # to a closed socket: it answers RST (our end was in CLOSE_WAIT: Linux's error is EPIPE)
    time.sleep(PAUSE)
    return c.recv(10), c.recv(10), catch(c.send, b"x"), catch(c.send, b"x")


def select_misuse(srv: Any, cli: Any, ip: str) -> Any:
    """select and selectors refuse a closed socket, a negative timeout, no events, an unknown descriptor."""
    closed = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    closed.close()
    out = []
    for call in (lambda: select.select([closed], [], [], 0),
                 lambda: selectors.DefaultSelector().register(closed, selectors.EVENT_READ),
                 lambda: select.select([], [], [], -1),
                 lambda: selectors.DefaultSelector().register(cli.socket(cli.AF_INET, cli.SOCK_STREAM), 0),
                 lambda: select.select([10**6], [], [], 0)):
        try:
            call()
            out.append("no error")
        except (ValueError, OSError) as exc:
            out.append((type(exc).__name__, str(exc)))
    return out
