"""Decoding bad input (clear DecodeErrors, nothing lost), stacking, and round-trip properties."""

from ipaddress import IPv4Address

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layersim import (
    ARP,
    ICMP,
    TCP,
    UDP,
    DecodeError,
    Ethernet,
    FieldValueError,
    IPv4,
    LayersimError,
    Padding,
    Raw,
    decode,
)
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
from tests.wire import golden


def replace_bytes(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new):]


def test_tcp_data_offset_too_small_names_layer_offset_and_field():
    bad = replace_bytes(golden.TCP_SYN, 46, b"\x30")  # data offset 3
    with pytest.raises(DecodeError, match=r"^TCP at byte 34: data offset 3 \(12 bytes\) is smaller than the "
                                          r"20-byte header$"):
        decode(bad)


@pytest.mark.parametrize(("data", "message"), [
    (golden.ICMP_ECHO[:10], r"Ethernet at byte 0: frame of 10 bytes is shorter than the 14-byte header"),
    (golden.ICMP_ECHO[:30], r"IPv4 at byte 14: 16 bytes left, shorter than the 20-byte header"),
    (replace_bytes(golden.ICMP_ECHO, 14, b"\x65"), r"IPv4 at byte 14: version 6 is not 4"),
    (replace_bytes(golden.ICMP_ECHO, 14, b"\x43"), r"IPv4 at byte 14: IHL 3 \(12 bytes\) is smaller"),
    (replace_bytes(golden.ICMP_ECHO, 16, b"\x05\xdc"), r"IPv4 at byte 16: total length 1500 is longer than "
                                                       r"the 84 bytes left"),
    (replace_bytes(golden.ICMP_ECHO, 16, b"\x00\x10"), r"IPv4 at byte 16: total length 16 is smaller"),
    (replace_bytes(golden.TCP_SYN, 72, b"\x05"), r"TCP option at byte 71: kind 3 length 5 runs past the "
                                                 r"header end \(byte 74\)"),
    (replace_bytes(golden.TCP_SYN, 55, b"\x01"), r"TCP option at byte 54: kind 2 length 1 is shorter than 2"),
    (replace_bytes(golden.DNS_QUERY, 38, b"\x00\x04"), r"UDP at byte 38: length 4 is smaller than the 8-byte"),
    (replace_bytes(golden.DNS_QUERY, 38, b"\x00\x99"), r"UDP at byte 38: length 153 is longer than the 37"),
    (golden.ARP_REQUEST[:30], r"ARP at byte 14: 16 bytes left, shorter than the 28-byte packet"),
])
def test_decode_errors_say_what_and_where(data, message):
    with pytest.raises(DecodeError, match=message):
        decode(data)


def test_truncated_tcp_options_fixing_length_keeps_frame_consistent():
    # Cutting the SYN inside its options makes IPv4's total length point past the end: an IPv4 error.
    with pytest.raises(DecodeError, match="IPv4 at byte 16: total length 60"):
        decode(golden.TCP_SYN[:70])


def test_truncated_capture_decodes_what_is_there():
    pkt = decode(golden.HTTP_GET[:80], truncated=True)
    assert [layer.name for layer in pkt.layers] == ["Ethernet", "IPv4", "TCP", "Raw"]
    assert pkt[TCP].checksum_ok is None
    assert pkt.encode() == golden.HTTP_GET[:80]


def test_ethernet_padding_is_kept_and_visible():
    padded = golden.ARP_REQUEST + bytes(18)  # the same request as a switch port would see it: 60 bytes
    pkt = decode(padded)
    assert pkt.layers[-1] == Padding(bytes(18))
    assert pkt.encode() == padded
    short_ip = (Ethernet() / IPv4(src="1.1.1.1", dst="2.2.2.2") / UDP(sport=1, dport=2)).encode()
    pkt = decode(short_ip + b"\xaa" * 18)
    assert pkt[UDP].checksum_ok and pkt.layers[-1] == Padding(b"\xaa" * 18)
    assert pkt.payload_of(UDP) == b""


def test_wrong_checksums_decode_and_reencode_unchanged():
    bad_ip = replace_bytes(golden.HTTP_GET, 24, b"\xde\xad")
    bad_tcp = replace_bytes(golden.HTTP_GET, 50, b"\xbe\xef")
    assert decode(bad_ip)[IPv4].checksum_ok is False and decode(bad_ip).encode() == bad_ip
    assert decode(bad_tcp)[TCP].checksum_ok is False and decode(bad_tcp).encode() == bad_tcp


def test_explicit_wrong_values_are_kept_on_encode():
    frame = Ethernet() / IPv4(src="1.1.1.1", dst="2.2.2.2", header_checksum=0x1234, total_length=99) / ICMP(
        checksum=0)
    pkt = decode(frame.encode(), truncated=True)
    assert pkt[IPv4].header_checksum == 0x1234 and pkt[IPv4].total_length == 99 and pkt[ICMP].checksum == 0


def test_fragments_are_not_decoded_past_ip():
    frame = (Ethernet() / IPv4(src="1.1.1.1", dst="2.2.2.2", flags="MF", protocol=17) / b"12345678").encode()
    assert [layer.name for layer in decode(frame).layers] == ["Ethernet", "IPv4", "Raw"]


def test_decode_until_stops_after_that_layer():
    pkt = decode(golden.HTTP_GET, until=IPv4)
    assert [layer.name for layer in pkt.layers] == ["Ethernet", "IPv4", "Raw"]


