"""Captured frames and interfaces, plus the byte-stream plumbing the pcap and pcapng codecs share."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from types import TracebackType
from typing import BinaryIO, Self, TypeAlias

from layersim.errors import CaptureError

# Bigger reads are done in pieces, so a corrupt length field cannot make us allocate gigabytes up front.
_CHUNK = 1 << 20
_BUFFER = 1 << 20  # bytes a writer gathers before each write to the file: a capture writes many small records

Source: TypeAlias = str | os.PathLike[str] | BinaryIO
"""Where a capture is read from: a path, or a binary file object opened for reading."""
Target: TypeAlias = str | os.PathLike[str] | BinaryIO
"""Where a capture is written to: a path, or a binary file object opened for writing."""


class Direction(IntEnum):
    """Which way a frame crossed its interface: pcapng epb_flags bits 0-1 (draft-ietf-opsawg-pcapng §4.3.1)."""

    INBOUND = 1
    OUTBOUND = 2


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One frame read from a capture file: its bytes, timestamp and the interface it was seen on."""

    index: int
    time_ns: int
    data: bytes
    orig_len: int
    interface: str | None
    interface_id: int
    linktype: int
    comment: str | None
    packet_id: int | None = None  # pcapng epb_packetid: the same packet on every interface it crossed
    direction: Direction | None = None  # pcapng epb_flags direction, when the file says


def format_time(time_ns: int) -> str:
    """A capture timestamp as "seconds.nanoseconds" from its integer nanoseconds, exactly (no float rounding)."""
    sign = "-" if time_ns < 0 else ""
    seconds, nanoseconds = divmod(abs(time_ns), 1_000_000_000)
    return f"{sign}{seconds}.{nanoseconds:09d}"


@dataclass(frozen=True, slots=True)
class Interface:
    """An interface a pcapng file records frames for (written as an Interface Description Block)."""

    name: str
    linktype: int = 1
    snaplen: int = 262144
    description: str | None = None


def display_name(source: object, kind: str) -> str:
    """How error messages name a path or file object: its file name, else e.g. 'pcap stream'."""
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else f"{kind} stream"


class ByteReader:
    """A binary file read front to back that knows its byte offset, for error messages that point."""

    def __init__(self, file: BinaryIO, label: str) -> None:
        self._file = file
        self._pushback = b""
        self.label = label
        self.offset = 0

    def error(self, offset: int, message: str) -> CaptureError:
        """A CaptureError naming the file (or the format, for an unnamed stream) and the byte offset."""
        return CaptureError(f"{self.label} at byte {offset}: {message}")

    def unread(self, data: bytes) -> None:
        """Put back bytes already read (the magic number sniffed by read_capture)."""
        self._pushback = data + self._pushback
        self.offset -= len(data)

    def read(self, size: int) -> bytes:
        """Up to size bytes; fewer only at the end of the file."""
        parts = [self._pushback[:size]]
        self._pushback = self._pushback[size:]
        remaining = size - len(parts[0])
        while remaining > 0:
            chunk = self._file.read(min(remaining, _CHUNK))
            if not chunk:
                break
            parts.append(chunk)
            remaining -= len(chunk)
        data = b"".join(parts)
        self.offset += len(data)
        return data

    def read_exact(self, size: int, what: str) -> bytes:
        """Exactly size bytes, or a CaptureError saying that `what` is cut short by the end of the file."""
        start = self.offset
        data = self.read(size)
        if len(data) < size:
            raise self.error(
                start, f"{what} is truncated: needs {size} bytes, the file ends after {len(data)}"
            )
        return data


@contextmanager
def open_source(source: Source, kind: str) -> Iterator[ByteReader]:
    """Open a path (closed afterwards) or wrap an open binary file (left open) for reading."""
    label = display_name(source, kind)
    if isinstance(source, str | os.PathLike):
        try:
            file = open(source, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise CaptureError(f"{label}: cannot open: {exc.strerror}") from exc
        try:
            yield ByteReader(file, label)
        finally:
            file.close()
    else:
        if isinstance(source, io.TextIOBase):
            raise CaptureError(f"{label}: a capture must be opened in binary mode ('rb')")
        yield ByteReader(source, label)


class ByteWriter:
    """A binary file written front to back; owns (and closes) the file only if it opened it."""

    def __init__(self, target: Target, kind: str) -> None:
        self.label = display_name(target, kind)
        self.offset = 0
        if isinstance(target, str | os.PathLike):
            try:
                self._file: BinaryIO = open(target, "wb", buffering=_BUFFER)  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise CaptureError(f"{self.label}: cannot create: {exc.strerror}") from exc
            self._owned = True
        else:
            if isinstance(target, io.TextIOBase):
                raise CaptureError(f"{self.label}: a capture must be opened in binary mode ('wb')")
            self._file = target
            self._owned = False
        self.closed = False

    def error(self, message: str) -> CaptureError:
        """A CaptureError naming the file and the offset the next write would go to."""
        return CaptureError(f"{self.label} at byte {self.offset}: {message}")

    def write(self, data: bytes) -> None:
        """Append bytes to the file."""
        if self.closed:
            raise self.error("the writer is closed")
        self._file.write(data)
        self.offset += len(data)

    def close(self) -> None:
        """Flush, and close the file if this writer opened it."""
        if self.closed:
            return
        self.closed = True
        if self._owned:
            self._file.close()
        else:
            self._file.flush()


class CaptureWriter:
    """What the pcap and pcapng writers share: the output file, closing it, and use as a context manager."""

    _out: ByteWriter

    def close(self) -> None:
        """Finish the file (closing it if the writer opened it from a path)."""
        self._out.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
