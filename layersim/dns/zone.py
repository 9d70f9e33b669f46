"""An authoritative DNS zone (RFC 1034 §4.3.2): records from a dict or TOML text, and the answer to a query.

Zone data, as a dict or the same keys in TOML:

    origin = "example.com"
    ttl = 3600                                  # default TTL of the records below
    soa = {mname = "ns1", rname = "hostmaster", serial = 1, refresh = 7200, retry = 900,
           expire = 1209600, minimum = 300}     # optional; NXDOMAIN and NODATA answers carry it
    records = [
        "@ NS ns1",                             # zone-file lines: NAME [TTL] [IN] TYPE VALUE
        "ns1 A 192.0.2.53",
        {name = "@", type = "A", value = "93.184.216.34", ttl = 300},
        {name = "www", type = "CNAME", value = "@"},
    ]

Names are relative to the origin ("@" is the origin itself) unless they end with a dot or already end with the
origin. Types: A, AAAA, CNAME, NS, MX ("10 mail"), TXT. NS records below the origin delegate a child zone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from layersim.errors import LayersimError
from layersim.wire.dns import DNS, DNSMX, DNSSOA, DNSClass, DNSOpcode, DNSRcode, DNSRecord, DNSType
from layersim.wire.dns_records import RData, check_name
from layersim.wire.packet import Packet

__all__ = ["EDNS_UDP_SIZE", "UDP_LIMIT", "Zone", "ZoneError"]

UDP_LIMIT = 512  # RFC 1035 §4.2.1: UDP messages without EDNS
EDNS_UDP_SIZE = 1232  # the largest UDP answer this server sends with EDNS (BIND's default max-udp-size)
MAX_CHAIN = 16  # CNAMEs followed inside the zone before giving up (loops end here too)
ZONE_TYPES = (DNSType.A, DNSType.AAAA, DNSType.CNAME, DNSType.NS, DNSType.MX, DNSType.TXT)
BADVERS = 16  # RFC 6891 §9: extended rcode for an EDNS version this server does not speak


class ZoneError(LayersimError):
    """Zone data that cannot be served: the message names the zone, the record and what is wrong."""


@dataclass(slots=True)
class _Answer:
    """The sections of a response being built."""

    rcode: DNSRcode = DNSRcode.NOERROR
    aa: int = 1
    answers: list[DNSRecord] = field(default_factory=list)
    authorities: list[DNSRecord] = field(default_factory=list)
    additionals: list[DNSRecord] = field(default_factory=list)


class Zone:
    """The records of one zone, served authoritatively by `answer`."""

    def __init__(self, origin: str, records: Iterable[DNSRecord] = (), *, soa: DNSSOA | None = None,
                 soa_ttl: int = 3600) -> None:
        self.origin = _lower(check_name(origin))
        self.soa = DNSRecord(self.origin, DNSType.SOA, DNSClass.IN, soa_ttl, soa) if soa is not None else None
        self._nodes: dict[str, list[DNSRecord]] = {}
        for record in ([self.soa] if self.soa else []) + list(records):
            self._add(record)

    # Building ------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Zone:
        """A zone from the dict form described in the module docstring."""
        where = f"zone {data.get('origin', '?')!r}"
        unknown = set(data) - {"origin", "ttl", "soa", "records"}
        if unknown:
            raise ZoneError(f"{where}: unknown key {', '.join(sorted(unknown))} (use origin, ttl, soa, records)")
        if not isinstance(data.get("origin"), str):
            raise ZoneError(f"{where}: 'origin' (the zone's name, e.g. \"example.com\") is missing or not a string")
        origin = _lower(_checked(check_name, data["origin"], where))
        ttl = _ttl(data.get("ttl", 3600), f"{where}: ttl")
        soa, soa_ttl = None, ttl
        if "soa" in data:
            soa, soa_ttl = _soa(data["soa"], origin, ttl, f"{where}: soa")
        records = data.get("records", [])
        if not isinstance(records, list):
            raise ZoneError(f"{where}: 'records' must be a list of tables or zone-file lines")
        parsed = [_record(item, origin, ttl, f"{where}: records[{i}]") for i, item in enumerate(records)]
        try:
            return cls(origin, parsed, soa=soa, soa_ttl=soa_ttl)
        except ZoneError as exc:
            raise ZoneError(f"{where}: {exc}") from None

    @classmethod
    def from_toml(cls, text: str) -> Zone:
        """A zone from TOML text with the dict form's keys."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ZoneError(f"zone TOML: {exc}") from None
        return cls.from_dict(data)

    def _add(self, record: DNSRecord) -> None:
        """Add one record, keeping RFC 1034 §3.6.2 (a CNAME stands alone) and RFC 2181 §5.2 (one TTL per set)."""
        name = _lower(record.name)
        if not _in_zone(name, self.origin):
            raise ZoneError(f"{record.name or '.'} is outside the zone {self.origin}")
        node = self._nodes.setdefault(name, [])
        if record in node:
            return  # RFC 2181 §5: duplicate records are one record
        types = {r.rtype for r in node}
        if types and (record.rtype == DNSType.CNAME) != (DNSType.CNAME in types):
            raise ZoneError(f"{name}: a CNAME cannot share its name with other records (RFC 1034 §3.6.2)")
        if record.rtype == DNSType.CNAME and types:
            raise ZoneError(f"{name}: more than one CNAME")
        same = [r for r in node if r.rtype == record.rtype]
        if same and same[0].ttl != record.ttl:
            raise ZoneError(f"{name} {record.rtype.name}: TTL {record.ttl} differs from {same[0].ttl} in the "
                            "same set (RFC 2181 §5.2)")
        node.append(record)

    def records(self) -> list[DNSRecord]:
        """Every record of the zone, SOA first."""
        return [r for node in self._nodes.values() for r in node]

    # Answering -----------------------------------------------------------------------------------------
    def answer(self, query: DNS, *, tcp: bool = False) -> DNS:
        """The authoritative response to `query`, truncated (TC) to what UDP or the client's EDNS size allows."""
        opts = [r for r in query.additionals if r.rtype == DNSType.OPT]
        opt = None
        if opts:
            opt = DNSRecord("", DNSType.OPT, EDNS_UDP_SIZE, opts[0].ttl & 0x8000, b"")  # echo the DO bit
            if len(opts) > 1:
                return self._response(query, _Answer(DNSRcode.FORMERR, aa=0), None)
            if opts[0].ttl >> 16 & 0xFF:
                badvers = DNSRecord("", DNSType.OPT, EDNS_UDP_SIZE, BADVERS >> 4 << 24, b"")
                return self._response(query, _Answer(aa=0), badvers)
        if query.opcode != DNSOpcode.QUERY:
            result = _Answer(DNSRcode.NOTIMP, aa=0)
        elif len(query.questions) != 1:
            result = _Answer(DNSRcode.FORMERR, aa=0)
        else:
            question = query.questions[0]
            if question.qclass not in (DNSClass.IN, DNSClass.ANY) or not _in_zone(_lower(question.name),
                                                                                    self.origin):
                result = _Answer(DNSRcode.REFUSED, aa=0)
            else:
                result = self._resolve(_lower(question.name), question.qtype)
        response = self._response(query, result, opt)
        limit = 0xFFFF if tcp else UDP_LIMIT if opt is None else max(UDP_LIMIT, min(opts[0].rclass,
                                                                                    EDNS_UDP_SIZE))
        if _size(response) <= limit:
            return response
        result.additionals.clear()  # RFC 2181 §9: dropping additional data needs no TC
        response = self._response(query, result, opt)
        if _size(response) <= limit:
            return response
        return self._response(query, _Answer(result.rcode, result.aa), opt).replace(tc=1)

    def _response(self, query: DNS, result: _Answer, opt: DNSRecord | None) -> DNS:
        """The response message for the sections in `result`; an authoritative-only server sets RA to 0."""
        return DNS.response(query, result.answers, rcode=result.rcode, aa=result.aa, ra=0,
                            authorities=result.authorities,
                            additionals=[*result.additionals, *([opt] if opt is not None else [])])

    def _resolve(self, name: str, qtype: int) -> _Answer:
        """RFC 1034 §4.3.2 step 3 inside this zone: data, a CNAME to follow, a referral, NODATA or NXDOMAIN."""
        result, seen = _Answer(), set()
        while len(seen) < MAX_CHAIN and name not in seen:
            seen.add(name)
            cut = self._delegation(name)
            if cut is not None:
                result.aa = 0 if not result.answers else 1
                result.authorities += self._nodes[cut]
                result.additionals += self._glue(self._nodes[cut])
                return result
            node = self._nodes.get(name)
            if node is None:
                if not any(other.endswith("." + name) for other in self._nodes):
                    result.rcode = DNSRcode.NXDOMAIN  # RFC 6604: also at the end of a CNAME chain
                result.authorities += self._negative_soa()
                return result
            found = [r for r in node if qtype in (r.rtype, DNSType.ANY)]
            if found:
                result.answers += found
                if qtype in (DNSType.MX, DNSType.NS):
                    result.additionals += self._glue(found)
                return result
            cname = next((r for r in node if r.rtype == DNSType.CNAME), None)
            if cname is None:
                result.authorities += self._negative_soa()  # NODATA (RFC 2308 §2.2)
                return result
            result.answers.append(cname)
            name = _lower(str(cname.value))
            if not _in_zone(name, self.origin):
                return result  # the resolver follows the chain out of the zone itself
        return result

    def _delegation(self, name: str) -> str | None:
        """The closest name at or above `name`, below the origin, holding NS records (a zone cut)."""
        labels = name.split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate == self.origin:
                return None
            if any(r.rtype == DNSType.NS for r in self._nodes.get(candidate, ())):
                return candidate
        return None

    def _glue(self, records: Iterable[DNSRecord]) -> list[DNSRecord]:
        """Address records of the NS and MX targets that live in this zone (additional section processing)."""
        out: list[DNSRecord] = []
        for record in records:
            target = record.value.exchange if isinstance(record.value, DNSMX) else record.value
            if record.rtype in (DNSType.NS, DNSType.MX) and isinstance(target, str):
                out += [r for r in self._nodes.get(_lower(target), ())
                        if r.rtype in (DNSType.A, DNSType.AAAA) and r not in out]
        return out

    def _negative_soa(self) -> list[DNSRecord]:
        """The SOA for a negative answer, with TTL min(SOA TTL, MINIMUM) as RFC 2308 §3 asks."""
        if self.soa is None:
            return []
        assert isinstance(self.soa.value, DNSSOA)
        return [DNSRecord(self.soa.name, DNSType.SOA, DNSClass.IN, min(self.soa.ttl, self.soa.value.minimum),
                          self.soa.value)]

    def addresses(self, name: str) -> list[IPv4Address]:
        """The A records at `name` (no CNAMEs followed): for tests and the demo's narrative."""
        return [r.value for r in self._nodes.get(_lower(check_name(name)), ())
                if r.rtype == DNSType.A and isinstance(r.value, IPv4Address)]

    def __repr__(self) -> str:
        return f"Zone({self.origin!r}, {len(self.records())} records)"


