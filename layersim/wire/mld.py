"""Multicast Listener Discovery (RFC 2710, RFC 3810): queries, v1 reports, and v2 reports decoded record by record."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any

from layersim.errors import DecodeError, FieldValueError
from layersim.wire.addresses import to_ipv6
from layersim.wire.fields import Addr, HeaderSpec, Layer, UInt, Var
from layersim.wire.icmpv6 import ICMPv6Type

__all__ = ["MLDQuery", "MLDv1", "MLDv2Report", "MulticastRecord"]

_UNSPECIFIED = IPv6Address(0)


@dataclass(frozen=True, slots=True)
class MulticastRecord:
    """One Multicast Address Record of an MLDv2 report (RFC 3810 §5.2.4)."""

    record_type: int = 4  # CHANGE_TO_EXCLUDE_MODE: "join" as Linux sends it
    address: IPv6Address = _UNSPECIFIED
    sources: tuple[IPv6Address, ...] = ()
    aux_data: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", to_ipv6(self.address))
        object.__setattr__(self, "sources", tuple(to_ipv6(s) for s in self.sources))

    def encode(self) -> bytes:
        """The record's bytes (the auxiliary data length counts 4-byte words)."""
        if len(self.aux_data) % 4:
            raise ValueError(f"auxiliary data of {len(self.aux_data)} bytes is not whole 32-bit words")
        return struct.pack("!BBH16s", self.record_type, len(self.aux_data) // 4, len(self.sources),
                           IPv6Address(self.address).packed) + b"".join(
            IPv6Address(s).packed for s in self.sources) + self.aux_data


def _records(value: Any) -> tuple[MulticastRecord, ...]:
    """Validate user-given records."""
    if not isinstance(value, list | tuple) or not all(isinstance(r, MulticastRecord) for r in value):
        raise FieldValueError("records must be a list of MulticastRecord values")
    for record in value:
        try:
            record.encode()
        except (struct.error, ValueError, TypeError) as exc:
            raise FieldValueError(f"{record!r} cannot be encoded: {exc}") from None
    return tuple(value)


class MLDv2Report(Layer):
    """An MLDv2 Report (type 143, RFC 3810 §5.2): the multicast addresses a node listens to, with source filters."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.MLDV2_REPORT
    spec = HeaderSpec("MLDv2 Report", [
        UInt("reserved", 16), UInt("num_records", 16, None),
        Var("records", (), kind=tuple, coerce=_records),
    ])
    reserved: int
    num_records: int | None
    records: tuple[MulticastRecord, ...]

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header, records, then anything after them."""
        reserved, count, records = self[:3]
        if count is None:
            count = len(records)
        return self._pack(reserved, count) + b"".join(r.encode() for r in records) + payload

    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """The two fixed fields, then each record."""
        spans = [("reserved", start, start + 2), ("num_records", start + 2, start + 4)]
        at = start + 4
        for i, record in enumerate(self[2]):
            size = len(record.encode())
            spans.append((f"records[{i}]", at, at + size))
            at += size
        return spans

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, None]:
        """Decode the records the count announces; one running past the message raises DecodeError."""
        if end - start < 4:
            raise DecodeError("MLDv2 Report", start, f"{end - start} bytes left, shorter than the 4-byte header")
        reserved, count = cls._unpack(data, start)
        records = []
        at = start + 4
        for i in range(count):
            if at + 20 > end:
                raise DecodeError("MLDv2 Report", at, f"record {i + 1} of {count}: {end - at} bytes left, shorter "
                                  "than the 20-byte record header")
            kind, aux, sources = data[at], data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
            size = 20 + 16 * sources + 4 * aux
            if at + size > end:
                raise DecodeError("MLDv2 Report", at, f"record {i + 1} of {count}: {sources} sources and {aux} "
                                  f"auxiliary words ({size} bytes) run past the end of the message (byte {end})")
            listed = tuple(IPv6Address(data[j:j + 16]) for j in range(at + 20, at + 20 + 16 * sources, 16))
            records.append(MulticastRecord(kind, IPv6Address(data[at + 4:at + 20]), listed,
                                           data[at + 20 + 16 * sources:at + size]))
            at += size
        return tuple.__new__(cls, (reserved, count, tuple(records), None)), at, end, None


class MLDv1(Layer):
    """An MLDv1 Report or Done (types 131, 132, RFC 2710 §3): one multicast address."""

    __slots__ = ()
    spec = HeaderSpec("MLD", [
        UInt("max_response_delay", 16), UInt("reserved", 16), Addr("address", IPv6Address),
    ])
    max_response_delay: int
    reserved: int
    address: IPv6Address

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The fixed part then anything after it."""
        return self._pack(*self[:3]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, None]:
        """Decode the 20-byte body."""
        if end - start < 20:
            raise DecodeError(cls.spec.name, start, f"{end - start} bytes left, shorter than the 20-byte body")
        return tuple.__new__(cls, (*cls._unpack(data, start), None)), start + 20, end, None


class MLDQuery(MLDv1):
    """A Multicast Listener Query (type 130, RFC 3810 §5.1); the MLDv2 part (sources) follows as Raw."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.MLD_QUERY
    spec = HeaderSpec("MLD Query", [
        UInt("max_response_code", 16), UInt("reserved", 16), Addr("address", IPv6Address),
    ])
