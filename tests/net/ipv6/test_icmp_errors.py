"""ICMPv6 errors and echo replies a node originates: the bytes scapy builds for the same message, the 1280-byte
quote limit, and RFC 4443 §2.4 (e)'s rules on what never gets an error."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from layersim.net.ipv6.icmp_errors import (
    QUOTE_LIMIT,
    TimeExceededCode6,
    UnreachableCode6,
    echo_reply_packet,
    error_packet,
    may_report,
)
from layersim.wire.icmpv6 import ICMPv6, ICMPv6Type
from layersim.wire.ipv6 import IPv6
from layersim.wire.packet import decode

scapy = pytest.importorskip("scapy.all")

HOST, SERVER, ROUTER = "2001:db8:1::10", "2001:db8:2::20", "2001:db8:12::1"


def udp_packet(size: int, dst: str = SERVER, src: str = HOST) -> bytes:
    return bytes(scapy.IPv6(src=src, dst=dst, hlim=64) / scapy.UDP(sport=5000, dport=53) / (b"x" * size))


def test_packet_too_big_equals_scapys_and_quotes_at_most_1232_bytes():
    offending = udp_packet(1400)
    ours = error_packet(offending, ICMPv6Type.PACKET_TOO_BIG, 0, IPv6Address(ROUTER), parameter=1280)
    theirs = bytes(scapy.IPv6(src=ROUTER, dst=HOST, hlim=64) / scapy.ICMPv6PacketTooBig(mtu=1280)
                   / offending[:QUOTE_LIMIT])
    assert ours.hex() == theirs.hex()
    assert len(ours) == 1280  # RFC 4443 §2.4 (c): exactly the minimum MTU when the quote is cut


@pytest.mark.parametrize(("size", "quoted"), [(1184, 1232), (1183, 1231), (0, 48)])
def test_the_quote_is_the_whole_packet_up_to_the_limit(size, quoted):
    offending = udp_packet(size)
    ours = error_packet(offending, ICMPv6Type.DEST_UNREACHABLE, UnreachableCode6.PORT_UNREACHABLE,
                        IPv6Address(SERVER))
    assert len(ours) == 40 + 8 + quoted
    assert ours[48:] == offending[:quoted]


def test_time_exceeded_and_unreachable_equal_scapys():
    offending = udp_packet(20)
    for ours, theirs in (
        (error_packet(offending, ICMPv6Type.TIME_EXCEEDED, TimeExceededCode6.HOP_LIMIT, IPv6Address(ROUTER)),
         scapy.IPv6(src=ROUTER, dst=HOST, hlim=64) / scapy.ICMPv6TimeExceeded(code=0) / offending),
        (error_packet(offending, ICMPv6Type.DEST_UNREACHABLE, UnreachableCode6.ADDRESS_UNREACHABLE,
                      IPv6Address(ROUTER)),
         scapy.IPv6(src=ROUTER, dst=HOST, hlim=64) / scapy.ICMPv6DestUnreach(code=3) / offending),
    ):
        assert ours.hex() == bytes(theirs).hex()
        assert decode(ours, IPv6)[ICMPv6].checksum_ok


def test_echo_reply_echoes_identifier_sequence_and_data():
    request = bytes(scapy.IPv6(src=HOST, dst=SERVER) / scapy.ICMPv6EchoRequest(id=0x1234, seq=7, data=b"ping-data"))
    ours = echo_reply_packet(request, IPv6Address(SERVER))
    theirs = bytes(scapy.IPv6(src=SERVER, dst=HOST, hlim=64) / scapy.ICMPv6EchoReply(id=0x1234, seq=7,
                                                                                     data=b"ping-data"))
    assert ours.hex() == theirs.hex()


def test_what_never_gets_an_error():
    unreachable = ICMPv6Type.DEST_UNREACHABLE
    assert may_report(udp_packet(10), unreachable)
    assert not may_report(udp_packet(10, dst="ff02::1"), unreachable)  # e.3: to a multicast group ...
    assert may_report(udp_packet(10, dst="ff02::1"), ICMPv6Type.PACKET_TOO_BIG)  # ... except Packet Too Big
    assert may_report(udp_packet(10, dst="ff02::1"), ICMPv6Type.PARAMETER_PROBLEM, 2)  # ... and this one
    assert not may_report(udp_packet(10, dst="ff02::1"), ICMPv6Type.PARAMETER_PROBLEM, 1)
    assert not may_report(udp_packet(10), unreachable, link_multicast=True)  # e.4
    assert not may_report(udp_packet(10, src="::"), ICMPv6Type.PACKET_TOO_BIG)  # e.6: no single source
    error = error_packet(udp_packet(10), unreachable, 0, IPv6Address(ROUTER))
    assert not may_report(error, ICMPv6Type.TIME_EXCEEDED)  # e.1: never about an error
    echo = bytes(scapy.IPv6(src=HOST, dst=SERVER) / scapy.ICMPv6EchoRequest())
    assert may_report(echo, ICMPv6Type.TIME_EXCEEDED)  # informational messages may get one
    assert not may_report(b"\x60\x00", unreachable)  # not even an IPv6 header