# Parsing helpers -----------------------------------------------------------------------------------------
def _lower(name: str) -> str:
    """Names compare case-insensitively (RFC 4343); the zone keeps them lowercase."""
    return name.lower()


def _in_zone(name: str, origin: str) -> bool:
    """Whether `name` is the origin or below it."""
    return not origin or name == origin or name.endswith("." + origin)


def _checked(fn: Any, value: Any, where: str) -> Any:
    """fn(value), with a layersim error turned into a ZoneError naming `where`."""
    try:
        return fn(value)
    except (LayersimError, ValueError) as exc:
        raise ZoneError(f"{where}: {exc}") from None


def _ttl(value: Any, where: str) -> int:
    """A TTL: an integer of 0 to 2**31 - 1 seconds (RFC 2181 §8)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 31:
        raise ZoneError(f"{where}: {value!r} is not a TTL (0 to 2147483647 seconds)")
    return value


def _absolute(name: Any, origin: str, where: str) -> str:
    """A zone-file name made absolute: "@" is the origin, a trailing dot or the origin's suffix ends it."""
    if not isinstance(name, str) or not name:
        raise ZoneError(f"{where}: name {name!r} is not a domain name")
    if name == "@":
        return origin
    if name.endswith("."):
        return _lower(_checked(check_name, name, where))
    lowered = _lower(name)
    if not origin or lowered == origin or lowered.endswith("." + origin):
        return _lower(_checked(check_name, name, where))
    return _lower(_checked(check_name, f"{name}.{origin}", where))


