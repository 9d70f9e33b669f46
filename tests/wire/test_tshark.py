"""tshark dissects a capture written by layersim holding one frame of every kind: no expert warnings or errors,
and tshark's field values equal ours."""

from pathlib import Path

import pytest

from layersim import ARP, ICMP, TCP, UDP, Dot1Q, Ethernet, IPv4, decode
from layersim.capture import Interface, PcapngWriter
from layersim.wire.dns import DNS, DNSRecord
from layersim.wire.http import HTTPRequest, HTTPResponse
from layersim.wire.tcp_options import MSS, NOP, SACKPermitted, Timestamps, WindowScale
from tests.tools import expert_problems, field, tshark_json

C_MAC, R_MAC = "02:00:00:00:01:10", "02:00:00:00:01:01"
C_IP, S_IP, R_IP, DNS_IP = "10.0.1.10", "93.184.216.34", "10.0.1.1", "10.0.2.53"


def eth(src=C_MAC, dst=R_MAC):
    return Ethernet(src=src, dst=dst)


def ip(src=C_IP, dst=S_IP, **kw):
    return IPv4(src=src, dst=dst, flags="DF", **kw)


def conversation():
    """One frame of every kind, as a consistent exchange so that tshark's analyses have nothing to flag."""
    get = HTTPRequest("GET", "/", headers={"Host": "example.com", "User-Agent": "layersim", "Accept": "*/*"})
    body = b"<html>hello</html>\n"
    ok = HTTPResponse(200, "OK", headers={"Content-Type": "text/html", "Content-Length": str(len(body))},
                      body=body)
    get_len, ok_len = len(get.encode_layer(b"", None, None)), len(ok.encode_layer(b"", None, None))
    query = DNS.query("example.com", id=0x1234)
    answer = DNS.response(query, [DNSRecord("example.com", "CNAME", ttl=3600, value="www.example.com"),
                                  DNSRecord("www.example.com", "A", ttl=3600, value=S_IP)])
    syn_opts = [MSS(1460), SACKPermitted(), Timestamps(100, 0), NOP(), WindowScale(7)]
    ts = lambda a, b: [NOP(), NOP(), Timestamps(a, b)]  # noqa: E731
    quoted = (ip(dst="10.0.9.9", ttl=1, identification=7) / UDP(sport=40000, dport=33434) / bytes(32)).encode()
    big = (ip(dst="10.0.2.20", identification=8) / ICMP(identifier=1, sequence=9) / bytes(1472)).encode()
    return [
        eth(dst="ff:ff:ff:ff:ff:ff") / ARP(sender_mac=C_MAC, sender_ip=C_IP, target_ip=R_IP),
        eth(R_MAC, C_MAC) / ARP(opcode="reply", sender_mac=R_MAC, sender_ip=R_IP, target_mac=C_MAC,
                                target_ip=C_IP),
        eth() / ip(dst=DNS_IP, identification=1) / UDP(sport=50007, dport=53) / query,
        eth(R_MAC, C_MAC) / ip(DNS_IP, C_IP, ttl=63) / UDP(sport=53, dport=50007) / answer,
        eth() / ip(identification=2) / TCP(sport=50512, dport=80, seq=1000, flags="S", window=64240,
                                           options=syn_opts),
        eth(R_MAC, C_MAC) / ip(S_IP, C_IP, ttl=57) / TCP(sport=80, dport=50512, seq=5000, ack=1001, flags="SA",
                                                         window=65160, options=[*syn_opts[:3], NOP(), WindowScale(7)]),
        eth() / ip(identification=3) / TCP(sport=50512, dport=80, seq=1001, ack=5001, flags="A", window=502,
                                           options=ts(101, 100)),
        eth() / ip(identification=4) / TCP(sport=50512, dport=80, seq=1001, ack=5001, flags="PA", window=502,
                                           options=ts(102, 100)) / get,
        eth(R_MAC, C_MAC) / ip(S_IP, C_IP, ttl=57) / TCP(sport=80, dport=50512, seq=5001, ack=1001 + get_len,
                                                         flags="PA", window=509, options=ts(200, 102)) / ok,
        eth() / ip(identification=5) / TCP(sport=50512, dport=80, seq=1001 + get_len, ack=5001 + ok_len,
                                           flags="A", window=501, options=ts(103, 200)),
        eth() / ip(identification=6) / ICMP(identifier=0x1FB3, sequence=1) / bytes(range(56)),
        eth(R_MAC, C_MAC) / ip(S_IP, C_IP, ttl=57) / ICMP(type=0, identifier=0x1FB3, sequence=1)
        / bytes(range(56)),
        eth(R_MAC, C_MAC) / IPv4(src=R_IP, dst=C_IP, dscp=0x30) / ICMP(type=11, code=0) / quoted,
        eth(R_MAC, C_MAC) / IPv4(src=R_IP, dst=C_IP, dscp=0x30) / ICMP(type=3, code=4, next_hop_mtu=1400)
        / big[:548],
        eth() / Dot1Q(pcp=3, vid=10) / ip(src="10.0.10.10", dst="10.0.10.1", identification=9)
        / ICMP(identifier=2, sequence=1) / bytes(range(56)),
        eth(R_MAC, C_MAC) / Dot1Q(pcp=3, vid=10) / ip(src="10.0.10.1", dst="10.0.10.10")
        / ICMP(type=0, identifier=2, sequence=1) / bytes(range(56)),
        eth() / ip(identification=10, options=b"\x94\x04\x00\x00") / UDP(sport=5000, dport=6000) / b"hi",
    ]


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[Path, list]:
    path = tmp_path_factory.mktemp("tshark") / "every_kind.pcapng"
    frames = conversation()
    with PcapngWriter(path, [Interface("laptop:eth0")]) as writer:
        for i, frame in enumerate(frames):
            writer.write(0, 1_000_000_000 + i * 1_000_000, frame.encode(), comment=f"frame {i}")
    return path, [decode(frame.encode()) for frame in frames]


