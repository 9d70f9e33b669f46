"""What scapy users reach for first: len(), summary(), layer names, Packet.replace(), clear unknown-field errors."""

from __future__ import annotations

import pytest

from layersim import (
    ARP,
    DNS,
    ICMP,
    TCP,
    UDP,
    Dot1Q,
    Ethernet,
    FieldValueError,
    HTTPRequest,
    HTTPResponse,
    IPv4,
    Packet,
    Raw,
    UnknownFieldError,
    decode,
)
from layersim.wire.cooked import LinuxSLL, LinuxSLL2, Loopback
from layersim.wire.tcp_options import MSS
from tests.wire import golden

IPV4_FIELDS = ("version, ihl, dscp, ecn, total_length, identification, flags, fragment_offset, ttl, protocol, "
               "header_checksum, src, dst, options")


def tour_frame() -> Packet:
    return (Ethernet(src="02:00:00:00:01:10", dst="02:00:00:00:01:01")
            / IPv4(src="10.0.1.10", dst="93.184.216.34", ttl=64)
            / TCP(sport=50512, dport=80, seq=1000, ack=2000, flags="PA")
            / HTTPRequest("GET", "/", headers={"Host": "example.com"}))


GOLDEN_FRAMES = [golden.ARP_REQUEST, golden.ICMP_ECHO, golden.TIME_EXCEEDED, golden.DNS_QUERY, golden.TCP_SYN,
                 golden.HTTP_GET, golden.VLAN_TCP, golden.QINQ_ICMP]


# len() ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", GOLDEN_FRAMES)
def test_len_of_a_decoded_packet_is_its_bytes_and_its_layers_tile_them(data: bytes) -> None:
    packet = decode(data)
    assert len(packet) == len(data)
    assert sum(len(layer) for layer in packet.layers) == len(data)
    assert [len(layer) for layer in packet.layers] == [end - start for start, end in packet.spans]


def test_len_of_a_built_packet_is_its_encoding() -> None:
    frame = tour_frame()
    assert len(frame) == len(frame.encode()) == 91
    assert [len(layer) for layer in frame.layers] == [14, 20, 20, 37]
    assert len(Packet()) == 0 and bool(Packet())  # empty, yet a packet is never false


@pytest.mark.parametrize(("layer", "size"), [
    (Ethernet(), 14), (Dot1Q(), 4), (ARP(), 28), (IPv4(), 20), (IPv4(options=b"\x01\x01\x01\x00"), 24),
    (ICMP(), 8), (UDP(), 8), (TCP(), 20), (TCP(options=(MSS(1460),)), 24), (DNS(), 12),
    (HTTPResponse(404), len(b"HTTP/1.1 404 Not Found\r\n\r\n")), (Raw(b""), 0), (Raw(b"abc"), 3),
    (LinuxSLL(), 16), (LinuxSLL2(), 20), (Loopback(), 4),
])
def test_len_of_a_layer_is_its_own_bytes(layer, size: int) -> None:
    """Computed fields left None count at their width: no layer below or above is needed."""
    assert len(layer) == size
    assert bool(layer)  # a layer is a value, never false, whatever its length


# summary() and layer_names ----------------------------------------------------------------------------------------
def test_summary_of_the_tour_frame() -> None:
    frame = tour_frame()
    line = "Ethernet / IPv4 10.0.1.10 > 93.184.216.34 / TCP 50512 > 80 PA / HTTPRequest GET /"
    assert frame.summary() == line and decode(frame.encode()).summary() == line
    assert frame.layer_names == ("Ethernet", "IPv4", "TCP", "HTTPRequest")


@pytest.mark.parametrize(("data", "line"), [
    (golden.ARP_REQUEST, "Ethernet / ARP who has 10.0.1.1 says 10.0.1.10"),
    (golden.ICMP_ECHO, "Ethernet / IPv4 10.0.1.10 > 10.0.2.20 / ICMP ECHO_REQUEST / Raw 56 bytes"),
    (golden.TIME_EXCEEDED, "Ethernet / IPv4 10.0.1.1 > 10.0.1.10 / ICMP TIME_EXCEEDED / IPv4 10.0.1.10 > "
                           "10.0.2.20 / ICMP ECHO_REQUEST / Raw 56 bytes"),
    (golden.DNS_QUERY, "Ethernet / IPv4 10.0.1.10 > 10.0.2.20 / UDP 50007 > 53 / DNS query A example.com"),
    (golden.TCP_SYN, "Ethernet / IPv4 10.0.1.10 > 10.0.2.20 / TCP 56388 > 80 S"),
])
def test_summary_of_golden_frames(data: bytes, line: str) -> None:
    assert decode(data).summary() == line


