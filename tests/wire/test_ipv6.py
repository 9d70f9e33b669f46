"""IPv6 (RFC 8200), its extension headers, ICMPv6, NDP and MLD: golden bytes, scapy equality, boundaries, errors."""

from __future__ import annotations

import re
import struct
from ipaddress import IPv6Address
from pathlib import Path

import pytest
from scapy.layers.inet import TCP as ScapyTCP
from scapy.layers.inet import UDP as ScapyUDP
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6MLDMultAddrRec,
    ICMPv6MLReport2,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_Redirect,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.inet6 import ICMPv6EchoRequest as ScapyEchoRequest
from scapy.layers.inet6 import IPv6 as ScapyIPv6
from scapy.layers.inet6 import Jumbo as ScapyJumbo
from scapy.layers.inet6 import RouterAlert as ScapyRouterAlert
from scapy.layers.ipsec import AH as ScapyAH
from scapy.layers.ipsec import ESP as ScapyESP
from scapy.layers.l2 import Dot1Q as ScapyDot1Q
from scapy.layers.l2 import Ether

from layersim.capture import CaptureRecord, decode_record
from layersim.cli import main
from layersim.errors import DecodeError, FieldValueError, LayersimError
from layersim.wire import TCP, UDP, Dot1Q, Ethernet, Packet, Raw, decode
from layersim.wire.checksum import pseudo_header_sum
from layersim.wire.cooked import LinuxSLL, LinuxSLL2, Loopback, LoopbackLE
from layersim.wire.icmpv6 import ICMPv6, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6Error
from layersim.wire.ipv6 import IPv6
from layersim.wire.ipv6_ext import AH, ESP, DestOptions, Fragment, HopByHop, Routing
from layersim.wire.ipv6_options import Jumbo, Pad1, PadN, RouterAlert, UnknownTLV
from layersim.wire.mld import MLDv2Report, MulticastRecord
from layersim.wire.ndp import (
    NAFlags,
    NDPNeighborAdvertisement,
    NDPNeighborSolicitation,
    NDPRedirect,
    NDPRouterAdvertisement,
    NDPRouterSolicitation,
    RAFlags,
)
from layersim.wire.ndp_options import (
    RDNSS,
    MTUOption,
    PrefixInformation,
    SourceLinkAddress,
    TargetLinkAddress,
    UnknownNDOption,
)
from tests.tools import rfc1071_sum

DATA = Path(__file__).parents[1] / "data"
A, B = "2001:db8:1::10", "2001:db8:2::20"
MAC_A, MAC_B = "02:00:00:00:01:10", "02:00:00:00:01:01"

# Frame 4 of ipv6_golden.pcap: Linux 6.18's duplicate address detection probe for 2001:db8:1::10 (RFC 4862 §5.4.2:
# from the unspecified address to the solicited-node group, no source link-layer address option).
DAD_PROBE = bytes.fromhex(
    "3333ff000010020000000110" "86dd" "6000000000203aff" "00000000000000000000000000000000"
    "ff0200000000000000000001ff000010" "8700f1cb00000000" "20010db8000100000000000000000010"
    "0e01aee048ed552b")


def eth(dst: str = MAC_B) -> Ethernet:
    return Ethernet(src=MAC_A, dst=dst)


def scapy_eth(dst: str = MAC_B) -> Ether:
    return Ether(src=MAC_A, dst=dst)


def test_a_linux_dad_probe_decodes_field_by_field():
    packet = decode(DAD_PROBE)
    ip, icmp, ns = packet[IPv6], packet[ICMPv6], packet[NDPNeighborSolicitation]
    assert (ip.version, ip.traffic_class, ip.flow_label, ip.payload_length) == (6, 0, 0, 32)
    assert (ip.next_header, ip.hop_limit) == (58, 255)
    assert ip.src == IPv6Address("::") and ip.dst == IPv6Address("ff02::1:ff00:10")
    assert (icmp.type, icmp.code, icmp.checksum, icmp.checksum_ok) == (135, 0, 0xF1CB, True)
    assert ns.target == IPv6Address(A)
    # RFC 7527 enhanced DAD: Linux appends a random Nonce option (type 14), kept as it came.
    assert ns.options == (UnknownNDOption(14, bytes.fromhex("aee048ed552b")),)
    assert packet.encode() == DAD_PROBE


