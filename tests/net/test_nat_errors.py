"""Nat with ICMP errors (translated both ways, quoted datagram included), fragments, and malformed input."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, defragment, fragment
from scapy.layers.inet import UDP as ScapyUDP
from scapy.packet import Raw as ScapyRaw

from layersim.net.nat.napt import NatReason, NatVerdict
from tests.net.test_nat import DNS, HOP, OUT, WEB, A, B, S, dst_of, echo, icmp_error, make_nat, tcp, udp
from tests.tools import rfc1071_sum

# ---- ICMP errors ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("quote_length", [28, 40, None], ids=["8-bytes", "20-bytes", "whole"])
@pytest.mark.parametrize("protocol", ["udp", "tcp", "echo"])
def test_icmp_error_about_a_translated_packet_goes_back_to_the_inside_host(protocol: str,
                                                                          quote_length: int | None) -> None:
    """A Time Exceeded from a router outside quotes the packet as NAT sent it; translated back, the whole message
    (outer address, quoted address, port or identifier, quoted IP/UDP/TCP/ICMP checksums as far as quoted, and
    the ICMP checksum) is what a fresh encoding quoting the inside host's own packet gives."""
    nat = make_nat()
    nat.outbound(tcp(B, WEB, 40000, 80, "S") if protocol == "tcp" else
                 udp(B, WEB, 40000, 80) if protocol == "udp" else echo(B, WEB, 40000), 0)  # forces a new port
    original = (tcp(A, WEB, 40000, 80, "S", b"data") if protocol == "tcp" else
                udp(A, WEB, 40000, 80) if protocol == "udp" else echo(A, WEB, 40000))
    sent = bytearray(original)
    nat.outbound(sent, 0)
    assert sent[20:26] != original[20:26]
    error = icmp_error(HOP, OUT, bytes(sent[:quote_length]))
    assert nat.inbound(error, 1).verdict is NatVerdict.TRANSLATED
    assert error == icmp_error(HOP, A, bytes(original[:quote_length]))


def test_port_unreachable_from_the_server_is_translated_back() -> None:
    nat = make_nat()
    sent = udp(A, WEB, 6000, 9, b"anyone?")
    nat.outbound(sent, 0)
    error = icmp_error(WEB, OUT, bytes(sent), kind=3, code=3)
    nat.inbound(error, 1)
    assert error == icmp_error(WEB, A, bytes(udp(A, WEB, 6000, 9, b"anyone?")), kind=3, code=3)
    assert nat.mappings()[0].replied is False  # an error is no answer (conntrack: [UNREPLIED] stays)


def test_icmp_error_from_inside_about_a_translated_reply_goes_out_translated() -> None:
    """The inside host answers a datagram NAT let in with Port Unreachable: the quote must show the datagram
    as it was on the outside wire, and the error must come from the outside address."""
    nat = make_nat()
    nat.outbound(udp(B, DNS, 5000, 53), 0)
    nat.outbound(udp(A, DNS, 5000, 53), 0)
    outside_port = nat.mappings()[1].outside_port
    on_the_wire = udp(DNS, OUT, 53, outside_port, b"late answer")
    delivered = bytearray(on_the_wire)
    nat.inbound(delivered, 1)
    assert delivered == udp(DNS, A, 53, 5000, b"late answer")
    error = icmp_error(A, DNS, bytes(delivered), kind=3, code=3)
    assert nat.outbound(error, 2).verdict is NatVerdict.TRANSLATED
    assert error == icmp_error(OUT, DNS, bytes(on_the_wire), kind=3, code=3)


def test_icmp_error_without_a_mapping_or_with_a_bad_checksum_is_dropped() -> None:
    nat = make_nat()
    stranger = icmp_error(HOP, OUT, bytes(udp(OUT, WEB, 1234, 80)))
    assert nat.inbound(stranger, 0).reason == "no mapping"
    sent = udp(A, WEB, 6000, 9)
    nat.outbound(sent, 0)
    error = icmp_error(HOP, OUT, bytes(sent))
    error[22] ^= 0x01
    before = bytes(error)
    assert nat.inbound(error, 1).reason == NatReason.BAD_CHECKSUM and error == before


# ---- fragments --------------------------------------------------------------------------------------------------

