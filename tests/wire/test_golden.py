"""Real Linux frames (tests/wire/golden.py) decoded field by field, and the same frames built from fields."""

from ipaddress import IPv4Address

import pytest
from scapy.all import rdpcap

from layersim import ARP, ICMP, TCP, UDP, Dot1Q, Ethernet, IPv4, Raw, decode
from layersim.wire.icmp import ICMPType
from layersim.wire.tcp import TCPFlags
from layersim.wire.tcp_options import MSS, NOP, SACKPermitted, Timestamps, WindowScale
from tests.wire import golden

CLIENT_MAC, ROUTER_MAC = "02:00:00:00:01:10", "02:00:00:00:01:01"


def test_arp_request_fields_and_rebuild():
    pkt = decode(golden.ARP_REQUEST)
    eth, arp = pkt[Ethernet], pkt[ARP]
    assert str(eth.dst) == "ff:ff:ff:ff:ff:ff" and str(eth.src) == CLIENT_MAC and eth.type == 0x0806
    assert (arp.hardware_type, arp.protocol_type, arp.hardware_size, arp.protocol_size) == (1, 0x0800, 6, 4)
    assert arp.opcode == 1
    assert str(arp.sender_mac) == CLIENT_MAC and arp.sender_ip == IPv4Address("10.0.1.10")
    assert str(arp.target_mac) == "00:00:00:00:00:00" and arp.target_ip == IPv4Address("10.0.1.1")
    built = Ethernet(dst="ff:ff:ff:ff:ff:ff", src=CLIENT_MAC) / ARP(
        opcode="request", sender_mac=CLIENT_MAC, sender_ip="10.0.1.10", target_ip="10.0.1.1")
    assert built.encode() == golden.ARP_REQUEST


def test_icmp_echo_fields_and_rebuild():
    pkt = decode(golden.ICMP_ECHO)
    ip, icmp = pkt[IPv4], pkt[ICMP]
    assert (ip.version, ip.ihl, ip.dscp, ip.ecn, ip.total_length) == (4, 5, 0, 0, 84)
    assert ip.identification == 0x9F35 and ip.flags == 2 and ip.fragment_offset == 0
    assert (ip.ttl, ip.protocol, ip.header_checksum) == (64, 1, 0x8456) and ip.checksum_ok
    assert (ip.src, ip.dst) == (IPv4Address("10.0.1.10"), IPv4Address("10.0.2.20"))
    assert (icmp.type, icmp.code, icmp.checksum) == (ICMPType.ECHO_REQUEST, 0, 0xDB5A) and icmp.checksum_ok
    assert (icmp.identifier, icmp.sequence) == (0x1FB3, 1)
    data = pkt[Raw].data
    assert len(data) == 56 and data[16:] == bytes(range(0x10, 0x38))  # ping: 16-byte timeval, then 0x10..
    built = (Ethernet(dst=ROUTER_MAC, src=CLIENT_MAC)
             / IPv4(identification=0x9F35, flags="DF", src="10.0.1.10", dst="10.0.2.20")
             / ICMP(type="ECHO_REQUEST", identifier=0x1FB3, sequence=1) / data)
    assert built.encode() == golden.ICMP_ECHO


def test_time_exceeded_quotes_the_datagram_as_layers():
    pkt = decode(golden.TIME_EXCEEDED)
    names = [layer.name for layer in pkt.layers]
    assert names == ["Ethernet", "IPv4", "ICMP", "IPv4", "ICMP", "Raw"]
    outer, inner = pkt.layers[1], pkt.layers[3]
    assert outer.src == IPv4Address("10.0.1.1") and outer.dscp == 0x30  # Linux sends ICMP errors with CS6
    assert pkt[ICMP].type == ICMPType.TIME_EXCEEDED and pkt[ICMP].code == 0 and pkt[ICMP].checksum_ok
    assert inner.ttl == 1 and inner.dst == IPv4Address("10.0.2.20") and inner.checksum_ok
    quoted_icmp = pkt.layers[4]
    assert quoted_icmp.identifier == 0x1FB4 and quoted_icmp.checksum_ok is None  # inside a quote: unverified
    assert pkt.encode() == golden.TIME_EXCEEDED


def test_net_unreachable():
    pkt = decode(golden.NET_UNREACHABLE)
    icmp = pkt[ICMP]
    assert (icmp.type, icmp.code) == (3, 0) and icmp.info()["code_name"] == "NET_UNREACHABLE"
    assert pkt.layers[3].dst == IPv4Address("10.0.99.1")
    assert pkt.encode() == golden.NET_UNREACHABLE