def test_the_dad_probe_built_from_fields_is_the_same_bytes():
    built = (Ethernet(src=MAC_A, dst="33:33:ff:00:00:10") / IPv6(src="::", dst="ff02::1:ff00:10", hop_limit=255)
             / ICMPv6() / NDPNeighborSolicitation(target=A, options=[UnknownNDOption(14, bytes.fromhex(
                 "aee048ed552b"))]))
    assert built.encode() == DAD_PROBE


SCAPY_PAIRS = [
    pytest.param(eth() / IPv6(src=A, dst=B) / ICMPv6() / ICMPv6EchoRequest(identifier=0x1234, sequence=7) / b"hi",
                 scapy_eth() / ScapyIPv6(src=A, dst=B) / ScapyEchoRequest(id=0x1234, seq=7, data=b"hi"), id="echo"),
    pytest.param(eth() / IPv6(src=A, dst=B, traffic_class=0xB8, flow_label=0xABCDE) / UDP(sport=1, dport=53)
                 / b"q", scapy_eth() / ScapyIPv6(src=A, dst=B, tc=0xB8, fl=0xABCDE) / ScapyUDP(sport=1, dport=53)
                 / b"q", id="udp-tclass-flow"),
    pytest.param(eth() / IPv6(src=A, dst=B) / HopByHop(options=[RouterAlert(0)]) / DestOptions()
                 / Routing(data=bytes(16)) / Fragment(identification=7) / TCP(sport=1, dport=2, flags="S"),
                 scapy_eth() / ScapyIPv6(src=A, dst=B) / IPv6ExtHdrHopByHop(options=[ScapyRouterAlert(value=0)])
                 / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=["::"], segleft=0) / IPv6ExtHdrFragment(id=7)
                 / ScapyTCP(sport=1, dport=2, flags="S", seq=0, window=65535), id="extension-chain"),
    pytest.param(eth() / IPv6(src=A, dst=B) / Fragment(fragment_offset=185, more_fragments=1, identification=9,
                                                     next_header=17) / bytes(16),
                 scapy_eth() / ScapyIPv6(src=A, dst=B) / IPv6ExtHdrFragment(offset=185, m=1, id=9, nh=17)
                 / (b"\x00" * 16), id="later-fragment"),
    pytest.param(eth() / IPv6(src=A, dst=B) / AH(spi=0x100, sequence=1, icv=bytes(12))
                 / UDP(sport=5, dport=6, checksum=0),
                 scapy_eth() / ScapyIPv6(src=A, dst=B) / ScapyAH(spi=0x100, seq=1, icv=bytes(12), nh=17, payloadlen=4)
                 / ScapyUDP(sport=5, dport=6, chksum=0), id="ah"),  # scapy computes neither through AH
    pytest.param(eth() / IPv6(src=A, dst=B) / ESP(spi=0x100, sequence=1) / (b"\xaa" * 8),
                 scapy_eth() / ScapyIPv6(src=A, dst=B) / ScapyESP(spi=0x100, seq=1, data=b"\xaa" * 8), id="esp"),
    pytest.param(eth("33:33:00:00:00:02") / IPv6(src="fe80::1", dst="ff02::2", hop_limit=255) / ICMPv6()
                 / NDPRouterSolicitation(options=[SourceLinkAddress(MAC_A)]),
                 scapy_eth("33:33:00:00:00:02") / ScapyIPv6(src="fe80::1", dst="ff02::2", hlim=255) / ICMPv6ND_RS()
                 / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A), id="rs"),
    pytest.param(eth() / IPv6(src="fe80::1", dst="ff02::1", hop_limit=255) / ICMPv6() / NDPRouterAdvertisement(
        flags=RAFlags.M | RAFlags.O, options=[
            PrefixInformation(prefix="2001:db8:1::"), MTUOption(1400),
            RDNSS(600, (IPv6Address("2001:db8::53"), IPv6Address("2001:db8::54")))]),
                 scapy_eth() / ScapyIPv6(src="fe80::1", dst="ff02::1", hlim=255)
                 / ICMPv6ND_RA(chlim=64, M=1, O=1, prf=0, routerlifetime=1800)
                 / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", validlifetime=2592000, preferredlifetime=604800)
                 / ICMPv6NDOptMTU(mtu=1400) / ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8::53", "2001:db8::54"]),
                 id="ra-prefix-mtu-rdnss"),
    pytest.param(eth() / IPv6(src=B, dst=A, hop_limit=255) / ICMPv6() / NDPNeighborAdvertisement(
        flags=NAFlags.R | NAFlags.S | NAFlags.O, target=B, options=[TargetLinkAddress(MAC_B)]),
                 scapy_eth() / ScapyIPv6(src=B, dst=A, hlim=255) / ICMPv6ND_NA(R=1, S=1, O=1, tgt=B)
                 / ICMPv6NDOptDstLLAddr(lladdr=MAC_B), id="na"),
    pytest.param(eth() / IPv6(src=A, dst="ff02::1:ff00:20", hop_limit=255) / ICMPv6()
                 / NDPNeighborSolicitation(target=B, options=[SourceLinkAddress(MAC_A)]),
                 scapy_eth() / ScapyIPv6(src=A, dst="ff02::1:ff00:20", hlim=255) / ICMPv6ND_NS(tgt=B)
                 / ICMPv6NDOptSrcLLAddr(lladdr=MAC_A), id="ns"),
    pytest.param(eth() / IPv6(src="fe80::1", dst=A, hop_limit=255) / ICMPv6()
                 / NDPRedirect(target="fe80::2", destination=B),
                 scapy_eth() / ScapyIPv6(src="fe80::1", dst=A, hlim=255) / ICMPv6ND_Redirect(tgt="fe80::2", dst=B),
                 id="redirect"),
    pytest.param(eth("33:33:00:00:00:16") / IPv6(src="fe80::1", dst="ff02::16", hop_limit=1)
                 / HopByHop(options=[RouterAlert(0)]) / ICMPv6() / MLDv2Report(records=[
                     MulticastRecord(4, IPv6Address("ff02::fb")),
                     MulticastRecord(1, IPv6Address("ff05::1"), (IPv6Address(A), IPv6Address(B)))]),
                 scapy_eth("33:33:00:00:00:16") / ScapyIPv6(src="fe80::1", dst="ff02::16", hlim=1)
                 / IPv6ExtHdrHopByHop(options=[ScapyRouterAlert(value=0)]) / ICMPv6MLReport2(records=[
                     ICMPv6MLDMultAddrRec(rtype=4, dst="ff02::fb"),
                     ICMPv6MLDMultAddrRec(rtype=1, dst="ff05::1", sources=[A, B])]), id="mldv2"),
    pytest.param(eth() / IPv6(src="2001:db8:1::1", dst=A) / ICMPv6(type=2) / ICMPv6Error(parameter=1280)
                 / IPv6(src=A, dst=B) / UDP(sport=1, dport=2) / b"x",
                 scapy_eth() / ScapyIPv6(src="2001:db8:1::1", dst=A) / ICMPv6PacketTooBig(mtu=1280)
                 / ScapyIPv6(src=A, dst=B) / ScapyUDP(sport=1, dport=2) / b"x", id="packet-too-big"),
    pytest.param(eth() / IPv6(src=B, dst=A) / ICMPv6(type=1, code=4) / ICMPv6Error()
                 / IPv6(src=A, dst=B) / UDP(sport=1, dport=2),
                 scapy_eth() / ScapyIPv6(src=B, dst=A) / ICMPv6DestUnreach(code=4)
                 / ScapyIPv6(src=A, dst=B) / ScapyUDP(sport=1, dport=2), id="port-unreachable"),
    pytest.param(Ethernet(src=MAC_A, dst=MAC_B) / Dot1Q(vid=10) / IPv6(src=A, dst=B) / UDP(sport=1, dport=2),
                 scapy_eth() / ScapyDot1Q(vlan=10) / ScapyIPv6(src=A, dst=B) / ScapyUDP(sport=1, dport=2),
                 id="802.1q"),
]



