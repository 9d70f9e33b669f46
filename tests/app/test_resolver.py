"""The stub resolver: its protocol decisions without I/O, then lookups over real loopback sockets against
serve_dns and scripted servers that drop, refuse or garble, checked against glibc's behaviour and codes."""

from __future__ import annotations

import ctypes
import random
import socket
import time
from collections.abc import Callable
from ipaddress import IPv4Address

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from layersim.app.dns_server import answer_bytes, serve_dns, serve_dns_tcp
from layersim.app.resolver import (
    STRERROR,
    GaiError,
    HostEntry,
    ReplyKind,
    ResolveError,
    Resolver,
    ResolverConfig,
    build_query,
    parse_hosts,
    read_reply,
    server_timeout,
)
from layersim.app.serving import Stop
from layersim.dns.zone import Zone
from tests.app.conftest import running

ZONE = Zone.from_dict({
    "origin": "example.com",
    "soa": {"mname": "ns1", "rname": "hostmaster"},
    "records": ["@ NS ns1", "ns1 A 192.0.2.53", "@ A 93.184.216.34", "www CNAME @", "mail MX 10 ns1",
                *(f"big A 10.0.{i}.1" for i in range(60))],
})
Script = Callable[[int, bytes], list[bytes]]  # (number of the query, its bytes) -> datagrams to send back


def scripted_udp(log: list[tuple[bytes, tuple[str, int], str]], script: Script,
                 address: tuple[str, int] = ("127.0.0.1", 0), *, stop: Stop,
                 ready: Callable[[tuple[str, int]], object]) -> None:
    """A UDP server that records each query (with the address it listens on) and answers as `script` says."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(0.02)
        ready(sock.getsockname())
        while not stop():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            log.append((data, peer, sock.getsockname()[0]))
            for out in script(len(log), data):
                sock.sendto(out, peer)


def resolver(*servers: tuple[str, int], seed: int = 1, **options: object) -> Resolver:
    """A resolver on real sockets asking `servers` (all on one port, as loopback tests need)."""
    ports = {port for _, port in servers}
    assert len(ports) == 1
    return Resolver(socket, [host for host, _ in servers], rng=random.Random(seed), clock=time.monotonic,
                    port=ports.pop(), **options)  # type: ignore[arg-type]


def answer(data: bytes) -> list[bytes]:
    """The zone's answer, as a script step."""
    reply = answer_bytes(ZONE, data)
    return [reply] if reply else []


# Without I/O -----------------------------------------------------------------------------------------------
def test_query_is_what_glibc_sends() -> None:
    query = dns.message.from_wire(build_query("www.example.com", 0xBEEF))
    assert query.id == 0xBEEF and dns.flags.to_text(query.flags) == "RD" and query.edns == -1
    assert [(str(q.name), q.rdtype) for q in query.question] == [("www.example.com.", 1)]


def reply_to(name: str, *, rcode: int = 0, flags: int = dns.flags.QR | dns.flags.AA | dns.flags.RD,
             answers: list[str] = (), query_id: int = 5, rdtype: str = "A") -> bytes:
    """A response built by dnspython: answers given as zone-file lines."""
    query = dns.message.make_query(name, rdtype, id=query_id)
    response = dns.message.make_response(query)
    response.flags = flags
    response.set_rcode(rcode)
    for line in answers:
        owner, ttl, rtype, value = line.split()
        response.answer.append(dns.rrset.from_text(owner, int(ttl), "IN", rtype, value))
    return response.to_wire()


