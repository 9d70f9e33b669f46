"""Classic pcap files (libpcap format): a nanosecond writer and a reader for all four magic numbers."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from layersim.capture.records import (
    ByteReader,
    ByteWriter,
    CaptureRecord,
    CaptureWriter,
    Source,
    Target,
    display_name,
    open_source,
)
from layersim.errors import CaptureError

# File header and record header layout: draft-ietf-opsawg-pcap §4 and §5.
MAGIC_MICROSECONDS = 0xA1B2C3D4
MAGIC_NANOSECONDS = 0xA1B23C4D
VERSION_MAJOR = 2
VERSION_MINOR = 4
FILE_HEADER_FIELDS = "IHHiIII"  # magic, major, minor, thiszone, sigfigs, snaplen, linktype
RECORD_HEADER_FIELDS = "IIII"  # seconds, fraction of a second, captured length, original length
FILE_HEADER = struct.Struct("<" + FILE_HEADER_FIELDS)  # as written: little-endian
RECORD_HEADER = struct.Struct("<" + RECORD_HEADER_FIELDS)
DEFAULT_SNAPLEN = 262144
# A captured length beyond both the file's snaplen and this (Wireshark's largest standard packet) is taken
# to be a corrupt record header rather than a frame.
MAX_CAPTURED_LENGTH = 262144
# draft-ietf-opsawg-pcap §4: the upper 16 bits of the LinkType field carry FCS information, not the type.
LINKTYPE_MASK = 0xFFFF
_NS_PER_S = 1_000_000_000


def pcap_file_format(magic: bytes) -> tuple[str, int] | None:
    """The struct byte order and nanoseconds per timestamp tick for a pcap magic number, or None."""
    for order in ("<", ">"):
        (value,) = struct.unpack(order + "I", magic)
        if value == MAGIC_MICROSECONDS:
            return order, 1000
        if value == MAGIC_NANOSECONDS:
            return order, 1
    return None


def read_pcap(source: Source) -> Iterator[CaptureRecord]:
    """Yield the frames of a classic pcap file (path or binary file object), in file order."""
    with open_source(source, "pcap") as reader:
        yield from iter_pcap(reader)


def iter_pcap(reader: ByteReader) -> Iterator[CaptureRecord]:
    """Yield the frames of a classic pcap file from an already opened reader."""
    header = reader.read(FILE_HEADER.size)
    if not header:
        raise reader.error(0, "empty file: no pcap file header")
    truncated = f"pcap file header is truncated: needs {FILE_HEADER.size} bytes, the file has {len(header)}"
    if len(header) < 4:
        raise reader.error(0, truncated)
    file_format = pcap_file_format(header[:4])
    if file_format is None:
        raise reader.error(
            0, f"not a pcap file: magic number {header[:4].hex()} is not a1b2c3d4 or a1b23c4d (either order)"
        )
    if len(header) < FILE_HEADER.size:
        raise reader.error(0, truncated)
    order, tick_ns = file_format
    _, major, minor, _, _, snaplen, linktype_field = struct.unpack(order + FILE_HEADER_FIELDS, header)
    if major != VERSION_MAJOR:
        raise reader.error(4, f"pcap version {major}.{minor} is not supported (only 2.x)")
    linktype = linktype_field & LINKTYPE_MASK
    record_header = struct.Struct(order + RECORD_HEADER_FIELDS)
    largest = max(snaplen, MAX_CAPTURED_LENGTH)
    index = 0  # from 0 in Record.index (and inspect --json); messages say index + 1, as inspect numbers frames
    while True:
        start = reader.offset
        head = reader.read(record_header.size)
        if not head:
            return
        if len(head) < record_header.size:
            raise reader.error(
                start,
                f"record {index + 1} header is truncated: needs {record_header.size} bytes,"
                f" the file ends after {len(head)}",
            )
        seconds, fraction, captured_length, orig_len = record_header.unpack(head)
        if captured_length > largest:
            raise reader.error(
                start,
                f"record {index + 1} captured length {captured_length} is larger than the snapshot length"
                f" {snaplen} and the {MAX_CAPTURED_LENGTH}-byte maximum (corrupt record header?)",
            )
        data = reader.read_exact(captured_length, f"record {index + 1} data")
        yield CaptureRecord(
            index=index,
            time_ns=seconds * _NS_PER_S + fraction * tick_ns,
            data=data,
            orig_len=orig_len,
            interface=None,
            interface_id=0,
            linktype=linktype,
            comment=None,
        )
        index += 1


class PcapWriter(CaptureWriter):
    """Streams frames into a classic pcap file with nanosecond timestamps; use it as a context manager."""

    def __init__(self, target: Target, *, linktype: int = 1, snaplen: int = DEFAULT_SNAPLEN) -> None:
        label = display_name(target, "pcap")
        if not 0 <= linktype <= LINKTYPE_MASK:
            raise CaptureError(f"{label}: linktype {linktype} does not fit in 16 bits")
        if not 0 <= snaplen <= 0xFFFFFFFF:
            raise CaptureError(f"{label}: snaplen {snaplen} does not fit in 32 bits")
        self.linktype = linktype
        self.snaplen = snaplen
        self.count = 0
        self._out = ByteWriter(target, "pcap")
        self._out.write(
            FILE_HEADER.pack(MAGIC_NANOSECONDS, VERSION_MAJOR, VERSION_MINOR, 0, 0, snaplen, linktype)
        )

    def write(self, time_ns: int, data: bytes, orig_len: int | None = None) -> None:
        """Append one frame; data beyond the snaplen is cut off, orig_len defaults to len(data)."""
        if not 0 <= time_ns < (1 << 32) * _NS_PER_S:
            raise self._out.error(
                f"record {self.count + 1} timestamp {time_ns} ns is outside classic pcap's range"
                " (0 to 2**32 seconds after 1970); use pcapng"
            )
        if orig_len is None:
            orig_len = len(data)
        captured = bytes(data[: self.snaplen] if self.snaplen else data)
        if not len(captured) <= orig_len <= 0xFFFFFFFF:
            raise self._out.error(
                f"record {self.count + 1} original length {orig_len} is not between the {len(captured)}"
                " captured bytes and 2**32 - 1"
            )
        seconds, nanoseconds = divmod(time_ns, _NS_PER_S)
        self._out.write(RECORD_HEADER.pack(seconds, nanoseconds, len(captured), orig_len) + captured)
        self.count += 1

    def write_record(self, record: CaptureRecord) -> None:
        """Append a frame read from another capture; its linktype must be this file's."""
        if record.linktype != self.linktype:
            raise self._out.error(
                f"record {record.index + 1} has linktype {record.linktype} but the file is written"
                f" with linktype {self.linktype}; pass linktype={record.linktype}"
            )
        self.write(record.time_ns, record.data, record.orig_len)


def write_pcap(
    target: Target,
    records: Iterable[tuple[int, bytes]] | Iterable[CaptureRecord],
    *,
    linktype: int = 1,
    snaplen: int = DEFAULT_SNAPLEN,
) -> int:
    """Write (time_ns, data) pairs or CaptureRecords to a nanosecond pcap file; returns how many."""
    with PcapWriter(target, linktype=linktype, snaplen=snaplen) as writer:
        for record in records:
            if isinstance(record, CaptureRecord):
                writer.write_record(record)
            else:
                time_ns, data = record
                writer.write(time_ns, data)
        return writer.count
