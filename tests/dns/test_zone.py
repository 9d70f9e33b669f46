"""Zone answers checked byte for byte against real BIND 9 answers, and parsed by dnspython as an independent
reader: rcode, flags and every record of CNAME chains, NXDOMAIN, NODATA, REFUSED, referrals and truncation."""

from __future__ import annotations

from ipaddress import IPv4Address

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from layersim.dns.zone import EDNS_UDP_SIZE, UDP_LIMIT, Zone, ZoneError
from layersim.wire.dns import DNS, DNSOpcode, DNSRecord, DNSType
from layersim.wire.packet import Packet
from tests.wire.test_dns import BIND_CNAME_CHAIN, BIND_EDNS, BIND_MX, BIND_NXDOMAIN, BIND_QUERY

# The zone file BIND 9.18 served for the answers in tests/wire/test_dns.py, in layersim's TOML form.
BIND_ZONE = """
origin = "example.com"
ttl = 3600
records = [
    "@ NS ns1", "ns1 A 192.0.2.53", "@ A 93.184.216.34", "@ AAAA 2606:2800:220:1:248:1893:25c8:1946",
    "www CNAME example.com.", "web CNAME www", "@ MX 10 mail", "mail A 192.0.2.25", '@ TXT "v=spf1 -all"',
]

[soa]
mname = "ns1"
rname = "hostmaster"
serial = 1
refresh = 7200
retry = 900
expire = 1209600
minimum = 300
"""
UDP = 42  # Ethernet + IPv4 + UDP headers before the DNS message in the golden frames


def zone() -> Zone:
    """A zone with every shape of answer: chains, a loop, a delegation, a name with many addresses."""
    return Zone.from_dict({
        "origin": "example.com", "ttl": 600,
        "soa": {"mname": "ns1", "rname": "hostmaster.example.com.", "minimum": 60, "ttl": 3600},
        "records": [
            {"name": "@", "type": "NS", "value": "ns1"},
            {"name": "ns1", "type": "A", "value": "192.0.2.53"},
            {"name": "@", "type": "A", "value": "93.184.216.34", "ttl": 300},
            "www CNAME @", "a CNAME b", "b CNAME www", "out CNAME example.net.",
            "loop1 CNAME loop2", "loop2 CNAME loop1", "gone CNAME nothere", "only-mx MX 10 mail",
            "mail A 192.0.2.25", "deep.empty A 10.0.0.1",
            "sub NS ns.sub", "ns.sub A 192.0.2.99", "alias CNAME host.sub",
            *(f"big A 10.0.{i}.1" for i in range(40)),
        ],
    })


def ask(z: Zone, name: str, rdtype: str = "A", *, tcp: bool = False, **make: object) -> dns.message.Message:
    """Build the query with dnspython, answer it with the zone, parse the answer with dnspython."""
    query = dns.message.make_query(name, rdtype, **make)  # type: ignore[arg-type]
    answer = z.answer(DNS.decode(query.to_wire()), tcp=tcp)
    wire = Packet([answer]).encode()
    parsed = dns.message.from_wire(wire)
    assert parsed.id == query.id
    return parsed


def flags(reply: dns.message.Message) -> set[str]:
    """The header flags dnspython reads, by name."""
    return set(dns.flags.to_text(reply.flags).split())


def records(section: list) -> list[tuple[str, str, int, str]]:
    """A dnspython section as (owner, type, ttl, data) rows."""
    return [(str(rrset.name), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rdata.to_text())
            for rrset in section for rdata in rrset]


def test_answers_equal_bind_byte_for_byte() -> None:
    z = Zone.from_toml(BIND_ZONE)
    assert Packet([z.answer(DNS.decode(BIND_QUERY[UDP:]))]).encode() == BIND_CNAME_CHAIN[UDP:]
    for golden, name, qtype in ((BIND_NXDOMAIN, "nothere.example.com", "A"), (BIND_MX, "example.com", "MX")):
        query = DNS.query(name, qtype, id=DNS.decode(golden[UDP:]).id)
        assert Packet([z.answer(query)]).encode() == golden[UDP:]
    edns = DNS(id=0x300A, rd=1, questions="www.example.com",
               additionals=DNSRecord("", DNSType.OPT, 1232, 0x8000, b""))  # payload 1232, DO set, as scapy sent
    assert Packet([z.answer(edns)]).encode() == BIND_EDNS[UDP:]


def test_cname_chain_followed_inside_the_zone() -> None:
    reply = ask(zone(), "a.example.com")
    assert reply.rcode() == dns.rcode.NOERROR
    assert flags(reply) == {"QR", "AA", "RD"}
    assert records(reply.answer) == [
        ("a.example.com.", "CNAME", 600, "b.example.com."), ("b.example.com.", "CNAME", 600, "www.example.com."),
        ("www.example.com.", "CNAME", 600, "example.com."), ("example.com.", "A", 300, "93.184.216.34")]
    assert reply.authority == [] and reply.additional == []