def test_reply_classification() -> None:
    name = "www.example.com"
    assert read_reply(b"\x00\x05\x81", 5, name).kind is ReplyKind.IGNORE  # short
    assert read_reply(reply_to(name, query_id=6), 5, name).kind is ReplyKind.IGNORE  # another id
    assert read_reply(reply_to(name, flags=dns.flags.RD), 5, name).kind is ReplyKind.IGNORE  # not a response
    assert read_reply(reply_to("mail.example.com"), 5, name).kind is ReplyKind.IGNORE  # another question
    assert read_reply(reply_to(name, rdtype="AAAA"), 5, name).kind is ReplyKind.IGNORE
    assert read_reply(reply_to("WWW.Example.com"), 5, name).kind is ReplyKind.FINAL  # names ignore case
    for rcode in (dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED):
        assert read_reply(reply_to(name, rcode=rcode), 5, name).kind is ReplyKind.NEXT_SERVER
    referral = reply_to(name, flags=dns.flags.QR | dns.flags.RD)  # no AA, no RA, nothing in it
    assert read_reply(referral, 5, name).kind is ReplyKind.NEXT_SERVER
    truncated = reply_to(name, flags=dns.flags.QR | dns.flags.AA | dns.flags.TC)
    assert read_reply(truncated, 5, name).kind is ReplyKind.TRUNCATED
    nx = read_reply(reply_to(name, rcode=dns.rcode.NXDOMAIN), 5, name)
    assert (nx.kind, nx.rcode, nx.addresses) == (ReplyKind.FINAL, dns.rcode.NXDOMAIN, ())


def test_cname_chain_is_followed_in_answer_order() -> None:
    data = reply_to("www.example.com", answers=[
        "www.example.com. 60 CNAME web.example.com.", "other.example.com. 60 A 10.9.9.9",
        "web.example.com. 60 CNAME example.com.", "example.com. 60 A 10.0.0.2", "example.com. 60 A 10.0.0.1"])
    reply = read_reply(data, 5, "www.example.com")
    assert reply.kind is ReplyKind.FINAL and reply.canonical == "example.com"
    assert reply.aliases == ("www.example.com", "web.example.com")
    assert reply.addresses == (IPv4Address("10.0.0.2"), IPv4Address("10.0.0.1"))  # not the unrelated one


def test_server_timeout_follows_glibc_send_dg() -> None:
    assert [server_timeout(5, i, 1) for i in range(1)] == [5]
    assert [server_timeout(5, i, 2) for i in range(2)] == [5, 5]  # (5 << 1) / 2
    assert [server_timeout(6, i, 3) for i in range(3)] == [6, 4, 8]  # 6, 12/3, 24/3
    assert server_timeout(0, 0, 1) == 1  # "if (seconds <= 0) seconds = 1"


def test_resolv_conf_and_hosts_parsing() -> None:
    config = ResolverConfig.parse("# comment\nsearch lan\nnameserver 10.0.0.53\nnameserver bogus\n"
                                  "nameserver 10.0.0.54\nnameserver 10.0.0.55\nnameserver 10.0.0.56\n"
                                  "options ndots:1 timeout:99 attempts:9\n")
    assert config.nameservers == [IPv4Address(f"10.0.0.{n}") for n in (53, 54, 55)]  # MAXNS
    assert (config.timeout, config.attempts) == (30, 5)  # RES_MAXRETRANS, RES_MAXRETRY
    assert (ResolverConfig.parse("").timeout, ResolverConfig.parse("").attempts) == (5.0, 2)
    hosts = parse_hosts("127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.0.0.9 web web.lan # x\n"
                        "10.0.0.8 web\nbad line\n")
    assert hosts == {"localhost": IPv4Address("127.0.0.1"), "web": IPv4Address("10.0.0.9"),
                     "web.lan": IPv4Address("10.0.0.9")}