def _fragments(src: str, dst: str, sport: int, dport: int) -> list[bytearray]:
    whole = IP(src=src, dst=dst, id=777) / ScapyUDP(sport=sport, dport=dport) / ScapyRaw(bytes(range(200)))
    return [bytearray(bytes(piece)) for piece in fragment(whole, fragsize=64)]


def test_fragments_take_the_mapping_of_their_first_fragment() -> None:
    """Every fragment gets the outside address; reassembled, the datagram is the one NAT would have sent whole."""
    nat = make_nat()
    pieces = _fragments(A, DNS, 5353, 53)
    assert len(pieces) == 4
    for piece in pieces:
        assert nat.outbound(piece, 0).verdict is NatVerdict.TRANSLATED
        assert rfc1071_sum(bytes(piece[:20])) == 0xFFFF
    whole = defragment([IP(bytes(p)) for p in pieces])[0]
    expected = IP(src=OUT, dst=DNS, id=777) / ScapyUDP(sport=5353, dport=53) / ScapyRaw(bytes(range(200)))
    assert bytes(whole)[20:] == bytes(IP(bytes(expected)))[20:] and whole.src == OUT
    replies = _fragments(DNS, OUT, 53, 5353)
    for piece in replies:
        assert nat.inbound(piece, 1).verdict is NatVerdict.TRANSLATED
        assert dst_of(piece) == A


def test_a_later_fragment_before_its_first_is_dropped() -> None:
    nat = make_nat()
    pieces = _fragments(A, DNS, 5353, 53)
    result = nat.outbound(pieces[2], 0)
    assert result.verdict is NatVerdict.DROP and result.reason == "fragment without its first fragment"
    nat.outbound(pieces[0], 0)
    assert nat.outbound(pieces[2], 30 * S - 1).verdict is NatVerdict.TRANSLATED
    assert nat.outbound(pieces[3], 30 * S).reason == NatReason.FRAGMENT  # the first fragment's 30 s are over


@given(data=st.binary(max_size=80), prefix=st.sampled_from([b"", b"\x45\x00", b"\x45\x00\x00\x50"]),
       protocol=st.sampled_from([1, 6, 17, 47]), to_outside=st.booleans())
def test_any_bytes_give_a_verdict_and_never_an_exception(data: bytes, prefix: bytes, protocol: int,
                                                         to_outside: bool) -> None:
    """Whatever arrives, NAT answers with a verdict; a drop leaves the bytes as they were."""
    packet = bytearray(prefix + data)
    if len(packet) >= 20:
        packet[9] = protocol
        if to_outside:
            packet[16:20] = IPv4Address(OUT).packed
    nat = make_nat()
    nat.outbound(udp(A, WEB, 40000, 80), 0)
    for hook in (nat.outbound, nat.inbound):
        copy = bytearray(packet)
        result = hook(copy, 1)
        assert result.verdict in NatVerdict
        if result.verdict is not NatVerdict.TRANSLATED:
            assert copy == packet


@given(quoted=st.binary(min_size=0, max_size=60))
def test_any_icmp_error_gives_a_verdict(quoted: bytes) -> None:
    """ICMP errors with arbitrary quoted bytes (bad lengths, IHL, protocols) never raise."""
    nat = make_nat()
    nat.outbound(udp(A, WEB, 40000, 80), 0)
    for kind in (3, 11):
        for hook, src, dst in ((nat.inbound, HOP, OUT), (nat.outbound, A, WEB)):
            error = icmp_error(src, dst, quoted, kind=kind)
            assert hook(error, 1).verdict in NatVerdict


def test_an_impossible_header_length_is_dropped() -> None:
    packet = udp(A, WEB, 40000, 80)
    packet[0] = 0x44  # IHL 4: 16 bytes, shorter than the fixed header
    assert make_nat().outbound(packet, 0).reason == "truncated header"
    nat = make_nat()
    sent = udp(A, WEB, 40000, 80)
    nat.outbound(sent, 0)
    sent[0] = 0x4F  # the quoted header claims 60 bytes, more than the quote holds
    assert nat.inbound(icmp_error(HOP, OUT, bytes(sent[:28])), 1).reason == "truncated header"