def test_cname_leaving_the_zone_stops_there() -> None:
    reply = ask(zone(), "out.example.com")
    assert reply.rcode() == dns.rcode.NOERROR
    assert records(reply.answer) == [("out.example.com.", "CNAME", 600, "example.net.")]


def test_cname_to_missing_name_is_nxdomain_with_the_chain() -> None:
    reply = ask(zone(), "gone.example.com")
    assert reply.rcode() == dns.rcode.NXDOMAIN  # RFC 6604 §2.1: the rcode of the last name of the chain
    assert records(reply.answer) == [("gone.example.com.", "CNAME", 600, "nothere.example.com.")]
    assert [row[1] for row in records(reply.authority)] == ["SOA"]


def test_cname_loop_ends() -> None:
    reply = ask(zone(), "loop1.example.com")
    assert records(reply.answer) == [("loop1.example.com.", "CNAME", 600, "loop2.example.com."),
                                     ("loop2.example.com.", "CNAME", 600, "loop1.example.com.")]


def test_cname_query_gets_the_cname_itself() -> None:
    reply = ask(zone(), "www.example.com", "CNAME")
    assert records(reply.answer) == [("www.example.com.", "CNAME", 600, "example.com.")]


def test_nxdomain_carries_soa_with_negative_ttl() -> None:
    reply = ask(zone(), "NoSuchName.Example.COM")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert flags(reply) == {"QR", "AA", "RD"}
    assert reply.answer == []
    # RFC 2308 §3: TTL min(SOA TTL 3600, MINIMUM 60); the names made absolute from the origin.
    assert records(reply.authority) == [("example.com.", "SOA", 60,
                                         "ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60")]


def test_nodata_for_existing_name_and_empty_non_terminal() -> None:
    for name in ("mail.example.com", "empty.example.com"):
        reply = ask(zone(), name, "AAAA" if name.startswith("mail") else "A")
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer == []
        assert reply.flags & dns.flags.AA
        assert [row[1] for row in records(reply.authority)] == ["SOA"]


def test_nxdomain_without_soa_has_empty_authority() -> None:
    z = Zone.from_dict({"origin": "example.org", "records": ["@ A 192.0.2.1"]})
    reply = ask(z, "x.example.org")
    assert reply.rcode() == dns.rcode.NXDOMAIN and reply.authority == []


def test_names_outside_the_zone_are_refused() -> None:
    for name in ("example.net", "com", "notexample.com"):
        reply = ask(zone(), name)
        assert reply.rcode() == dns.rcode.REFUSED
        assert flags(reply) == {"QR", "RD"}  # not authoritative, no recursion
        assert reply.answer == reply.authority == []


def test_mx_and_ns_answers_carry_glue() -> None:
    reply = ask(zone(), "only-mx.example.com", "MX")
    assert records(reply.answer) == [("only-mx.example.com.", "MX", 600, "10 mail.example.com.")]
    assert records(reply.additional) == [("mail.example.com.", "A", 600, "192.0.2.25")]
    reply = ask(zone(), "example.com", "NS")
    assert records(reply.additional) == [("ns1.example.com.", "A", 600, "192.0.2.53")]


def test_delegation_gives_a_referral() -> None:
    for name in ("host.sub.example.com", "sub.example.com"):
        reply = ask(zone(), name)
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer == []
        assert not reply.flags & dns.flags.AA
        assert records(reply.authority) == [("sub.example.com.", "NS", 600, "ns.sub.example.com.")]
        assert records(reply.additional) == [("ns.sub.example.com.", "A", 600, "192.0.2.99")]


def test_udp_answer_over_512_bytes_is_truncated() -> None:
    z = zone()
    full = z.answer(DNS.query("big.example.com"), tcp=True)
    assert len(Packet([full]).encode()) > UDP_LIMIT and len(full.answers) == 40
    reply = ask(z, "big.example.com")
    assert reply.flags & dns.flags.TC and reply.answer == [] and reply.rcode() == dns.rcode.NOERROR
    assert len(reply.to_wire()) <= UDP_LIMIT
    tcp = ask(z, "big.example.com", tcp=True)
    assert not tcp.flags & dns.flags.TC
    assert sorted(IPv4Address(row[3]) for row in records(tcp.answer)) == [IPv4Address(f"10.0.{i}.1")
                                                                         for i in range(40)]


def test_edns_size_lifts_the_limit_up_to_the_servers_own() -> None:
    z = zone()
    reply = ask(z, "big.example.com", use_edns=0, payload=4096)
    assert not reply.flags & dns.flags.TC and len(reply.answer[0]) == 40
    assert reply.edns == 0 and reply.payload == EDNS_UDP_SIZE
    small = ask(z, "big.example.com", use_edns=0, payload=512)
    assert small.flags & dns.flags.TC and small.edns == 0