def test_error_codes_and_texts_are_glibcs() -> None:
    assert {e.name: int(e) for e in GaiError} == {
        name: getattr(socket, name) for name in ("EAI_NONAME", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA")}
    libc = ctypes.CDLL(None)
    libc.gai_strerror.restype = ctypes.c_char_p
    for code, text in STRERROR.items():
        assert libc.gai_strerror(int(code)).decode() == text


# Over loopback -----------------------------------------------------------------------------------------
def test_lookups_against_serve_dns() -> None:
    with running(serve_dns, socket, ZONE, ("127.0.0.1", 0)) as server:
        r = resolver(server, timeout=2)
        assert r.resolve("www.example.com") == [IPv4Address("93.184.216.34")]
        assert r.lookup("WWW.example.com") == HostEntry("example.com", ("www.example.com",),
                                                        (IPv4Address("93.184.216.34"),))
        assert r.resolve("big.example.com.") == [IPv4Address(f"10.0.{i}.1") for i in range(60)]  # via TCP
        with pytest.raises(ResolveError) as nx:
            r.resolve("nope.example.com")
        assert nx.value.errno == socket.EAI_NONAME and nx.value.strerror == "Name or service not known"
        with pytest.raises(ResolveError) as nodata:
            r.resolve("mail.example.com")
        assert nodata.value.errno == socket.EAI_NODATA
        with pytest.raises(ResolveError) as refused:
            r.resolve("example.org")
        assert refused.value.errno == socket.EAI_AGAIN and "REFUSED" in str(refused.value)


def test_hosts_and_numeric_names_send_no_query() -> None:
    log: list = []
    with running(scripted_udp, log, lambda n, data: answer(data)) as server:
        r = resolver(server, hosts={"Web.Lan": "10.1.1.1"})
        assert r.resolve("web.lan.") == [IPv4Address("10.1.1.1")]
        assert r.resolve("192.0.2.7") == [IPv4Address("192.0.2.7")]
        with pytest.raises(ResolveError) as bad:
            r.resolve("a..b")
        assert bad.value.errno == socket.EAI_NONAME
        assert log == []
        assert r.resolve("example.com") == [IPv4Address("93.184.216.34")]
        assert len(log) == 1


def test_first_query_dropped_then_answered_on_retry() -> None:
    log: list = []
    with running(scripted_udp, log, lambda n, data: [] if n == 1 else answer(data)) as server:
        r = resolver(server, seed=7, timeout=0.3, attempts=2)
        assert r.resolve("www.example.com") == [IPv4Address("93.184.216.34")]
    assert len(log) == 2
    (first, peer1, _), (second, peer2, _) = log
    assert first == second  # the same query, id and all, as glibc resends its buffer
    assert int.from_bytes(first[:2], "big") == random.Random(7).getrandbits(16)
    assert peer1 == peer2  # from the same socket (glibc keeps one per server for the lookup)


def test_no_answer_at_all_is_eai_again_after_every_attempt() -> None:
    log: list = []
    with running(scripted_udp, log, lambda n, data: []) as server, pytest.raises(ResolveError) as timeout:
        resolver(server, timeout=0.1, attempts=3).resolve("example.com")
    assert timeout.value.errno == socket.EAI_AGAIN
    assert timeout.value.strerror == "Temporary failure in name resolution"
    assert len(log) == 3


def free_port() -> int:
    """A UDP port free on the loopback addresses used here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def servfail(n: int, data: bytes) -> list[bytes]:
    """SERVFAIL to the query, same id and question."""
    response = dns.message.make_response(dns.message.from_wire(data))
    response.set_rcode(dns.rcode.SERVFAIL)
    return [response.to_wire()]


@pytest.mark.parametrize("script", [lambda n, data: [], servfail], ids=["silent", "servfail"])
def test_every_server_asked_in_turn_each_attempt(script: Script) -> None:
    log: list = []
    port = free_port()
    with running(scripted_udp, log, script, ("127.0.0.1", port)), \
            running(scripted_udp, log, script, ("127.0.0.2", port)):
        r = Resolver(socket, ["127.0.0.1", "127.0.0.2"], rng=random.Random(3), clock=time.monotonic,
                     port=port, timeout=0.1, attempts=2)
        with pytest.raises(ResolveError) as failed:
            r.resolve("example.com")
    assert failed.value.errno == socket.EAI_AGAIN
    assert [server for _, _, server in log] == ["127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"]
    if script is servfail:  # glibc closes the socket after a rejecting answer: the retry comes from a new one
        assert log[0][1] != log[2][1]
    else:
        assert log[0][1] == log[2][1]


class RecordingSockets:
    """A socket module for the resolver: real sockets whose calls and errors are written to `calls`."""

    AF_INET, SOCK_DGRAM, SOCK_STREAM = socket.AF_INET, socket.SOCK_DGRAM, socket.SOCK_STREAM

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def socket(self, family: int, kind: int) -> object:
        real, calls = socket.socket(family, kind), self.calls

        class Recorded:
            """The real socket's methods, each call logged."""

            def __getattr__(self, name: str) -> object:
                method = getattr(real, name)

                def call(*args: object) -> object:
                    try:
                        result = method(*args)
                    except OSError as exc:
                        calls.append((name, type(exc)))
                        raise
                    calls.append((name, args[0] if name == "connect" else None))
                    return result
                return call
        return Recorded()


def test_refused_port_moves_on_to_the_next_server() -> None:
    port = free_port()
    # Nothing listens on 127.0.0.2:port (ICMP port unreachable: ECONNREFUSED on the connected socket, at
    # once); the zone's server listens on 127.0.0.1:port.
    sockets = RecordingSockets()
    with running(serve_dns, socket, ZONE, ("127.0.0.1", port)):
        r = Resolver(sockets, ["127.0.0.2", "127.0.0.1"], rng=random.Random(1), clock=time.monotonic,
                     port=port, timeout=30)
        assert r.resolve("example.com") == [IPv4Address("93.184.216.34")]
    connects = [arg for name, arg in sockets.calls if name == "connect"]
    assert connects == [("127.0.0.2", port), ("127.0.0.1", port)]
    assert ("recv", ConnectionRefusedError) in sockets.calls
    assert sockets.calls.count(("close", None)) == 2  # the refused socket at once, the other at the end


def test_refused_rcode_moves_on_to_the_next_server() -> None:
    other = Zone.from_dict({"origin": "example.org", "records": ["@ A 192.0.2.1"]})
    port = free_port()
    with running(serve_dns, socket, other, ("127.0.0.2", port)), \
            running(serve_dns, socket, ZONE, ("127.0.0.1", port)):
        r = Resolver(socket, ["127.0.0.2", "127.0.0.1"], rng=random.Random(1), clock=time.monotonic,
                     port=port, timeout=2)
        assert r.resolve("www.example.com") == [IPv4Address("93.184.216.34")]


def test_reply_with_wrong_id_is_ignored_until_the_right_one() -> None:
    def script(n: int, data: bytes) -> list[bytes]:
        good = answer(data)[0]
        wrong = bytes((good[0] ^ 0xFF,)) + good[1:]
        return [wrong, good]

    log: list = []
    with running(scripted_udp, log, script) as server:
        assert resolver(server, timeout=2).resolve("example.com") == [IPv4Address("93.184.216.34")]
    assert len(log) == 1


def test_truncated_answer_retried_over_tcp_to_the_same_server() -> None:
    def truncated(n: int, data: bytes) -> list[bytes]:
        reply = bytearray(answer(data)[0])
        reply[2] |= 0x02  # TC on a short answer: the resolver must not use it
        return [bytes(reply)]

    log: list = []
    port = free_port()
    with running(scripted_udp, log, truncated, ("127.0.0.2", port)), \
            running(serve_dns_tcp, socket, ZONE, ("127.0.0.2", port)):
        r = Resolver(socket, ["127.0.0.2"], rng=random.Random(1), clock=time.monotonic, port=port, timeout=2)
        assert r.resolve("www.example.com") == [IPv4Address("93.184.216.34")]
    assert len(log) == 1  # one UDP query, then TCP
