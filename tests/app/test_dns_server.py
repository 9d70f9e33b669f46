"""serve_dns on real loopback sockets, asked by dnspython's own client over UDP and TCP."""

from __future__ import annotations

import socket

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from layersim.app.dns_server import answer_bytes, serve_dns, serve_dns_tcp, serve_dns_udp
from layersim.app.serving import thread_spawn
from layersim.dns.zone import Zone
from tests.app.conftest import running

ZONE = Zone.from_dict({
    "origin": "example.com",
    "soa": {"mname": "ns1", "rname": "hostmaster"},
    "records": ["@ NS ns1", "ns1 A 192.0.2.53", "@ A 93.184.216.34", "www CNAME @",
                *(f"big A 10.0.{i}.1" for i in range(60))],
})


def test_udp_and_tcp_answers_to_dnspython() -> None:
    with running(serve_dns, socket, ZONE, ("127.0.0.1", 0)) as (host, port):
        reply = dns.query.udp(dns.message.make_query("www.example.com", "A"), host, port=port, timeout=5)
        assert [str(r.name) for r in reply.answer] == ["www.example.com.", "example.com."]
        assert reply.answer[1][0].address == "93.184.216.34"
        big = dns.query.udp(dns.message.make_query("big.example.com", "A"), host, port=port, timeout=5)
        assert big.flags & dns.flags.TC and not big.answer
        full = dns.query.tcp(dns.message.make_query("big.example.com", "A"), host, port=port, timeout=5)
        assert not full.flags & dns.flags.TC and len(full.answer[0]) == 60
        missing = dns.query.tcp(dns.message.make_query("nope.example.com", "A"), host, port=port, timeout=5)
        assert missing.rcode() == dns.rcode.NXDOMAIN


def test_several_queries_on_one_tcp_connection() -> None:
    with running(serve_dns, socket, ZONE, ("127.0.0.1", 0)) as address, \
            socket.create_connection(address, timeout=5) as conn:
        queries = [dns.message.make_query(name, "A") for name in ("example.com", "ns1.example.com")]
        conn.sendall(b"".join(len(w).to_bytes(2, "big") + w for w in (q.to_wire() for q in queries)))
        for query in queries:  # RFC 7766 §6.2.1: answers come back in order on the same connection
            reply, _ = dns.query.receive_tcp(conn, expiration=None)
            assert reply.id == query.id and reply.question == query.question


def test_malformed_query_gets_formerr_and_responses_are_ignored() -> None:
    with running(serve_dns, socket, ZONE, ("127.0.0.1", 0)) as address, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(bytes.fromhex("abcd0100000100000000000003"), address)  # question cut off
        reply = udp.recv(512)
        assert reply == bytes.fromhex("abcd8101") + bytes(8)  # same id, QR, RD kept, rcode FORMERR
        response = dns.message.make_response(dns.message.make_query("example.com", "A"))
        udp.sendto(response.to_wire(), address)
        udp.sendto(b"\x00\x01", address)
        udp.sendto(dns.message.make_query("example.com", "A", id=4242).to_wire(), address)
        assert dns.message.from_wire(udp.recv(512)).id == 4242  # the two before it got no answer


def test_answer_bytes_edges() -> None:
    assert answer_bytes(ZONE, b"") is None and answer_bytes(ZONE, bytes(11)) is None
    assert answer_bytes(ZONE, b"\x12\x34\x80" + bytes(9)) is None  # QR set
    formerr = answer_bytes(ZONE, b"\x12\x34\x01\x00" + b"\x00\x01" + bytes(6))  # qdcount 1, no question
    assert formerr is not None and dns.message.from_wire(formerr).rcode() == dns.rcode.FORMERR


def test_udp_only_and_tcp_only_servers() -> None:
    query = dns.message.make_query("example.com", "A")
    with running(serve_dns_udp, socket, ZONE, ("127.0.0.1", 0)) as (host, port):
        assert dns.query.udp(query, host, port=port, timeout=5).answer[0][0].address == "93.184.216.34"
        with pytest.raises(ConnectionRefusedError):  # nothing listens on TCP
            socket.create_connection((host, port), timeout=5).close()
    with running(serve_dns_tcp, socket, ZONE, ("127.0.0.1", 0), spawn=thread_spawn) as (host, port):
        assert dns.query.tcp(query, host, port=port, timeout=5).answer[0][0].address == "93.184.216.34"


def test_port_in_use_raises_and_closes() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        with pytest.raises(OSError):
            serve_dns(socket, ZONE, taken.getsockname(), stop=lambda: True)