@pytest.mark.parametrize(("ours", "theirs"), SCAPY_PAIRS)
def test_built_frames_equal_scapys_bytes_and_round_trip(ours: Packet, theirs: Ether):
    data = ours.encode()
    assert data == bytes(theirs)
    again = decode(data)
    assert again.encode() == data
    assert [layer.checksum_ok for layer in again.layers if layer.checksum_ok is not None] in ([True], [])
    assert Ether(bytes(again.to_scapy())) == Ether(data) and bytes(again.to_scapy()) == data
    assert Packet.from_scapy(theirs).encode() == data


def test_checksums_cover_the_ipv6_pseudo_header():
    """RFC 8200 §8.1: source, destination, upper-layer length (32 bits), next header; checked word by word."""
    src, dst = IPv6Address(A), IPv6Address(B)
    pseudo = src.packed + dst.packed + struct.pack("!IxxxB", 70000, 17)
    assert pseudo_header_sum(src, dst, 17, 70000) % 0xFFFF == rfc1071_sum(pseudo) % 0xFFFF
    for upper in (UDP(sport=1, dport=2), TCP(sport=1, dport=2), ICMPv6(type=128)):
        packet = decode((eth() / IPv6(src=A, dst=B) / upper / b"payload").encode())
        layer = packet[type(upper)]
        assert layer.checksum_ok is True
        data = bytearray(packet.encode())
        data[-1] ^= 1
        assert decode(bytes(data))[type(upper)].checksum_ok is False
        start = 14 + 40
        message = bytes(packet.encode()[start:])
        whole = src.packed + dst.packed + struct.pack("!IxxxB", len(message), int(upper.ip_protocol)) + message
        assert rfc1071_sum(whole) == 0xFFFF  # an independent sum over pseudo-header and message


