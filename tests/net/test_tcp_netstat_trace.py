"""host.netstat() against real `netstat -tan` for the same steps on loopback (Recv-Q, Send-Q, states), Send-Q and
Recv-Q during a transfer against the bytes on the wire, and the TCP state changes in the trace against the
segments that caused them."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from tests.net.conftest import SERVER_IP, Chain, build_chain

Row = tuple[int, int, str]  # Recv-Q, Send-Q, State


def parse(text: str) -> dict[tuple[str, str], Row]:
    """netstat -tan rows by (local, foreign): (Recv-Q, Send-Q, State)."""
    out = {}
    for line in text.splitlines():
        cells = line.split()
        if len(cells) == 6 and cells[0] == "tcp":
            out[(cells[3], cells[4])] = (int(cells[1]), int(cells[2]), cells[5])
    return out


def steps(sk: Any, ip: str, snap: Callable[[dict[str, tuple[str, str]]], Any], pause: Callable[[], None]) -> list[Any]:
    """Listener, two clients (one accepted), unread data, a close on each side; a netstat snapshot per step."""
    lst = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
    lst.bind(("", 0))
    lst.listen(4)
    port = lst.getsockname()[1]
    clients = [sk.socket(sk.AF_INET, sk.SOCK_STREAM) for _ in range(2)]
    for c in clients:
        c.connect((ip, port))
    conn, _ = lst.accept()
    mine = next(c for c in clients if c.getsockname() == conn.getpeername())
    other = next(c for c in clients if c is not mine)

    def name(s: Any) -> str:
        return f"{s.getsockname()[0]}:{s.getsockname()[1]}"

    def peer(s: Any) -> str:
        return f"{s.getpeername()[0]}:{s.getpeername()[1]}"

    roles = {"listener": (f"0.0.0.0:{port}", "0.0.0.0:*"), "client": (name(mine), peer(mine)),
             "server": (peer(mine), name(mine)), "waiting": (peer(other), name(other))}
    pause()
    shots = [snap(roles)]
    mine.sendall(b"x" * 1000)
    pause()
    shots.append(snap(roles))
    assert conn.recv(2000) == b"x" * 1000
    conn.close()  # the server closes first
    pause()
    shots.append(snap(roles))  # the FIN counts in Recv-Q until recv() has returned b""
    assert mine.recv(10) == b""
    shots.append(snap(roles))
    mine.close()
    pause()
    shots.append(snap(roles))
    return shots


EXPECTED = [
    {"listener": (1, 0, "LISTEN"), "client": (0, 0, "ESTABLISHED"), "server": (0, 0, "ESTABLISHED"),
     "waiting": (0, 0, "ESTABLISHED")},
    {"listener": (1, 0, "LISTEN"), "client": (0, 0, "ESTABLISHED"), "server": (1000, 0, "ESTABLISHED"),
     "waiting": (0, 0, "ESTABLISHED")},
    {"listener": (1, 0, "LISTEN"), "client": (1, 0, "CLOSE_WAIT"), "server": (0, 0, "FIN_WAIT2"),
     "waiting": (0, 0, "ESTABLISHED")},
    {"listener": (1, 0, "LISTEN"), "client": (0, 0, "CLOSE_WAIT"), "server": (0, 0, "FIN_WAIT2"),
     "waiting": (0, 0, "ESTABLISHED")},
    {"listener": (1, 0, "LISTEN"), "client": None, "server": (0, 0, "TIME_WAIT"), "waiting": (0, 0, "ESTABLISHED")},
]


def pick(table: dict[tuple[str, str], Row], roles: dict[str, tuple[str, str]]) -> dict[str, Row | None]:
    return {role: table.get(key) for role, key in roles.items()}


@pytest.mark.skipif(shutil.which("netstat") is None, reason="needs net-tools' netstat")
def test_real_netstat_shows_the_expected_rows() -> None:
    def snap(roles: dict[str, tuple[str, str]]) -> Any:
        text = subprocess.run(["netstat", "-tan"], capture_output=True, text=True, check=True).stdout
        table = parse(text)
        # on loopback the listener and both ends have 127.0.0.1 addresses; the listener is bound to 0.0.0.0
        return pick(table, roles)

    assert steps(socket, "127.0.0.1", snap, lambda: time.sleep(0.05)) == EXPECTED


def test_host_netstat_shows_what_linux_netstat_shows() -> None:
    chain = build_chain()

    def snap(roles: dict[str, tuple[str, str]]) -> Any:
        return pick({**parse(chain.client.netstat()), **parse(chain.server.netstat())}, roles)

    def pause() -> None:
        time.sleep(0.05)

    # the listener on the server, the clients on the client host (so the addresses are the chain's)
    class Both:
        """socket.socket on the server for the listener, on the client for the rest."""

        AF_INET, SOCK_STREAM = socket.AF_INET, socket.SOCK_STREAM
        made = 0

        def socket(self, *args: Any) -> Any:
            host = chain.server if Both.made == 0 else chain.client
            Both.made += 1
            return host.socket.socket(*args)

    proc = chain.client.spawn(steps, Both(), SERVER_IP, snap, pause)
    chain.net.run_until(lambda: proc.done, timeout_ns=10**10)
    assert proc.exception is None, proc.traceback
    assert proc.result == EXPECTED
    header = chain.server.netstat().splitlines()[0].split()
    assert header == ["Proto", "Recv-Q", "Send-Q", "Local", "Address", "Foreign", "Address", "State"]


def stuffed(sk: Any, ip: str, table: Callable[[], dict[tuple[str, str], Row]], pause: Callable[[], None]) -> Any:
    """A sender fills the buffers of a receiver that never reads, then shuts down its write side."""
    lst = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
    lst.bind(("", 0))
    lst.listen(1)
    c = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
    c.connect((ip, lst.getsockname()[1]))
    _conn, _ = lst.accept()  # kept open, never read
    c.setblocking(False)
    written = 0
    for _ in range(10_000):
        try:
            written += c.send(b"z" * 65536)
        except BlockingIOError:
            pause()
            try:
                written += c.send(b"z" * 65536)
            except BlockingIOError:
                break
    pause()
    key = (f"{c.getsockname()[0]}:{c.getsockname()[1]}", f"{c.getpeername()[0]}:{c.getpeername()[1]}")
    before = table()
    c.shutdown(sk.SHUT_WR)
    pause()
    after = table()
    sender, receiver = before[key], before[key[::-1]]
    return (sender[2], receiver[2], sender[0], receiver[1], receiver[0] + sender[1] == written, after[key][2],
            after[key][1] - sender[1], after[key[::-1]])


STUFFED = ("ESTABLISHED", "ESTABLISHED", 0, 0, True, "FIN_WAIT1", 1)


@pytest.mark.skipif(shutil.which("netstat") is None, reason="needs net-tools' netstat")
def test_real_netstat_counts_every_written_byte_and_the_fin() -> None:
    def table() -> dict[tuple[str, str], Row]:
        return parse(subprocess.run(["netstat", "-tan"], capture_output=True, text=True, check=True).stdout)

    result = stuffed(socket, "127.0.0.1", table, lambda: time.sleep(0.1))
    assert result[:7] == STUFFED and result[7][2] == "ESTABLISHED"


def test_host_netstat_counts_every_written_byte_and_the_fin() -> None:
    """Recv-Q at the receiver plus Send-Q at the sender is every byte written; the FIN adds one to Send-Q."""
    chain = build_chain()

    class Both:
        AF_INET, SOCK_STREAM, SHUT_WR = socket.AF_INET, socket.SOCK_STREAM, socket.SHUT_WR
        made = 0

        def socket(self, *args: Any) -> Any:
            Both.made += 1
            return (chain.server if Both.made == 1 else chain.client).socket.socket(*args)

    def table() -> dict[tuple[str, str], Row]:
        return {**parse(chain.client.netstat()), **parse(chain.server.netstat())}

    proc = chain.client.spawn(stuffed, Both(), SERVER_IP, table, lambda: time.sleep(2))
    chain.net.run_until(lambda: proc.done, timeout_ns=10**12)
    assert proc.exception is None, proc.traceback
    assert proc.result[:7] == STUFFED and proc.result[7][2] == "ESTABLISHED"


def _wire_bytes(chain: Chain, node: str, kind: EventKind, until: int, sport: int | None = None,
                dport: int | None = None) -> list[TCP]:
    out = []
    for event in chain.net.trace.select(kind, node=node, interface="eth0"):
        if event.time_ns > until:
            break
        packet = decode(event.frame)
        if TCP in packet and (sport is None or packet[TCP].sport == sport) and \
                (dport is None or packet[TCP].dport == dport):
            out.append((packet[TCP], len(packet.payload_of(TCP))))
    return out


def test_queues_during_a_transfer_match_the_bytes_on_the_wire() -> None:
    """Mid-transfer: the server's Send-Q is what it wrote less what the client's ACKs (received by then)
    acknowledged; the client's Recv-Q is what arrived in order and was not read."""
    chain = build_chain(link_b={"bandwidth": "10Mbit"})
    total = 300_000
    shots: list[tuple[int, str, str]] = []

    def server() -> None:
        lst = socket.socket()
        lst.bind(("", 80))
        lst.listen(1)
        conn, _ = lst.accept()
        conn.sendall(b"y" * total)
        conn.close()

    def client() -> int:
        c = socket.socket()
        c.connect((SERVER_IP, 80))
        for _ in range(3):
            time.sleep(0.04)
            shots.append((chain.net.now, chain.client.netstat(), chain.server.netstat()))
        got = 0
        while chunk := c.recv(65536):
            got += len(chunk)
        return got

    srv = chain.server.spawn(server)
    cli = chain.client.spawn(client, at="1ms")
    chain.net.run_until(lambda: srv.done and cli.done, timeout_ns=60 * 10**9)
    assert cli.result == total and srv.exception is None
    equal: list[bool] = []
    for now, client_text, server_text in shots:
        (client_row,) = [r for (local, _), r in parse(client_text).items() if local.endswith(":80") is False]
        (server_row,) = [r for (local, foreign), r in parse(server_text).items() if foreign != "0.0.0.0:*"]
        arrived = _wire_bytes(chain, "client", EventKind.RECEIVE, now, sport=80)
        isn = next(tcp.seq for tcp, _ in arrived if tcp.flags & 0x02)
        in_order = max((tcp.seq - isn - 1 + length) % 2**32 for tcp, length in arrived if length)
        acks = _wire_bytes(chain, "server", EventKind.RECEIVE, now, dport=80)
        acked = max((tcp.ack - isn - 1) % 2**32 for tcp, _ in acks if tcp.flags & 0x10)
        assert client_row == (in_order, 0, "ESTABLISHED")  # nothing read yet; no loss, so all in order
        assert server_row[0] == 0 and server_row[2] == ("FIN_WAIT1" if now > srv.ended_ns else "ESTABLISHED")
        fin = int(server_row[2] == "FIN_WAIT1")  # Linux counts the FIN in write_seq, so in Send-Q
        sent = _wire_bytes(chain, "server", EventKind.SEND, now, sport=80)
        sent_end = max((tcp.seq - isn - 1 + length) % 2**32 for tcp, length in sent if length)
        # Send-Q: written by the application and not yet acknowledged - at least what is in flight, at most all
        # of the write that is not acknowledged (sendall blocks while the send buffer is full)
        assert sent_end - acked <= server_row[1] - fin <= total - acked
        equal.append(server_row[1] == total - acked + fin)
    assert shots[0][1] != shots[-1][1]
    assert equal[-1] and not equal[0]  # at first the write did not fit the send buffer; at the end all of it did


