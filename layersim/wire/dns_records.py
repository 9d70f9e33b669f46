"""DNS values (RFC 1035 §3.2, §4.1.2-4.1.3): record types and classes, opcodes and rcodes, questions and records."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from layersim.errors import FieldValueError

__all__ = ["DNSMX", "DNSSOA", "DNSClass", "DNSOpcode", "DNSQuestion", "DNSRcode", "DNSRecord", "DNSType", "RData"]


class DNSType(IntEnum):
    """Resource record types (IANA DNS parameters) that layersim names."""

    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28
    SRV = 33
    OPT = 41
    HTTPS = 65
    ANY = 255


class DNSClass(IntEnum):
    """Record classes (RFC 1035 §3.2.4; OPT records put the UDP payload size here instead)."""

    IN = 1
    CH = 3
    HS = 4
    ANY = 255


class DNSOpcode(IntEnum):
    """The kind of query (RFC 1035 §4.1.1, RFC 1996, RFC 2136)."""

    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5


class DNSRcode(IntEnum):
    """Response codes (RFC 1035 §4.1.1)."""

    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5


NAME_TYPES = frozenset({DNSType.NS, DNSType.CNAME, DNSType.PTR})  # RDATA is one domain name
RR_FIXED = struct.Struct("!HHIH")  # type, class, TTL, RDLENGTH (RFC 1035 §4.1.3)
SOA_NUMBERS = struct.Struct("!IIIII")
SOA_TIMERS = ("serial", "refresh", "retry", "expire", "minimum")


def check_name(value: Any) -> str:
    """A domain name checked against RFC 1035 §2.3.4 limits; one trailing dot is dropped ("." is the root)."""
    if not isinstance(value, str):
        raise FieldValueError(f"a domain name is a str, not {type(value).__name__} {value!r}")
    name = value[:-1] if value.endswith(".") else value
    if not name:
        return ""
    try:
        labels = [label.encode("latin-1") for label in name.split(".")]
    except UnicodeEncodeError:
        raise FieldValueError(f"{value!r} has characters beyond Latin-1: give its IDNA form") from None
    if not all(0 < len(label) < 64 for label in labels):
        raise FieldValueError(f"{value!r} has an empty label or one longer than 63 bytes")
    if sum(len(label) + 1 for label in labels) + 1 > 255:
        raise FieldValueError(f"{value!r} is longer than 255 bytes on the wire")
    return name


def check_number(value: Any, bits: int, kind: type[IntEnum] | None = None) -> int:
    """An unsigned integer of `bits` bits; enum members and their names are accepted and kept by name."""
    if kind is not None and isinstance(value, str):
        try:
            return kind[value.upper()]
        except KeyError:
            raise FieldValueError(f"{value!r} is not one of {', '.join(kind.__members__)}") from None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise FieldValueError(f"{value!r} is not an integer of {bits} bits")
    return kind._value2member_map_.get(value, int(value)) if kind is not None else int(value)  # type: ignore


def _set(obj: object, **values: Any) -> None:
    """Store normalised values on a frozen dataclass during __post_init__."""
    for key, value in values.items():
        object.__setattr__(obj, key, value)


@dataclass(frozen=True, slots=True)
class DNSQuestion:
    """One entry of the question section (RFC 1035 §4.1.2)."""

    name: str
    qtype: int = DNSType.A
    qclass: int = DNSClass.IN

    def __post_init__(self) -> None:
        _set(self, name=check_name(self.name), qtype=check_number(self.qtype, 16, DNSType),
             qclass=check_number(self.qclass, 16, DNSClass))


@dataclass(frozen=True, slots=True)
class DNSMX:
    """MX record data (RFC 1035 §3.3.9): preference, then the mail exchanger's name."""

    preference: int
    exchange: str

    def __post_init__(self) -> None:
        _set(self, preference=check_number(self.preference, 16), exchange=check_name(self.exchange))


@dataclass(frozen=True, slots=True)
class DNSSOA:
    """SOA record data (RFC 1035 §3.3.13): the zone's primary server, mailbox, serial and timers."""

    mname: str
    rname: str
    serial: int = 0
    refresh: int = 0
    retry: int = 0
    expire: int = 0
    minimum: int = 0

    def __post_init__(self) -> None:
        _set(self, mname=check_name(self.mname), rname=check_name(self.rname),
             **{k: check_number(getattr(self, k), 32) for k in SOA_TIMERS})


RData = IPv4Address | IPv6Address | str | DNSMX | DNSSOA | bytes


def check_rdata(rtype: int, value: Any) -> RData:
    """RDATA in its canonical form for `rtype`: addresses for A/AAAA, names, MX/SOA values, else raw bytes."""
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        if len(value) > 0xFFFF:
            raise FieldValueError(f"RDATA of {len(value)} bytes does not fit RDLENGTH")
        if rtype == DNSType.A and len(value) == 4:
            return IPv4Address(value)
        return IPv6Address(value) if rtype == DNSType.AAAA and len(value) == 16 else value
    address = {DNSType.A: IPv4Address, DNSType.AAAA: IPv6Address}.get(rtype)  # type: ignore[call-overload]
    if address is not None and isinstance(value, str | int | address) and not isinstance(value, bool):
        try:
            return address(value)  # type: ignore[no-any-return]
        except ValueError as exc:
            raise FieldValueError(f"{value!r} is not a valid {address.__name__}: {exc}") from None
    if rtype in NAME_TYPES and isinstance(value, str):
        return check_name(value)
    if (isinstance(value, DNSMX) and rtype == DNSType.MX) or (isinstance(value, DNSSOA)
                                                              and rtype == DNSType.SOA):
        return value
    kind = DNSType(rtype).name if rtype in DNSType._value2member_map_ else f"type {rtype}"
    raise FieldValueError(f"a {kind} record cannot hold {type(value).__name__} {value!r} (give raw bytes)")


@dataclass(frozen=True, slots=True)
class DNSRecord:
    """One resource record (RFC 1035 §4.1.3); `value` is decoded for A, AAAA, NS, CNAME, PTR, MX and SOA."""

    name: str
    rtype: int = DNSType.A
    rclass: int = DNSClass.IN
    ttl: int = 0
    value: RData = b""

    def __post_init__(self) -> None:
        rtype = check_number(self.rtype, 16, DNSType)
        _set(self, name=check_name(self.name), rtype=rtype, rclass=check_number(self.rclass, 16, DNSClass),
             ttl=check_number(self.ttl, 32), value=check_rdata(rtype, self.value))


def section_items(value: Any, item: type, what: str) -> tuple[Any, ...]:
    """A section as a tuple of `item`s, from one item or an iterable of them (questions also from names)."""
    if isinstance(value, item | str):
        value = (value,)
    elif not isinstance(value, Iterable):
        raise FieldValueError(f"expected {what}s, got {type(value).__name__} {value!r}")
    out = tuple(DNSQuestion(v) if item is DNSQuestion and isinstance(v, str) else v for v in value)
    for v in out:
        if type(v) is not item:
            raise FieldValueError(f"expected a {item.__name__}, got {type(v).__name__} {v!r}")
    return out
