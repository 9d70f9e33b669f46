"""Classic pcap: files from scapy, editcap and tcpdump; our nanosecond files read by tshark and scapy."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.capture import CaptureRecord, PcapWriter, read_pcap, write_pcap
from layersim.errors import CaptureError

from .external import DATA, as_tool_frames, capinfos, scapy_golden_frames, scapy_rdpcap, tshark_frames

requires_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None and os.environ.get("LAYERSIM_REQUIRE_TSHARK") != "1",
    reason="tshark not installed",
)

GOLDEN_PCAPS = [
    "scapy_us.pcap",
    "scapy_us_be.pcap",
    "scapy_ns_be.pcap",
    "editcap_ns.pcap",
    "lo_tcpdump_us.pcap",
    "lo_tcpdump_ns_snap50.pcap",
]
# The timestamps make_golden.sh gave scapy's frames, as tshark and scapy's rdpcap read them back.
GOLDEN_US_TIMES = [1_700_000_000_123_456_000, 1_700_000_001_000_001_000, 1_700_000_002_999_999_000]
# First frame of the loopback captures (tshark -x): 14 zero-MAC Ethernet, IPv4 127.0.0.1 > 127.0.0.1, UDP.
LOOPBACK_HEAD = bytes.fromhex("000000000000000000000000080045000038")


def spec_pcap(
    order: str,
    magic: int,
    records: list[tuple[int, int, bytes, int]],
    *,
    snaplen: int = 65535,
    network: int = 1,
    version: tuple[int, int] = (2, 4),
) -> bytes:
    """A pcap file built field by field from draft-ietf-opsawg-pcap §4-5, independently of layersim."""
    out = struct.pack(order + "IHHiIII", magic, version[0], version[1], 0, 0, snaplen, network)
    for seconds, fraction, data, orig_len in records:
        out += struct.pack(order + "IIII", seconds, fraction, len(data), orig_len) + data
    return out


def check_golden_scapy_file(path: Path, magic: bytes, times: list[int]) -> None:
    """A file holding make_golden.sh's three scapy frames: magic on disk, bytes, times and lengths."""
    assert path.read_bytes()[:4] == magic
    records = list(read_pcap(path))
    assert [record.data for record in records] == scapy_golden_frames()
    assert [record.time_ns for record in records] == times
    assert [record.orig_len for record in records] == [59, 46, 42]
    assert [record.index for record in records] == [0, 1, 2]
    for record in records:
        assert (record.linktype, record.interface, record.interface_id, record.comment) == (1, None, 0, None)


def test_scapy_wrpcap_microsecond_little_endian() -> None:
    # data/scapy_us.pcap: scapy's wrpcap (µs timestamps, little-endian) of 3 frames, make_golden.sh step 1.
    check_golden_scapy_file(DATA / "scapy_us.pcap", bytes.fromhex("d4c3b2a1"), GOLDEN_US_TIMES)


def test_scapy_microsecond_big_endian() -> None:
    # data/scapy_us_be.pcap: scapy's PcapWriter(endianness=">"), the same 3 frames, make_golden.sh step 1.
    check_golden_scapy_file(DATA / "scapy_us_be.pcap", bytes.fromhex("a1b2c3d4"), GOLDEN_US_TIMES)


def test_scapy_nanosecond_big_endian() -> None:
    # data/scapy_ns_be.pcap: scapy's PcapWriter(endianness=">", nano=True), make_golden.sh step 1. scapy was
    # given 1700000002.999999999 for the last frame but wrote 1700000003 s + 999999999 ns (its rounding);
    # tshark and rdpcap both read 1700000003.999999999, so that is what the file holds.
    times = [1_700_000_000_123_456_789, 1_700_000_001_000_000_001, 1_700_000_003_999_999_999]
    check_golden_scapy_file(DATA / "scapy_ns_be.pcap", bytes.fromhex("a1b23c4d"), times)


def test_editcap_nanosecond_little_endian() -> None:
    # data/editcap_ns.pcap: `editcap -F nsecpcap scapy_us.pcap`, make_golden.sh step 2.
    check_golden_scapy_file(DATA / "editcap_ns.pcap", bytes.fromhex("4d3cb2a1"), GOLDEN_US_TIMES)


def test_tcpdump_loopback_capture() -> None:
    # data/lo_tcpdump_us.pcap: `tcpdump -i lo -c 4 udp port 59999` (µs) while 4 datagrams went to
    # 127.0.0.1:59999, make_golden.sh step 3. Expected values from tshark.
    records = list(read_pcap(DATA / "lo_tcpdump_us.pcap"))
    assert [record.time_ns for record in records] == [
        1_795_622_208_022_307_000,
        1_795_622_208_072_522_000,
        1_795_622_208_122_749_000,
        1_795_622_208_172_970_000,
    ]
    assert records[0].data == bytes.fromhex(
        "000000000000000000000000080045000038fbcd4000401140e57f0000017f000001a658ea5f0024fe37"
        "6c6179657273696d206c6f6f706261636b20646174616772616d2030"
    )
    for number, record in enumerate(records):
        assert record.data.startswith(LOOPBACK_HEAD)
        assert record.data.endswith(b"layersim loopback datagram %d" % number)
        assert (record.orig_len, len(record.data), record.linktype) == (70, 70, 1)


