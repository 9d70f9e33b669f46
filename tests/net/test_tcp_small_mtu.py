"""TCP over tiny links: the advertised MSS is at least min_adv_mss (256), the send MSS at least 48 (Linux
TCP_MIN_SND_MSS), and segments larger than a 68-byte link go without DF and are fragmented, so a transfer with
timestamps completes at every MTU IPv4 allows; TCP_MAXSEG takes 88 and up, as Linux's setsockopt does."""

from __future__ import annotations

import errno
import random
import socket
from typing import Any

import pytest

from layersim.net.network import Network
from layersim.net.trace.details import DropReason
from layersim.net.trace.log import EventKind
from layersim.wire import IPv4, decode
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import MSS
from tests.net.conftest import ipv4_frames
from tests.net.test_tcp_stream_integrity import exchange

SIZE = 20_000
S = 1_000_000_000


def pair(mtu: int) -> tuple[Network, Any, Any]:
    """Two hosts on one link of the given MTU."""
    net = Network(seed=1)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24", mtu=mtu, queue=1000)  # room for the tiny segments
    return net, a, b


def run_transfer(mtu: int, *, maxseg: int | None = None) -> tuple[Network, bytes, bytes]:
    """20 kB each way at once, then both close; returns what the server and the client read."""
    net, a, b = pair(mtu)
    rng = random.Random(mtu)
    up, down = rng.randbytes(SIZE), rng.randbytes(SIZE)

    def server() -> bytes:
        lst = socket.socket()
        lst.bind(("", 80))
        lst.listen(1)
        conn, _ = lst.accept()
        got = exchange(conn, down)
        conn.close()
        return got

    def client() -> bytes:
        c = socket.socket()
        if maxseg is not None:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
        c.connect(("10.0.0.2", 80))
        got = exchange(c, up)
        c.close()
        return got

    srv, cli = b.spawn(server), a.spawn(client, at="1ms")
    net.run_until(lambda: srv.done and cli.done, timeout_ns=600 * S)
    for proc in (srv, cli):
        assert proc.done, f"{proc.name} stalled: {a.tcp.netstat()}\n{b.tcp.netstat()}"
        assert proc.exception is None, proc.traceback
    assert srv.result == up and cli.result == down
    net.run_until(lambda: False, timeout_ns=200 * S)  # TIME_WAIT runs out
    assert not a.tcp.connections and not b.tcp.connections  # both FIN handshakes completed
    return net, srv.result, cli.result


def tcp_segments(net: Network, where: str) -> list[tuple[IPv4, TCP, bytes]]:
    """The TCP segments (first fragments included) a node sent, decoded from the trace's frames."""
    out = []
    for frame in ipv4_frames(net, EventKind.SEND, where):
        packet = decode(frame)
        if TCP in packet:
            out.append((packet[IPv4], packet[TCP], packet.payload_of(TCP)))
    return out


def advertised_mss(segments: list[tuple[IPv4, TCP, bytes]]) -> int:
    """The MSS option of the SYN among the segments."""
    syn = next(tcp for _, tcp, _ in segments if int(tcp.flags) & 0x02)
    return next(o.value for o in syn.options if isinstance(o, MSS))


def delivered_segments(net: Network, where: str) -> list[tuple[IPv4, TCP, bytes]]:
    """The TCP segments delivered to a node's TCP, reassembled, decoded from the trace."""
    out = []
    for event in net.trace.select(EventKind.DELIVER, node=where):
        packet = decode(event.frame, first=IPv4)
        if TCP in packet:
            out.append((packet[IPv4], packet[TCP], packet.payload_of(TCP)))
    return out


def test_mtu_68_transfer_completes_both_ways_with_timestamps() -> None:
    """IPv4's smallest MTU: MSS 256 advertised (min_adv_mss), 48 used (36 bytes of data after the timestamps),
    every 88-byte segment sent without DF and fragmented to the link, both FIN handshakes done."""
    net, _, _ = run_transfer(68)
    for host, peer in (("a", "b"), ("b", "a")):
        assert advertised_mss(tcp_segments(net, host)) == 256
        fragments = [decode(f)[IPv4] for f in ipv4_frames(net, EventKind.SEND, host)]
        fragments = [ip for ip in fragments if ip.flags & 0x1 or ip.fragment_offset]
        assert fragments and not any(ip.flags & 0x2 for ip in fragments)  # fragmented, never DF
        data = [(tcp, payload) for _, tcp, payload in delivered_segments(net, peer) if payload]
        assert max(len(payload) for _, payload in data) == 36
        assert all(any(len(o.encode()) == 10 for o in tcp.options) for tcp, _ in data)  # timestamps on
    reasons = {e.details["reason"] for e in net.trace.select(EventKind.DROP)}
    assert not reasons & {DropReason.FRAGMENTATION_NEEDED, DropReason.MTU_EXCEEDED}


@pytest.mark.parametrize(("mtu", "payload"), [(88, 36), (89, 37), (576, 524)])
def test_small_mtus_send_full_segments_with_df(mtu: int, payload: int) -> None:
    """MTU 88 is the smallest that carries a 48-byte MSS whole: DF stays on and nothing is fragmented; each data
    segment is the MSS less 12 bytes of timestamps."""
    net, _, _ = run_transfer(mtu)
    data = [(ip, p) for ip, _, p in tcp_segments(net, "a") if p]
    assert max(len(p) for _, p in data) == payload
    assert all(ip.flags & 0x2 for ip, _ in data)
    assert not net.trace.select(EventKind.FRAGMENT)
    assert advertised_mss(tcp_segments(net, "a")) == max(mtu - 40, 256)


@pytest.mark.parametrize(("value", "ok"), [(87, False), (88, True), (0, True), (32767, True), (32768, False),
                                           (-1, False)])
def test_tcp_maxseg_takes_88_to_32767(value: int, ok: bool) -> None:
    """Linux do_tcp_setsockopt: TCP_MAXSEG below TCP_MIN_MSS (88) or above MAX_TCP_WINDOW is EINVAL; 0 unsets."""
    net, a, _ = pair(1500)
    result: list[Any] = []

    def program() -> None:
        s = socket.socket()
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, value)
        except OSError as exc:
            result.append(exc.errno)
        else:
            result.append(0)

    a.spawn(program)
    net.run_until(lambda: bool(result), timeout_ns=S)
    assert result == [0 if ok else errno.EINVAL]


def test_tcp_maxseg_88_is_advertised_and_used() -> None:
    """The smallest TCP_MAXSEG caps what the SYN advertises and what the connection sends (88 - 12 = 76)."""
    net, _, _ = run_transfer(1500, maxseg=88)
    segments = tcp_segments(net, "a")
    assert advertised_mss(segments) == 88
    assert max(len(p) for _, _, p in segments) == 76