def test_fragmentation_needed_quotes_576_bytes_and_gives_the_mtu():
    frame = bytes(rdpcap(str(golden.GOLDEN_PCAP))[7])  # frame 8
    pkt = decode(frame)
    icmp, outer, inner = pkt[ICMP], pkt.layers[1], pkt.layers[3]
    assert (icmp.type, icmp.code, icmp.next_hop_mtu) == (3, 4, 1400)
    assert outer.total_length == 576  # RFC 1812 §4.3.2.3: as much as fits in 576 bytes
    assert inner.total_length == 1478 and inner.flags == 2  # the quoted header still says 1478, DF
    assert pkt.encode() == frame


def test_udp_dns_query():
    pkt = decode(golden.DNS_QUERY)
    udp = pkt[UDP]
    assert (udp.sport, udp.dport, udp.length, udp.checksum) == (50007, 53, 37, 0x4358) and udp.checksum_ok
    assert pkt.payload_of(UDP)[:2] == b"\x12\x34"
    assert pkt.encode() == golden.DNS_QUERY


def test_tcp_syn_options():
    pkt = decode(golden.TCP_SYN)
    tcp = pkt[TCP]
    assert (tcp.sport, tcp.dport, tcp.seq, tcp.ack) == (56388, 80, 0x5CFC19F3, 0)
    assert tcp.data_offset == 10 and tcp.flags == TCPFlags.SYN and tcp.window == 65280
    assert tcp.checksum == 0x9434 and tcp.checksum_ok
    assert tcp.options == (MSS(1360), SACKPermitted(), Timestamps(0x17F83292, 0), NOP(), WindowScale(10))
    built = (Ethernet(dst=ROUTER_MAC, src=CLIENT_MAC)
             / IPv4(identification=0x9017, flags="DF", src="10.0.1.10", dst="10.0.2.20")
             / TCP(sport=56388, dport=80, seq=0x5CFC19F3, flags="S", window=65280, options=tcp.options))
    assert built.encode() == golden.TCP_SYN


def test_http_get_segment():
    pkt = decode(golden.HTTP_GET)
    tcp = pkt[TCP]
    assert tcp.flags == TCPFlags.PSH | TCPFlags.ACK and tcp.options[2] == Timestamps(0x17F83292, 0x3C183364)
    assert pkt.payload_of(TCP).startswith(b"GET / HTTP/1.1\r\n")
    assert pkt.encode() == golden.HTTP_GET


@pytest.mark.parametrize("index", range(24))
def test_every_frame_of_the_real_capture_round_trips_with_correct_checksums(index):
    frame = bytes(rdpcap(str(golden.GOLDEN_PCAP))[index])
    pkt = decode(frame)
    assert pkt.encode() == frame
    for layer, (start, _end) in zip(pkt.layers, pkt.spans, strict=True):
        if start < 34 or layer.name != "ICMP":  # quoted layers may be unverifiable (None)
            assert layer.checksum_ok in (True, None)
    assert all(layer.checksum_ok for layer in pkt.layers[:3] if layer.checksum_ok is not None)


def test_vlan_tagged_tcp_fields_and_rebuild():
    pkt = decode(golden.VLAN_TCP)
    tag = pkt[Dot1Q]
    assert (tag.pcp, tag.dei, tag.vid, tag.type) == (4, 1, 32, 0x0800) and pkt[Ethernet].type == 0x8100
    ip, tcp = pkt[IPv4], pkt[TCP]
    assert (ip.src, ip.dst, ip.ttl, ip.identification) == (IPv4Address("131.151.32.129"),
                                                           IPv4Address("131.151.32.21"), 64, 0x3B64)
    assert (tcp.sport, tcp.dport, tcp.flags) == (1173, 6000, TCPFlags.ACK) and tcp.checksum_ok
    built = (Ethernet(dst="00:60:08:9f:b1:f3", src="00:40:05:40:ef:24") / Dot1Q(pcp=4, dei=1, vid=32)
             / IPv4(identification=0x3B64, flags="DF", src="131.151.32.129", dst="131.151.32.21")
             / TCP(sport=1173, dport=6000, seq=tcp.seq, ack=tcp.ack, flags="A", window=tcp.window, options=tcp.options))
    assert built.encode() == golden.VLAN_TCP


def test_double_tagged_icmp():
    pkt = decode(golden.QINQ_ICMP)
    outer, inner = [layer for layer in pkt.layers if isinstance(layer, Dot1Q)]
    assert (outer.vid, outer.type, inner.vid, inner.type) == (118, 0x8100, 10, 0x0800)
    assert pkt[ICMP].checksum_ok and pkt[ICMP].type == ICMPType.ECHO_REQUEST and pkt[IPv4].ttl == 255
    assert pkt.encode() == golden.QINQ_ICMP
