"""Neighbor Discovery options (RFC 4861 §4.6, RFC 8106 §5.1): type, length in 8-byte units, value."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag
from ipaddress import IPv6Address
from typing import Any

from layersim.errors import DecodeError, FieldValueError
from layersim.wire.addresses import MAC, to_ipv6

__all__ = [
    "RDNSS",
    "MTUOption",
    "NDOption",
    "PrefixFlags",
    "PrefixInformation",
    "SourceLinkAddress",
    "TargetLinkAddress",
    "UnknownNDOption",
    "coerce_nd_options",
    "decode_nd_options",
]

_NO_MAC = MAC(0)
_UNSPECIFIED = IPv6Address(0)


@dataclass(frozen=True, slots=True)
class SourceLinkAddress:
    """Source Link-Layer Address (type 1, RFC 4861 §4.6.1): the sender's MAC."""

    address: MAC = _NO_MAC
    kind = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", MAC(self.address))

    def encode(self) -> bytes:
        """The option's bytes."""
        return bytes((self.kind, 1)) + bytes(MAC(self.address))


@dataclass(frozen=True, slots=True)
class TargetLinkAddress:
    """Target Link-Layer Address (type 2, RFC 4861 §4.6.1): the target's MAC, in advertisements and redirects."""

    address: MAC = _NO_MAC
    kind = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", MAC(self.address))

    def encode(self) -> bytes:
        """The option's bytes."""
        return bytes((self.kind, 1)) + bytes(MAC(self.address))


class PrefixFlags(IntFlag):
    """The L (on-link) and A (autonomous address configuration) bits of a prefix (RFC 4861 §4.6.2)."""

    A = 0x40
    L = 0x80


@dataclass(frozen=True, slots=True)
class PrefixInformation:
    """Prefix Information (type 3, RFC 4861 §4.6.2): an on-link / SLAAC prefix with its lifetimes."""

    prefix_length: int = 64
    flags: int = PrefixFlags.L | PrefixFlags.A
    valid_lifetime: int = 2592000
    preferred_lifetime: int = 604800
    reserved: int = 0
    prefix: IPv6Address = _UNSPECIFIED
    kind = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", to_ipv6(self.prefix))

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBBBIII16s", 3, 4, self.prefix_length, self.flags, self.valid_lifetime,
                           self.preferred_lifetime, self.reserved, self.prefix.packed)


@dataclass(frozen=True, slots=True)
class MTUOption:
    """MTU (type 5, RFC 4861 §4.6.4): the link MTU routers advertise."""

    mtu: int = 1500
    reserved: int = 0
    kind = 5

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBHI", 5, 1, self.reserved, self.mtu)


@dataclass(frozen=True, slots=True)
class RDNSS:
    """Recursive DNS Server (type 25, RFC 8106 §5.1): resolvers and how long to use them."""

    lifetime: int = 0
    servers: tuple[IPv6Address, ...] = ()
    reserved: int = 0
    kind = 25

    def __post_init__(self) -> None:
        object.__setattr__(self, "servers", tuple(to_ipv6(s) for s in self.servers))

    def encode(self) -> bytes:
        """The option's bytes."""
        return struct.pack("!BBHI", 25, 1 + 2 * len(self.servers), self.reserved, self.lifetime) + b"".join(
            s.packed for s in self.servers)


@dataclass(frozen=True, slots=True)
class UnknownNDOption:
    """Any other option, or a known type with an unexpected length: type and the bytes after the length kept."""

    kind: int
    data: bytes = b""

    def encode(self) -> bytes:
        """The option's bytes (the data must make the whole a multiple of 8)."""
        if (2 + len(self.data)) % 8:
            raise ValueError(f"option data of {len(self.data)} bytes does not end on an 8-byte boundary")
        return bytes((self.kind, (2 + len(self.data)) // 8)) + self.data


NDOption = SourceLinkAddress | TargetLinkAddress | PrefixInformation | MTUOption | RDNSS | UnknownNDOption
_TYPES = (SourceLinkAddress, TargetLinkAddress, PrefixInformation, MTUOption, RDNSS, UnknownNDOption)


def coerce_nd_options(value: Any) -> tuple[NDOption, ...]:
    """Validate user-given options (a list of option values)."""
    if not isinstance(value, list | tuple):
        raise FieldValueError(f"options must be a list of NDP options, not {type(value).__name__}")
    for item in value:
        if not isinstance(item, _TYPES):
            raise FieldValueError(f"{item!r} is not an NDP option")
        try:
            item.encode()
        except (struct.error, ValueError, TypeError) as exc:
            raise FieldValueError(f"{item!r} cannot be encoded: {exc}") from None
    return tuple(value)


_PREFIX = struct.Struct("!BBIII16s")
_WORD_LONG = struct.Struct("!HI")


def _one(kind: int, body: bytes) -> NDOption:
    """One option from its type and the bytes after the length byte."""
    size = len(body) + 2
    if kind in (1, 2) and size == 8:
        return (SourceLinkAddress if kind == 1 else TargetLinkAddress)(MAC(body))
    if kind == 3 and size == 32:
        length, flags, valid, preferred, reserved, prefix = _PREFIX.unpack(body)
        return PrefixInformation(length, PrefixFlags(flags), valid, preferred,
                                 reserved, IPv6Address(prefix))
    if kind == 5 and size == 8:
        reserved, mtu = _WORD_LONG.unpack(body)
        return MTUOption(mtu, reserved)
    if kind == 25 and size >= 24 and (size - 8) % 16 == 0:  # RFC 8106 §5.1: length 3 + 2 per extra server
        reserved, lifetime = _WORD_LONG.unpack_from(body)
        servers = tuple(IPv6Address(body[i:i + 16]) for i in range(6, len(body), 16))
        return RDNSS(lifetime, servers, reserved)
    return UnknownNDOption(kind, body)


def decode_nd_options(data: bytes, start: int, end: int) -> tuple[NDOption, ...]:
    """Decode the options in data[start:end]; a zero length or one running past the end raises DecodeError."""
    options: list[NDOption] = []
    at = start
    while at < end:
        if at + 2 > end:
            raise DecodeError("NDP option", at, f"{end - at} byte left, shorter than an option's type and length")
        kind, units = data[at], data[at + 1]
        if units == 0:  # RFC 4861 §4.6: a length of 0 is invalid, the packet is discarded
            raise DecodeError("NDP option", at + 1, f"type {kind} has length 0")
        size = units * 8
        if at + size > end:
            raise DecodeError("NDP option", at + 1, f"type {kind} length {units} ({size} bytes) runs past the end "
                              f"of the message (byte {end})")
        options.append(_one(kind, data[at + 2:at + size]))
        at += size
    return tuple(options)