def test_decode_raw_ip():
    pkt = decode(golden.ICMP_ECHO[14:], IPv4)
    assert pkt[IPv4].dst == IPv4Address("10.0.2.20") and pkt.encode() == golden.ICMP_ECHO[14:]


def test_bad_field_values_raise_clear_errors():
    with pytest.raises(FieldValueError, match=r"IPv4.ttl: 300 does not fit in 8 bits"):
        IPv4(ttl=300)
    with pytest.raises(FieldValueError, match=r"IPv4.src: IPv4 address '10.0.0.300' is not valid"):
        IPv4(src="10.0.0.300")
    with pytest.raises(FieldValueError, match=r"Ethernet.dst: MAC address 'zz:00:00:00:00:00'"):
        Ethernet(dst="zz:00:00:00:00:00")
    with pytest.raises(FieldValueError, match=r"TCP.flags: unknown TCP flag letter 'X'"):
        TCP(flags="SX")
    with pytest.raises(FieldValueError, match=r"IPv4.protocol: 'BOGUS' is not one of"):
        IPv4(protocol="BOGUS")
    with pytest.raises(LayersimError, match=r"TCP.checksum is None but there is no IPv4 layer"):
        (TCP() / b"x").encode()
    with pytest.raises(LayersimError, match=r"Ethernet.type is None and cannot be derived"):
        (Ethernet() / b"x").encode()


def test_packet_access():
    pkt = decode(golden.TCP_SYN)
    assert TCP in pkt and UDP not in pkt
    with pytest.raises(KeyError, match="no UDP layer in this packet"):
        pkt[UDP]
    assert pkt[-1] is pkt.layers[-1]
    assert pkt[IPv4].replace(ttl=9).ttl == 9 and pkt[IPv4].ttl == 64


# Property tests ---------------------------------------------------------------------------------------
macs = st.binary(min_size=6, max_size=6)
addrs = st.integers(0, 2**32 - 1).map(IPv4Address)
u16, u32 = st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1)
tcp_options = st.lists(st.one_of(
    st.just(NOP()), u16.map(MSS), st.integers(0, 14).map(WindowScale), st.just(SACKPermitted()),
    st.tuples(u32, u32).map(lambda t: Timestamps(*t)),
    st.lists(st.tuples(u32, u32), min_size=1, max_size=3).map(lambda b: SACK(tuple(b))),
    st.tuples(st.integers(9, 253), st.binary(max_size=6)).map(lambda t: UnknownOption(*t))),
    max_size=4).filter(lambda opts: sum(len(o.encode()) for o in opts) <= 40)
transports = st.one_of(
    st.builds(TCP, sport=u16, dport=st.integers(1000, 2000), seq=u32, ack=u32, flags=st.integers(0, 255),
              window=u16, options=tcp_options),
    st.builds(UDP, sport=u16, dport=st.integers(1000, 2000)),
    st.builds(ICMP, type=st.sampled_from([0, 8]), identifier=u16, sequence=u16))
stacks = st.builds(
    lambda src, dst, ttl, ident, options, transport, payload: (
        Ethernet(src=src, dst=dst) / IPv4(src=addrs_pair[0], dst=addrs_pair[1], ttl=ttl, identification=ident,
                                           options=options) / transport / payload)
    if (addrs_pair := (IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2"))) else None,
    macs, macs, st.integers(1, 255), u16, st.sampled_from([b"", b"\x94\x04\x00\x00", b"\x01\x01\x01\x00"]),
    transports, st.binary(min_size=1, max_size=64))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks)
def test_any_valid_stack_round_trips(frame):
    data = frame.encode()
    pkt = decode(data)
    assert pkt.encode() == data
    assert [type(layer) for layer in pkt.layers] == [type(layer) for layer in frame.layers]
    for built, got in zip(frame.layers, pkt.layers, strict=True):
        for field, value in built.items():
            if field.name == "options" and isinstance(built, TCP):  # padding to 4 bytes decodes as EOL
                assert got.options[: len(value)] == value
                assert all(isinstance(o, EOL) for o in got.options[len(value):])
            elif value is not None:
                assert getattr(got, field.name) == value, field.name
        assert got.checksum_ok in (True, None)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_decode_error(data):
    try:
        pkt = decode(data)
    except DecodeError:
        return
    assert pkt.encode() == data
    assert len(pkt.layers) >= 1  # application payloads parse too, without raising


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_real_frames_decode_or_raise_decode_error(data):
    frame = data.draw(st.sampled_from([golden.TCP_SYN, golden.HTTP_GET, golden.TIME_EXCEEDED, golden.DNS_QUERY,
                                       golden.ARP_REQUEST]))
    at = data.draw(st.integers(0, len(frame) - 1))
    mutated = replace_bytes(frame, at, data.draw(st.binary(min_size=1, max_size=4)))[: data.draw(
        st.integers(1, len(frame) + 4))]
    for truncated in (False, True):
        try:
            pkt = decode(mutated, truncated=truncated)
        except DecodeError:
            continue
        assert pkt.encode() == mutated
        assert pkt.layers


def test_raw_and_arp_payload_types():
    assert isinstance(decode(golden.ARP_REQUEST)[ARP], ARP)
    assert decode(golden.ICMP_ECHO)[Raw].data[16:18] == b"\x10\x11"
