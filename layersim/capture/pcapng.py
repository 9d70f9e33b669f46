"""pcapng files: a nanosecond writer with interface names and comments, and a reader for both byte orders."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum

from layersim.capture.records import (
    ByteReader,
    ByteWriter,
    CaptureRecord,
    CaptureWriter,
    Direction,
    Interface,
    Source,
    Target,
    display_name,
    open_source,
)
from layersim.errors import CaptureError

# Block and option layouts follow draft-ietf-opsawg-pcapng (the pcapng spec); section numbers below are its.
BYTE_ORDER_MAGIC = 0x1A2B3C4D
SHB_TYPE_BYTES = b"\x0a\x0d\x0d\x0a"  # the same in both byte orders (§4.1)
OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9
IF_TSOFFSET = 14
EPB_FLAGS = 2  # §4.3: 32-bit flags word; bits 0-1 the direction (§4.3.1)
EPB_PACKETID = 5  # §4.3: 64-bit id, the same for one packet seen on several interfaces
TSRESOL_NANOSECONDS = 9
SECRETS_TLS_KEY_LOG = 0x544C534B  # §4.7: secrets type "TLSK", an NSS key log file's lines
_NS_PER_S = 1_000_000_000
_EPB_HEAD = struct.Struct("<IIIIIII")  # block type, total length, interface, timestamp high and low, lengths
_BLOCK_END = struct.Struct("<I")  # the block's total length again
_PADDING = (b"", b"\0", b"\0\0", b"\0\0\0")  # zero bytes after data of length 0, 3, 2, 1 (mod 4)
_END_OF_OPTIONS = b"\0\0\0\0"  # opt_endofopt: code 0, length 0
_PACKET_ID = struct.Struct("<HHQ")  # the epb_packetid option, whole: code, length 8, the id
_FLAGS_AND_ID = struct.Struct("<HHIHHQ")  # epb_flags then epb_packetid, packed in one call (a capture's frames)
_FLAGS_DIRECTION_MASK = 0b11  # §4.3.1: 00 not available, 01 inbound, 10 outbound
# The epb_flags option for each direction, encoded once: only the direction bits are set.
_DIRECTION_OPTIONS = {d: struct.pack("<HHI", EPB_FLAGS, 4, int(d)) for d in Direction}
COMMENTS_KEPT = 4096  # comments a writer (or a capture) remembers encoded: captures repeat a few many times


class BlockType(IntEnum):
    """pcapng block type codes (from the spec's registry); the reader skips every type it has no use for."""

    SECTION_HEADER = 0x0A0D0D0A
    INTERFACE_DESCRIPTION = 0x00000001
    PACKET = 0x00000002  # obsolete, superseded by ENHANCED_PACKET
    SIMPLE_PACKET = 0x00000003
    NAME_RESOLUTION = 0x00000004
    INTERFACE_STATISTICS = 0x00000005
    ENHANCED_PACKET = 0x00000006
    SYSTEMD_JOURNAL_EXPORT = 0x00000009
    DECRYPTION_SECRETS = 0x0000000A
    CUSTOM = 0x00000BAD
    CUSTOM_NO_COPY = 0x40000BAD


def _block_name(block_type: int) -> str:
    """How error messages name a block type, e.g. 'enhanced packet block' or 'block type 0x00000bee'."""
    try:
        return BlockType(block_type).name.lower().replace("_", " ") + " block"
    except ValueError:
        return f"block type 0x{block_type:08x}"


def _minimum_length(block_type: int) -> int:
    """The smallest legal total length of a block: 12 bytes of framing plus its fixed fields."""
    fixed = {
        BlockType.SECTION_HEADER: 16,
        BlockType.INTERFACE_DESCRIPTION: 8,
        BlockType.PACKET: 20,
        BlockType.SIMPLE_PACKET: 4,
        BlockType.ENHANCED_PACKET: 20,
    }
    return 12 + fixed.get(block_type, 0)


def _pad4(length: int) -> int:
    """length rounded up to a multiple of 4 (blocks and option values are 32-bit aligned)."""
    return (length + 3) & ~3


def _options(options: Sequence[tuple[int, bytes]]) -> bytes:
    """Encode options (§3.5): code, length, value padded to 32 bits; opt_endofopt only if there are any."""
    if not options:
        return b""
    parts = [
        struct.pack("<HH", code, len(value)) + value.ljust(_pad4(len(value)), b"\0")
        for code, value in options
    ]
    return b"".join(parts) + struct.pack("<HH", OPT_ENDOFOPT, 0)


def _block(block_type: BlockType, body: bytes) -> bytes:
    """Frame a 32-bit aligned block body with its type and the leading and trailing total length."""
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


class PcapngWriter(CaptureWriter):
    """Streams frames into a little-endian pcapng file with nanosecond timestamps; a context manager."""

    def __init__(
        self,
        target: Target,
        interfaces: Sequence[Interface],
        *,
        comment: str | None = None,
        application: str | None = "layersim",
    ) -> None:
        self._label = display_name(target, "pcapng")
        self.interfaces = tuple(interfaces)
        self.count = 0
        shb_options = [(OPT_COMMENT, self._text(comment, "section comment"))] if comment is not None else []
        if application is not None:
            shb_options.append((SHB_USERAPPL, self._text(application, "application name")))
        blocks = [
            _block(
                BlockType.SECTION_HEADER,
                struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + _options(shb_options),
            )
        ]
        for number, interface in enumerate(self.interfaces):
            if not 0 <= interface.linktype <= 0xFFFF or not 0 <= interface.snaplen <= 0xFFFFFFFF:
                raise CaptureError(
                    f"{self._label}: interface {number} ({interface.name}): linktype"
                    f" {interface.linktype} or snaplen {interface.snaplen} is out of range"
                )
            idb_options = [(IF_NAME, self._text(interface.name, f"interface {number} name"))]
            if interface.description is not None:
                idb_options.append((IF_DESCRIPTION, self._text(interface.description, "description")))
            idb_options.append((IF_TSRESOL, bytes([TSRESOL_NANOSECONDS])))
            body = struct.pack("<HHI", interface.linktype, 0, interface.snaplen) + _options(idb_options)
            blocks.append(_block(BlockType.INTERFACE_DESCRIPTION, body))
        self._out = ByteWriter(target, "pcapng")
        self._out.write(b"".join(blocks))
        self._comment_options: dict[str, bytes] = {}

    def _text(self, text: str, what: str) -> bytes:
        """A string option value: UTF-8, no terminator, at most 65535 bytes (§3.5)."""
        value = text.encode("utf-8")
        if len(value) > 0xFFFF:
            raise CaptureError(f"{self._label}: {what} is {len(value)} bytes, more than an option holds")
        return value

    def write(
        self,
        interface_index: int,
        time_ns: int,
        data: bytes,
        *,
        orig_len: int | None = None,
        comment: str | None = None,
        packet_id: int | None = None,
        direction: Direction | None = None,
    ) -> None:
        """Append one frame as an Enhanced Packet Block; data beyond the interface snaplen is cut off.

        `packet_id` becomes epb_packetid and `direction` the direction bits of epb_flags (§4.3), so Wireshark's
        `frame.packet_id` follows one packet across interfaces and `frame.packet_flags_direction` says which way
        it went."""
        if not 0 <= interface_index < len(self.interfaces):
            raise self._out.error(
                f"record {self.count + 1}: interface {interface_index} does not exist"
                f" (the file has {len(self.interfaces)} interfaces)"
            )
        if not 0 <= time_ns < 1 << 64:
            raise self._out.error(f"record {self.count + 1}: timestamp {time_ns} ns does not fit in 64 bits")
        snaplen = self.interfaces[interface_index].snaplen
        captured = bytes(data[:snaplen] if snaplen else data)
        if orig_len is None:
            orig_len = len(data)
        if not len(captured) <= orig_len <= 0xFFFFFFFF:
            raise self._out.error(
                f"record {self.count + 1}: original length {orig_len} is not between the"
                f" {len(captured)} captured bytes and 2**32 - 1"
            )
        if packet_id is None and direction is None:
            options = b"" if comment is None else self._comment_option(comment)
        elif packet_id is not None and direction in _DIRECTION_OPTIONS and 0 <= packet_id < 1 << 64:
            options = _FLAGS_AND_ID.pack(EPB_FLAGS, 4, direction, EPB_PACKETID, 8, packet_id) + (
                _END_OF_OPTIONS if comment is None else self._comment_option(comment))
        else:
            options = self._packet_options(comment, packet_id, direction)
        size = len(captured)
        padding = _PADDING[-size & 3]
        total = 32 + size + len(padding) + len(options)  # _block's framing, written in one piece
        self._out.write(b"".join((
            _EPB_HEAD.pack(BlockType.ENHANCED_PACKET, total, interface_index, time_ns >> 32, time_ns & 0xFFFFFFFF,
                           size, orig_len),
            captured, padding, options, _BLOCK_END.pack(total))))
        self.count += 1

    def write_secrets(self, secrets_type: int, data: bytes) -> None:
        """Append a Decryption Secrets Block (§4.7): secrets type, length, the secrets padded to 32 bits."""
        if not 0 <= secrets_type <= 0xFFFFFFFF:
            raise self._out.error(f"secrets type {secrets_type} does not fit in 32 bits")
        if not data:
            raise self._out.error("a decryption secrets block needs at least one byte of secrets")
        self._out.write(_block(BlockType.DECRYPTION_SECRETS, struct.pack("<II", secrets_type, len(data)) + bytes(data)
                               + _PADDING[-len(data) & 3]))

    def _packet_options(self, comment: str | None, packet_id: int | None, direction: Direction | None) -> bytes:
        """An EPB's options: epb_flags, epb_packetid, opt_comment (each only if given), then opt_endofopt."""
        parts = []
        if direction is not None:
            try:
                parts.append(_DIRECTION_OPTIONS[direction])
            except KeyError:
                raise self._out.error(
                    f"record {self.count}: direction {direction!r} is not Direction.INBOUND or OUTBOUND"
                ) from None
        if packet_id is not None:
            if not 0 <= packet_id < 1 << 64:
                raise self._out.error(f"record {self.count}: packet id {packet_id} does not fit in 64 bits")
            parts.append(_PACKET_ID.pack(EPB_PACKETID, 8, packet_id))
        parts.append(_END_OF_OPTIONS if comment is None else self._comment_option(comment))
        return b"".join(parts)

    def _comment_option(self, comment: str) -> bytes:
        """opt_comment with this comment and opt_endofopt, the last options of a packet; encoded once per comment."""
        options = self._comment_options.get(comment)
        if options is None:
            options = _options([(OPT_COMMENT, self._text(comment, "packet comment"))])
            if len(self._comment_options) >= COMMENTS_KEPT:
                self._comment_options.clear()
            self._comment_options[comment] = options
        return options

    def write_record(self, record: CaptureRecord) -> None:
        """Append a frame read from another capture, on the interface with its interface_id."""
        interfaces = self.interfaces
        if (
            record.interface_id < len(interfaces)
            and record.linktype != interfaces[record.interface_id].linktype
        ):
            raise self._out.error(
                f"record {record.index + 1} has linktype {record.linktype} but interface {record.interface_id}"
                f" ({interfaces[record.interface_id].name}) has {interfaces[record.interface_id].linktype}"
            )
        self.write(
            record.interface_id, record.time_ns, record.data, orig_len=record.orig_len, comment=record.comment,
            packet_id=record.packet_id, direction=record.direction,
        )


def write_pcapng(
    target: Target,
    interfaces: Sequence[Interface],
    records: Iterable[tuple[int, int, bytes, str | None]] | Iterable[CaptureRecord],
    *,
    comment: str | None = None,
    application: str | None = "layersim",
) -> int:
    """Write (interface, time_ns, data, comment) tuples or CaptureRecords to pcapng; returns the count."""
    with PcapngWriter(target, interfaces, comment=comment, application=application) as writer:
        for record in records:
            if isinstance(record, CaptureRecord):
                writer.write_record(record)
            else:
                interface_index, time_ns, data, packet_comment = record
                writer.write(interface_index, time_ns, data, comment=packet_comment)
        return writer.count


@dataclass(slots=True)
class _SeenInterface:
    """What the reader keeps from an Interface Description Block to label and time its packets."""

    name: str | None
    linktype: int
    snaplen: int
    ticks_per_second: int = 1_000_000  # §4.2 if_tsresol default: microseconds
    offset_s: int = 0

    def time_ns(self, ticks: int) -> int:
        """Nanoseconds since the epoch for a timestamp in this interface's units."""
        return self.offset_s * _NS_PER_S + ticks * _NS_PER_S // self.ticks_per_second


def read_pcapng(source: Source) -> Iterator[CaptureRecord]:
    """Yield the frames (EPB, SPB and obsolete PB) of a pcapng file (path or binary file object)."""
    with open_source(source, "pcapng") as reader:
        yield from iter_pcapng(reader)


class _BlockReader:
    """Reads one pcapng block at a time, checking its framing; holds the current section's byte order."""

    def __init__(self, reader: ByteReader) -> None:
        self.reader = reader
        self.order = "<"

    def next_block(self) -> tuple[int, int, bytes] | None:
        """(block type, file offset, body between the two lengths), or None at the end of the file."""
        reader, start = self.reader, self.reader.offset
        head = reader.read(8)
        if not head:
            if start == 0:
                raise reader.error(0, "empty file: no pcapng section header block")
            return None
        if start == 0 and head[:4] != SHB_TYPE_BYTES:
            raise reader.error(0, f"not a pcapng file: it starts with {head[:4].hex()}, not 0a0d0d0a")
        if len(head) < 8:
            raise reader.error(start, f"block header is truncated: needs 8 bytes, {len(head)} are left")
        if head[:4] == SHB_TYPE_BYTES:  # a new section: its byte-order magic decides how to read the length
            magic = reader.read_exact(4, "section header block byte-order magic")
            if magic == BYTE_ORDER_MAGIC.to_bytes(4, "big"):
                self.order = ">"
            elif magic == BYTE_ORDER_MAGIC.to_bytes(4, "little"):
                self.order = "<"
            else:
                raise reader.error(
                    start + 8,
                    f"section header block byte-order magic {magic.hex()} is neither 1a2b3c4d nor 4d3c2b1a",
                )
            reader.unread(magic)
        block_type, length = struct.unpack(self.order + "II", head)
        name, minimum = _block_name(block_type), _minimum_length(block_type)
        if length < minimum:
            raise reader.error(start, f"{name} length {length} is smaller than its {minimum}-byte minimum")
        if length % 4:
            raise reader.error(start, f"{name} length {length} is not a multiple of 4")
        rest = reader.read(length - 8)
        if len(rest) < length - 8:
            raise reader.error(
                start,
                f"{name} is truncated: its length is {length} bytes, the file ends after {8 + len(rest)}",
            )
        (trailing,) = struct.unpack(self.order + "I", rest[-4:])
        if trailing != length:
            raise reader.error(
                start, f"{name} trailing length {trailing} does not match its leading length {length}"
            )
        return block_type, start, rest[:-4]

    def options(self, body: bytes, pos: int, block_offset: int, name: str) -> list[tuple[int, bytes]]:
        """Decode the options starting at body[pos] into (code, value) pairs, up to opt_endofopt."""
        found = []
        while pos + 4 <= len(body):
            code, length = struct.unpack_from(self.order + "HH", body, pos)
            if code == OPT_ENDOFOPT:
                break
            if pos + 4 + length > len(body):
                raise self.reader.error(
                    block_offset + 8 + pos,
                    f"{name} option {code} length {length} runs past the end of the block",
                )
            found.append((code, body[pos + 4 : pos + 4 + length]))
            pos += 4 + _pad4(length)
        return found


def _interface(blocks: _BlockReader, body: bytes, offset: int) -> _SeenInterface:
    """The reader's view of an Interface Description Block (§4.2)."""
    linktype, _, snaplen = struct.unpack_from(blocks.order + "HHI", body)
    seen = _SeenInterface(None, linktype, snaplen)
    for code, value in blocks.options(body, 8, offset, "interface description block"):
        if code == IF_NAME:
            seen.name = value.decode("utf-8", "replace")
        elif code == IF_TSRESOL and len(value) >= 1:
            exponent = value[0] & 0x7F  # high bit set: a negative power of 2, else of 10
            seen.ticks_per_second = 2**exponent if value[0] & 0x80 else 10**exponent
        elif code == IF_TSOFFSET and len(value) == 8:
            (seen.offset_s,) = struct.unpack(blocks.order + "q", value)
    return seen


def iter_pcapng(reader: ByteReader) -> Iterator[CaptureRecord]:
    """Yield the frames of a pcapng file from an already opened reader, over all its sections."""
    blocks = _BlockReader(reader)
    interfaces: list[_SeenInterface] = []
    index = 0
    while (block := blocks.next_block()) is not None:
        block_type, offset, body = block
        name = _block_name(block_type)
        if block_type == BlockType.SECTION_HEADER:
            (major, minor) = struct.unpack_from(blocks.order + "HH", body, 4)
            if major != 1:
                raise reader.error(offset + 12, f"pcapng version {major}.{minor} is not supported (only 1.x)")
            interfaces = []  # §4.3: an Interface ID counts the IDBs of the current section only
            continue
        if block_type == BlockType.INTERFACE_DESCRIPTION:
            interfaces.append(_interface(blocks, body, offset))
            continue
        if block_type == BlockType.ENHANCED_PACKET:
            interface_id, high, low, caplen, orig_len = struct.unpack_from(blocks.order + "IIIII", body)
            fixed = 20
        elif block_type == BlockType.PACKET:
            interface_id, _, high, low, caplen, orig_len = struct.unpack_from(blocks.order + "HHIIII", body)
            fixed = 20
        elif block_type == BlockType.SIMPLE_PACKET:
            interface_id, high, low, fixed = 0, 0, 0, 4
            (orig_len,) = struct.unpack_from(blocks.order + "I", body)
            caplen = min(orig_len, len(body) - fixed)  # §4.4: the snaplen limit is applied below
        else:
            continue  # NRB, ISB, DSB, custom and unknown blocks carry no frames
        if interface_id >= len(interfaces):
            raise reader.error(
                offset,
                f"{name} refers to interface {interface_id} but this section has"
                f" {len(interfaces)} interface description blocks before it",
            )
        interface = interfaces[interface_id]
        if block_type == BlockType.SIMPLE_PACKET and interface.snaplen:
            caplen = min(caplen, interface.snaplen)
        if fixed + caplen > len(body):
            raise reader.error(
                offset,
                f"{name} captured length {caplen} runs past the end of the block"
                f" ({len(body) - fixed} bytes of room)",
            )
        comments = []
        packet_id = direction = None
        if block_type != BlockType.SIMPLE_PACKET:
            for code, value in blocks.options(body, fixed + _pad4(caplen), offset, name):
                if code == OPT_COMMENT:
                    comments.append(value.decode("utf-8", "replace"))
                elif code == EPB_FLAGS and len(value) == 4:  # the obsolete PB's pack_flags is the same word
                    bits = struct.unpack(blocks.order + "I", value)[0] & _FLAGS_DIRECTION_MASK
                    direction = Direction(bits) if bits in _DIRECTION_OPTIONS else None
                elif code == EPB_PACKETID and len(value) == 8 and block_type == BlockType.ENHANCED_PACKET:
                    (packet_id,) = struct.unpack(blocks.order + "Q", value)
        yield CaptureRecord(
            index=index,
            time_ns=0 if block_type == BlockType.SIMPLE_PACKET else interface.time_ns((high << 32) | low),
            data=body[fixed : fixed + caplen],
            orig_len=orig_len,
            interface=interface.name,
            interface_id=interface_id,
            linktype=interface.linktype,
            comment="\n".join(comments) if comments else None,
            packet_id=packet_id,
            direction=direction,
        )
        index += 1