def test_summary_edges() -> None:
    assert (IPv4() / TCP(sport=1, dport=2, flags=0)).summary() == "IPv4 0.0.0.0 > 0.0.0.0 / TCP 1 > 2"
    assert TCP(flags=0xFF).summary() == "TCP 0 > 0 FSRPAUEC"
    assert ICMP(type=3, code=3).summary() == "ICMP DEST_UNREACHABLE code 3"
    assert HTTPResponse(404).summary() == "HTTPResponse 404 Not Found"
    assert Packet().summary() == ""
    assert (LinuxSLL2(interface_index=1) / Raw(b"x")).summary() == "SLL2 HOST ifindex 1 / Raw 1 bytes"


# replace() -------------------------------------------------------------------------------------------------------
def test_replace_returns_a_new_packet_with_computed_fields_computed_again() -> None:
    frame = tour_frame()
    moved = frame.replace(TCP, dport=8080)
    assert frame[TCP].dport == 80 and moved[TCP].dport == 8080  # the original is unchanged
    again = decode(moved.encode())
    assert again[TCP].dport == 8080 and again[TCP].checksum_ok and again[IPv4].checksum_ok
    assert frame.replace(1, ttl=3)[IPv4].ttl == 3  # by index, too
    assert frame.replace(-1, target="/x")[HTTPRequest].target == "/x"


def test_replace_keeps_explicit_values_of_a_decoded_packet() -> None:
    """Decoded checksums are explicit values: kept (a fault demo), or computed again when set to None."""
    packet = decode(golden.TCP_SYN)
    stale = decode(packet.replace(TCP, dport=8080).encode())
    assert stale[TCP].checksum == packet[TCP].checksum and stale[TCP].checksum_ok is False
    fresh = decode(packet.replace(TCP, dport=8080, checksum=None).encode())
    assert fresh[TCP].checksum_ok is True and len(fresh) == len(packet)


def test_replace_of_a_missing_layer_or_a_bad_value() -> None:
    frame = tour_frame()
    with pytest.raises(KeyError, match="no UDP layer in this packet"):
        frame.replace(UDP, dport=1)
    with pytest.raises(FieldValueError, match=r"TCP\.dport: 70000 does not fit in 16 bits"):
        frame.replace(TCP, dport=70000)
    with pytest.raises(UnknownFieldError, match=r"^TCP has no field 'dprot'; did you mean 'dport'\?"):
        frame.replace(TCP, dprot=8080)


# Unknown field names ----------------------------------------------------------------------------------------------
def test_unknown_field_lists_the_fields() -> None:
    with pytest.raises(TypeError) as caught:
        IPv4(foo=1)
    assert str(caught.value) == f"IPv4 has no field 'foo' (fields: {IPV4_FIELDS})"
    assert isinstance(caught.value, FieldValueError)  # a layersim error too: the CLI prints it as one line


@pytest.mark.parametrize(("build", "message"), [
    (lambda: IPv4(tll=1), "IPv4 has no field 'tll'; did you mean 'ttl'?"),
    (lambda: IPv4(src="10.0.0.1", tll=1, foo=2), "IPv4 has no field 'tll'; did you mean 'ttl'?"),
    (lambda: IPv4().replace(foo=1), "IPv4 has no field 'foo' (fields:"),
    (lambda: UDP(sport=1, dst_port=2), "UDP has no field 'dst_port'"),
    (lambda: ICMP(typ=8), "ICMP has no field 'typ'; did you mean 'type'?"),
    (lambda: HTTPRequest(metod="GET"), "HTTPRequest has no field 'metod'; did you mean 'method'?"),
    (lambda: HTTPResponse(stauts=200), "HTTPResponse has no field 'stauts'; did you mean 'status'?"),
    (lambda: LinuxSLL(pkttype=4), "SLL has no field 'pkttype'"),
])
def test_unknown_field_suggests_a_close_match(build, message: str) -> None:
    with pytest.raises(UnknownFieldError) as caught:
        build()
    assert str(caught.value).startswith(message)
