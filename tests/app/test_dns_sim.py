"""DNS on simulated hosts: the authoritative server and the host's stub resolver behind gethostbyname/getaddrinfo,
answers and CNAME chains, NXDOMAIN as socket.gaierror, timeout and retry across a lossy link at glibc's times,
and every DNS frame of the trace parsed by dnspython with the same id, question and answers as ours."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from layersim.app.dns_server import serve_dns
from layersim.app.host_dns import use_dns
from layersim.dns.zone import Zone
from layersim.net.engine.process import Process
from layersim.net.ip.hooks import ACCEPT, Drop, HookPacket, HookPoint
from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from layersim.wire.dns import DNS
from layersim.wire.packet import decode

NS, QUIET, WEB = "192.0.2.53", "192.0.3.9", "93.184.216.34"
ZONE = {"origin": "example.com", "ttl": 300,
        "soa": {"mname": "ns1", "rname": "hostmaster", "serial": 7, "refresh": 7200, "retry": 900,
                "expire": 1209600, "minimum": 60},
        "records": ["@ NS ns1", f"ns1 A {NS}", f"@ A {WEB}", "www CNAME @", "a 120 CNAME b", "b CNAME c",
                    "c A 198.51.100.7", "c A 198.51.100.8"]}
SECOND = 1_000_000_000
START = SECOND // 10  # when the client's lookups start (ns, simulated), on a fresh network


def _network(seed: int = 1, loss: float = 0.0, nameservers: tuple[str, ...] = (NS,)) -> Network:
    """client 10.0.0.2 - r - ns (the zone's server), and r - quiet (a host with no DNS server); `loss` on the
    client's link."""
    net = Network(seed=seed)
    client, router = net.add_host("client"), net.add_router("r")
    ns, quiet = net.add_host("ns"), net.add_host("quiet")
    net.link(client, router, a_ip="10.0.0.2/24", b_ip="10.0.0.1/24", delay="2ms", loss=loss)
    net.link(router, ns, a_ip="192.0.2.1/24", b_ip=f"{NS}/24", delay="3ms")
    net.link(router, quiet, a_ip="192.0.3.1/24", b_ip=f"{QUIET}/24", delay="3ms")
    use_dns(client, *nameservers)
    ns.spawn(serve_dns, ns.socket, Zone.from_dict(ZONE), spawn=ns.spawn, name="named")
    return net


def _run(net: Network, fn: Any, *args: Any) -> Process:
    """fn(*args) as a process on the client from START on a fresh network, run to its end."""
    assert net.now == 0
    proc = net.hosts["client"].spawn(fn, *args, at=START)
    net.run_until(lambda: proc.done, 3600 * SECOND)
    assert proc.done
    return proc


def _lookup(name: str) -> Any:
    """socket.gethostbyname(name) as the process sees it (the host's), or the socket.gaierror it raised.

    The module attribute is looked up inside the process: `socket.gethostbyname` evaluated in the test itself
    would be the real resolver."""
    try:
        return socket.gethostbyname(name)
    except socket.gaierror as exc:
        return exc


def _dns_frames(net: Network, node: str = "client", kinds: tuple[EventKind, ...] = (EventKind.SEND, EventKind.RECEIVE)
                ) -> list[tuple[int, bytes, dns.message.Message]]:
    """(time, frame, dnspython's parse of the DNS payload) of every DNS datagram `node` sent or received."""
    out = []
    for event in net.trace.events:
        frame = event.frame
        if event.node != node or event.kind not in kinds or frame is None:
            continue
        if frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        udp = 14 + (frame[14] & 0x0F) * 4
        if 53 not in (int.from_bytes(frame[udp:udp + 2], "big"), int.from_bytes(frame[udp + 2:udp + 4], "big")):
            continue
        out.append((event.time_ns, frame, dns.message.from_wire(frame[udp + 8:])))
    return out


def _queries(net: Network) -> list[tuple[int, bytes, dns.message.Message]]:
    """The queries the client sent, in order."""
    return [(t, f, m) for t, f, m in _dns_frames(net, kinds=(EventKind.SEND,)) if not m.flags & dns.flags.QR]


def _answers(message: dns.message.Message) -> list[tuple[str, str, int, str]]:
    return [(rrset.name.to_text(omit_final_dot=True), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl,
             rdata.to_text().rstrip(".")) for rrset in message.answer for rdata in rrset]


def test_gethostbyname_and_getaddrinfo_get_the_zones_answer() -> None:
    net = _network()
    proc = _run(net, lambda: (socket.gethostbyname("example.com"),
                              socket.getaddrinfo("ns1.example.com", 53, type=socket.SOCK_DGRAM)))
    name, info = proc.result
    assert name == WEB
    assert info == [(socket.AF_INET, socket.SOCK_DGRAM, 17, "", (NS, 53))]
    query, answer = (m for _, _, m in _dns_frames(net)[:2])
    assert query.flags & dns.flags.RD and not query.flags & dns.flags.QR
    assert answer.flags & dns.flags.AA and answer.id == query.id and answer.question == query.question
    assert _answers(answer) == [("example.com", "A", 300, WEB)]


def test_cname_chain_is_followed() -> None:
    net = _network()
    proc = _run(net, lambda: (socket.gethostbyname("www.example.com"), socket.gethostbyname("a.example.com")))
    assert proc.result == (WEB, "198.51.100.7")
    answers = [_answers(m) for _, _, m in _dns_frames(net) if m.flags & dns.flags.QR]
    assert answers == [
        [("www.example.com", "CNAME", 300, "example.com"), ("example.com", "A", 300, WEB)],
        [("a.example.com", "CNAME", 120, "b.example.com"), ("b.example.com", "CNAME", 300, "c.example.com"),
         ("c.example.com", "A", 300, "198.51.100.7"), ("c.example.com", "A", 300, "198.51.100.8")]]


def test_gethostbyname_ex_gives_canonical_name_and_aliases() -> None:
    net = _network()
    proc = _run(net, lambda: (socket.gethostbyname_ex("www.example.com"), socket.gethostbyname_ex("a.example.com")))
    assert proc.result == (("example.com", ["www.example.com"], [WEB]),
                           ("c.example.com", ["a.example.com", "b.example.com"], ["198.51.100.7", "198.51.100.8"]))


def test_nxdomain_is_gaierror_eai_noname_after_one_query() -> None:
    net = _network()
    proc = _run(net, _lookup, "nosuch.example.com")
    error = proc.result
    assert isinstance(error, socket.gaierror) and error.errno == socket.EAI_NONAME
    assert error.strerror == "Name or service not known"
    (_query, reply) = [m for _, _, m in _dns_frames(net)]
    assert reply.rcode() == dns.rcode.NXDOMAIN and reply.answer == []
    assert [rrset.rdtype for rrset in reply.authority] == [dns.rdatatype.SOA]
    assert reply.authority[0].ttl == 60, "the negative answer's TTL is the SOA minimum (RFC 2308 §3)"


def _first_query_lost_seed() -> int:
    """A seed whose first DNS query is lost on the client's link (30% loss) and whose retry is answered."""
    for seed in range(1, 200):
        net = _network(seed, 0.3)
        proc = _run(net, _lookup, "example.com")
        queries = _queries(net)
        lost = [e for e in net.trace.drops() if e.frame is not None and e.frame[12:14] == b"\x08\x00"]
        if proc.result == WEB and len(queries) == 2 and lost and lost[0].frame == queries[0][1]:
            return seed
    raise AssertionError("no seed below 200 loses exactly the first query")


def test_a_lost_query_is_sent_again_after_the_resolver_timeout() -> None:
    seed = _first_query_lost_seed()
    net = _network(seed, 0.3)
    proc = _run(net, _lookup, "example.com")
    assert proc.result == WEB
    (t0, first, q0), (t1, second, q1) = _queries(net)
    # The query is sent at once (it leaves the host after ARP for the gateway) and glibc's RES_TIMEOUT of 5 s,
    # counted from send(), passes before the same query goes again.
    assert 0 < t0 - START < 10_000_000
    assert t1 - START == 5 * SECOND, "glibc's RES_TIMEOUT: 5 s, then the next attempt"
    assert q0.id == q1.id and q0.question == q1.question and first[42:] == second[42:]
    answer_time = next(t for t, _, m in _dns_frames(net) if m.flags & dns.flags.QR)
    assert proc.ended_ns >= answer_time > t1


def _drop_dns(packet: HookPacket) -> Any:
    ports = packet.ports
    return Drop(detail="test: no DNS") if ports is not None and 53 in ports else ACCEPT


def test_no_answer_at_all_is_eai_again_after_two_attempts() -> None:
    net = _network()
    net.routers["r"].hooks.add(HookPoint.FORWARD, _drop_dns, "drop-dns")
    proc = _run(net, _lookup, "example.com")
    error = proc.result
    assert isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN
    times = [t for t, _, _ in _queries(net)]
    assert len(times) == 2 and times[1] - START == 5 * SECOND
    assert proc.ended_ns - START == 10 * SECOND, "two attempts of 5 s each"


def test_a_refusing_first_nameserver_sends_the_query_to_the_next_at_once() -> None:
    net = _network(nameservers=(QUIET, NS))
    proc = _run(net, _lookup, "example.com")
    assert proc.exception is None and proc.result == WEB
    queries = _queries(net)
    assert [IPv4Address(f[30:34]) for _, f, _ in queries] == [IPv4Address(QUIET), IPv4Address(NS)]
    assert queries[1][0] - queries[0][0] < SECOND // 10, "port unreachable moves on without waiting"
    refused = [e for e in net.trace.events if e.node == "client" and e.kind is EventKind.RECEIVE and e.frame
               and e.frame[23] == 1 and e.frame[34] == 3 and e.frame[35] == 3]
    assert len(refused) == 1


def test_every_dns_frame_parses_the_same_in_dnspython() -> None:
    net = _network()
    names = ["example.com", "www.example.com", "a.example.com", "nosuch.example.com", "ns1.example.com"]
    _run(net, lambda: [_lookup(n) for n in names])
    seen = 0
    for node in ("client", "ns", "r"):
        for _, frame, theirs in _dns_frames(net, node):
            ours = decode(frame)[DNS]
            assert theirs.id == ours.id and theirs.rcode() == ours.rcode
            assert [(q.name.to_text(omit_final_dot=True), q.rdtype) for q in theirs.question] == \
                [(q.name.rstrip("."), int(q.qtype)) for q in ours.questions]
            assert _answers(theirs) == [(r.name.rstrip("."), dns.rdatatype.to_text(int(r.rtype)), r.ttl,
                                         str(r.value).rstrip(".")) for r in ours.answers]
            seen += 1
    assert seen == 4 * 2 * len(names), "each query and answer, sent and received, on client, ns and both r ports"
