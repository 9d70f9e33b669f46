"""pcapng: files from editcap, dumpcap and pcapng-test-generator; our files read by tshark and capinfos."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.capture import CaptureRecord, Interface, PcapngWriter, read_pcapng, write_pcapng
from layersim.errors import CaptureError

from .external import DATA, as_tool_frames, capinfos, scapy_golden_frames, scapy_rdpcap, tshark_frames

requires_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None and os.environ.get("LAYERSIM_REQUIRE_TSHARK") != "1",
    reason="tshark not installed",
)

GOLDEN_PCAPNGS = [
    "editcap.pcapng",
    "lo_dumpcap.pcapng",
    "pcapng_test_generator_be_test008.pcapng",
    "pcapng_test_generator_be_test009.pcapng",
    "pcapng_test_generator_be_test012.pcapng",
    "pcapng_test_generator_be_test102.pcapng",
    "pcapng_test_generator_be_test202.pcapng",
]
WITH_SIMPLE_PACKET_BLOCKS = {
    "pcapng_test_generator_be_test012.pcapng",
    "pcapng_test_generator_be_test102.pcapng",
}
# tshark 4.0 names a packet's interface by its id in the first section, and scapy keeps the interfaces
# (and so the snaplen an SPB is cut to) of earlier sections, but interface ids restart in every section
# (spec §4.3). For files with several sections the tools are checked on everything else.
SEVERAL_SECTIONS = {"pcapng_test_generator_be_test202.pcapng"}
GOLDEN_US_TIMES = [1_700_000_000_123_456_000, 1_700_000_001_000_001_000, 1_700_000_002_999_999_000]
# pcapng-test-generator's frames carry this timestamp: UInt64(0x64ca47aa, 0x0004c397) in its tests/*.lua,
# low word first, so 0x0004c397_64ca47aa ticks.
GENERATOR_TICKS = 0x0004C39764CA47AA


# A hand-written encoder of the pcapng spec (draft-ietf-opsawg-pcapng §3-4), independent of layersim's
# writer: each helper packs one block's fields in the given struct byte order ("<" or ">").
def opt(order: str, code: int, value: bytes) -> bytes:
    """One option: code, length, value padded with zeros to 32 bits."""
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def block(order: str, block_type: int, body: bytes, *options: bytes) -> bytes:
    """A block: type, total length, body, options ending in opt_endofopt if any, total length again."""
    tail = b"".join(options) + (struct.pack(order + "HH", 0, 0) if options else b"")
    length = 12 + len(body) + len(tail)
    return struct.pack(order + "II", block_type, length) + body + tail + struct.pack(order + "I", length)


def shb(order: str, *options: bytes) -> bytes:
    """Section Header Block, version 1.0, section length unknown (-1)."""
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), *options)


def idb(order: str, linktype: int, snaplen: int, *options: bytes) -> bytes:
    """Interface Description Block."""
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen), *options)


def epb(order: str, interface: int, ticks: int, data: bytes, orig_len: int, *options: bytes) -> bytes:
    """Enhanced Packet Block."""
    head = struct.pack(order + "IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig_len)
    return block(order, 6, head + data + b"\0" * (-len(data) % 4), *options)


def pb(order: str, interface: int, ticks: int, data: bytes, orig_len: int, *options: bytes) -> bytes:
    """Packet Block (obsolete): 16-bit interface id and drops count."""
    head = struct.pack(order + "HHIIII", interface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig_len)
    return block(order, 2, head + data + b"\0" * (-len(data) % 4), *options)


def spb(order: str, orig_len: int, data: bytes) -> bytes:
    """Simple Packet Block: original length and data, no timestamp or interface."""
    return block(order, 3, struct.pack(order + "I", orig_len) + data + b"\0" * (-len(data) % 4))


def hand_built_file() -> bytes:
    """A big-endian section then a little-endian one, with what real tools rarely write (see below)."""
    be, le = ">", "<"
    offset = struct.pack(">q", 1_600_000_000)
    return b"".join(
        [
            shb(be, opt(be, 1, b"hand-built from the spec")),
            # if_tsresol 0x8a: 2**-10 s ticks; no snaplen limit
            idb(be, 1, 0, opt(be, 2, b"be0"), opt(be, 9, b"\x8a")),
            # if_tsresol 3: milliseconds, shifted by if_tsoffset 1600000000 s; snaplen 40; raw IP
            idb(be, 101, 40, opt(be, 2, b"be1"), opt(be, 9, b"\x03"), opt(be, 14, offset)),
            block(be, 0x00000BEE, b"unknown block type, skipped"[:24]),
            epb(be, 0, (1_700_000_000 << 10) + 512, b"E" * 21, 21),
            pb(be, 1, 1234, b"\x45" + b"P" * 39, 1500, opt(be, 1, b"obsolete packet block")),
            block(be, 4, opt(be, 1, bytes([10, 0, 0, 1]) + b"host\0") + opt(be, 0, b"")),  # NRB, skipped
            spb(be, 7, b"simple!"),
            block(be, 5, struct.pack(">III", 0, 0, 0)),  # ISB, skipped
            shb(le),
            idb(le, 1, 16, opt(le, 2, "le0 ✓".encode())),  # default resolution: microseconds
            spb(le, 60, bytes(range(16))),  # snaplen 16 keeps 16 of the 60 bytes
            epb(le, 0, 1_700_000_000_000_001, b"Z" * 16, 60, opt(le, 1, b"one"), opt(le, 1, b"two")),
        ]
    )


HAND_BUILT_EXPECTED = [
    # (interface_id, interface, linktype, time_ns, data, orig_len, comment)
    (0, "be0", 1, 1_700_000_000_500_000_000, b"E" * 21, 21, None),
    (1, "be1", 101, 1_600_000_001_234_000_000, b"\x45" + b"P" * 39, 1500, "obsolete packet block"),
    (0, "be0", 1, 0, b"simple!", 7, None),
    (0, "le0 ✓", 1, 0, bytes(range(16)), 60, None),
    (0, "le0 ✓", 1, 1_700_000_000_000_001_000, b"Z" * 16, 60, "one\ntwo"),
]


def summary(records: list[CaptureRecord]) -> list[tuple[object, ...]]:
    """The fields of each record other than its index, to compare with an expected list."""
    return [
        (r.interface_id, r.interface, r.linktype, r.time_ns, r.data, r.orig_len, r.comment) for r in records
    ]


def test_editcap_pcapng_with_a_comment() -> None:
    # data/editcap.pcapng: `editcap -F pcapng -a "2:golden comment from editcap" scapy_us.pcap`,
    # make_golden.sh step 2. editcap writes an IDB without if_name or if_tsresol (so microseconds).
    records = list(read_pcapng(DATA / "editcap.pcapng"))
    assert [record.data for record in records] == scapy_golden_frames()
    assert [record.time_ns for record in records] == GOLDEN_US_TIMES
    assert [record.comment for record in records] == [None, "golden comment from editcap", None]
    assert [(r.interface, r.interface_id, r.linktype, r.orig_len) for r in records] == [
        (None, 0, 1, 59),
        (None, 0, 1, 46),
        (None, 0, 1, 42),
    ]


def test_dumpcap_loopback_capture() -> None:
    # data/lo_dumpcap.pcapng: `dumpcap -i lo -c 4 -f "udp port 59999"` while 4 datagrams went to
    # 127.0.0.1:59999, make_golden.sh step 3: IDB if_name "lo", if_tsresol 9, then an ISB to skip.
    records = list(read_pcapng(DATA / "lo_dumpcap.pcapng"))
    assert [record.time_ns for record in records] == [
        1_795_622_212_067_574_698,
        1_795_622_212_117_791_946,
        1_795_622_212_168_031_858,
        1_795_622_212_218_272_311,
    ]
    assert records[0].data == bytes.fromhex(
        "000000000000000000000000080045000038fd61400040113f517f0000017f000001e822ea5f0024fe37"
        "6c6179657273696d206c6f6f706261636b20646174616772616d2030"
    )
    for number, record in enumerate(records):
        assert record.data.endswith(b"layersim loopback datagram %d" % number)
        assert (record.interface, record.interface_id, record.linktype, record.orig_len) == ("lo", 0, 1, 70)


def test_generator_big_endian_two_interfaces_with_all_options() -> None:
    # data/pcapng_test_generator_be_test008.pcapng: output_be/basic/test008.pcapng of pcapng-test-generator
    # (Wireshark's pcapng test files): IDBs with every option, if_tsresol 9, snaplen 96 and 128.
    records = list(read_pcapng(DATA / "pcapng_test_generator_be_test008.pcapng"))
    assert [(r.interface_id, r.interface, r.orig_len, len(r.data)) for r in records] == [
        (0, "eth-_0 foo", 314, 96),
        (1, "en1", 342, 128),
        (0, "eth-_0 foo", 314, 96),
        (1, "en1", 342, 128),
    ]
    assert [record.time_ns for record in records] == [GENERATOR_TICKS + step for step in range(0, 4000, 1000)]


def test_generator_big_endian_packet_comments() -> None:
    # data/pcapng_test_generator_be_test009.pcapng: output_be/basic/test009.pcapng (EPBs with all options).
    records = list(read_pcapng(DATA / "pcapng_test_generator_be_test009.pcapng"))
    assert [record.comment for record in records] == ["test009-1", "test009-2"]
    assert [record.time_ns for record in records] == [GENERATOR_TICKS * 1000, (GENERATOR_TICKS + 1000) * 1000]
    assert [(record.orig_len, len(record.data)) for record in records] == [(314, 314), (342, 342)]


def test_generator_big_endian_simple_packet_blocks_and_snaplen() -> None:
    # data/pcapng_test_generator_be_test012.pcapng: output_be/basic/test012.pcapng, SPBs and EPBs with an
    # IDB snaplen (315) between the frame sizes: an SPB keeps min(original length, snaplen) bytes.
    records = list(read_pcapng(DATA / "pcapng_test_generator_be_test012.pcapng"))
    assert [(record.orig_len, len(record.data), record.time_ns) for record in records] == [
        (314, 314, 0),
        (342, 315, 0),
        (314, 314, 0),
        (342, 315, 0),
    ]


def test_generator_sections_of_both_byte_orders() -> None:
    # data/pcapng_test_generator_be_test202.pcapng: output_be/difficult/test202.pcapng, three sections (big,
    # little, big endian) with NRB, ISB, CB and DCB blocks between the packets. The middle section's only
    # interface is "silly ethernet interface 2" (tests/test202.lua); tshark 4.0 and scapy both name it
    # "eth0", the first section's interface 0, but interface ids restart in every section (spec §4.3).
    records = list(read_pcapng(DATA / "pcapng_test_generator_be_test202.pcapng"))
    silly = "silly ethernet interface 2"
    assert [(r.interface_id, r.interface, r.linktype) for r in records] == [
        (0, "eth0", 1),
        (0, "eth0", 1),
        (1, "null1", 0),
        (0, silly, 1),
        (0, silly, 1),
        (0, silly, 1),
        (0, silly, 1),
        (1, "null1", 0),
    ]
    assert [(record.orig_len, len(record.data)) for record in records] == [
        (314, 96), (342, 96), (168, 168), (314, 128), (342, 128), (314, 128), (342, 128), (168, 168)
    ]  # fmt: skip
    assert [record.index for record in records] == list(range(8))


def test_generator_all_block_types() -> None:
    # data/pcapng_test_generator_be_test102.pcapng: output_be/advanced/test102.pcapng, every block type.
    records = list(read_pcapng(DATA / "pcapng_test_generator_be_test102.pcapng"))
    assert [(r.interface_id, r.interface, r.orig_len, len(r.data)) for r in records] == [
        (0, "eth0", 314, 96),
        (2, "silly!\r\nethernet interface 2", 342, 342),
        (0, "eth0", 314, 96),
        (0, "eth0", 342, 96),
        (1, "null1", 168, 168),
    ]


@pytest.mark.parametrize("name", [name for name in GOLDEN_PCAPNGS if name not in SEVERAL_SECTIONS])
def test_golden_file_matches_scapy_rdpcap(name: str) -> None:
    # Every single-section golden pcapng (see data/README.md) against scapy's reader: bytes and lengths, and
    # the times of files without SPBs (scapy stamps an SPB with the time it reads it; we and tshark use 0).
    ours = [(r.data, r.orig_len, r.time_ns) for r in read_pcapng(DATA / name)]
    theirs = scapy_rdpcap(DATA / name)
    assert [frame[:2] for frame in ours] == [frame[:2] for frame in theirs]
    if name not in WITH_SIMPLE_PACKET_BLOCKS:
        assert ours == theirs


@pytest.mark.tshark
@requires_tshark
@pytest.mark.parametrize("name", GOLDEN_PCAPNGS)
def test_golden_file_matches_tshark(name: str) -> None:
    # Every golden pcapng (see data/README.md), compared frame by frame with tshark.
    ours = as_tool_frames(list(read_pcapng(DATA / name)), pcapng=True)
    theirs = tshark_frames(DATA / name)
    if name in SEVERAL_SECTIONS:  # see SEVERAL_SECTIONS
        ours = [replace(frame, interface=None) for frame in ours]
        theirs = [replace(frame, interface=None) for frame in theirs]
    assert ours == theirs


def test_hand_built_file() -> None:
    # Built above from the spec: both byte orders, PB, SPB, power-of-2 and power-of-10 if_tsresol,
    # if_tsoffset, two comments on one packet, and unknown, NRB and ISB blocks that must be skipped.
    assert summary(list(read_pcapng(io.BytesIO(hand_built_file())))) == HAND_BUILT_EXPECTED


@pytest.mark.tshark
@requires_tshark
def test_hand_built_file_is_read_the_same_by_tshark(tmp_path: Path) -> None:
    path = tmp_path / "hand.pcapng"
    path.write_bytes(hand_built_file())
    theirs = tshark_frames(path)
    assert [frame.interface for frame in theirs] == ["be0", "be1", "be0", "be0", "be0"]  # SEVERAL_SECTIONS
    ours = as_tool_frames(list(read_pcapng(path)), pcapng=True)
    assert [replace(f, interface=None) for f in ours] == [replace(f, interface=None) for f in theirs]


def test_writer_bytes_follow_the_spec() -> None:
    # Expected bytes from the hand-written encoder above (little-endian, like our writer).
    out = io.BytesIO()
    interfaces = [Interface("r1:eth0", description="to r2"), Interface("raw", linktype=101, snaplen=4)]
    with PcapngWriter(out, interfaces, comment="hi") as writer:
        writer.write(0, 0x0123456789ABCDEF, b"abcde", comment="pkt")
        writer.write(1, 1, b"abcdefgh")
    le = "<"
    assert out.getvalue() == b"".join(
        [
            shb(le, opt(le, 1, b"hi"), opt(le, 4, b"layersim")),
            idb(le, 1, 262144, opt(le, 2, b"r1:eth0"), opt(le, 3, b"to r2"), opt(le, 9, b"\x09")),
            idb(le, 101, 4, opt(le, 2, b"raw"), opt(le, 9, b"\x09")),
            epb(le, 0, 0x0123456789ABCDEF, b"abcde", 5, opt(le, 1, b"pkt")),
            epb(le, 1, 1, b"abcd", 8),  # cut to the interface's snaplen, original length kept
        ]
    )


def test_comments_written_again_after_the_writer_forgets_them() -> None:
    # The writer encodes each comment once and keeps a bounded number: every length of padding (data 0-3 bytes
    # past a word, comments of every length mod 4), comments repeated after the memory was cleared, and records
    # without a comment in between, all read back as written and byte-for-byte as the hand-written encoder.
    from layersim.capture.pcapng import COMMENTS_KEPT

    out = io.BytesIO()
    comments = [str(i) * (1 + i % 4) if i % 5 else None for i in range(COMMENTS_KEPT * 5 // 4 + 300)]
    comments += comments[:50]  # again, after the memory was cleared
    with PcapngWriter(out, [Interface("a")], application=None) as writer:
        for i, comment in enumerate(comments):
            writer.write(0, i, bytes([i & 0xFF]) * (i % 4), comment=comment)
    records = list(read_pcapng(io.BytesIO(out.getvalue())))
    assert [(r.time_ns, r.data, r.comment) for r in records] == [
        (i, bytes([i & 0xFF]) * (i % 4), c) for i, c in enumerate(comments)]
    first = epb("<", 0, 1, b"\x01", 1, opt("<", 1, comments[1].encode()))
    assert first in out.getvalue()


def test_section_header_without_options_has_no_end_of_options() -> None:
    out = io.BytesIO()
    PcapngWriter(out, [], application=None).close()
    assert out.getvalue() == shb("<")
    assert shb("<").hex() == "0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000"


@pytest.mark.tshark
@requires_tshark
def test_written_pcapng_is_read_by_tshark_and_capinfos(tmp_path: Path) -> None:
    path = tmp_path / "ours.pcapng"
    frames = scapy_golden_frames()
    interfaces = [
        Interface("r1:eth0"),
        Interface("r2:eth1", description="link to r1"),
        Interface("h1:eth0", snaplen=40),
    ]
    records = [
        (0, 1_700_000_000_123_456_789, frames[0], "sent by r1 ✓"),
        (1, 1_700_000_000_123_456_790, frames[0], None),
        (2, 1_700_000_001_000_000_001, frames[1], "cut to 40 bytes"),
        (1, 1_800_000_000_999_999_999, frames[2], "ARP, who has 10.0.0.3"),
    ]
    assert write_pcapng(path, interfaces, records, comment="layersim test capture") == 4
    assert tshark_frames(path) == as_tool_frames(list(read_pcapng(path)), pcapng=True)
    assert [(f.interface, f.comment, f.time_ns, f.orig_len) for f in tshark_frames(path)] == [
        (interfaces[index].name, comment, time_ns, len(data)) for index, time_ns, data, comment in records
    ]
    assert [frame.data for frame in tshark_frames(path)] == [frames[0], frames[0], frames[1][:40], frames[2]]
    report = capinfos(path)
    assert report["File type"] == ["pcapng"]
    assert report["Capture application"] == ["layersim"]
    assert report["Capture comment"] == ["layersim test capture"]
    assert report["Number of interfaces in file"] == ["3"]
    assert report["Name"] == ["r1:eth0", "r2:eth1", "h1:eth0"]
    assert report["Description"] == ["link to r1"]
    assert report["Time precision"] == ["nanoseconds (9)"] * 3
    assert report["Capture length"] == ["262144", "262144", "40"]


def test_copy_capture_records() -> None:
    source = list(read_pcapng(DATA / "lo_dumpcap.pcapng"))
    out = io.BytesIO()
    write_pcapng(out, [Interface("lo")], source)
    assert list(read_pcapng(io.BytesIO(out.getvalue()))) == source


def test_copy_refuses_a_different_linktype() -> None:
    record = CaptureRecord(0, 0, b"x", 1, "r1:eth0", 0, linktype=101, comment=None)
    with pytest.raises(CaptureError, match=r"record 1 has linktype 101 but interface 0 \(r1:eth0\) has 1$"):
        write_pcapng(io.BytesIO(), [Interface("r1:eth0")], [record])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: w.write(3, 0, b"x"), r"record 1: interface 3 does not exist \(the file has 1 interfaces"),
        (lambda w: w.write(0, -1, b"x"), "record 1: timestamp -1 ns does not fit in 64 bits"),
        (lambda w: w.write(0, 2**64, b"x"), "record 1: timestamp 18446744073709551616 ns does not fit"),
        (lambda w: w.write(0, 0, b"xy", orig_len=1), "record 1: original length 1 is not between the 2"),
    ],
)
def test_writer_rejects_what_pcapng_cannot_hold(call: Callable[[PcapngWriter], None], message: str) -> None:
    # The file so far: a 28-byte SHB and a 40-byte IDB (if_name "a", if_tsresol, opt_endofopt).
    writer = PcapngWriter(io.BytesIO(), [Interface("a")], application=None)
    with pytest.raises(CaptureError, match="^pcapng stream at byte 68: " + message):
        call(writer)


def read_all(path: Path, data: bytes) -> list[CaptureRecord]:
    """Write data to path and read every record from it."""
    path.write_bytes(data)
    return list(read_pcapng(path))


def raises_at(path: Path, offset: int, message: str) -> AbstractContextManager[Any]:
    """Expect a CaptureError naming path and offset, with the exact message."""
    return pytest.raises(CaptureError, match=f"^{re.escape(f'{path} at byte {offset}: {message}')}$")


HEAD = shb("<") + idb("<", 1, 0, opt("<", 2, b"eth0"))  # 28 + 32 bytes: the first packet block is at 60


def test_block_length_below_the_minimum(tmp_path: Path) -> None:
    path = tmp_path / "short_epb.pcapng"
    with raises_at(path, 60, "enhanced packet block length 12 is smaller than its 32-byte minimum"):
        read_all(path, HEAD + struct.pack("<III", 6, 12, 12))


def test_block_length_not_a_multiple_of_four(tmp_path: Path) -> None:
    path = tmp_path / "odd.pcapng"
    bad = bytearray(epb("<", 0, 0, b"abcd", 4))
    bad[4:8] = bad[-4:] = struct.pack("<I", 34)
    with raises_at(path, 60, "enhanced packet block length 34 is not a multiple of 4"):
        read_all(path, HEAD + bytes(bad) + b"\0\0")


def test_trailing_length_differs_from_leading(tmp_path: Path) -> None:
    path = tmp_path / "trailer.pcapng"
    bad = bytearray(idb("<", 1, 0))
    bad[-4:] = struct.pack("<I", 24)
    message = "interface description block trailing length 24 does not match its leading length 20"
    with raises_at(path, 28, message):
        read_all(path, shb("<") + bytes(bad))


def test_truncated_last_block_yields_the_earlier_records_first(tmp_path: Path) -> None:
    # lo_dumpcap.pcapng: SHB (184 bytes), IDB (100), then 104-byte EPBs at 284, 388, 492 and 596.
    path = tmp_path / "cut.pcapng"
    path.write_bytes((DATA / "lo_dumpcap.pcapng").read_bytes()[: 492 + 50])
    records = read_pcapng(path)
    assert [next(records).index, next(records).index] == [0, 1]
    message = "enhanced packet block is truncated: its length is 104 bytes, the file ends after 50"
    with raises_at(path, 492, message):
        next(records)


MISSING_INTERFACE = "refers to interface {} but this section has {} interface description blocks before it"


@pytest.mark.parametrize(
    ("data", "offset", "message"),
    [
        (b"", 0, "empty file: no pcapng section header block"),
        (b"\xd4\xc3\xb2\xa1" + bytes(20), 0, "not a pcapng file: it starts with d4c3b2a1, not 0a0d0d0a"),
        (
            shb("<")[:8],
            8,
            "section header block byte-order magic is truncated: needs 4 bytes, the file ends after 0",
        ),
        (
            shb("<")[:8] + b"\x1a\x2b\x3c\x4e",
            8,
            "section header block byte-order magic 1a2b3c4e is neither 1a2b3c4d nor 4d3c2b1a",
        ),
        (shb("<") + b"\x01\0\0", 28, "block header is truncated: needs 8 bytes, 3 are left"),
        (
            block("<", 0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 2, 0, -1)),
            12,
            "pcapng version 2.0 is not supported (only 1.x)",
        ),
        (HEAD + epb("<", 1, 0, b"x", 1), 60, "enhanced packet block " + MISSING_INTERFACE.format(1, 1)),
        (shb("<") + spb("<", 1, b"x"), 28, "simple packet block " + MISSING_INTERFACE.format(0, 0)),
        (  # interfaces of the first section are gone in the second
            shb("<") + idb("<", 1, 0) + shb(">") + epb(">", 0, 0, b"x", 1),
            76,
            "enhanced packet block " + MISSING_INTERFACE.format(0, 0),
        ),
        (
            HEAD + block("<", 6, struct.pack("<IIIII", 0, 0, 0, 9, 9) + b"abcd"),
            60,
            "enhanced packet block captured length 9 runs past the end of the block (4 bytes of room)",
        ),
        (  # an option at byte 60 + 8 + 24 claiming 9 bytes where 4 are left
            HEAD + block("<", 6, struct.pack("<IIIII", 0, 0, 0, 1, 1) + b"x\0\0\0" + b"\x01\0\x09\0abcd"),
            92,
            "enhanced packet block option 1 length 9 runs past the end of the block",
        ),
    ],
)
def test_malformed_file(tmp_path: Path, data: bytes, offset: int, message: str) -> None:
    path = tmp_path / "bad.pcapng"
    with raises_at(path, offset, message):
        read_all(path, data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 2**63 - 1),
            st.binary(max_size=300),
            st.none() | st.text(max_size=40),
        ),
        max_size=20,
    )
)
def test_round_trip(records: list[tuple[int, int, bytes, str | None]]) -> None:
    interfaces = [Interface("r1:eth0"), Interface("r2:eth1", linktype=101), Interface("h1:eth0")]
    out = io.BytesIO()
    write_pcapng(out, interfaces, records)
    read_back = list(read_pcapng(io.BytesIO(out.getvalue())))
    assert summary(read_back) == [
        (index, interfaces[index].name, interfaces[index].linktype, time_ns, data, len(data), comment)
        for index, time_ns, data, comment in records
    ]
    assert [record.index for record in read_back] == list(range(len(records)))
