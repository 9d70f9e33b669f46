"""pcapng Decryption Secrets Blocks (§4.7): exact bytes for each padding length, bad input refused, and a reader
that skips them."""

from __future__ import annotations

import io
import struct

import pytest

from layersim.capture import Interface, PcapngWriter, read_pcapng
from layersim.capture.pcapng import SECRETS_TLS_KEY_LOG
from layersim.errors import CaptureError

ETH = Interface("eth0")


def _written(*secrets: bytes) -> bytes:
    out = io.BytesIO()
    with PcapngWriter(out, [ETH], application=None) as writer:
        head = len(out.getvalue())
        for data in secrets:
            writer.write_secrets(SECRETS_TLS_KEY_LOG, data)
        writer.write(0, 5, b"\x01" * 14)
    return out.getvalue()[head:]


@pytest.mark.parametrize(("data", "padding"), [(b"a\n", 2), (b"abc\n", 0), (b"abcde\n", 2), (b"abc", 1),
                                               (b"ab\ncd\n!", 1), (b"x", 3)])
def test_a_secrets_block_is_type_length_secrets_padded_to_32_bits(data: bytes, padding: int) -> None:
    body = struct.pack("<II", 0x544C534B, len(data)) + data + b"\0" * padding
    expected = struct.pack("<II", 0x0000000A, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    assert _written(data).startswith(expected)


def test_secrets_are_skipped_by_the_reader_and_frames_stay_in_place() -> None:
    out = io.BytesIO()
    with PcapngWriter(out, [ETH]) as writer:
        writer.write(0, 1, b"\x01" * 14)
        writer.write_secrets(SECRETS_TLS_KEY_LOG, b"CLIENT_RANDOM 00 11\n")
        writer.write(0, 2, b"\x02" * 14)
    assert [r.data for r in read_pcapng(io.BytesIO(out.getvalue()))] == [b"\x01" * 14, b"\x02" * 14]


@pytest.mark.parametrize(("kind", "data", "message"), [(SECRETS_TLS_KEY_LOG, b"", "at least one byte"),
                                                       (-1, b"x", "32 bits"), (1 << 32, b"x", "32 bits")])
def test_bad_secrets_are_refused_with_a_reason(kind: int, data: bytes, message: str) -> None:
    with PcapngWriter(io.BytesIO(), [ETH]) as writer, pytest.raises(CaptureError, match=message):
        writer.write_secrets(kind, data)
