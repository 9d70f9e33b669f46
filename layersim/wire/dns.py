"""DNS messages (RFC 1035) as the payload of UDP port 53: questions, resource records and name compression.

Names are str without the trailing dot ("example.com"; the root is ""), labels read as Latin-1 bytes. Encoding
compresses the way BIND 9 and scapy's `compress()` do (RFC 1035 §4.1.4): each name, including those inside
NS, CNAME, PTR, MX and SOA data, ends in a pointer to the earliest occurrence of its longest suffix written so
far. `DNS.parse` keeps a message only when that encoding reproduces it byte for byte; dnsmasq, which writes
names inside RDATA in full, gets its CNAME and MX answers left as Raw.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Self

from layersim.errors import DecodeError, FieldValueError, LayersimError
from layersim.wire.fields import Bits, HeaderSpec, Layer, UInt, Var

__all__ = ["DNS", "DNSMX", "DNSSOA", "DNSClass", "DNSOpcode", "DNSQuestion", "DNSRcode", "DNSRecord",
           "DNSType"]


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


_NAME_TYPES = frozenset({DNSType.NS, DNSType.CNAME, DNSType.PTR})  # RDATA is one domain name
_FIXED = struct.Struct("!HHIH")  # type, class, TTL, RDLENGTH (RFC 1035 §4.1.3)
_SOA_NUMBERS = struct.Struct("!IIIII")
_SOA_TIMERS = ("serial", "refresh", "retry", "expire", "minimum")


def _name(value: Any) -> str:
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


def _number(value: Any, bits: int, kind: type[IntEnum] | None = None) -> int:
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
        _set(self, name=_name(self.name), qtype=_number(self.qtype, 16, DNSType),
             qclass=_number(self.qclass, 16, DNSClass))


@dataclass(frozen=True, slots=True)
class DNSMX:
    """MX record data (RFC 1035 §3.3.9): preference, then the mail exchanger's name."""

    preference: int
    exchange: str

    def __post_init__(self) -> None:
        _set(self, preference=_number(self.preference, 16), exchange=_name(self.exchange))


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
        _set(self, mname=_name(self.mname), rname=_name(self.rname),
             **{k: _number(getattr(self, k), 32) for k in _SOA_TIMERS})


RData = IPv4Address | IPv6Address | str | DNSMX | DNSSOA | bytes


def _rdata(rtype: int, value: Any) -> RData:
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
    if rtype in _NAME_TYPES and isinstance(value, str):
        return _name(value)
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
        rtype = _number(self.rtype, 16, DNSType)
        _set(self, name=_name(self.name), rtype=rtype, rclass=_number(self.rclass, 16, DNSClass),
             ttl=_number(self.ttl, 32), value=_rdata(rtype, self.value))


def _items(value: Any, item: type, what: str) -> tuple[Any, ...]:
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


class _Writer:
    """A message being encoded, with the offset of every name suffix written so far."""

    __slots__ = ("out", "seen")

    def __init__(self, header: bytes) -> None:
        self.out = bytearray(header)
        self.seen: dict[str, int] = {}

    def name(self, name: str) -> None:
        """Labels until a suffix seen before, then a pointer to it (RFC 1035 §4.1.4), else the root label."""
        labels = name.split(".") if name else []
        for i, label in enumerate(labels):
            suffix = ".".join(labels[i:])
            at = self.seen.get(suffix)
            if at is not None:
                self.out += (0xC000 | at).to_bytes(2, "big")
                return
            if len(self.out) < 0x4000:  # pointers have 14 bits
                self.seen[suffix] = len(self.out)
            raw = label.encode("latin-1")
            self.out += bytes((len(raw),)) + raw
        self.out.append(0)

    def record(self, record: DNSRecord) -> None:
        """Name, fixed fields, then RDATA with RDLENGTH filled in afterwards."""
        self.name(record.name)
        self.out += _FIXED.pack(record.rtype, record.rclass, record.ttl, 0)
        start = len(self.out)
        value = record.value
        if isinstance(value, bytes):
            self.out += value
        elif isinstance(value, str):
            self.name(value)
        elif isinstance(value, DNSMX):
            self.out += value.preference.to_bytes(2, "big")
            self.name(value.exchange)
        elif isinstance(value, DNSSOA):
            self.name(value.mname)
            self.name(value.rname)
            self.out += _SOA_NUMBERS.pack(*(getattr(value, k) for k in _SOA_TIMERS))
        else:
            self.out += value.packed
        self.out[start - 2:start] = (len(self.out) - start).to_bytes(2, "big")


