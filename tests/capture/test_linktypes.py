"""Captures that are not Ethernet: Linux cooked (SLL, SLL2) from `tcpdump -i any`, raw IP and BSD loopback."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.capture import CaptureRecord, decode_record, read_capture, undecoded_reason
from layersim.cli import main
from layersim.errors import DecodeError, LayersimError
from layersim.wire import ICMP, TCP, UDP, IPv4, Raw, decode
from layersim.wire.cooked import LinuxSLL, LinuxSLL2, Loopback, LoopbackLE
from layersim.wire.dispatch import BY_LINKTYPE
from tests.tools import run_tshark, tshark_stderr

DATA = Path(__file__).parent / "data"
# file -> (link type, class of the first layer, header bytes before the IPv4 packet)
GOLDEN = {
    "linux_sll2.pcap": (276, LinuxSLL2, 20),
    "linux_sll.pcap": (113, LinuxSLL, 16),
    "raw_101.pcap": (101, IPv4, 0),
    "ipv4_228.pcap": (228, IPv4, 0),
    "null_le.pcap": (0, LoopbackLE, 4),
    "null_be.pcap": (0, Loopback, 4),
    "loop_108.pcap": (108, Loopback, 4),
}
# What tcpdump recorded (see data/README.md): UDP to a closed port, the kernel's ICMP port unreachable, then an
# HTTP GET to 127.0.0.1:8765 in 12 TCP segments.
PROTOCOLS = [UDP, ICMP] + [TCP] * 12


def records(name: str) -> list[CaptureRecord]:
    return list(read_capture(DATA / name))


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_frames_decode_down_to_udp_icmp_and_tcp(name: str) -> None:
    linktype, first, header = GOLDEN[name]
    frames = records(name)
    assert [r.linktype for r in frames] == [linktype] * 14
    for record, protocol in zip(frames, PROTOCOLS, strict=True):
        packet = decode_record(record)
        assert type(packet[0]) is first and undecoded_reason(record) is None
        ip = packet[IPv4]
        assert str(ip.src) == str(ip.dst) == "127.0.0.1" and ip.checksum_ok
        # Loopback offloads TCP and UDP checksums (only the pseudo-header sum is in the bytes); ICMP's is whole.
        assert protocol in packet and packet[protocol].checksum_ok is (protocol is ICMP)
        assert packet.spans[1 if header else 0][0] == header
        assert packet.encode() == record.data  # decode then encode: the same bytes


def test_the_raw_and_loopback_files_hold_the_packets_of_the_sll_capture() -> None:
    """make_linktypes.sh wrote them from linux_sll.pcap: the same IPv4 packets after each link header."""
    ip_packets = [decode_record(r).payload_of(LinuxSLL) for r in records("linux_sll.pcap")]
    for name, (_, _, header) in GOLDEN.items():
        if name.startswith("linux"):
            continue
        assert [r.data[header:] for r in records(name)] == ip_packets, name


def test_sll2_fields_from_the_golden_capture() -> None:
    sll2 = decode_record(records("linux_sll2.pcap")[0])[LinuxSLL2]
    assert sll2.fields() == {"protocol": 0x0800, "reserved": 0, "interface_index": 1, "arphrd_type": 772,
                             "packet_type": 0, "address_length": 6, "address": 0}
    assert sll2.info() == {"source": "00:00:00:00:00:00"}


def test_sll_and_sll2_built_from_fields_match_tcpdump_bytes() -> None:
    sll, sll2 = records("linux_sll.pcap")[0].data, records("linux_sll2.pcap")[0].data
    ip = decode(sll, LinuxSLL).payload_of(LinuxSLL)
    built = LinuxSLL(packet_type="HOST", arphrd_type="LOOPBACK", address_length=6, address=0) / decode(ip, IPv4)
    assert built.encode() == sll  # protocol None: the EtherType of the IPv4 layer above
    with pytest.raises(LayersimError, match=r"SLL\.protocol is None and cannot be derived .* \(Raw\)"):
        (LinuxSLL() / Raw(ip)).encode()
    assert (LinuxSLL(packet_type=0, arphrd_type=772, address_length=6, protocol=0x0800) / Raw(ip)).encode() == sll
    ip = decode(sll2, LinuxSLL2).payload_of(LinuxSLL2)  # a separate tcpdump run: other IP ids and ports
    built2 = LinuxSLL2(protocol=0x0800, interface_index=1, arphrd_type="LOOPBACK", address_length=6) / Raw(ip)
    assert built2.encode() == sll2
    assert (LinuxSLL2(interface_index=1, arphrd_type=772) / decode(ip, IPv4)).encode() == sll2


def test_link_address_accepts_a_mac() -> None:
    sll = LinuxSLL(address="02:00:00:00:01:10")
    assert sll.address == 0x0200000001100000 and sll.info() == {"source": "02:00:00:00:01:10"}


def test_loopback_family_from_the_layer_above_and_both_byte_orders() -> None:
    ip = decode(records("raw_101.pcap")[0].data, IPv4)
    assert (LoopbackLE() / ip).encode()[:4] == b"\x02\0\0\0"
    assert (Loopback() / ip).encode()[:4] == b"\0\0\0\x02"
    le, be = records("null_le.pcap")[0].data, records("null_be.pcap")[0].data
    assert type(decode(le, LoopbackLE)[0]) is LoopbackLE and type(decode(be, LoopbackLE)[0]) is Loopback


@pytest.mark.parametrize(("family", "cls"), [(0xFFFF, LoopbackLE), (0x10000, Loopback)])
def test_null_byte_order_boundary(family: int, cls: type) -> None:
    """A host-order family up to 0xffff reads as little-endian; a bigger value was written big-endian."""
    packet = decode(struct.pack("<I", family) + b"x", LoopbackLE)
    assert type(packet[0]) is cls and type(packet[1]) is Raw


@pytest.mark.parametrize(("cls", "size"), [(LinuxSLL, 16), (LinuxSLL2, 20), (LoopbackLE, 4), (Loopback, 4)])
def test_short_headers_raise_decode_errors(cls: type, size: int) -> None:
    with pytest.raises(DecodeError, match=f"shorter than the {size}-byte header"):
        decode(bytes(size - 1), cls)
    assert type(decode(bytes(size), cls)[0]) is cls  # exactly the header: decodes, nothing after it


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(BY_LINKTYPE)), st.binary(max_size=120), st.booleans())
def test_random_bytes_under_these_link_types_raise_only_decode_errors(linktype: int, data: bytes,
                                                                       cut: bool) -> None:
    record = CaptureRecord(0, 0, data, len(data) + cut, None, 0, linktype, None)
    try:
        packet = decode_record(record)
    except DecodeError:
        return
    if not cut:
        assert packet.encode() == data


@pytest.mark.parametrize(("linktype", "data", "reason"), [
    (147, b"\x01\x02", "link type 147 (USER0) is not decoded; packets shown as Raw"),
    (4242, b"\x01\x02", "link type 4242 (unknown) is not decoded; packets shown as Raw"),
    (105, b"\x60\0\0\0", "link type 105 (IEEE802_11) is not decoded; packets shown as Raw"),
])
def test_what_is_not_decoded_says_why(linktype: int, data: bytes, reason: str) -> None:
    record = CaptureRecord(0, 0, data, len(data), None, 0, linktype, None)
    assert undecoded_reason(record) == reason
    assert decode_record(record).layers == (Raw(data),)


def test_inspect_names_an_unsupported_link_type_once_and_exits_0(capsys, tmp_path: Path) -> None:
    path = tmp_path / "user0.pcap"
    body = b"".join(struct.pack("<IIII", 1, 0, 3, 3) + b"abc" for _ in range(3))
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147) + body)
    assert main(["inspect", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == f"{path}: link type 147 (USER0) is not decoded; packets shown as Raw\n"
    assert out.count("Data (3 bytes)") == 3
    assert main(["inspect", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.count("USER0") == 1 and '"name": "Raw"' in out


@pytest.mark.parametrize("name", GOLDEN)
def test_inspect_decodes_the_golden_captures_quietly(capsys, name: str) -> None:
    assert main(["inspect", str(DATA / name)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.count("Internet Protocol Version 4") == 15  # 14 packets, one quoted by ICMP


@pytest.mark.tshark
@pytest.mark.parametrize("name", ["linux_sll.pcap", "linux_sll2.pcap"])
def test_sll_fields_match_tshark(name: str) -> None:
    proc = run_tshark("-r", DATA / name, "-T", "fields", "-e", "sll.pkttype", "-e", "sll.hatype", "-e",
                      "sll.halen", "-e", "sll.src.eth", "-e", "sll.etype", "-e", "sll.ifindex", "-e", "ip.id")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    theirs = [line.split("\t") for line in proc.stdout.splitlines()]
    for record, (pkttype, hatype, halen, src, etype, ifindex, ip_id) in zip(records(name), theirs, strict=True):
        packet = decode_record(record)
        sll = packet[0]
        assert (sll.packet_type, sll.arphrd_type, sll.address_length) == (int(pkttype), int(hatype), int(halen))
        assert sll.info()["source"] == src and sll.protocol == int(etype, 16)
        assert ifindex == (str(sll.interface_index) if name == "linux_sll2.pcap" else "")
        assert packet[IPv4].identification == int(ip_id.split(",")[0], 16)


@pytest.mark.tshark
@pytest.mark.parametrize("name", ["raw_101.pcap", "ipv4_228.pcap", "null_le.pcap", "null_be.pcap", "loop_108.pcap"])
def test_raw_and_loopback_fields_match_tshark(name: str) -> None:
    proc = run_tshark("-r", DATA / name, "-T", "fields", "-e", "null.family", "-e", "ip.id", "-e", "ip.proto",
                      "-e", "tcp.srcport", "-e", "udp.srcport")
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    theirs = [line.split("\t") for line in proc.stdout.splitlines()]
    for record, (family, ip_id, proto, tcp_port, udp_port) in zip(records(name), theirs, strict=True):
        packet = decode_record(record)
        assert family == (str(packet[Loopback].family) if Loopback in packet else "")
        assert packet[IPv4].identification == int(ip_id.split(",")[0], 16)
        assert int(packet[IPv4].protocol) == int(proto.split(",")[0])
        if TCP in packet:
            assert packet[TCP].sport == int(tcp_port)
        elif ICMP not in packet:
            assert packet[UDP].sport == int(udp_port)


def test_little_endian_header_specs_refuse_bit_fields() -> None:
    from layersim.wire.fields import Bits, HeaderSpec, UInt

    assert HeaderSpec("LE", [UInt("a", 32), UInt("b", 64)], byte_order="<").struct.format == "<IQ"
    with pytest.raises(TypeError, match="little-endian headers cannot pack bit fields"):
        HeaderSpec("LE", [Bits("a", 4), Bits("b", 4)], byte_order="<")
    with pytest.raises(TypeError, match="byte_order must be"):
        HeaderSpec("BE", [UInt("a", 8)], byte_order=">")