def test_ipv6_as_each_link_type_carries_it():
    ip = (IPv6(src=A, dst=B) / UDP(sport=1, dport=2) / b"x").encode()
    for linktype, header, first in [(101, b"", IPv6), (229, b"", IPv6), (0, struct.pack("<I", 24), LoopbackLE),
                                    (0, struct.pack("<I", 28), LoopbackLE), (0, struct.pack("<I", 30), LoopbackLE),
                                    (0, struct.pack(">I", 30), Loopback), (108, struct.pack(">I", 24), Loopback)]:
        data = header + ip
        packet = decode_record(CaptureRecord(0, 0, data, len(data), None, 0, linktype, None))
        assert type(packet[0]) is first and packet[UDP].checksum_ok is True and packet.encode() == data
    for cls, linktype in ((LinuxSLL, 113), (LinuxSLL2, 276)):
        data = (cls(address="02:00:00:00:01:10") / IPv6(src=A, dst=B) / UDP(sport=1, dport=2)).encode()
        packet = decode_record(CaptureRecord(0, 0, data, len(data), None, 0, linktype, None))
        assert packet.layer_names == (cls.spec.name, "IPv6", "UDP") and packet[0].protocol == 0x86DD
    ip4 = bytes.fromhex("4500001c000000004011f9c90a0000010a0000020001000200080000")
    assert decode_record(CaptureRecord(0, 0, ip4, len(ip4), None, 0, 101, None)).layer_names[:2] == ("IPv4", "UDP")
    assert (Loopback() / IPv6(src=A, dst=B) / UDP()).encode()[:4] == struct.pack(">I", 24)  # BSD's AF_INET6


def test_boundaries_of_the_fixed_header():
    whole = Packet([IPv6(src=A, dst=B, next_header=59)]).encode()
    assert len(whole) == 40 and decode(whole, IPv6).layer_names == ("IPv6",)
    with pytest.raises(DecodeError, match="IPv6 at byte 0: 39 bytes left, shorter than the 40-byte header"):
        decode(whole[:39], IPv6)
    with pytest.raises(DecodeError, match="version 4 is not 6"):
        decode(b"\x40" + whole[1:], IPv6)
    one_more = bytearray(whole)
    one_more[5] = 1  # payload length 1 with nothing after the header
    with pytest.raises(DecodeError, match="payload length 1 is longer than the 0 bytes left"):
        decode(bytes(one_more), IPv6)
    assert decode(bytes(one_more), IPv6, truncated=True).layer_names == ("IPv6",)
    padded = (eth() / IPv6(src=A, dst=B, next_header=59)).encode() + bytes(6)  # Ethernet padding after the packet
    assert decode(padded).layer_names == ("Ethernet", "IPv6", "Padding")


def test_extension_headers_that_run_past_the_packet_are_decode_errors():
    exact = (IPv6(src=A, dst=B) / HopByHop(options=[PadN(bytes(12))], next_header=59)).encode()
    assert len(exact) == 56 and decode(exact, IPv6).layer_names == ("IPv6", "HopByHop")  # 16 bytes, 16 left
    with pytest.raises(DecodeError, match=re.escape("HopByHop at byte 41: header length 1 (16 bytes) is longer "
                                                    "than the 15 bytes left")):
        decode(_relength(exact[:-1]), IPv6)
    chain = (IPv6(src=A, dst=B) / HopByHop(options=[PadN(bytes(4))]) / UDP(sport=1, dport=2)).encode()
    assert decode(chain, IPv6).layer_names == ("IPv6", "HopByHop", "UDP")
    bad = bytearray(chain)
    bad[43] = 5  # the PadN's length runs past the 8-byte header
    with pytest.raises(DecodeError, match="HopByHop option at byte 42: type 1 length 5 runs past"):
        decode(bytes(bad), IPv6)


