"""DNS layer checked against real BIND 9 and dnsmasq answers, scapy's DNS builder and tshark."""

import os
import shutil
import subprocess
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import rdpcap
from scapy.layers.dns import DNS as SDNS
from scapy.layers.dns import DNSQR, DNSRR, DNSRRMX, DNSRROPT, DNSRRSOA

from layersim.capture.pcap import write_pcap
from layersim.errors import DecodeError, FieldValueError
from layersim.wire.dns import DNS, DNSMX, DNSSOA, DNSClass, DNSOpcode, DNSQuestion, DNSRcode, DNSRecord, DNSType
from layersim.wire.ethernet import Ethernet
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Raw
from layersim.wire.udp import UDP
from tests.wire import golden

# Real answers captured on loopback with `tcpdump -i lo udp port 53` (Debian 12). The queries were built by
# scapy (rd=1; the EDNS one with DNSRROPT(rclass=1232)) and sent from 127.0.0.1:42539. UDP checksums on lo are
# left partial by the kernel (offload), so these tests do not check them.
# BIND 9.18.49 (`named -g`, 127.0.0.1:53, recursion no) was primary for this zone file:
#   $TTL 3600
#   @    IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 300
#   @    IN NS  ns1.example.com.          ns1  IN A 192.0.2.53
#   @    IN A   93.184.216.34             @    IN AAAA 2606:2800:220:1:248:1893:25c8:1946
#   www  IN CNAME example.com.            web  IN CNAME www.example.com.
#   @    IN MX  10 mail.example.com.      mail IN A 192.0.2.25
#   @    IN TXT "v=spf1 -all"             (and 34.216.184.93.in-addr.arpa PTR example.com.)
# dnsmasq 2.90 (127.0.0.2:53, no-resolv, no-hosts) had: host-record=example.com,93.184.216.34,<that AAAA>,
# cname=www.example.com,example.com, mx-host=example.com,mail.example.com,10, local=/example.com/.
# Whole frames (tshark frame numbers):
# Frame 5: the query for web.example.com A, id 0x3002.
BIND_QUERY = bytes.fromhex(
    "00000000000000000000000008004500003d1e53400040111e5b7f0000017f000001a62b00350029fe3c300201000001"
    "00000000000003776562076578616d706c6503636f6d0000010001")
# Frame 6: BIND's answer: web CNAME www, www CNAME example.com, example.com A; every name compressed.
BIND_CNAME_CHAIN = bytes.fromhex(
    "00000000000000000000000008004500006d1e54000040115e2a7f0000017f0000010035a62b0059fe6c300285000001"
    "00030000000003776562076578616d706c6503636f6d0000010001c00c0005000100000e10000603777777c010c02d00"
    "05000100000e100002c010c0100001000100000e1000045db8d822")
# Frame 8: BIND's MX answer with the exchange's address as an additional record (its name points into the MX).
BIND_MX = bytes.fromhex(
    "00000000000000000000000008004500005e1e56000040115e377f0000017f0000010035a62b004afe5d300385000001"
    "000100000001076578616d706c6503636f6d00000f0001c00c000f000100000e100009000a046d61696cc00cc02b0001"
    "000100000e100004c0000219")
# Frame 20: BIND's NXDOMAIN for nothere.example.com with the zone's SOA in the authority section.
BIND_NXDOMAIN = bytes.fromhex(
    "0000000000000000000000000800450000741e62000040115e157f0000017f0000010035a62b0060fe73300985030001"
    "000000010000076e6f7468657265076578616d706c6503636f6d0000010001c014000600010000012c0027036e7331c0"
    "140a686f73746d6173746572c0140000000100001c2000000384001275000000012c")
# Frame 22: BIND's answer to the EDNS query: an OPT record (payload size 1232, DO set) in the additionals.
BIND_EDNS = bytes.fromhex(
    "0000000000000000000000000800450000661e64000040115e217f0000017f0000010035a62b0052fe65300a85000001"
    "00020000000103777777076578616d706c6503636f6d0000010001c00c0005000100000e100002c010c0100001000100"
    "000e1000045db8d82200002904d0000080000000")
