"""What socket options and endings do on the wire of the chain, against Linux's documented behaviour: Nagle and
TCP_NODELAY, SO_KEEPALIVE's probes and give-up, shutdown(SHUT_WR), connect() to nobody (SYN retries, ICMP
errors), and a process that ends with its sockets open."""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

import pytest

from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from tests.net.conftest import SERVER_IP, build_chain

from .chain_runs import S, listener, run, tcp_sent


# Options on the wire ---------------------------------------------------------------------------------------------
def _two_small_writes(nodelay: bool) -> tuple[list[int], int]:
    """Send 100 then 10 bytes at once; the send times of the two data segments and of the ACK of the first."""
    chain = build_chain()
    srv = listener(chain)

    def client() -> None:
        c = chain.client.socket.socket()
        if nodelay:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.connect((SERVER_IP, 8080))
        conn, _ = srv.accept()
        c.send(b"x" * 100)
        c.send(b"y" * 10)
        assert conn.recv(200) == b"x" * 100
        assert conn.recv(200) == b"y" * 10

    run(chain, client)
    chain.net.run(chain.net.now + S)
    data = [t for t, _, _, length, _ in tcp_sent(chain) if length]
    first_seq = next(seq for _, _, seq, length, _ in tcp_sent(chain) if length)
    ack = next(t for t, flags, _, length, ack in tcp_sent(chain, "server:eth0") if ack == first_seq + 100)
    return data, ack


def test_nagle_holds_a_small_write_until_the_ack_and_tcp_nodelay_does_not() -> None:
    data, ack = _two_small_writes(nodelay=False)
    assert len(data) == 2 and data[1] > ack  # the 10 bytes wait for the ACK of the 100 (RFC 896)
    data, _ = _two_small_writes(nodelay=True)
    assert len(data) == 2 and data[0] == data[1]


def test_so_keepalive_probes_after_two_hours_idle_and_the_peer_answers() -> None:
    chain = build_chain()
    srv = listener(chain)
    box: dict[str, Any] = {}

    def client() -> None:
        c = chain.client.socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.connect((SERVER_IP, 8080))
        box["conn"], _ = srv.accept()
        box["c"] = c
        time.sleep(7300)  # idle, the sockets open (a process's sockets close when it ends)

    run(chain, client)
    sent = tcp_sent(chain)
    _, _, last_seq, _, _ = sent[1]  # SYN, then the handshake's ACK (SND.NXT)
    syn_ack_in = next(e.time_ns for e in chain.net.trace.select(EventKind.RECEIVE, node="client", interface="eth0")
                      if TCP in (p := decode(e.frame)) and int(p[TCP].flags) == 0x12)
    probes = [e.time_ns for e in chain.net.trace.select(EventKind.TCP, node="client") if e.info.what == "keepalive"]
    # Linux: the first probe when nothing was received for tcp_keepalive_time (7200 s), then every 75 s
    assert probes == [syn_ack_in + 7200 * S]
    sent_at, flags, seq, length, _ = sent[2]  # on the wire once ARP, expired after two idle hours, is done again
    assert sent[2:] == [sent[2]] and probes[0] <= sent_at < probes[0] + 10**7
    assert flags == 0x10 and length == 0 and seq == (last_seq - 1) % 2**32  # SND.NXT - 1: the peer must answer
    answers = [t for t, flags, *_ in tcp_sent(chain, "server:eth0") if t > sent_at]
    assert len(answers) == 1, "the peer did not answer the keepalive probe (once)"


def test_shutdown_wr_sends_fin_and_the_connection_still_carries_the_reply() -> None:
    chain = build_chain()
    srv = listener(chain)

    def client() -> Any:
        c = chain.client.socket.socket()
        c.connect((SERVER_IP, 8080))
        conn, _ = srv.accept()
        c.sendall(b"question")
        c.shutdown(socket.SHUT_WR)
        fin_sent = chain.net.now
        got = b""
        while chunk := conn.recv(100):
            got += chunk
        conn.sendall(b"answer")
        conn.close()
        return fin_sent, got, c.recv(100), c.recv(100)

    fin_sent, got, answer, eof = run(chain, client)
    assert (got, answer, eof) == (b"question", b"answer", b"")
    fins = [(t, flags) for t, flags, *_ in tcp_sent(chain) if flags & 0x01]
    assert fins[0][0] == fin_sent
    replies = [t for t, _, _, length, _ in tcp_sent(chain, "server:eth0") if length]
    assert replies and replies[0] > fins[0][0]  # data flowed back after the client's FIN


