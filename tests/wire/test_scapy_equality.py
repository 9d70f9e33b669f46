"""Byte equality with scapy for the same field values, and decoding frames that scapy built."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP as SICMP
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as STCP
from scapy.layers.inet import UDP as SUDP
from scapy.layers.l2 import ARP as SARP
from scapy.layers.l2 import Dot1Q as SDot1Q
from scapy.layers.l2 import Ether
from scapy.packet import Raw as SRaw

from layersim import ARP, ICMP, TCP, UDP, Dot1Q, Ethernet, IPv4, decode
from layersim.wire.tcp_options import (
    EOL,
    MSS,
    NOP,
    SACK,
    SACKPermitted,
    Timestamps,
    UnknownOption,
    WindowScale,
)

MACS = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
IPS = dict(src="10.0.1.10", dst="93.184.216.34")


def ours_ip(**kw):
    return Ethernet(**MACS) / IPv4(**{**IPS, **kw})


def scapy_ip(**kw):
    return Ether(**MACS) / IP(**{**IPS, "id": 0, **kw})


CASES = {
    "tcp_syn_linux_options": (
        ours_ip() / TCP(sport=40000, dport=80, seq=1, flags="S", window=64240,
                        options=[MSS(1460), SACKPermitted(), Timestamps(10, 0), NOP(), WindowScale(7)]),
        scapy_ip() / STCP(sport=40000, dport=80, seq=1, flags="S", window=64240,
                          options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (10, 0)), ("NOP", None),
                                   ("WScale", 7)])),
    "tcp_sack_blocks": (
        ours_ip() / TCP(sport=80, dport=40000, seq=5, ack=9, flags="A",
                        options=[NOP(), NOP(), SACK(((100, 200), (300, 400)))]),
        scapy_ip() / STCP(sport=80, dport=40000, seq=5, ack=9, flags="A", window=65535,
                          options=[("NOP", None), ("NOP", None), ("SAck", (100, 200, 300, 400))])),
    "tcp_unpadded_options": (
        ours_ip() / TCP(sport=1, dport=2, flags="S", options=[MSS(536), WindowScale(2)]),
        scapy_ip() / STCP(sport=1, dport=2, flags="S", window=65535, options=[("MSS", 536), ("WScale", 2)])),
    "tcp_http_payload": (
        ours_ip(ttl=57, flags="DF") / TCP(sport=50512, dport=80, seq=1000, ack=2000, flags="PA")
        / b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        scapy_ip(ttl=57, flags="DF") / STCP(sport=50512, dport=80, seq=1000, ack=2000, flags="PA",
                                            window=65535) / SRaw(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")),
    "udp": (ours_ip() / UDP(sport=5353, dport=9999) / b"hello",
            scapy_ip() / SUDP(sport=5353, dport=9999) / SRaw(b"hello")),
    "icmp_echo": (ours_ip() / ICMP(identifier=7, sequence=3) / b"abcdefgh",
                  scapy_ip() / SICMP(type=8, id=7, seq=3) / SRaw(b"abcdefgh")),
    "icmp_frag_needed": (
        ours_ip() / ICMP(type=3, code=4, next_hop_mtu=1400) / bytes(IP(src="1.2.3.4", dst="5.6.7.8") / SUDP()),
        scapy_ip() / SICMP(type=3, code=4, nexthopmtu=1400) / SRaw(bytes(IP(src="1.2.3.4", dst="5.6.7.8")
                                                                        / SUDP()))),
    "ip_options": (ours_ip(options=b"\x94\x04\x00\x00") / UDP(sport=1, dport=2),
                   scapy_ip(options=b"\x94\x04\x00\x00") / SUDP(sport=1, dport=2)),
    "ip_fragment_fields": (ours_ip(flags="MF", fragment_offset=185, identification=77, protocol=0) / b"x",
                           scapy_ip(flags="MF", frag=185, id=77, proto=0) / SRaw(b"x")),
    "arp_reply": (Ethernet(**MACS) / ARP(opcode="reply", sender_mac=MACS["src"], sender_ip="10.0.0.1",
                                          target_mac=MACS["dst"], target_ip="10.0.0.2"),
                  Ether(**MACS) / SARP(op=2, hwsrc=MACS["src"], psrc="10.0.0.1", hwdst=MACS["dst"],
                                       pdst="10.0.0.2")),
    "vlan": (Ethernet(**MACS) / Dot1Q(pcp=5, vid=100) / IPv4(**IPS) / ICMP(),
             Ether(**MACS) / SDot1Q(prio=5, vlan=100) / IP(**IPS, id=0) / SICMP()),
}


@pytest.mark.parametrize("name", CASES)
def test_same_bytes_as_scapy(name):
    ours, theirs = CASES[name]
    assert ours.encode() == bytes(theirs)


@pytest.mark.parametrize("name", CASES)
def test_decodes_scapy_frames_and_reencodes(name):
    data = bytes(CASES[name][1])
    pkt = decode(data)
    assert pkt.encode() == data
    for layer in pkt.layers:
        assert layer.checksum_ok in (True, None)


def test_unknown_and_eol_options_kept_exactly():
    # A SYN carrying an experimental option (kind 254, RFC 6994 style) and EOL followed by padding.
    data = bytes(scapy_ip() / STCP(options=[(254, b"\x12\x34\x56"), ("EOL", None)]))
    tcp = decode(data)[TCP]
    assert tcp.options[0] == UnknownOption(254, b"\x12\x34\x56") and isinstance(tcp.options[1], EOL)
    assert decode(data).encode() == data


ports = st.integers(0, 65535)
u32 = st.integers(0, 2**32 - 1)


@settings(max_examples=150, deadline=None)
@given(sport=ports, dport=ports, seq=u32, ack=u32, flags=st.integers(0, 255), window=ports,
       ttl=st.integers(1, 255), ident=ports, payload=st.binary(max_size=200),
       mss=st.integers(0, 65535), wscale=st.integers(0, 14), ts=st.tuples(u32, u32))
def test_random_tcp_frames_match_scapy(sport, dport, seq, ack, flags, window, ttl, ident, payload, mss,
                                       wscale, ts):
    ours = (ours_ip(ttl=ttl, identification=ident)
            / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window,
                  options=[MSS(mss), NOP(), WindowScale(wscale), Timestamps(*ts)]) / payload)
    theirs = (scapy_ip(ttl=ttl, id=ident)
              / STCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window,
                     options=[("MSS", mss), ("NOP", None), ("WScale", wscale), ("Timestamp", ts)])
              / SRaw(payload))
    assert ours.encode() == bytes(theirs)