# Frame 26: dnsmasq's answer for example.com A (TTL 0: a host-record).
DNSMASQ_A = bytes.fromhex(
    "000000000000000000000000080045000049c80f4000401174917f0000027f0000010035a62b0035fe49300085800001"
    "000100000000076578616d706c6503636f6d0000010001c00c000100010000000000045db8d822")
# Frame 28: dnsmasq's CNAME answer: it writes the CNAME target in full and points the A record's name at
# it, which is not how BIND or scapy compress, so layersim leaves it Raw.
DNSMASQ_CNAME = bytes.fromhex(
    "000000000000000000000000080045000066c8104000401174737f0000027f0000010035a62b0052fe66300185800001"
    "00020000000003777777076578616d706c6503636f6d0000010001c00c0005000100000000000d076578616d706c6503"
    "636f6d00c02d000100010000000000045db8d822")
# More DNS payloads (UDP data only) from the same capture.
ROUND_TRIPS = {
    "bind PTR": "300485000001000100000000023334033231360331383402393307696e2d61646472046172706100000c0001c00c"
                "000c000100000e10000d076578616d706c6503636f6d00",
    "bind AAAA": "300585000001000100000000076578616d706c6503636f6d00001c0001c00c001c000100000e10001026062800"
                 "022000010248189325c81946",
    "bind TXT": "300685000001000100000000076578616d706c6503636f6d0000100001c00c0010000100000e10000c0b763d7370"
                "6631202d616c6c",
    "bind NS + glue": "300785000001000100000001076578616d706c6503636f6d0000020001c00c0002000100000e100006036e73"
                      "31c00cc0290001000100000e100004c0000235",
    "bind SOA": "300885000001000100000000076578616d706c6503636f6d0000060001c00c0006000100000e100027036e7331c0"
                "0c0a686f73746d6173746572c00c0000000100001c2000000384001275000000012c",
    # Asked as WWW.Example.COM: BIND answers in the zone's case, so nothing before matches and it is not
    # compressed (case-sensitive suffix matching).
    "bind mixed case": "300b8500000100020000000003575757074578616d706c6503434f4d000001000103777777076578616d70"
                       "6c6503636f6d000005000100000e100002c025c0250001000100000e1000045db8d822",
    "dnsmasq PTR": "300485800001000100000000023334033231360331383402393307696e2d61646472046172706100000c0001c0"
                   "0c000c000100000000000d076578616d706c6503636f6d00",
    "dnsmasq NXDOMAIN": "300981830001000000000000076e6f7468657265076578616d706c6503636f6d0000010001",
    "dnsmasq mixed case": "300b8580000100020000000003575757074578616d706c6503434f4d0000010001c00c0005000100000000"
                          "000d076578616d706c6503636f6d00c02d000100010000000000045db8d822",
}
# dnsmasq writes the MX exchange in full although example.com came before: stays Raw, like its CNAMEs.
DNSMASQ_MX = bytes.fromhex(
    "300385800001000100000000076578616d706c6503636f6d00000f0001c00c000f0001000000000014000a046d61696c0765"
    "78616d706c6503636f6d00")


def wire(layer):
    return Packet([layer]).encode()


def filled(dns):
    """The message as decoding it gives it back: the counts filled in."""
    return dns.replace(qdcount=len(dns.questions), ancount=len(dns.answers), nscount=len(dns.authorities),
                       arcount=len(dns.additionals))