def test_the_capture_holds_every_kind_of_layer(capture):
    _, packets = capture
    names = {layer.name for pkt in packets for layer in pkt.layers}
    assert names >= {"Ethernet", "802.1Q", "ARP", "IPv4", "ICMP", "UDP", "TCP", "DNS", "HTTPRequest",
                     "HTTPResponse", "Raw"}


def test_tshark_reports_no_warnings_or_errors(capture):
    path, _ = capture
    problems = expert_problems(path)
    # A Time Exceeded message quotes a datagram whose TTL was 1: tshark notes that on the quote, as it does on
    # real routers' messages (tests/data/linux_golden.pcap frame 6). Nothing else may appear.
    assert [p for p in problems if '"Time To Live" only 1' not in p] == []
    assert len([p for p in problems if '"Time To Live" only 1' in p]) <= 1


def test_tshark_field_values_equal_ours(capture):
    path, packets = capture
    dissected = tshark_json(path)
    assert len(dissected) == len(packets)
    for pkt, theirs in zip(packets, dissected, strict=True):
        assert field(theirs, "eth", "eth.src") == str(pkt[Ethernet].src)
        assert field(theirs, "eth", "eth.dst") == str(pkt[Ethernet].dst)
        if ARP in pkt:
            assert int(field(theirs, "arp", "arp.opcode")) == pkt[ARP].opcode
            assert field(theirs, "arp", "arp.src.proto_ipv4") == str(pkt[ARP].sender_ip)
            continue
        if Dot1Q in pkt:
            assert int(field(theirs, "vlan", "vlan.id")) == pkt[Dot1Q].vid
            assert int(field(theirs, "vlan", "vlan.priority")) == pkt[Dot1Q].pcp
        outer = pkt[IPv4]
        layers = theirs["_source"]["layers"]
        ip_layer = layers["ip"] if isinstance(layers["ip"], dict) else layers["ip"][0]
        assert ip_layer["ip.src"] == str(outer.src) and ip_layer["ip.dst"] == str(outer.dst)
        assert int(ip_layer["ip.ttl"]) == outer.ttl and int(ip_layer["ip.len"]) == outer.total_length
        assert int(ip_layer["ip.id"], 16) == outer.identification
        assert int(ip_layer["ip.checksum"], 16) == outer.header_checksum
        assert ip_layer["ip.checksum.status"] == "1"  # good
        if TCP in pkt:
            tcp = pkt[TCP]
            assert int(field(theirs, "tcp", "tcp.srcport")) == tcp.sport
            assert int(field(theirs, "tcp", "tcp.dstport")) == tcp.dport
            assert int(field(theirs, "tcp", "tcp.seq_raw")) == tcp.seq
            assert int(field(theirs, "tcp", "tcp.flags"), 16) == tcp.flags
            assert int(field(theirs, "tcp", "tcp.checksum"), 16) == tcp.checksum
            assert field(theirs, "tcp", "tcp.checksum.status") == "1"
            assert int(field(theirs, "tcp", "tcp.hdr_len")) == tcp.data_offset * 4
            for option in tcp.options:
                if isinstance(option, MSS):
                    assert int(field(theirs, "tcp", "tcp.options.mss_val")) == option.value
                if isinstance(option, Timestamps):
                    assert int(field(theirs, "tcp", "tcp.options.timestamp.tsval")) == option.tsval
        if HTTPRequest in pkt:
            assert field(theirs, "http", "http.request.method") == pkt[HTTPRequest].method
            assert field(theirs, "http", "http.host") == "example.com"
        if HTTPResponse in pkt:
            assert field(theirs, "http", "http.response.code") == "200"
        if UDP in pkt and ICMP not in pkt:
            assert int(field(theirs, "udp", "udp.length")) == pkt[UDP].length
            assert field(theirs, "udp", "udp.checksum.status") == "1"
        if DNS in pkt:
            assert int(field(theirs, "dns", "dns.id"), 16) == pkt[DNS].id
            assert "example.com" in str(layers["dns"])
            if pkt[DNS].answers:
                assert field(theirs, "dns", "dns.a") == S_IP
        if ICMP in pkt:
            icmp = pkt[ICMP]
            icmp_layer = layers["icmp"]
            assert int(icmp_layer["icmp.type"]) == icmp.type and int(icmp_layer["icmp.code"]) == icmp.code
            assert int(icmp_layer["icmp.checksum"], 16) == icmp.checksum
            assert icmp_layer["icmp.checksum.status"] == "1"
            if icmp.type in (0, 8):
                assert int(icmp_layer["icmp.ident"]) == icmp.identifier
                assert int(icmp_layer["icmp.seq"]) == icmp.sequence
            if icmp.type == 3 and icmp.code == 4:
                assert int(icmp_layer["icmp.mtu"]) == icmp.next_hop_mtu
            if icmp.is_error:  # the quoted datagram, dissected by tshark as an inner IP header
                inner = pkt.layers[pkt.layers.index(icmp) + 1]
                assert icmp_layer["ip"]["ip.dst"] == str(inner.dst)
                assert int(icmp_layer["ip"]["ip.ttl"]) == inner.ttl
        if outer.options:
            assert "ip.opt.type" in str(ip_layer)
        comment = theirs["_source"]["layers"]["frame"].get("frame.comment")
        assert comment is None or comment.startswith("frame ")