def test_limit_is_exact_at_the_boundary() -> None:
    def zone_with(count: int) -> Zone:
        return Zone.from_dict({"origin": "example.com", "records": [f"nn A 10.0.0.{i}" for i in range(1, count + 1)]})

    size = len(Packet([zone_with(30).answer(DNS.query("nn.example.com"), tcp=True)]).encode())
    assert size == 12 + 20 + 30 * 16 == UDP_LIMIT  # header, question, 30 compressed A records: 512 bytes
    assert not ask(zone_with(30), "nn.example.com").flags & dns.flags.TC
    assert ask(zone_with(31), "nn.example.com").flags & dns.flags.TC  # 528 bytes
    exchange = "m" * 18  # an MX answer and 28 glue records: 512 bytes with the additional section
    glue = Zone.from_dict({"origin": "example.com",
                           "records": [f"@ MX 10 {exchange}", *(f"{exchange} A 10.0.1.{i}" for i in range(28))]})
    assert len(Packet([glue.answer(DNS.query("example.com", "MX"), tcp=True)]).encode()) == UDP_LIMIT
    assert len(ask(glue, "example.com", "MX").additional[0]) == 28


def test_additional_records_dropped_before_truncating() -> None:
    records_ = ["@ MX 10 mail"] + [f"mail A 10.0.1.{i}" for i in range(1, 40)]
    reply = ask(Zone.from_dict({"origin": "example.com", "records": records_}), "example.com", "MX")
    assert not reply.flags & dns.flags.TC  # RFC 2181 §9: the answer fits, only the glue did not
    assert len(reply.answer) == 1 and reply.additional == []


def test_any_query_gets_every_record_at_the_name() -> None:
    reply = ask(zone(), "example.com", "ANY")
    assert sorted(row[1] for row in records(reply.answer)) == ["A", "NS", "SOA"]


def test_not_a_query_opcode_or_bad_question_count() -> None:
    notify = DNS(id=7, opcode=DNSOpcode.NOTIFY, questions="example.com")
    assert dns.message.from_wire(Packet([zone().answer(notify)]).encode()).rcode() == dns.rcode.NOTIMP
    two = DNS(id=8, questions=("example.com", "www.example.com"))
    reply = zone().answer(two)
    assert reply.rcode == dns.rcode.FORMERR and reply.aa == 0


def test_unknown_edns_version_gets_badvers() -> None:
    reply = ask(zone(), "example.com", use_edns=1)
    assert reply.rcode() == dns.rcode.BADVERS and reply.answer == []


def test_zone_data_errors_name_the_record() -> None:
    cases = [
        ({"origin": "example.com", "records": ["www CNAME @", "www A 10.0.0.1"]}, "CNAME cannot share"),
        ({"origin": "example.com", "records": ["x 60 A 10.0.0.1", "x 70 A 10.0.0.2"]}, "RFC 2181"),
        ({"origin": "example.com", "records": ["x.example.net. A 10.0.0.1"]}, "outside the zone"),
        ({"origin": "example.com", "records": [{"name": "x", "type": "SRV", "value": "?"}]}, r"records\[0\]: type"),
        ({"origin": "example.com", "records": ["x A 300.0.0.1"]}, r"records\[0\]"),
        ({"origin": "example.com", "records": ["x"]}, r"records\[0\]"),
        ({"origin": "example.com", "records": ["x MX mail"]}, "PREFERENCE EXCHANGE"),
        ({"origin": "example.com", "records": ["x -5 A 10.0.0.1"]}, r"records\[0\]"),
        ({"origin": "example.com", "ttl": -1}, "not a TTL"),
        ({"records": []}, "'origin'"),
        ({"origin": "example.com", "soa": {"mname": "ns1"}}, "soa: needs"),
        ({"origin": "example.com", "recrods": []}, "unknown key recrods"),
    ]
    for data, message in cases:
        with pytest.raises(ZoneError, match=message):
            Zone.from_dict(data)
    with pytest.raises(ZoneError, match="zone TOML"):
        Zone.from_toml("origin = ")


def test_names_relative_absolute_and_case() -> None:
    z = Zone.from_dict({"origin": "Example.COM.", "records": [
        "www.example.com A 10.0.0.1", "Mixed A 10.0.0.2", "abs.example.com. A 10.0.0.3",
        {"name": "@", "type": "TXT", "value": ["a" * 300, "b"]}, "www.example.com A 10.0.0.1"]})
    assert z.addresses("www.example.com") == [IPv4Address("10.0.0.1")]  # the duplicate counted once
    assert z.addresses("MIXED.example.com") == [IPv4Address("10.0.0.2")]
    assert z.addresses("abs.example.com") == [IPv4Address("10.0.0.3")]
    txt = ask(z, "example.com", "TXT")
    assert [s for rrset in txt.answer for r in rrset for s in r.strings] == [b"a" * 255, b"a" * 45, b"b"]