def _relength(packet: bytes) -> bytes:
    """The IPv6 packet with its payload length fixed up to what follows the header."""
    return packet[:4] + (len(packet) - 40).to_bytes(2, "big") + packet[6:]


def test_pad1_padn_and_unknown_options_round_trip_exactly():
    options = [Pad1(), PadN(b"\0"), UnknownTLV(0x3E, b"ab"), Pad1()]  # 1 + 3 + 4 + 1 = 9 bytes: padded to 14
    packet = IPv6(src=A, dst=B) / DestOptions(options=options) / UDP(sport=1, dport=2)
    again = decode(packet.encode(), IPv6)
    assert again[DestOptions].options[:4] == tuple(options) and again[DestOptions].hdr_ext_len == 1
    assert (2 + sum(len(o.encode()) for o in again[DestOptions].options)) % 8 == 0
    assert again.encode() == packet.encode() and again[UDP].checksum_ok


def test_a_jumbogram_ends_where_the_jumbo_payload_option_says():
    """RFC 2675 §3: payload length 0, the length in a Hop-by-Hop Jumbo Payload option (scapy agrees)."""
    udp = (IPv6(src=A, dst=B) / UDP(sport=1, dport=2, checksum=0) / b"j").encode()[40:]
    hbh = HopByHop(next_header=17, options=[Jumbo(8 + len(udp))])
    data = (IPv6(src=A, dst=B, payload_length=0) / hbh).encode() + udp + b"pad"
    scapy = ScapyIPv6(src=A, dst=B, plen=0) / IPv6ExtHdrHopByHop(nh=17, options=[ScapyJumbo(jumboplen=8 + len(udp))])
    assert data[:48] == bytes(scapy)[:48]
    packet = decode(data, IPv6)
    assert packet.layer_names == ("IPv6", "HopByHop", "UDP", "Raw", "Padding")
    assert packet[HopByHop].jumbo_length == 17 and packet.encode() == data


def test_fragments_other_than_an_atomic_one_leave_their_payload_raw():
    atomic = decode((IPv6(src=A, dst=B) / Fragment() / UDP(sport=1, dport=2) / b"x").encode(), IPv6)
    assert atomic.layer_names == ("IPv6", "Fragment", "UDP", "Raw")  # RFC 6946: offset 0, M 0
    for offset, more in [(0, 1), (1, 0), (8191, 1)]:
        data = (IPv6(src=A, dst=B) / Fragment(fragment_offset=offset, more_fragments=more, next_header=17)
                / b"12345678").encode()
        assert decode(data, IPv6).layer_names == ("IPv6", "Fragment", "Raw")


def test_icmpv6_errors_decode_the_quoted_packet_even_cut_short():
    full = (eth() / IPv6(src=B, dst=A) / ICMPv6(type=3) / ICMPv6Error() / IPv6(src=A, dst=B, hop_limit=1)
            / UDP(sport=1, dport=33434) / bytes(32)).encode()
    cut = full[:-20]  # the quote cut inside the UDP payload; outer lengths fixed up below
    cut = cut[:18] + (len(cut) - 54).to_bytes(2, "big") + cut[20:]
    packet = decode(cut)
    assert packet.layer_names == ("Ethernet", "IPv6", "ICMPv6", "ICMPv6 Error", "IPv6", "UDP", "Raw")
    assert packet.get(IPv6) is packet[1] and packet.layers[4].hop_limit == 1 and packet[UDP].dport == 33434
    assert packet.encode() == cut


def test_ndp_option_lengths_are_checked():
    ns = (IPv6(src=A, dst=B) / ICMPv6() / NDPNeighborSolicitation(target=B, options=[SourceLinkAddress(MAC_A)]))
    data = bytearray(ns.encode())
    assert decode(bytes(data), IPv6)[NDPNeighborSolicitation].options == (SourceLinkAddress(MAC_A),)
    data[-7] = 0
    with pytest.raises(DecodeError, match="NDP option at byte 65: type 1 has length 0"):
        decode(bytes(data), IPv6)
    data[-7] = 2
    with pytest.raises(DecodeError, match="type 1 length 2 \\(16 bytes\\) runs past the end"):
        decode(bytes(data), IPv6)


