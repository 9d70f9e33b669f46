"""read_capture: pcap or pcapng told apart by the first bytes; bad input raises only CaptureError."""

from __future__ import annotations

import gzip
import io
import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layersim.capture import CaptureRecord, read_capture, read_pcap, read_pcapng
from layersim.errors import CaptureError

from .external import DATA

# Every golden file; data/README.md says how each was made.
GOLDEN = sorted(path.name for path in DATA.iterdir() if path.suffix in {".pcap", ".pcapng"})


def expect(path: Path, offset: int, message: str) -> AbstractContextManager[Any]:
    """Expect a CaptureError naming path and offset, with exactly this message."""
    return pytest.raises(CaptureError, match=f"^{re.escape(f'{path} at byte {offset}: {message}')}$")


class Pipe(io.RawIOBase):
    """A read-only, non-seekable stream (like stdin from a pipe), handing out a few bytes per read."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), 7, len(self._data))
        buffer[:size], self._data = self._data[:size], self._data[size:]
        return size


def test_golden_files_are_present() -> None:
    assert len(GOLDEN) == 20  # 13 for the readers, 7 for the link types (test_linktypes.py)
    assert all((DATA / name).stat().st_size < 4096 for name in GOLDEN)


@pytest.mark.parametrize("name", GOLDEN)
def test_dispatches_to_the_right_reader(name: str) -> None:
    specific = read_pcapng if name.endswith(".pcapng") else read_pcap
    records = list(read_capture(DATA / name))
    assert records == list(specific(DATA / name))
    assert records


@pytest.mark.parametrize("name", ["scapy_us_be.pcap", "pcapng_test_generator_be_test202.pcapng"])
def test_reads_open_files_and_pipes(name: str) -> None:
    expected = list(read_capture(DATA / name))
    with open(DATA / name, "rb") as file:
        assert list(read_capture(file)) == expected
        assert not file.closed  # a file we were given stays open
    assert list(read_capture(io.BytesIO((DATA / name).read_bytes()))) == expected
    assert list(read_capture(io.BufferedReader(Pipe((DATA / name).read_bytes())))) == expected


def test_gzip_compressed_capture(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(gzip.compress((DATA / "scapy_us.pcap").read_bytes(), mtime=0))
    message = "not a pcap or pcapng file (starts with 1f8b0800); it looks gzip-compressed, decompress it"
    message += " first"
    with expect(path, 0, message):
        list(read_capture(path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file, not a pcap or pcapng file"),
        (b"\xa1\xb2", "not a pcap or pcapng file (starts with a1b2)"),
        (b"GET / HTTP/1.1\r\n", "not a pcap or pcapng file (starts with 47455420)"),
    ],
)
def test_not_a_capture(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    with expect(path, 0, message):
        list(read_capture(path))


def test_unnamed_stream_is_called_a_stream() -> None:
    with pytest.raises(CaptureError, match=r"^capture stream at byte 0: empty file"):
        list(read_capture(io.BytesIO()))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.pcap"
    message = f"{path}: cannot open: No such file or directory"
    with pytest.raises(CaptureError, match=f"^{re.escape(message)}$"):
        list(read_capture(path))


def test_text_mode_file_is_refused() -> None:
    refused = pytest.raises(CaptureError, match=r"scapy_us\.pcap: a capture must be opened in binary mode")
    with open(DATA / "scapy_us.pcap", encoding="latin-1") as file, refused:
        list(read_capture(file))  # type: ignore[arg-type]


def read_or_capture_error(data: bytes) -> list[CaptureRecord]:
    """Read all records; a CaptureError is fine, any other exception fails the test."""
    try:
        return list(read_capture(io.BytesIO(data)))
    except CaptureError:
        return []


MAGICS = [
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a\x1c\0\0\0\x4d\x3c\x2b\x1a\x01\0\0\0",
    b"\x0a\x0d\x0d\x0a\0\0\0\x1c\x1a\x2b\x3c\x4d\0\x01\0\0",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MAGICS), st.binary(max_size=200))
def test_random_bytes_after_a_magic_number_raise_only_capture_errors(magic: bytes, tail: bytes) -> None:
    read_or_capture_error(magic + tail)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(GOLDEN), st.data())
def test_damaged_golden_files_raise_only_capture_errors(name: str, data: st.DataObject) -> None:
    original = (DATA / name).read_bytes()
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(damaged)))
    read_or_capture_error(bytes(damaged[:cut]))


@pytest.mark.parametrize("name", GOLDEN)
def test_every_truncation_yields_a_prefix_then_a_capture_error(name: str) -> None:
    original = (DATA / name).read_bytes()
    complete = list(read_capture(io.BytesIO(original)))
    for cut in range(len(original)):
        seen: list[CaptureRecord] = []
        try:
            seen.extend(read_capture(io.BytesIO(original[:cut])))
        except CaptureError as error:
            assert re.search(r" at byte \d+: ", str(error)), error
        assert seen == complete[: len(seen)]