def udp_frame(dns, sport=42539, dport=53):
    return (Ethernet(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv4(src="10.0.1.10", dst="10.0.2.20")
            / UDP(sport=sport, dport=dport) / dns).encode()


CNAME_ANSWERS = [DNSRecord("example.com", "CNAME", value="www.example.com"),
                 DNSRecord("www.example.com", value="93.184.216.34")]


# Cross-checks with scapy ------------------------------------------------------------------------------


def test_query_same_bytes_as_scapy():
    assert wire(DNS.query("example.com", id=1)) == bytes(SDNS(id=1, rd=1, qd=DNSQR(qname="example.com")))
    assert wire(DNS.query("example.com.", "AAAA", id=0xBEEF, rd=0)) == bytes(
        SDNS(id=0xBEEF, rd=0, qd=DNSQR(qname="example.com.", qtype="AAAA")))


def test_cname_response_same_bytes_as_scapy_compress():
    ours = DNS.response(DNS.query("example.com", id=1), CNAME_ANSWERS)
    # A list, not DNSRR()/DNSRR(): scapy counts a stacked pair as one record (ANCOUNT 1 before two answers).
    theirs = SDNS(id=1, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com"),
                  an=[DNSRR(rrname="example.com", type="CNAME", rdata="www.example.com"),
                      DNSRR(rrname="www.example.com", rdata="93.184.216.34")])
    assert wire(ours) == bytes(theirs.compress())
    assert wire(ours)[41:47] == b"\x03www\xc0\x0c"  # the CNAME target ends in a pointer to the question


SCAPY_CASES = {
    "MX with glue": (
        DNS.response(DNS.query("example.com", "MX", id=7), [DNSRecord("example.com", "MX", ttl=3600,
                                                                      value=DNSMX(10, "mail.example.com"))],
                     ra=0, aa=1, additionals=[DNSRecord("mail.example.com", ttl=3600, value="192.0.2.25")]),
        SDNS(id=7, qr=1, aa=1, rd=1, qd=DNSQR(qname="example.com", qtype="MX"),
             an=DNSRRMX(rrname="example.com", ttl=3600, preference=10, exchange="mail.example.com"),
             ar=DNSRR(rrname="mail.example.com", ttl=3600, rdata="192.0.2.25"))),
    "NXDOMAIN with SOA": (
        DNS.response(DNS.query("nothere.example.com", id=9), rcode="NXDOMAIN", ra=0, aa=1, authorities=[
            DNSRecord("example.com", "SOA", ttl=300, value=DNSSOA("ns1.example.com", "hostmaster.example.com",
                                                                  1, 7200, 900, 1209600, 300))]),
        SDNS(id=9, qr=1, aa=1, rd=1, rcode=3, qd=DNSQR(qname="nothere.example.com"),
             ns=DNSRRSOA(rrname="example.com", ttl=300, mname="ns1.example.com", rname="hostmaster.example.com",
                         serial=1, refresh=7200, retry=900, expire=1209600, minimum=300))),
    "NS with EDNS OPT": (
        DNS.response(DNS.query("example.com", "NS", id=3),
                     [DNSRecord("example.com", DNSType.NS, ttl=60, value="ns1.example.com")],
                     additionals=[DNSRecord("", DNSType.OPT, 1232, 0x8000)]),
        SDNS(id=3, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com", qtype="NS"),
             an=DNSRR(rrname="example.com", type="NS", ttl=60, rdata="ns1.example.com"),
             ar=DNSRROPT(rclass=1232))),
    "PTR": (
        DNS.response(DNS.query("34.216.184.93.in-addr.arpa", "PTR", id=4),
                     [DNSRecord("34.216.184.93.in-addr.arpa", "PTR", ttl=60, value="example.com")]),
        SDNS(id=4, qr=1, rd=1, ra=1, qd=DNSQR(qname="34.216.184.93.in-addr.arpa", qtype="PTR"),
             an=DNSRR(rrname="34.216.184.93.in-addr.arpa", type="PTR", ttl=60, rdata="example.com"))),
    "AAAA and TXT": (
        DNS(id=5, qr=1, questions=["example.com"], answers=[
            DNSRecord("example.com", "AAAA", ttl=60, value="2606:2800:220:1:248:1893:25c8:1946"),
            DNSRecord("example.com", "TXT", ttl=60, value=b"\x0bv=spf1 -all")]),
        SDNS(id=5, qr=1, rd=0, qd=DNSQR(qname="example.com"),
             an=[DNSRR(rrname="example.com", type="AAAA", ttl=60, rdata="2606:2800:220:1:248:1893:25c8:1946"),
                 DNSRR(rrname="example.com", type="TXT", ttl=60, rdata=["v=spf1 -all"])])),
}


@pytest.mark.parametrize(("ours", "theirs"), SCAPY_CASES.values(), ids=SCAPY_CASES.keys())
def test_same_bytes_as_scapy_compress(ours, theirs):
    assert wire(ours) == bytes(theirs.compress())


def test_scapy_dissects_our_response_to_the_same_values():
    theirs = SDNS(wire(DNS.response(DNS.query("example.com", id=0x4242), CNAME_ANSWERS)))
    assert (theirs.id, theirs.qr, theirs.rd, theirs.ra, theirs.ancount) == (0x4242, 1, 1, 1, 2)
    assert theirs.qd[0].qname == b"example.com."
    assert (theirs.an[0].rrname, theirs.an[0].type, theirs.an[0].rdata) == (b"example.com.", 5,
                                                                            b"www.example.com.")
    assert (theirs.an[1].rrname, theirs.an[1].rdata) == (b"www.example.com.", "93.184.216.34")


# Real servers -----------------------------------------------------------------------------------------


def test_bind_query_decodes_and_rebuilds():
    pkt = decode(BIND_QUERY)
    query = pkt.layers[-1]
    assert type(query) is DNS and query == filled(DNS.query("web.example.com", id=0x3002))
    assert pkt.encode() == BIND_QUERY


def test_bind_cname_chain_field_by_field_and_twin():
    pkt = decode(BIND_CNAME_CHAIN)
    dns = pkt.layers[-1]
    assert type(dns) is DNS and pkt.encode() == BIND_CNAME_CHAIN
    assert (dns.id, dns.qr, dns.opcode, dns.aa, dns.tc, dns.rd, dns.ra, dns.rcode) == (0x3002, 1, 0, 1, 0, 1, 0, 0)
    assert (dns.qdcount, dns.ancount, dns.nscount, dns.arcount) == (1, 3, 0, 0)
    assert dns.questions == (DNSQuestion("web.example.com"),)
    answers = (DNSRecord("web.example.com", DNSType.CNAME, DNSClass.IN, 3600, "www.example.com"),
               DNSRecord("www.example.com", DNSType.CNAME, DNSClass.IN, 3600, "example.com"),
               DNSRecord("example.com", DNSType.A, DNSClass.IN, 3600, IPv4Address("93.184.216.34")))
    assert dns.answers == answers
    twin = DNS.response(DNS.query("web.example.com", id=0x3002), answers, aa=1, ra=0)
    assert wire(twin) == pkt.payload_of(UDP)
    assert dns.info() == {"kind": "response", "questions": ["A web.example.com"], "rcode": "NOERROR",
                          "answers": ["CNAME web.example.com -> www.example.com",
                                      "CNAME www.example.com -> example.com", "A example.com -> 93.184.216.34"]}


def test_bind_mx_with_glue_pointing_into_the_mx_data():
    pkt = decode(BIND_MX)
    dns = pkt.layers[-1]
    assert dns.answers == (DNSRecord("example.com", "MX", ttl=3600, value=DNSMX(10, "mail.example.com")),)
    assert dns.additionals == (DNSRecord("mail.example.com", ttl=3600, value="192.0.2.25"),)
    assert pkt.encode() == BIND_MX
    assert wire(SCAPY_CASES["MX with glue"][0].replace(id=0x3003)) == pkt.payload_of(UDP)


def test_bind_nxdomain_with_soa_authority():
    dns = decode(BIND_NXDOMAIN).layers[-1]
    assert dns.rcode == DNSRcode.NXDOMAIN and dns.answers == ()
    assert dns.authorities == (DNSRecord("example.com", "SOA", ttl=300, value=DNSSOA(
        "ns1.example.com", "hostmaster.example.com", 1, 7200, 900, 1209600, 300)),)
    assert decode(BIND_NXDOMAIN).encode() == BIND_NXDOMAIN


def test_bind_edns_answer_keeps_the_opt_record_raw():
    dns = decode(BIND_EDNS).layers[-1]
    assert dns.additionals == (DNSRecord("", DNSType.OPT, 1232, 0x8000, b""),)
    assert decode(BIND_EDNS).encode() == BIND_EDNS


def test_dnsmasq_a_answer_and_twin():
    pkt = decode(DNSMASQ_A)
    dns = pkt.layers[-1]
    assert (dns.aa, dns.ra) == (1, 1) and dns.answers == (DNSRecord("example.com", value="93.184.216.34"),)
    twin = DNS.response(DNS.query("example.com", id=0x3000), dns.answers, aa=1)
    assert wire(twin) == pkt.payload_of(UDP) and pkt.encode() == DNSMASQ_A


@pytest.mark.parametrize("payload", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_real_answers_round_trip(payload):
    data = bytes.fromhex(payload)
    dns = DNS.parse(data)
    assert dns is not None and wire(dns) == data


def test_dnsmasq_uncompressed_rdata_names_stay_raw_with_a_reason():
    pkt = decode(DNSMASQ_CNAME)
    assert type(pkt.layers[-1]) is Raw and pkt.encode() == DNSMASQ_CNAME
    with pytest.raises(DecodeError, match=r"DNS at byte 44: re-encoding differs"):
        DNS.decode(pkt.payload_of(UDP))
    assert DNS.parse(DNSMASQ_MX) is None


def test_golden_linux_capture_query_and_response():
    query = decode(golden.DNS_QUERY).layers[-1]
    assert query == filled(DNS.query("example.com", id=0x1234))
    response = decode(bytes(rdpcap(str(golden.GOLDEN_PCAP))[11])).layers[-1]
    assert response == filled(DNS.response(query, CNAME_ANSWERS)).replace(
        answers=[a.__class__(a.name, a.rtype, a.rclass, 3600, a.value) for a in CNAME_ANSWERS])


# Malformed messages -----------------------------------------------------------------------------------

HEADER_1Q = bytes.fromhex("123401000001000000000000")
MALFORMED = {
    "short header": (bytes(11), r"DNS at byte 0: 11 bytes, shorter than the 12-byte header"),
    "pointer to itself": (HEADER_1Q + b"\xc0\x0c\x00\x01\x00\x01", r"byte 12: compression pointer to byte 12"),
    "pointer forward": (HEADER_1Q + b"\xc0\x12\x00\x01\x00\x01\x00", r"pointer to byte 18 does not point back"),
    "pointer into the header": (HEADER_1Q + b"\xc0\x02\x00\x01\x00\x01", r"pointer to byte 2 does not"),
    "loop between two names": (bytes.fromhex("123401000002000000000000") + b"\x01a\xc0\x12\x00\x01\x00\x01"
                               + b"\xc0\x0c\x00\x01\x00\x01", r"byte 14: compression pointer to byte 18"),
    "extended label type": (HEADER_1Q + b"\x41a\x00\x00\x01\x00\x01", r"label type 0x40"),
    "label with a dot": (HEADER_1Q + b"\x03a.b\x00\x00\x01\x00\x01", r"contains a dot"),
    "name over 255 bytes": (HEADER_1Q + (b"\x3f" + b"a" * 63) * 5 + b"\x00\x00\x01\x00\x01", r"longer than 255"),
    "cut question": (HEADER_1Q + b"\x00\x00\x01", r"byte 13: question cut off"),
    "missing question": (HEADER_1Q, r"byte 12: domain name runs past the end"),
    "trailing bytes": (HEADER_1Q + b"\x00\x00\x01\x00\x01\xff", r"byte 17: 1 bytes after the last record"),
    "rdlength past the end": (bytes.fromhex("123481000000000100000000") + b"\x00\x00\x01\x00\x01\x00\x00\x00\x00"
                              + b"\x00\x05\x01\x02", r"byte 21: RDLENGTH 5 runs past the end"),
}


@pytest.mark.parametrize(("data", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_messages_stay_raw_with_a_reason(data, message):
    assert DNS.parse(data) is None
    with pytest.raises(DecodeError, match=message):
        DNS.decode(data)
    frame = udp_frame(data)
    assert type(decode(frame).layers[-1]) is Raw and decode(frame).encode() == frame


# Building ---------------------------------------------------------------------------------------------


def test_names_and_types_are_normalised():
    assert DNSQuestion("example.com.") == DNSQuestion("example.com") and DNSQuestion(".").name == ""
    assert DNSQuestion("a", "aaaa").qtype is DNSType.AAAA and DNSQuestion("a", 65).qtype is DNSType.HTTPS
    assert DNSQuestion("a", 999).qtype == 999
    assert DNSRecord("a", "A", value=b"\x01\x02\x03\x04").value == IPv4Address("1.2.3.4")
    assert DNSRecord("a", "AAAA", value=bytes(16)).value == IPv6Address("::")
    assert DNSRecord("a", "A", value=b"\x01\x02").value == b"\x01\x02"  # malformed A data is kept raw
    assert DNS(questions="example.com").questions == (DNSQuestion("example.com"),)
    assert DNS(opcode="NOTIFY", rcode="REFUSED").opcode is DNSOpcode.NOTIFY


@pytest.mark.parametrize(("build", "message"), [
    (lambda: DNSQuestion("a" * 64 + ".com"), r"empty label or one longer than 63"),
    (lambda: DNSQuestion("a..com"), r"empty label"),
    (lambda: DNSQuestion(".".join(["a" * 63] * 4)), r"longer than 255 bytes"),
    (lambda: DNSQuestion("例え.jp"), r"beyond Latin-1"),
    (lambda: DNSQuestion(b"example.com"), r"a domain name is a str, not bytes"),
    (lambda: DNSQuestion("a", 70000), r"70000 is not an integer of 16 bits"),
    (lambda: DNSQuestion("a", "BOGUS"), r"'BOGUS' is not one of A, NS"),
    (lambda: DNSRecord("a", value="not-an-ip"), r"'not-an-ip' is not a valid IPv4Address"),
    (lambda: DNSRecord("a", "CNAME", value=IPv4Address("1.2.3.4")), r"a CNAME record cannot hold IPv4Address"),
    (lambda: DNSRecord("a", "TXT", value="text"), r"a TXT record cannot hold str 'text' \(give raw bytes\)"),
    (lambda: DNSRecord("a", ttl=-1), r"-1 is not an integer of 32 bits"),
    (lambda: DNS(answers=[DNSQuestion("a")]), r"DNS.answers: expected a DNSRecord, got DNSQuestion"),
    (lambda: DNS(questions=5), r"DNS.questions: expected questions, got int"),
    (lambda: DNS(rcode=16), r"DNS.rcode: 16 does not fit in 4 bits"),
])
def test_bad_values_are_refused(build, message):
    with pytest.raises(FieldValueError, match=message):
        build()


def test_explicit_counts_are_kept_for_fault_demos():
    data = wire(DNS(qdcount=2, questions=["example.com"]))
    assert data[4:6] == b"\x00\x02" and DNS.parse(data) is None


def test_field_spans_give_the_header_fields_then_each_entry():
    dns = DNS.response(DNS.query("example.com", id=1), CNAME_ANSWERS)
    data = wire(dns)
    spans = dns.field_spans(42, 42 + len(data))
    assert spans[0] == ("id", 42, 44) and spans[11] == ("qdcount", 46, 48) and spans[14] == ("arcount", 52, 54)
    assert spans[15:] == [("questions[0]", 54, 71), ("answers[0]", 71, 89), ("answers[1]", 89, 42 + len(data))]


def test_through_the_stack_built_with_layersim():
    query = DNS.query("example.com", id=0x1234)
    response = DNS.response(query, CNAME_ANSWERS)
    for dns, ports in ((query, (42539, 53)), (response, (53, 42539))):
        data = udp_frame(dns, *ports)
        pkt = decode(data)
        assert pkt.layers[-1] == filled(dns) and pkt.encode() == data
        assert pkt[DNS].info()["questions"] == ["A example.com"]


# Properties -------------------------------------------------------------------------------------------

labels = st.sampled_from(["example", "com", "www", "Www", "a", "ns1", "x-y", "_tcp", "caf\xe9", "b" * 63])
names = st.lists(labels, max_size=4).map(".".join).filter(lambda name: len(name) < 254)  # 255 on the wire
u16, u32 = st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
records = st.one_of(
    st.builds(DNSRecord, names, st.just(DNSType.A), u16, u32, u32.map(IPv4Address)),
    st.builds(DNSRecord, names, st.just(DNSType.AAAA), u16, u32, st.integers(0, 2**128 - 1).map(IPv6Address)),
    st.builds(DNSRecord, names, st.sampled_from([DNSType.CNAME, DNSType.NS, DNSType.PTR]), u16, u32, names),
    st.builds(DNSRecord, names, st.just(DNSType.MX), u16, u32, st.builds(DNSMX, u16, names)),
    st.builds(DNSRecord, names, st.just(DNSType.SOA), u16, u32, st.builds(DNSSOA, names, names, u32, u32)),
    st.builds(DNSRecord, names, st.sampled_from([16, 41, 99, 65280]), u16, u32, st.binary(max_size=24)),
    st.builds(DNSRecord, names, st.just(DNSType.A), u16, u32, st.binary(max_size=8).filter(lambda b: len(b) != 4)),
)
sections = st.lists(records, max_size=4)
bits = st.integers(0, 1)
messages = st.builds(DNS, id=u16, qr=bits, opcode=st.integers(0, 15), aa=bits, tc=bits, rd=bits, ra=bits, z=bits,
                     ad=bits, cd=bits, rcode=st.integers(0, 15),
                     questions=st.lists(st.builds(DNSQuestion, names, u16, u16), max_size=3),
                     answers=sections, authorities=sections, additionals=sections)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_any_valid_message_encodes_and_parses_back_equal(dns):
    data = wire(dns)
    assert DNS.parse(data) == filled(dns)
    assert decode(udp_frame(dns)).layers[-1] == filled(dns)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_parse_to_a_message_or_none_never_raise(data):
    dns = DNS.parse(data)
    assert dns is None or wire(dns) == data


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([*ROUND_TRIPS.values(), DNSMASQ_MX.hex()]), st.data())
def test_mutated_real_answers_parse_or_stay_raw(payload, data):
    original = bytes.fromhex(payload)
    at = data.draw(st.integers(0, len(original) - 1))
    mutated = (original[:at] + data.draw(st.binary(min_size=1, max_size=3)) + original[at + 1:])[
        :data.draw(st.integers(0, len(original) + 3))]
    dns = DNS.parse(mutated)
    assert dns is None or wire(dns) == mutated


# tshark -----------------------------------------------------------------------------------------------

needs_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None and os.environ.get("LAYERSIM_REQUIRE_TSHARK") != "1",
    reason="tshark not installed")


@pytest.mark.tshark
@needs_tshark
def test_tshark_reads_our_messages(tmp_path):
    query = DNS.query("www.example.com", id=0x1234)
    response = DNS.response(query, [DNSRecord("www.example.com", "CNAME", ttl=300, value="example.com"),
                                    DNSRecord("example.com", ttl=60, value="93.184.216.34")],
                            additionals=[DNSRecord("mail.example.com", "MX", value=DNSMX(10, "mx.example.com"))])
    path = tmp_path / "dns.pcap"
    write_pcap(path, [(0, udp_frame(query)), (1000, udp_frame(response, 53, 42539))])
    fields = ["dns.id", "dns.flags.response", "dns.flags.recdesired", "dns.qry.name", "dns.cname", "dns.a",
              "dns.resp.ttl", "dns.mx.mail_exchange", "_ws.malformed"]
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-E", "separator=|",
                          *[arg for f in fields for arg in ("-e", f)]],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    rows = [line.split("|") for line in out.splitlines()]
    assert rows[0][:4] == ["0x1234", "0", "1", "www.example.com"]
    assert rows[1] == ["0x1234", "1", "1", "www.example.com", "example.com", "93.184.216.34",
                       "300,60,0", "mx.example.com", ""]