def test_mldv2_records_past_the_message_are_decode_errors():
    report = (IPv6(src="fe80::1", dst="ff02::16") / ICMPv6() / MLDv2Report(records=[
        MulticastRecord(4, IPv6Address("ff02::fb"))])).encode()
    bad = bytearray(report)
    bad[47] = 2  # two records announced, one present
    with pytest.raises(DecodeError, match="record 2 of 2: 0 bytes left"):
        decode(bytes(bad), IPv6)
    bad[47] = 1
    bad[51] = 1  # one source announced that is not there
    with pytest.raises(DecodeError, match="record 1 of 1: 1 sources and 0 auxiliary words"):
        decode(bytes(bad), IPv6)


def test_building_mistakes_raise_errors_that_say_what_to_do():
    with pytest.raises(FieldValueError, match=re.escape("IPv6.src: IPv6 address '2001:db8::zz' is not valid")):
        IPv6(src="2001:db8::zz")
    with pytest.raises(FieldValueError, match=re.escape("IPv6.dst: IPv6 address 3.5 is not a string")):
        IPv6(dst=3.5)
    with pytest.raises(LayersimError, match=re.escape(
            "IPv6.next_header is None and cannot be derived from the layer above (Raw)")):
        (IPv6() / Raw(b"x")).encode()
    with pytest.raises(LayersimError, match="exceeds 65535 and the layer above has no Jumbo Payload option"):
        (IPv6(next_header=59) / Raw(bytes(65536))).encode()
    with pytest.raises(LayersimError, match=re.escape("Routing data of 3 bytes is not a multiple of 8")):
        (IPv6() / Routing(data=b"abc", next_header=59)).encode()
    with pytest.raises(LayersimError, match=re.escape("ICMPv6.checksum is None but there is no IPv6 layer below")):
        (ICMPv6(type=128) / ICMPv6EchoRequest()).encode()
    with pytest.raises(FieldValueError, match=re.escape("HopByHop.options: 'x' is not an IPv6 option")):
        HopByHop(options=["x"])
    with pytest.raises(FieldValueError, match=r"NDP Router Advertisement\.options: .* cannot be encoded"):
        NDPRouterAdvertisement(options=[MTUOption(2 ** 32)])
    assert (IPv6(src=A, dst=B) / ICMPv6() / ICMPv6EchoReply()).encode()[40] == 129  # the type from the body


def test_layersim_inspect_shows_ipv6(capsys):
    assert main(["inspect", str(DATA / "ipv6_golden.pcap")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("Internet Protocol Version 6") == 43 + 8  # every frame, and the packets 8 errors quote
    assert "Router Advertisement" in out and "RDNSS" in out and "Fragment" in out


def test_show_hexdump_and_dict_name_ipv6_fields():
    packet = decode(DAD_PROBE)
    text = packet.show_text()
    assert "Internet Protocol Version 6, Src: ::, Dst: ff02::1:ff00:10" in text
    assert "Hop Limit: 255" in text and "Source Address: ::" in text
    assert "IPv6.dst" in packet.hexdump_text() and "NDP Neighbor Solicitation.target" in packet.hexdump_text()
    layers = packet.to_dict()["layers"]
    assert layers[1]["fields"]["dst"] == "ff02::1:ff00:10" and layers[2]["checksum_ok"] is True
    assert packet.summary() == ("Ethernet / IPv6 :: > ff02::1:ff00:10 / ICMPv6 NEIGHBOR_SOLICITATION / "
                                "NDP Neighbor Solicitation")


def test_the_bit_picture_places_ipv6_fields_at_their_rfc_offsets():
    pytest.importorskip("matplotlib")
    from layersim.viz import bit_layout
    from tests.viz.test_bitlayout import drawn_bits

    ax = bit_layout(IPv6)
    # RFC 8200 §3: version 0-3, traffic class 4-11, flow label 12-31, then 16 + 8 + 8 bits, two 128-bit addresses.
    for name, offset, width in [("version", 0, 4), ("traffic_class", 4, 8), ("flow_label", 12, 20),
                                ("payload_length", 32, 16), ("next_header", 48, 8), ("hop_limit", 56, 8),
                                ("src", 64, 128), ("dst", 192, 128)]:
        assert drawn_bits(ax, name) == list(range(offset, offset + width)), name
    assert ax.get_title().startswith("IPv6 header: 40-byte fixed part")


def test_the_encapsulation_picture_names_ipv6_and_its_key_fields():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from layersim.viz import encapsulation

    ax = encapsulation(decode(DAD_PROBE))
    texts = " ".join(t.get_text() for t in ax.texts)
    plt.close(ax.figure)
    assert "IPv6 header\n40 bytes" in texts and "dst ff02::1:ff00:10" in texts and "hop limit 255" in texts