def test_tcpdump_nanosecond_capture_cut_by_snaplen() -> None:
    # data/lo_tcpdump_ns_snap50.pcap: `tcpdump -i lo -c 4 -s 50 --time-stamp-precision=nano`, make_golden.sh
    # step 3: 70-byte frames stored as their first 50 bytes. Expected values from tshark.
    records = list(read_pcap(DATA / "lo_tcpdump_ns_snap50.pcap"))
    assert [record.time_ns for record in records] == [
        1_795_622_210_046_983_675,
        1_795_622_210_097_212_721,
        1_795_622_210_147_451_351,
        1_795_622_210_197_680_487,
    ]
    assert records[0].data == bytes.fromhex(
        "000000000000000000000000080045000038fcc2400040113ff07f0000017f000001ae2bea5f0024fe376c6179657273696d"
    )
    assert [(record.orig_len, len(record.data)) for record in records] == [(70, 50)] * 4


@pytest.mark.parametrize("name", GOLDEN_PCAPS)
def test_golden_file_matches_scapy_rdpcap(name: str) -> None:
    # Every golden pcap (see data/README.md), compared frame by frame with scapy's reader.
    ours = [(record.data, record.orig_len, record.time_ns) for record in read_pcap(DATA / name)]
    assert ours == scapy_rdpcap(DATA / name)


@pytest.mark.tshark
@requires_tshark
@pytest.mark.parametrize("name", GOLDEN_PCAPS)
def test_golden_file_matches_tshark(name: str) -> None:
    # Every golden pcap (see data/README.md), compared frame by frame with tshark.
    assert as_tool_frames(list(read_pcap(DATA / name)), pcapng=False) == tshark_frames(DATA / name)


def test_writer_bytes_follow_the_spec() -> None:
    # Expected bytes from the hand-written encoder above: nanosecond magic, little-endian, version 2.4.
    out = io.BytesIO()
    with PcapWriter(out, linktype=101, snaplen=1500) as writer:
        writer.write(1_700_000_000_123_456_789, b"\x45\x00abc")
        writer.write(5, b"xyz", orig_len=1000)
    expected = spec_pcap(
        "<",
        0xA1B23C4D,
        [(1_700_000_000, 123_456_789, b"\x45\x00abc", 5), (0, 5, b"xyz", 1000)],
        snaplen=1500,
        network=101,
    )
    assert out.getvalue() == expected
    assert writer.count == 2


@pytest.mark.tshark
@requires_tshark
def test_written_pcap_is_read_by_tshark_capinfos_and_scapy(tmp_path: Path) -> None:
    frames = scapy_golden_frames()
    times = [1_700_000_000_123_456_789, 1_700_000_000_999_999_999, 4_294_967_295_000_000_001]
    path = tmp_path / "ours.pcap"
    assert write_pcap(path, zip(times, frames, strict=True)) == 3
    assert [(frame.data, frame.time_ns, frame.orig_len) for frame in tshark_frames(path)] == [
        (frame, time, len(frame)) for frame, time in zip(frames, times, strict=True)
    ]
    report = capinfos(path)
    assert report["File type"] == ["nsecpcap"]
    assert report["File encapsulation"] == ["ether"]
    assert report["File timestamp precision"] == ["nanoseconds (9)"]
    assert report["Number of packets"][0] == "3"  # the file's count, then interface #0's
    expected = [(frame, len(frame), time) for frame, time in zip(frames, times, strict=True)]
    assert scapy_rdpcap(path) == expected


@pytest.mark.tshark
@requires_tshark
def test_writer_snaplen_cuts_frames_like_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "snap.pcap"
    frame = scapy_golden_frames()[0]
    write_pcap(path, [(0, frame)], snaplen=40)
    (seen,) = tshark_frames(path)
    assert (seen.data, seen.orig_len) == (frame[:40], len(frame))
    assert "file hdr: 40 bytes" in capinfos(path)["Packet size limit"]


def test_copy_capture_records() -> None:
    source = list(read_pcap(DATA / "lo_tcpdump_ns_snap50.pcap"))
    out = io.BytesIO()
    write_pcap(out, source)
    assert list(read_pcap(io.BytesIO(out.getvalue()))) == source


def test_copy_refuses_a_different_linktype() -> None:
    record = CaptureRecord(0, 0, b"x", 1, None, 0, linktype=101, comment=None)
    with pytest.raises(CaptureError, match=r"^pcap stream at byte 24: record 1 has linktype 101 .*=101$"):
        write_pcap(io.BytesIO(), [record])


