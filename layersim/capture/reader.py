"""Open any capture file: sniff its first bytes and hand it to the pcap or pcapng reader."""

from __future__ import annotations

from collections.abc import Iterator

from layersim.capture.pcap import iter_pcap, pcap_file_format
from layersim.capture.pcapng import SHB_TYPE_BYTES, iter_pcapng
from layersim.capture.records import CaptureRecord, Source, open_source

GZIP_MAGIC = b"\x1f\x8b"


def read_capture(source: Source) -> Iterator[CaptureRecord]:
    """Yield the frames of a pcap or pcapng file (path or binary file object), whichever it is."""
    with open_source(source, "capture") as reader:
        magic = reader.read(4)
        if not magic:
            raise reader.error(0, "empty file, not a pcap or pcapng file")
        reader.unread(magic)
        if magic == SHB_TYPE_BYTES:
            yield from iter_pcapng(reader)
        elif len(magic) == 4 and pcap_file_format(magic) is not None:
            yield from iter_pcap(reader)
        else:
            hint = "; it looks gzip-compressed, decompress it first" if magic.startswith(GZIP_MAGIC) else ""
            raise reader.error(0, f"not a pcap or pcapng file (starts with {magic.hex()}){hint}")