def _states(chain: Chain, node: str) -> list[tuple[int, str, str]]:
    return [(e.time_ns, dict(e.info.facts)["old"], dict(e.info.facts)["new"])
            for e in chain.net.trace.select(EventKind.TCP, node=node) if e.info.what == "state"]


def test_state_changes_in_the_trace_happen_when_their_segments_arrive() -> None:
    chain = build_chain()

    def server() -> None:
        lst = socket.socket()
        lst.bind(("", 80))
        lst.listen(1)
        conn, _ = lst.accept()
        conn.sendall(b"hello")
        conn.close()

    def client() -> None:
        c = socket.socket()
        c.connect((SERVER_IP, 80))
        while c.recv(100):
            pass
        c.close()

    chain.server.spawn(server)
    chain.client.spawn(client, at="1ms")
    chain.net.run_until_idle()

    def arrivals(node: str) -> dict[str, int]:
        """The time each kind of segment first arrived at `node` (by its flags)."""
        seen: dict[str, int] = {}
        for event in chain.net.trace.select(EventKind.RECEIVE, node=node, interface="eth0"):
            packet = decode(event.frame)
            if TCP not in packet:
                continue
            tcp = packet[TCP]
            flags = int(tcp.flags)
            kind = "SA" if flags & 0x12 == 0x12 else "S" if flags & 0x02 else "F" if flags & 0x01 else "A"
            seen.setdefault(kind, event.time_ns)
            if kind == "A":
                seen["last A"] = event.time_ns
        return seen

    at_client, at_server = arrivals("client"), arrivals("server")
    client_states, server_states = _states(chain, "client"), _states(chain, "server")
    assert [(old, new) for _, old, new in client_states] == [
        ("CLOSED", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "CLOSE_WAIT"),
        ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSED")]
    assert [(old, new) for _, old, new in server_states] == [
        ("LISTEN", "SYN_RECEIVED"), ("SYN_RECEIVED", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT_1"),
        ("FIN_WAIT_1", "TIME_WAIT"), ("TIME_WAIT", "CLOSED")]  # the client's FIN carries the ACK of ours
    assert client_states[1][0] == at_client["SA"] and client_states[2][0] == at_client["F"]
    assert client_states[4][0] == at_client["last A"]
    assert server_states[0][0] == at_server["S"] and server_states[3][0] == at_server["F"]
    assert server_states[4][0] - server_states[3][0] == 60 * 10**9  # TIME_WAIT lasts 60 s on Linux
