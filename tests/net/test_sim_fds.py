"""Simulated descriptors never name a real file of the test process, and ssl wraps a simulated socket without
touching a real one."""

from __future__ import annotations

import resource
import select
import selectors
import socket
import ssl
from typing import Any

from layersim import Network
from layersim.net.host.host import FIRST_SIMULATED_FD


def _two_hosts() -> tuple[Network, Any, Any]:
    net = Network(seed=5)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")
    return net, a, b


def _run(net: Network, host: Any, fn: Any) -> Any:
    proc = host.spawn(fn)
    net.run_until(lambda: proc.done, timeout_ns=60 * 10**9)
    assert proc.done
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def test_simulated_descriptors_lie_above_every_real_one() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert hard != resource.RLIM_INFINITY and hard < FIRST_SIMULATED_FD < 2**31  # a C int, never a real fd
    _net, a, b = _two_hosts()
    first = [host.socket.socket() for host in (a, b)]
    assert [s.fileno() for s in first] == [FIRST_SIMULATED_FD] * 2  # per host, the same on every run
    second = a.socket.socket()
    assert second.fileno() == FIRST_SIMULATED_FD + 1
    first[0].close()
    assert a.socket.socket().fileno() == FIRST_SIMULATED_FD  # the lowest free number again, as on Linux


def test_select_and_selectors_take_simulated_descriptor_numbers() -> None:
    net, a, _ = _two_hosts()

    def program() -> Any:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.socket()
        client.connect(listener.getsockname())
        number = listener.fileno()
        readable = select.select([number], [], [], 1)[0]
        selector = selectors.DefaultSelector()
        selector.register(number, selectors.EVENT_READ)
        events = [(key.fd, mask) for key, mask in selector.select(1)]
        return number, readable, events

    number, readable, events = _run(net, a, program)
    assert number >= FIRST_SIMULATED_FD
    assert readable == [number] and events == [(number, selectors.EVENT_READ)]


def test_wrap_socket_takes_a_simulated_socket_and_leaves_real_descriptors_alone() -> None:
    real = socket.socket()
    real.bind(("127.0.0.1", 0))
    real.listen()
    try:
        net, a, _ = _two_hosts()

        def program() -> Any:
            # Open simulated sockets up to the real listener's number (which is where they would meet it if
            # simulated numbers were small), then wrap the last one, as an https client would.
            sim = socket.socket()
            while sim.fileno() < real.fileno():
                sim = socket.socket()
            number = sim.fileno()
            context = ssl.create_default_context()
            with context.wrap_socket(sim, server_hostname="example.com") as wrapped:  # not connected: no handshake
                return number, sim.fileno(), wrapped.fileno(), isinstance(wrapped, ssl.SSLSocket)

        number, old, new, is_ssl = _run(net, a, program)
        assert (old, new, is_ssl) == (-1, number, True)  # the wrapper took over the simulated descriptor
        address = real.getsockname()  # still open: EBADF here if the wrap had closed the real descriptor
        with socket.create_connection(address, timeout=5) as client:
            peer, _ = real.accept()
            with peer:
                client.sendall(b"still mine")
                assert peer.recv(16) == b"still mine"
    finally:
        real.close()


def test_wrap_socket_outside_a_run_is_the_real_one() -> None:
    import certifi

    real = (ssl.SSLContext.wrap_socket, ssl.SSLContext.set_alpn_protocols, certifi.where)
    assert ssl.SSLContext.wrap_socket.__module__ == "ssl"
    inside = _run(*_two_hosts()[:2], lambda: (ssl.SSLContext.wrap_socket, ssl.SSLContext.set_alpn_protocols,
                                              certifi.where))
    assert all(a is not b for a, b in zip(inside, real, strict=True))  # replaced while it ran
    assert (ssl.SSLContext.wrap_socket, ssl.SSLContext.set_alpn_protocols, certifi.where) == real  # put back