@pytest.mark.parametrize(
    ("time_ns", "data", "orig_len", "message"),
    [
        (-1, b"x", None, "timestamp -1 ns is outside classic pcap's range"),
        (2**32 * 10**9, b"x", None, "timestamp 4294967296000000000 ns is outside classic pcap's range"),
        (0, b"abcd", 3, "original length 3 is not between the 4 captured bytes and 2\\*\\*32 - 1"),
    ],
)
def test_writer_rejects_what_pcap_cannot_hold(
    time_ns: int, data: bytes, orig_len: int | None, message: str
) -> None:
    with PcapWriter(io.BytesIO()) as writer:
        with pytest.raises(CaptureError, match="^pcap stream at byte 24: record 1 " + message):
            writer.write(time_ns, data, orig_len)
        writer.write(0, b"still usable")
    assert writer.count == 1


def test_captured_length_beyond_snaplen_is_read_like_wireshark() -> None:
    # Wireshark and libpcap accept a record longer than the header's snaplen (files lie about snaplen).
    data = spec_pcap(">", 0xA1B2C3D4, [(1, 2, bytes(range(100)), 100)], snaplen=64)
    (record,) = read_pcap(io.BytesIO(data))
    assert (record.data, record.time_ns) == (bytes(range(100)), 1_000_002_000)


def test_absurd_captured_length_is_a_corrupt_header(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.pcap"
    header = spec_pcap("<", 0xA1B2C3D4, [(0, 0, b"ok", 2)])
    path.write_bytes(header + struct.pack("<IIII", 0, 0, 0x7FFFFFFF, 60) + b"\0" * 60)
    records = read_pcap(path)
    assert next(records).data == b"ok"
    message = "at byte 42: record 2 captured length 2147483647 is larger than the snapshot length 65535"
    with pytest.raises(CaptureError, match=f"^{re.escape(f'{path} {message}')}"):
        next(records)


def test_fcs_bits_of_the_linktype_field_are_not_the_linktype() -> None:
    # draft-ietf-opsawg-pcap §4: FCS length in the top 4 bits and the F bit above the 16-bit LinkType.
    data = spec_pcap("<", 0xA1B2C3D4, [(0, 0, b"x", 1)], network=(4 << 28) | (1 << 27) | 105)
    assert next(read_pcap(io.BytesIO(data))).linktype == 105


def test_unknown_major_version_is_refused() -> None:
    with pytest.raises(CaptureError, match=r"at byte 4: pcap version 1\.0 is not supported"):
        list(read_pcap(io.BytesIO(spec_pcap("<", 0xA1B2C3D4, [], version=(1, 0)))))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(CaptureError, match=f"^{re.escape(str(path))} at byte 0: empty file"):
        list(read_pcap(path))


def test_truncated_file_header(tmp_path: Path) -> None:
    path = tmp_path / "short.pcap"
    path.write_bytes((DATA / "scapy_us.pcap").read_bytes()[:10])
    message = "at byte 0: pcap file header is truncated: needs 24 bytes, the file has 10"
    with pytest.raises(CaptureError, match=f"^{re.escape(f'{path} {message}')}$"):
        list(read_pcap(path))


def test_not_a_pcap_file() -> None:
    with pytest.raises(CaptureError, match="pcap stream at byte 0: not a pcap file: magic number 0a0d0d0a"):
        list(read_pcap(io.BytesIO(b"\n\r\r\n" * 8)))


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        # scapy_us.pcap: 24-byte header, records at 24 (16 + 59 bytes), 99 (16 + 46) and 161 (16 + 42).
        (161 + 10, "at byte 161: record 3 header is truncated: needs 16 bytes, the file ends after 10"),
        (161 + 16 + 30, "at byte 177: record 3 data is truncated: needs 42 bytes, the file ends after 30"),
    ],
)
def test_truncated_last_record_yields_the_earlier_ones_first(tmp_path: Path, cut: int, message: str) -> None:
    path = tmp_path / "cut.pcap"
    path.write_bytes((DATA / "scapy_us.pcap").read_bytes()[:cut])
    records = read_pcap(path)
    assert [next(records).data, next(records).data] == scapy_golden_frames()[:2]
    with pytest.raises(CaptureError, match=f"^{re.escape(f'{path} {message}')}$"):
        next(records)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**32 * 10**9 - 1), st.binary(max_size=300)),
        max_size=20,
    )
)
def test_round_trip(frames: list[tuple[int, bytes]]) -> None:
    out = io.BytesIO()
    write_pcap(out, frames)
    records = list(read_pcap(io.BytesIO(out.getvalue())))
    assert [(record.time_ns, record.data, record.orig_len) for record in records] == [
        (time_ns, data, len(data)) for time_ns, data in frames
    ]
    assert [record.index for record in records] == list(range(len(frames)))
