"""The socket API on simulated hosts where the real bytes and the simulated clock tell: timeouts at the right
simulated time, non-blocking connect, names (hosts entries, getaddrinfo against glibc's), blocking
connect and create_connection (what options do on the wire: test_sim_socket_wire)."""

from __future__ import annotations

import errno
import select
import socket
from ipaddress import IPv4Address
from typing import Any

import pytest

from layersim.net.trace.log import EventKind
from tests.net.conftest import CLIENT_IP, SERVER_IP, build_chain

from .chain_runs import S, listener, run, tcp_sent


# Timeouts on the simulated clock ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds", [0.001, 2.5])
def test_accept_timeout_fires_at_exactly_the_timeout(seconds: float) -> None:
    chain = build_chain()
    srv = listener(chain)

    def wait() -> Any:
        srv.settimeout(seconds)
        start = chain.net.now
        try:
            srv.accept()
        except TimeoutError as exc:
            return chain.net.now - start, str(exc), isinstance(exc, socket.timeout)

    assert run(chain, wait) == (round(seconds * S), "timed out", True)


def test_recv_timeout_then_data_still_arrives() -> None:
    chain = build_chain()
    srv = listener(chain)

    def client() -> Any:
        c = chain.client.socket.socket()
        c.settimeout(0.75)
        c.connect((SERVER_IP, 8080))
        conn, _ = srv.accept()
        start = chain.net.now
        try:
            c.recv(10)
        except TimeoutError:
            waited = chain.net.now - start
        conn.sendall(b"late")
        return waited, c.recv(10)

    assert run(chain, client) == (750_000_000, b"late")


def test_connect_timeout_to_a_silent_address() -> None:
    chain = build_chain()

    def client() -> Any:
        c = chain.client.socket.socket()
        c.settimeout(1.0)
        start = chain.net.now
        try:
            c.connect(("10.0.2.99", 80))  # nobody answers ARP for it: the SYNs vanish
        except TimeoutError as exc:
            return chain.net.now - start, str(exc)

    assert run(chain, client) == (S, "timed out")


def test_blocking_connect_returns_when_the_syn_ack_arrives() -> None:
    chain = build_chain()
    listener(chain)
    returned = run(chain, lambda: (chain.client.socket.socket().connect((SERVER_IP, 8080)), chain.net.now)[1])
    established = [e.time_ns for e in chain.net.trace.select(EventKind.TCP, node="client")
                   if e.info.what == "state" and dict(e.info.facts)["new"] == "ESTABLISHED"]
    syn_acks = [t for t, flags, *_ in tcp_sent(chain, "server:eth0") if flags == 0x12]
    assert established == [returned] and syn_acks and syn_acks[0] < returned


def test_nonblocking_connect_in_progress_already_then_connected() -> None:
    chain = build_chain()
    listener(chain)

    def client() -> Any:
        c = chain.client.socket.socket()
        c.setblocking(False)
        out: list[Any] = [c.connect_ex((SERVER_IP, 8080)), c.connect_ex((SERVER_IP, 8080))]
        try:
            c.connect((SERVER_IP, 8080))
        except BlockingIOError as exc:
            out.append(exc.errno)
        out.append(select.select([], [c], [], 0)[1] == [])  # not writable while connecting
        out.append(select.select([], [c], [], 5)[1] == [c])
        out.append(chain.net.now)
        out += [c.connect_ex((SERVER_IP, 8080)), c.connect_ex((SERVER_IP, 8080))]
        return out

    result = run(chain, client)
    established = next(e.time_ns for e in chain.net.trace.select(EventKind.TCP, node="client")
                       if e.info.what == "state" and dict(e.info.facts)["new"] == "ESTABLISHED")
    assert result == [errno.EINPROGRESS, errno.EALREADY, errno.EALREADY, True, True, established, 0,
                      errno.EISCONN]


# Names ---------------------------------------------------------------------------------------------------------
GETADDRINFO_CASES = [
    (("127.0.0.1", 80), {}),
    (("127.0.0.1", "http"), {}),
    (("127.0.0.1", "domain"), {}),
    (("127.0.0.1", "https"), {"proto": 17}),
    (("127.0.0.1", 80), {"type": socket.SOCK_STREAM}),
    (("127.0.0.1", 80), {"proto": 6}),
    (("127.0.0.1", 53), {"type": socket.SOCK_DGRAM}),
    (("127.0.0.1", 80), {"type": socket.SOCK_STREAM, "proto": 17}),
    ((None, 80), {"flags": socket.AI_PASSIVE, "family": socket.AF_INET}),
    ((None, 8080), {"family": socket.AF_INET}),
    (("127.0.0.1", None), {}),
    (("127.0.0.1", b"80"), {}),
    (("127.0.0.1", "nosuchservice"), {}),
    (("127.0.0.1", 80), {"family": socket.AF_INET6}),
    (("10.1.2.3", 0), {"type": socket.SOCK_RAW}),
]


def _gai(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return fn(*args, **kwargs)
    except socket.gaierror as exc:
        return "gaierror", exc.errno, str(exc)


@pytest.mark.parametrize(("args", "kwargs"), GETADDRINFO_CASES)
def test_getaddrinfo_of_numeric_hosts_is_glibcs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # numeric hosts only: the real call reads no name service and sends nothing
    assert _gai(build_chain().client.socket.getaddrinfo, args, kwargs) == _gai(socket.getaddrinfo, args, kwargs)


def test_hosts_entries_gethostbyname_gethostname_and_unknown_names() -> None:
    chain = build_chain()
    chain.client.hosts["web"] = IPv4Address(SERVER_IP)
    sk = chain.client.socket
    assert sk.gethostbyname("web") == sk.gethostbyname("WEB.") == SERVER_IP
    assert sk.gethostbyname_ex("web") == ("web", [], [SERVER_IP])
    assert sk.gethostbyname("client") == CLIENT_IP and sk.gethostname() == "client"
    assert sk.gethostbyname("localhost") == "127.0.0.1"
    assert sk.getaddrinfo("web", "http") == [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (SERVER_IP, 80))]
    with pytest.raises(socket.gaierror) as caught:
        sk.gethostbyname("server")  # the server's name is not in the client's hosts
    assert caught.value.errno == socket.EAI_NONAME and str(caught.value) == "[Errno -2] Name or service not known"
    with pytest.raises(socket.gaierror) as caught:
        sk.getaddrinfo("nowhere", 80)
    assert caught.value.errno == socket.EAI_NONAME


def test_inside_a_process_the_stdlib_names_are_the_hosts_and_outside_the_real_ones() -> None:
    chain = build_chain()
    chain.client.hosts["web"] = IPv4Address(SERVER_IP)
    real_name = socket.gethostname()
    inside = run(chain, lambda: (socket.gethostname(), socket.gethostbyname("web"), socket.socket.__module__))
    assert inside[:2] == ("client", SERVER_IP) and inside[2] != "socket"
    assert socket.gethostname() == real_name and socket.socket.__module__ == "socket"


def test_create_connection_by_name_with_timeout_and_refused() -> None:
    chain = build_chain()
    chain.client.hosts["web"] = IPv4Address(SERVER_IP)
    srv = listener(chain)

    def client() -> Any:
        c = socket.create_connection(("web", 8080), timeout=3)
        _conn, peer = srv.accept()
        try:
            socket.create_connection(("web", 8081))
        except ConnectionRefusedError as exc:
            refused = exc.errno
        return c.getpeername(), c.gettimeout(), peer == c.getsockname(), refused

    assert run(chain, client) == ((SERVER_IP, 8080), 3.0, True, errno.ECONNREFUSED)
