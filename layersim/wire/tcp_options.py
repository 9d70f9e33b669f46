"""TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): values, their encoding, and decoding with exact round trips."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from layersim.errors import DecodeError, FieldValueError

__all__ = ["EOL", "MSS", "NOP", "SACK", "SACKPermitted", "TCPOption", "Timestamps", "UnknownOption",
           "WindowScale", "coerce_options", "decode_options"]


@dataclass(frozen=True, slots=True)
class EOL:
    """End of Option List (kind 0); `padding` holds the bytes after it up to the end of the header."""

    padding: bytes = b""
    kind = 0

    def encode(self) -> bytes:
        """The option's bytes."""
        return b"\x00" + self.padding


@dataclass(frozen=True, slots=True)
class NOP:
    """No-Operation (kind 1), used to align the next option."""

    kind = 1

    def encode(self) -> bytes:
        """The option's bytes."""
        return b"\x01"


@dataclass(frozen=True, slots=True)
class MSS:
    """Maximum Segment Size (kind 2), sent on SYN."""

    value: int = 1460
    kind = 2

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBH", 2, 4, self.value)


@dataclass(frozen=True, slots=True)
class WindowScale:
    """Window Scale (kind 3, RFC 7323 §2): the shift count applied to the peer's window field."""

    shift: int = 7
    kind = 3

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBB", 3, 3, self.shift)


@dataclass(frozen=True, slots=True)
class SACKPermitted:
    """SACK-Permitted (kind 4, RFC 2018), sent on SYN."""

    kind = 4

    def encode(self) -> bytes:
        """The option's bytes."""
        return b"\x04\x02"


@dataclass(frozen=True, slots=True)
class SACK:
    """Selective acknowledgement blocks (kind 5, RFC 2018): (left edge, right edge) sequence numbers."""

    blocks: tuple[tuple[int, int], ...] = ()
    kind = 5

    def encode(self) -> bytes:
        """The option's bytes."""
        flat = [edge for block in self.blocks for edge in block]
        return struct.pack(f"!BB{len(flat)}I", 5, 2 + 4 * len(flat), *flat)


@dataclass(frozen=True, slots=True)
class Timestamps:
    """Timestamps (kind 8, RFC 7323 §3): TSval and TSecr."""

    tsval: int = 0
    tsecr: int = 0
    kind = 8

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBII", 8, 10, self.tsval, self.tsecr)


@dataclass(frozen=True, slots=True)
class UnknownOption:
    """Any other option, or a known kind with an unexpected length: kind and data kept as they were."""

    kind: int
    data: bytes = b""

    def encode(self) -> bytes:
        """The option's bytes."""
        return bytes((self.kind, 2 + len(self.data))) + self.data


TCPOption = EOL | NOP | MSS | WindowScale | SACKPermitted | SACK | Timestamps | UnknownOption
_OPTION_TYPES = (EOL, NOP, MSS, WindowScale, SACKPermitted, SACK, Timestamps, UnknownOption)

# scapy's option names, accepted on input so scapy users can write what they know.
_SCAPY_NAMES = {"EOL": EOL, "NOP": NOP, "MSS": MSS, "WScale": WindowScale, "SAckOK": SACKPermitted,
                "SAck": SACK, "Timestamp": Timestamps}


def _from_scapy_style(item: tuple[str, Any]) -> TCPOption:
    """Convert ("MSS", 1460)-style tuples to option values."""
    name, value = item
    cls = _SCAPY_NAMES.get(name)
    if cls is None:
        raise FieldValueError(f"unknown TCP option name {name!r} (known: {', '.join(_SCAPY_NAMES)})")
    if cls in (EOL, NOP, SACKPermitted):
        return cls()
    if cls is Timestamps:
        return Timestamps(*value)
    if cls is SACK:
        edges = list(value)
        return SACK(tuple(zip(edges[::2], edges[1::2], strict=True)))
    return cls(value)


def coerce_options(value: Any) -> tuple[TCPOption, ...]:
    """Validate user-given options: option values, or scapy-style (name, value) tuples."""
    if not isinstance(value, list | tuple):
        raise FieldValueError(f"options must be a list of TCP options, not {type(value).__name__}")
    out = []
    for item in value:
        option = _from_scapy_style(item) if isinstance(item, tuple) else item
        if not isinstance(option, _OPTION_TYPES):
            raise FieldValueError(f"{item!r} is not a TCP option")
        try:
            option.encode()
        except struct.error as exc:
            raise FieldValueError(f"{option!r} cannot be encoded: {exc}") from None
        out.append(option)
    return tuple(out)


_KNOWN_LENGTHS = {2: 4, 3: 3, 4: 2, 8: 10}
_NOP = NOP()  # immutable, so one value serves every decoded NOP
_TWO_WORDS = struct.Struct("!II")


def decode_options(data: bytes, start: int, end: int) -> tuple[TCPOption, ...]:
    """Decode the options in data[start:end]; bad lengths raise DecodeError naming the option's byte."""
    if end - start == 12 and data[start:start + 4] == b"\x01\x01\x08\x0a":  # NOP NOP TS: most data segments
        return _NOP, _NOP, Timestamps(*_TWO_WORDS.unpack_from(data, start + 4))
    options: list[TCPOption] = []
    at = start
    while at < end:
        kind = data[at]
        if kind == 0:
            options.append(EOL(data[at + 1:end]))
            break
        if kind == 1:
            options.append(_NOP)
            at += 1
            continue
        if at + 1 >= end:
            raise DecodeError("TCP option", at, f"kind {kind} has no length byte before the header ends")
        length = data[at + 1]
        if length < 2:
            raise DecodeError("TCP option", at, f"kind {kind} length {length} is shorter than 2")
        if at + length > end:
            raise DecodeError("TCP option", at, f"kind {kind} length {length} runs past the header end "
                              f"(byte {end})")
        body = data[at + 2:at + length]
        expected = _KNOWN_LENGTHS.get(kind)
        if expected == length:
            if kind == 2:
                options.append(MSS(int.from_bytes(body, "big")))
            elif kind == 3:
                options.append(WindowScale(body[0]))
            elif kind == 4:
                options.append(SACKPermitted())
            else:
                options.append(Timestamps(*_TWO_WORDS.unpack(body)))
        elif kind == 5 and length % 8 == 2:
            edges = struct.unpack(f"!{(length - 2) // 4}I", body)
            options.append(SACK(tuple(zip(edges[::2], edges[1::2], strict=True))))
        else:
            options.append(UnknownOption(kind, body))
        at += length
    return tuple(options)
