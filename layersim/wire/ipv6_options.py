"""Options of the IPv6 Hop-by-Hop and Destination Options headers (RFC 8200 §4.2): type-length-value items."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from layersim.errors import DecodeError, FieldValueError

__all__ = ["Jumbo", "Pad1", "PadN", "RouterAlert", "TLVOption", "UnknownTLV", "coerce_tlv_options",
           "decode_tlv_options", "padding_for"]


@dataclass(frozen=True, slots=True)
class Pad1:
    """One byte of padding (type 0, RFC 8200 §4.2): the only option without a length byte."""

    kind = 0

    def encode(self) -> bytes:
        """The option's bytes."""
        return b"\x00"


@dataclass(frozen=True, slots=True)
class PadN:
    """Two or more bytes of padding (type 1, RFC 8200 §4.2); `data` is what the sender put there (zeros)."""

    data: bytes = b""
    kind = 1

    def encode(self) -> bytes:
        """The option's bytes."""
        return bytes((1, len(self.data))) + self.data


@dataclass(frozen=True, slots=True)
class RouterAlert:
    """Router Alert (type 5, RFC 2711): routers on the path look at this packet (0 = MLD, 1 = RSVP, 2 = active)."""

    value: int = 0
    kind = 5

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBH", 5, 2, self.value)


@dataclass(frozen=True, slots=True)
class Jumbo:
    """Jumbo Payload (type 0xC2, RFC 2675): the packet length after the IPv6 header, when above 65535."""

    length: int = 65536
    kind = 0xC2

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBI", 0xC2, 4, self.length)


@dataclass(frozen=True, slots=True)
class UnknownTLV:
    """Any other option, or a known type with an unexpected length: type and data kept as they were."""

    kind: int
    data: bytes = b""

    def encode(self) -> bytes:
        """The option's bytes."""
        return bytes((self.kind, len(self.data))) + self.data


TLVOption = Pad1 | PadN | RouterAlert | Jumbo | UnknownTLV
_TYPES = (Pad1, PadN, RouterAlert, Jumbo, UnknownTLV)
_PAD1 = Pad1()


def coerce_tlv_options(value: Any) -> tuple[TLVOption, ...]:
    """Validate user-given options (a list of option values)."""
    if not isinstance(value, list | tuple):
        raise FieldValueError(f"options must be a list of IPv6 options, not {type(value).__name__}")
    for item in value:
        if not isinstance(item, _TYPES):
            raise FieldValueError(f"{item!r} is not an IPv6 option (use Pad1, PadN, RouterAlert, Jumbo, UnknownTLV)")
        try:
            item.encode()
        except (struct.error, ValueError) as exc:  # a value out of range, or data over 255 bytes
            raise FieldValueError(f"{item!r} cannot be encoded: {exc}") from None
    return tuple(value)


def padding_for(length: int) -> bytes:
    """Pad1 or PadN bytes that bring `length` up to a multiple of 8 (RFC 8200 §4.2)."""
    need = -length % 8
    if need == 0:
        return b""
    return b"\x00" if need == 1 else bytes((1, need - 2)) + bytes(need - 2)


def decode_tlv_options(data: bytes, start: int, end: int, name: str) -> tuple[TLVOption, ...]:
    """Decode the options in data[start:end]; a length running past the header raises DecodeError."""
    options: list[TLVOption] = []
    at = start
    while at < end:
        kind = data[at]
        if kind == 0:
            options.append(_PAD1)
            at += 1
            continue
        if at + 1 >= end:
            raise DecodeError(f"{name} option", at, f"type {kind} has no length byte before the header ends")
        length = data[at + 1]
        if at + 2 + length > end:
            raise DecodeError(f"{name} option", at, f"type {kind} length {length} runs past the header end "
                              f"(byte {end})")
        body = data[at + 2:at + 2 + length]
        if kind == 1:
            options.append(PadN(body))
        elif kind == 5 and length == 2:
            options.append(RouterAlert(int.from_bytes(body, "big")))
        elif kind == 0xC2 and length == 4:
            options.append(Jumbo(int.from_bytes(body, "big")))
        else:
            options.append(UnknownTLV(kind, body))
        at += 2 + length
    return tuple(options)