# Connecting to nobody ------------------------------------------------------------------------------------------
def test_connect_to_a_black_hole_retries_the_syn_then_times_out_after_127_s() -> None:
    """Linux: initial RTO 1 s, tcp_syn_retries 6 - SYNs at 0, 1, 3, 7, 15, 31, 63 s, ETIMEDOUT at 127 s."""
    from layersim.net.ip.hooks import Drop, HookPoint

    chain = build_chain()  # the server's firewall swallows TCP: nothing answers and no ICMP error comes back
    chain.server.hooks.add(HookPoint.INPUT, lambda p: Drop() if p.protocol == 6 else None, "blackhole")

    def client() -> Any:
        c = chain.client.socket.socket()
        try:
            c.connect((SERVER_IP, 80))
        except OSError as exc:
            return type(exc).__name__, exc.errno, str(exc), chain.net.now

    name, code, text, failed_at = run(chain, client)
    assert (name, code, text) == ("TimeoutError", errno.ETIMEDOUT, "[Errno 110] Connection timed out")
    opened = next(e.time_ns for e in chain.net.trace.select(EventKind.TCP, node="client") if e.info.what == "state")
    resent = [e.time_ns - opened for e in chain.net.trace.select(EventKind.TCP, node="client")
              if e.info.what == "retransmit"]
    assert resent == [s * S for s in (1, 3, 7, 15, 31, 63)]
    assert failed_at - opened == 127 * S
    syns = [t - opened for t, flags, *_ in tcp_sent(chain) if flags == 0x02]  # on the wire (after ARP when due)
    assert len(syns) == 7 and all(0 <= t - due < 10**7 for t, due in zip(syns, [0, *resent], strict=True))


def test_connect_fails_with_ehostunreach_when_the_last_router_cannot_arp() -> None:
    chain = build_chain()

    def client() -> Any:
        c = chain.client.socket.socket()
        try:
            c.connect(("10.0.2.99", 80))  # on r2's subnet, but nobody has it: r2's ARP fails
        except OSError as exc:
            return type(exc).__name__, exc.errno, str(exc), chain.net.now

    result = run(chain, client)
    icmp_in = next(e.time_ns for e in chain.net.trace.select(EventKind.RECEIVE, node="client", interface="eth0")
                   if e.frame[12:14] == b"\x08\x00" and e.frame[23] == 1)
    assert result == ("OSError", errno.EHOSTUNREACH, "[Errno 113] No route to host", icmp_in)


def test_so_keepalive_gives_up_after_nine_unanswered_probes() -> None:
    """Linux: probes at 7200 s idle, then every 75 s; after 9 unanswered, recv() raises ETIMEDOUT (7875 s)."""
    from layersim.net.ip.hooks import Drop, HookPoint

    chain = build_chain()
    srv = listener(chain)

    def client() -> Any:
        c = chain.client.socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.connect((SERVER_IP, 8080))
        _conn, _ = srv.accept()
        chain.r1.hooks.add(HookPoint.FORWARD, lambda packet: Drop())  # the path goes dark, silently
        try:
            c.recv(10)
        except OSError as exc:
            return type(exc).__name__, exc.errno, str(exc), chain.net.now

    name, code, text, failed_at = run(chain, client)
    assert (name, code, text) == ("TimeoutError", errno.ETIMEDOUT, "[Errno 110] Connection timed out")
    syn_ack_in = next(e.time_ns for e in chain.net.trace.select(EventKind.RECEIVE, node="client", interface="eth0")
                      if TCP in (p := decode(e.frame)) and int(p[TCP].flags) == 0x12)
    probes = [e.time_ns - syn_ack_in for e in chain.net.trace.select(EventKind.TCP, node="client")
              if e.info.what == "keepalive"]
    assert probes == [(7200 + 75 * i) * S for i in range(9)]
    assert failed_at - syn_ack_in == 7875 * S


@pytest.mark.parametrize(("unread", "expected"), [(False, (b"hi", b"")), (True, (b"hi", "ConnectionResetError"))])
def test_a_process_that_ends_without_close_closes_its_sockets(unread: bool, expected: tuple[Any, Any]) -> None:
    """exit(2) closes the files: FIN, or RST when unread data is left (as close() does)."""
    chain = build_chain()
    srv = listener(chain)

    def server() -> None:
        conn, _ = srv.accept()
        if not unread:
            assert conn.recv(100) == b"request"
        conn.sendall(b"hi")
        if unread:
            time.sleep(0.05)  # the request is there, unread, when the process ends
        # return with conn open

    def client() -> Any:
        c = chain.client.socket.socket()
        c.connect((SERVER_IP, 8080))
        c.sendall(b"request")
        first = c.recv(100)
        time.sleep(0.1)
        try:
            return first, c.recv(100)
        except OSError as exc:
            return first, type(exc).__name__

    chain.server.spawn(server)
    assert run(chain, client) == expected
