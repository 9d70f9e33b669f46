"""pcapng packet options: epb_packetid and the epb_flags direction, written byte for byte as the spec says, read back
in both byte orders, and dissected by tshark as frame.packet_id and frame.packet_flags_direction."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from layersim.capture import CaptureRecord, Direction, Interface, PcapngWriter, read_pcapng, write_pcapng
from layersim.errors import CaptureError
from tests.sim_tools import tshark_rows

from .test_pcapng import block, epb, idb, opt, pb, requires_tshark, shb

# draft-ietf-opsawg-pcapng §4.3: epb_flags is option 2 (a 32-bit word whose bits 0-1 are the direction, §4.3.1:
# 01 inbound, 10 outbound), epb_packetid option 5 (a 64-bit unsigned integer).
FLAGS, PACKET_ID = 2, 5


def flags(order: str, word: int) -> bytes:
    """An epb_flags option holding `word`."""
    return opt(order, FLAGS, struct.pack(order + "I", word))


def packet_id(order: str, value: int) -> bytes:
    """An epb_packetid option."""
    return opt(order, PACKET_ID, struct.pack(order + "Q", value))


def written(*calls: dict[str, object]) -> bytes:
    """The bytes of a one-interface file (no application name) with one frame b"abcde" at time 7 per call."""
    out = io.BytesIO()
    with PcapngWriter(out, [Interface("a")], application=None) as writer:
        for options in calls:
            writer.write(0, 7, b"abcde", **options)  # type: ignore[arg-type]
    return out.getvalue()


HEAD = shb("<") + idb("<", 1, 262144, opt("<", 2, b"a"), opt("<", 9, b"\x09"))


def test_writer_bytes_follow_the_spec() -> None:
    data = written(
        {"packet_id": 0x0102030405060708, "direction": Direction.OUTBOUND, "comment": "sent"},
        {"direction": Direction.INBOUND},
        {"packet_id": 9},
        {},
    )
    le = "<"
    assert data == HEAD + b"".join([
        epb(le, 0, 7, b"abcde", 5, flags(le, 0b10), packet_id(le, 0x0102030405060708), opt(le, 1, b"sent")),
        epb(le, 0, 7, b"abcde", 5, flags(le, 0b01)),
        epb(le, 0, 7, b"abcde", 5, packet_id(le, 9)),
        epb(le, 0, 7, b"abcde", 5),  # nothing to say: no options, not even opt_endofopt
    ])
    # The option bytes themselves, from the spec's layout: code 2, length 4, the word; code 5, length 8, the id.
    assert flags(le, 0b10).hex() == "0200040002000000"
    assert packet_id(le, 0x0102030405060708).hex() == "050008000807060504030201"


@pytest.mark.parametrize("value", [0, 1, 2**64 - 1])
def test_packet_ids_at_the_ends_of_64_bits_round_trip(value: int) -> None:
    (record,) = read_pcapng(io.BytesIO(written({"packet_id": value, "direction": Direction.INBOUND})))
    assert (record.packet_id, record.direction) == (value, Direction.INBOUND)


@pytest.mark.parametrize(("options", "message"), [
    ({"packet_id": -1}, "packet id -1 does not fit in 64 bits"),
    ({"packet_id": 2**64}, "packet id 18446744073709551616 does not fit in 64 bits"),
    ({"direction": 0}, "direction 0 is not Direction.INBOUND or OUTBOUND"),
    ({"direction": 3}, "direction 3 is not Direction.INBOUND or OUTBOUND"),
])
def test_writer_rejects_what_the_options_cannot_hold(options: dict[str, object], message: str) -> None:
    writer = PcapngWriter(io.BytesIO(), [Interface("a")], application=None)
    with pytest.raises(CaptureError, match=f"^pcapng stream at byte 68: record 0: {message}$"):
        writer.write(0, 0, b"x", **options)  # type: ignore[arg-type]
    assert writer.count == 0


@pytest.mark.parametrize("order", ["<", ">"])
def test_reader_takes_the_direction_bits_and_the_packet_id_in_either_byte_order(order: str) -> None:
    data = b"".join([
        shb(order),
        idb(order, 1, 0, opt(order, 2, b"eth0")),
        # inbound, with reception type 001 (unicast, bits 2-4) and an FCS length (bits 5-8) set beside it
        epb(order, 0, 1, b"in", 2, flags(order, 0b0_0100_0101), packet_id(order, 2**64 - 1)),
        epb(order, 0, 2, b"out", 3, packet_id(order, 5), flags(order, 0b10), opt(order, 1, b"c")),
        epb(order, 0, 3, b"unknown", 7, flags(order, 0b00)),  # 00: information not available
        epb(order, 0, 4, b"undefined", 9, flags(order, 0b11)),  # 11: not a direction the spec defines
        epb(order, 0, 5, b"short id", 8, opt(order, PACKET_ID, b"\1\2\3\4")),  # not 8 bytes: not an id
        pb(order, 0, 6, b"obsolete", 8, flags(order, 0b01)),  # PB's pack_flags is the same word
        block(order, 3, struct.pack(order + "I", 6) + b"simple\0\0"),  # an SPB has no options
    ])
    records = list(read_pcapng(io.BytesIO(data)))
    assert [(r.data, r.packet_id, r.direction) for r in records] == [
        (b"in", 2**64 - 1, Direction.INBOUND),
        (b"out", 5, Direction.OUTBOUND),
        (b"unknown", None, None),
        (b"undefined", None, None),
        (b"short id", None, None),
        (b"obsolete", None, Direction.INBOUND),
        (b"simple", None, None),
    ]
    assert records[1].comment == "c"


def test_copied_records_keep_their_packet_id_and_direction() -> None:
    records = [CaptureRecord(0, 1, b"x", 1, "a", 0, 1, None, packet_id=3, direction=Direction.OUTBOUND),
               CaptureRecord(1, 2, b"y", 1, "a", 0, 1, "c", packet_id=None, direction=Direction.INBOUND),
               CaptureRecord(2, 3, b"z", 1, "a", 0, 1, None)]
    out = io.BytesIO()
    write_pcapng(out, [Interface("a")], records)
    assert list(read_pcapng(io.BytesIO(out.getvalue()))) == records


@pytest.mark.tshark
@requires_tshark
def test_tshark_dissects_the_packet_id_and_direction_we_wrote(tmp_path: Path) -> None:
    path = tmp_path / "options.pcapng"
    frame = bytes(12) + b"\x88\xb5" + b"local experimental ethertype"
    calls = [(0, 7, Direction.OUTBOUND), (1, 7, Direction.INBOUND), (0, 0, Direction.INBOUND),
             (1, 2**64 - 1, Direction.OUTBOUND), (0, None, None), (1, 8, None), (0, None, Direction.INBOUND)]
    with PcapngWriter(path, [Interface("a:eth0"), Interface("b:eth0")]) as writer:
        for time, (interface, ident, direction) in enumerate(calls):
            writer.write(interface, time, frame, packet_id=ident, direction=direction, comment="n" * time)
    rows = tshark_rows(path, "frame.interface_name", "frame.packet_id", "frame.packet_flags_direction")
    theirs = [(name, int(ident) if ident else None, int(bits, 16) if bits else None) for name, ident, bits in rows]
    ours = [(r.interface, r.packet_id, None if r.direction is None else int(r.direction))
            for r in read_pcapng(path)]
    assert theirs == ours == [(f"{'ab'[i]}:eth0", ident, None if d is None else int(d)) for i, ident, d in calls]