def _read_name(data: bytes, pos: int) -> tuple[str, int]:
    """The name at `pos` and the offset after it; each pointer must go back before the bytes read so far."""
    labels: list[str] = []
    end, floor, size = None, pos, 1
    while True:
        if pos >= len(data):
            raise DecodeError("DNS", pos, "domain name runs past the end of the message")
        length = data[pos]
        if length >= 0xC0:
            if pos + 1 >= len(data):
                raise DecodeError("DNS", pos, "compression pointer cut off by the end of the message")
            target = (length & 0x3F) << 8 | data[pos + 1]
            if not 12 <= target < floor:
                raise DecodeError("DNS", pos, f"compression pointer to byte {target} does not point back "
                                  f"into the sections before byte {floor}")
            end = pos + 2 if end is None else end
            pos = floor = target
        elif length >= 0x40:
            raise DecodeError("DNS", pos, f"label type 0x{length & 0xC0:02x} is not a length or a pointer")
        elif length == 0:
            return ".".join(labels), pos + 1 if end is None else end
        else:
            label = data[pos + 1:pos + 1 + length]
            size += length + 1
            if len(label) < length or size > 255 or b"." in label:
                raise DecodeError("DNS", pos, "label runs past the end, makes the name longer than 255 "
                                  "bytes, or contains a dot")
            labels.append(label.decode("latin-1"))
            pos += length + 1


def _read_rdata(data: bytes, rtype: int, start: int, end: int) -> RData:
    """RDATA decoded by type; raw bytes when it does not have the type's exact shape."""
    try:
        if rtype in _NAME_TYPES:
            name, after = _read_name(data, start)
            value: RData = name
        elif rtype == DNSType.MX and end - start > 2:
            exchange, after = _read_name(data, start + 2)
            value = DNSMX(int.from_bytes(data[start:start + 2], "big"), exchange)
        elif rtype == DNSType.SOA:
            mname, at = _read_name(data, start)
            rname, after = _read_name(data, at)
            after += _SOA_NUMBERS.size
            value = DNSSOA(mname, rname, *_SOA_NUMBERS.unpack_from(data, after - 20))
        else:
            return _rdata(rtype, data[start:end])
        if after == end:
            return value
    except (DecodeError, struct.error):
        pass
    return data[start:end]