def _soa(data: Any, origin: str, ttl: int, where: str) -> tuple[DNSSOA, int]:
    """The SOA table: mname and rname (names), the numbers, and an optional ttl."""
    if not isinstance(data, Mapping) or not {"mname", "rname"} <= set(data):
        raise ZoneError(f"{where}: needs a table with at least mname and rname")
    numbers = ("serial", "refresh", "retry", "expire", "minimum")
    unknown = set(data) - {"mname", "rname", "ttl", *numbers}
    if unknown:
        raise ZoneError(f"{where}: unknown key {', '.join(sorted(unknown))}")
    defaults = {"serial": 1, "refresh": 7200, "retry": 900, "expire": 1209600, "minimum": 300}
    values = {k: _ttl(data.get(k, defaults[k]), f"{where}: {k}") for k in numbers}
    soa = DNSSOA(_absolute(data["mname"], origin, f"{where}: mname"),
                 _absolute(data["rname"], origin, f"{where}: rname"), **values)
    return soa, _ttl(data.get("ttl", ttl), f"{where}: ttl")


def _record(item: Any, origin: str, ttl: int, where: str) -> DNSRecord:
    """One record from a table {name, type, value[, ttl]} or a zone-file line "NAME [TTL] [IN] TYPE VALUE"."""
    if isinstance(item, str):
        words = item.split(None, 1)
        if len(words) < 2:
            raise ZoneError(f"{where}: {item!r} is not 'NAME [TTL] [IN] TYPE VALUE'")
        name, rest = words[0], words[1].split()
        table: dict[str, Any] = {"name": name}
        if rest and rest[0].isdigit():
            table["ttl"] = int(rest.pop(0))
        if rest and rest[0].upper() == "IN":
            rest.pop(0)
        if len(rest) < 2:
            raise ZoneError(f"{where}: {item!r} has no TYPE and VALUE after the name")
        table["type"] = rest[0]
        table["value"] = " ".join(rest[1:])
        item = table
    if not isinstance(item, Mapping) or not {"name", "type", "value"} <= set(item):
        raise ZoneError(f"{where}: needs name, type and value")
    unknown = set(item) - {"name", "type", "value", "ttl"}
    if unknown:
        raise ZoneError(f"{where}: unknown key {', '.join(sorted(unknown))}")
    kind = str(item["type"]).upper()
    if kind not in {t.name for t in ZONE_TYPES}:
        raise ZoneError(f"{where}: type {item['type']!r} is not one of {', '.join(t.name for t in ZONE_TYPES)}")
    rtype = DNSType[kind]
    name = _absolute(item["name"], origin, where)
    value = _rdata(rtype, item["value"], origin, where)
    record_ttl = _ttl(item.get("ttl", ttl), f"{where}: ttl")
    return _checked(lambda v: DNSRecord(name, rtype, DNSClass.IN, record_ttl, v), value, where)


def _rdata(rtype: DNSType, value: Any, origin: str, where: str) -> RData:
    """A record's value from its zone-file text (or a list of strings for TXT)."""
    if rtype in (DNSType.CNAME, DNSType.NS):
        return _absolute(value, origin, where)
    if rtype == DNSType.MX:
        parts = str(value).split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ZoneError(f"{where}: MX value {value!r} is not 'PREFERENCE EXCHANGE'")
        return _checked(lambda p: DNSMX(int(p[0]), _absolute(p[1], origin, where)), parts, where)
    if rtype == DNSType.TXT:
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ZoneError(f"{where}: TXT value must be a string or a list of strings")
        out = bytearray()
        for text in texts:  # RFC 1035 §3.3.14: character-strings of at most 255 bytes
            raw = text.strip('"').encode()
            for at in range(0, max(len(raw), 1), 255):
                out += bytes((len(raw[at:at + 255]),)) + raw[at:at + 255]
        return bytes(out)
    if not isinstance(value, str | IPv4Address | IPv6Address):
        raise ZoneError(f"{where}: {rtype.name} value {value!r} is not an address")
    return value  # checked as an address by DNSRecord


def _size(message: DNS) -> int:
    """The message's length on the wire."""
    return len(Packet([message]).encode())
