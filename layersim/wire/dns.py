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
from typing import Any, Self

from layersim.errors import DecodeError, LayersimError
from layersim.wire.dns_records import (
    DNSMX,
    DNSSOA,
    NAME_TYPES,
    RR_FIXED,
    SOA_NUMBERS,
    SOA_TIMERS,
    DNSClass,
    DNSOpcode,
    DNSQuestion,
    DNSRcode,
    DNSRecord,
    DNSType,
    RData,
    check_rdata,
    section_items,
)
from layersim.wire.fields import Bits, HeaderSpec, Layer, UInt, Var

__all__ = ["DNS", "DNSMX", "DNSSOA", "DNSClass", "DNSOpcode", "DNSQuestion", "DNSRcode", "DNSRecord",
           "DNSType"]


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
        self.out += RR_FIXED.pack(record.rtype, record.rclass, record.ttl, 0)
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
            self.out += SOA_NUMBERS.pack(*(getattr(value, k) for k in SOA_TIMERS))
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
        if rtype in NAME_TYPES:
            name, after = _read_name(data, start)
            value: RData = name
        elif rtype == DNSType.MX and end - start > 2:
            exchange, after = _read_name(data, start + 2)
            value = DNSMX(int.from_bytes(data[start:start + 2], "big"), exchange)
        elif rtype == DNSType.SOA:
            mname, at = _read_name(data, start)
            rname, after = _read_name(data, at)
            after += SOA_NUMBERS.size
            value = DNSSOA(mname, rname, *SOA_NUMBERS.unpack_from(data, after - 20))
        else:
            return check_rdata(rtype, data[start:end])
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
        Var("questions", (), kind=tuple, coerce=lambda v: section_items(v, DNSQuestion, "question")),
        *(Var(name, (), kind=tuple, coerce=lambda v: section_items(v, DNSRecord, "record"))
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
                rtype, rclass, ttl, length = RR_FIXED.unpack_from(data, pos)
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
