"""ECN (RFC 3168; net.ipv4.tcp_ecn): negotiation in the handshake, ECT(0) on new data, CE echoed with ECE until
CWR, one cwnd reduction per window (Linux tcp_ecn_check_ce, tcp_ecn_accept_cwr, tcp_enter_cwr)."""

from __future__ import annotations

import socket
from dataclasses import replace

from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from layersim.tcp import LINUX, RFC
from layersim.wire import IPv4, decode
from layersim.wire.tcp import TCP
from tests.net.conftest import ipv4_frames
from tests.tcp.pair import MS, TCPPair, drop_where

ASK = replace(LINUX, tcp_ecn=1)
ECE, CWR = 0x40, 0x80
MSS = 1448


def flags(seg) -> int:
    return int(seg.tcp.flags)


def test_a_client_with_tcp_ecn_1_asks_and_a_linux_server_accepts():
    p = TCPPair(client_profile=ASK, wire=True).open()
    syn, synack = p.sent("c>s")[0].segment, p.sent("s>c")[0].segment
    assert flags(syn) == 0x02 | ECE | CWR and flags(synack) == 0x12 | ECE  # RFC 3168 §6.1.1
    assert p.client._ecn_ok and p.server._ecn_ok


def test_tcp_ecn_2_does_not_ask_and_0_does_not_accept():
    p = TCPPair(wire=True).open()
    assert flags(p.sent("c>s")[0].segment) == 0x02 and not p.server._ecn_ok
    q = TCPPair(client_profile=ASK, server_profile=RFC, wire=True).open()
    assert flags(q.sent("s>c")[0].segment) == 0x12 and not q.client._ecn_ok


def test_ect_only_on_new_data():
    """ECT(0) on data, never on pure ACKs or on a retransmission (RFC 3168 §6.1.5)."""
    p = TCPPair(client_profile=ASK, wire=True).open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and bool(s.payload)))
    p.send("c", bytes(3 * MSS))
    p.run_for(1000 * MS)
    data = [s.segment for s in p.sent("c>s") if s.segment.payload]
    assert [seg.ect for seg in data if not seg.retransmission] == [True] * 3
    assert [seg.ect for seg in data if seg.retransmission] and not any(seg.ect for seg in data if seg.retransmission)
    assert not any(s.segment.ect for s in p.log if not s.segment.payload)


def test_ce_is_echoed_until_cwr_and_the_sender_reduces_once():
    p = TCPPair(client_profile=ASK, wire=True).open()
    p.send("c", bytes(20 * MSS))
    p.run_for(30 * MS)
    client, server = p.client, p.server
    cwnd = client.cwnd
    seg = next(s.segment for s in p.sent("c>s") if s.segment.payload)
    marked = server.receive(seg.tcp, seg.payload, p.now, ce=True)  # a router marked it Congestion Experienced
    assert marked and all(flags(a) & ECE for a in marked)
    assert [e.details["phase"] for e in server.drain_events() if e.kind == "ecn"] == ["ce"]
    p.transmit("s>c", marked)
    p.run_for(6 * MS)  # the ECE reaches the client
    p.send("c", bytes(20 * MSS))
    p.run_for(30 * MS)
    reduced = [e.details for e in p.events if e.kind == "cwnd" and e.details["reason"] == "ecn"]
    assert len(reduced) == 1 and reduced[0]["cwnd"] == reduced[0]["ssthresh"] == int(cwnd * 0.7)
    after = [s.segment for s in p.sent("c>s") if s.segment.payload and s.time > seg_time(p, marked)]
    assert flags(after[0]) & CWR and not any(flags(s) & CWR for s in after[1:])  # CWR once, on new data
    assert not server._ecn_ece  # the CWR ended the echo
    cwr_at = next(s.time for s in p.sent("c>s") if s.segment.payload and flags(s.segment) & CWR) + p.delay_ns
    before = [s.segment for s in p.sent("s>c") if seg_time(p, marked) <= s.time < cwr_at]
    later = [s.segment for s in p.sent("s>c") if s.time >= cwr_at]
    assert before and all(flags(a) & ECE for a in before)  # every ACK until then says ECE
    assert later and not any(flags(a) & ECE for a in later)


def seg_time(p: TCPPair, segs) -> int:
    return next(s.time for s in p.log if s.segment is segs[0])


def test_hosts_put_ect0_in_the_ip_header_of_data_only():
    """Through real hosts: the IP header's ECN field is ECT(0) (2) on data, Not-ECT (0) on ACKs (RFC 3168 §5)."""
    net = Network(seed=1)
    a, b = net.add_host("a", tcp=ASK), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")

    def server() -> bytes:
        lst = socket.socket()
        lst.bind(("", 80))
        lst.listen(1)
        conn, _ = lst.accept()
        got = b""
        while chunk := conn.recv(65536):
            got += chunk
        conn.close()
        return got

    def client() -> None:
        c = socket.socket()
        c.connect(("10.0.0.2", 80))
        c.sendall(bytes(10_000))
        c.close()

    srv, cli = b.spawn(server), a.spawn(client, at="1ms")
    net.run_until(lambda: srv.done and cli.done, timeout_ns=10 * 10**9)
    assert srv.result == bytes(10_000)
    seen = set()
    for frame in ipv4_frames(net, EventKind.SEND, "a") + ipv4_frames(net, EventKind.SEND, "b"):
        packet = decode(frame)
        if TCP in packet:
            seen.add((bool(packet.payload_of(TCP)), packet[IPv4].ecn))
    assert seen == {(True, 2), (False, 0)}