class DNS(Layer):
    """A DNS message: header with its flag bits broken out, counts (None: computed), and the four sections."""

    __slots__ = ()
    lazy = True  # parsed on first access to the packet's layers
    spec = HeaderSpec("DNS", [
        UInt("id", 16, hex=True),
        Bits("qr", 1), Bits("opcode", 4, DNSOpcode.QUERY, kind=DNSOpcode), Bits("aa", 1), Bits("tc", 1),
        Bits("rd", 1), Bits("ra", 1), Bits("z", 1), Bits("ad", 1), Bits("cd", 1),
        Bits("rcode", 4, DNSRcode.NOERROR, kind=DNSRcode),
        UInt("qdcount", 16, None), UInt("ancount", 16, None),
        UInt("nscount", 16, None), UInt("arcount", 16, None),
        Var("questions", (), kind=tuple, coerce=lambda v: _items(v, DNSQuestion, "question")),
        *(Var(name, (), kind=tuple, coerce=lambda v: _items(v, DNSRecord, "record"))
          for name in ("answers", "authorities", "additionals")),
    ])
    id: int
    qr: int
    opcode: DNSOpcode | int
    aa: int
    tc: int
    rd: int
    ra: int
    z: int
    ad: int
    cd: int
    rcode: DNSRcode | int
    qdcount: int | None
    ancount: int | None
    nscount: int | None
    arcount: int | None
    questions: tuple[DNSQuestion, ...]
    answers: tuple[DNSRecord, ...]
    authorities: tuple[DNSRecord, ...]
    additionals: tuple[DNSRecord, ...]

    @classmethod
    def query(cls, name: str, qtype: int | str = DNSType.A, *, id: int = 0, rd: int = 1) -> Self:
        """A standard query for one name, recursion desired unless rd=0."""
        return cls(id=id, rd=rd, questions=(DNSQuestion(name, qtype),))

    @classmethod
    def response(cls, query: DNS, answers: Iterable[DNSRecord] = (), *, rcode: int | str = DNSRcode.NOERROR,
                 aa: int = 0, ra: int = 1, authorities: Iterable[DNSRecord] = (),
                 additionals: Iterable[DNSRecord] = ()) -> Self:
        """The answer to `query`: same id, opcode, RD, CD and questions (RFC 1035 §4.1.1), QR set."""
        return cls(id=query.id, qr=1, opcode=query.opcode, aa=aa, rd=query.rd, ra=ra, cd=query.cd,
                   rcode=rcode, questions=query.questions, answers=tuple(answers),
                   authorities=tuple(authorities), additionals=tuple(additionals))

    def _encode(self) -> tuple[bytes, list[tuple[str, int, int]]]:
        """The message and the byte range of each question and record."""
        sections = self[15:19]
        counts = [len(s) if c is None else c for c, s in zip(self[11:15], sections, strict=True)]
        if max(counts) > 0xFFFF:
            raise LayersimError(f"DNS section of {max(counts)} entries exceeds the 65535 a count can hold")
        writer = _Writer(self._pack(*self[:11], *counts))
        spans = []
        for field, section in zip(self.spec.names[15:19], sections, strict=True):
            for i, item in enumerate(section):
                start = len(writer.out)
                if isinstance(item, DNSQuestion):
                    writer.name(item.name)
                    writer.out += item.qtype.to_bytes(2, "big") + item.qclass.to_bytes(2, "big")
                else:
                    writer.record(item)
                spans.append((f"{field}[{i}]", start, len(writer.out)))
        return bytes(writer.out), spans

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header, then the sections with names compressed, then what follows."""
        return self._encode()[0] + payload

    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """The 12-byte header's fields, then each question and record as one span ("answers[1]")."""
        spans = super().field_spans(start, start + self.spec.fixed_length)
        return spans + [(name, start + a, min(start + b, end)) for name, a, b in self._encode()[1]]

    def info(self) -> dict[str, Any]:
        """A one-line summary per question and answer: "A example.com -> 93.184.216.34"."""
        questions = [f"{_type_name(q.qtype)} {q.name or '.'}" for q in self.questions]
        out: dict[str, Any] = {"kind": "response" if self.qr else "query", "questions": questions}
        if self.qr:
            out["rcode"] = self.rcode.name if isinstance(self.rcode, DNSRcode) else str(self.rcode)
            out["answers"] = [f"{_type_name(r.rtype)} {r.name or '.'} -> {_value_text(r.value)}"
                              for r in self.answers]
        return out

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Decode a whole message; DecodeError when malformed or when re-encoding would not give `data`."""
        if len(data) < 12:
            raise DecodeError("DNS", 0, f"{len(data)} bytes, shorter than the 12-byte header")
        values = cls._unpack(data, 0)
        pos, sections = 12, []
        for index, count in enumerate(values[11:15]):
            items: list[Any] = []
            for _ in range(count):
                name, pos = _read_name(data, pos)
                if index == 0:
                    if pos + 4 > len(data):
                        raise DecodeError("DNS", pos, "question cut off by the end of the message")
                    items.append(DNSQuestion(name, *struct.unpack_from("!HH", data, pos)))
                    pos += 4
                    continue
                if pos + 10 > len(data):
                    raise DecodeError("DNS", pos, "record cut off by the end of the message")
                rtype, rclass, ttl, length = _FIXED.unpack_from(data, pos)
                start, pos = pos + 10, pos + 10 + length
                if pos > len(data):
                    raise DecodeError("DNS", start - 2, f"RDLENGTH {length} runs past the end of the message")
                items.append(DNSRecord(name, rtype, rclass, ttl, _read_rdata(data, rtype, start, pos)))
            sections.append(tuple(items))
        if pos != len(data):
            raise DecodeError("DNS", pos, f"{len(data) - pos} bytes after the last record")
        layer = cls._from_fields((*values, *sections))
        again = layer._encode()[0]
        if again != data:
            at = next((i for i, (a, b) in enumerate(zip(again, data, strict=False)) if a != b), len(data))
            raise DecodeError("DNS", at, "re-encoding differs from here (names not compressed as BIND does)")
        return layer

    @classmethod
    def parse(cls, data: bytes) -> Self | None:
        """The message, or None (it stays Raw) when malformed or when it would not re-encode to `data`."""
        try:
            return cls.decode(data)
        except LayersimError:
            return None


def _type_name(rtype: int) -> str:
    """A type's mnemonic, or TYPEnnn (RFC 3597 §5) for one layersim does not name."""
    return rtype.name if isinstance(rtype, DNSType) else f"TYPE{rtype}"


def _value_text(value: RData) -> str:
    """RDATA as zone-file-like text."""
    if isinstance(value, bytes):
        return value.hex() or "(empty)"
    if isinstance(value, DNSMX):
        return f"{value.preference} {value.exchange or '.'}"
    if isinstance(value, DNSSOA):
        return f"{value.mname or '.'} {value.rname or '.'} {value.serial}"
    return str(value) or "."
