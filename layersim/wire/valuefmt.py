"""Shared text for the packet views: readable field labels, value formatting, the packet as its bytes decode.

Two styles: `brief()` is compact ("64", "0x1c46", "PSH|ACK") for hex dump legends, diffs and HTML titles;
`describe()` is the long form of the layer tree ("64 (0x40)", "TCP (6)", "PSH, ACK (0x18)").
"""

from __future__ import annotations

import dataclasses
import enum
import re
from ipaddress import IPv4Address
from types import MappingProxyType
from typing import Any

from layersim.errors import LayersimError
from layersim.wire.addresses import MAC
from layersim.wire.fields import Field, Layer
from layersim.wire.packet import Packet, decode

__all__ = ["brief", "concrete", "describe", "is_checksum", "item_text", "label", "span_value"]

# Words printed in a fixed way inside labels; any other word is capitalised.
_WORDS = MappingProxyType({"ip": "IP", "mac": "MAC", "id": "ID", "ttl": "TTL", "dns": "DNS", "http": "HTTP",
                           "of": "of", "to": "to", "and": "and", "tsval": "TSval", "tsecr": "TSecr",
                           "mss": "MSS", "sack": "SACK", "mtu": "MTU", "ecn": "ECN", "dscp": "DSCP",
                           "ext": "Extension", "hdr": "Header", "spi": "SPI", "icv": "ICV"})

# Field names whose RFC/Wireshark label is not the name made readable.
_LABELS = MappingProxyType({
    "src": "Source", "dst": "Destination", "sport": "Source Port", "dport": "Destination Port",
    "ttl": "Time to Live", "ihl": "Header Length", "seq": "Sequence Number", "ack": "Acknowledgment Number",
    "dscp": "Differentiated Services Codepoint", "ecn": "Explicit Congestion Notification",
    "pcp": "Priority Code Point", "dei": "Drop Eligible Indicator", "vid": "VLAN ID",
})
_LAYER_LABELS = MappingProxyType({
    ("IPv4", "src"): "Source Address", ("IPv4", "dst"): "Destination Address",
    ("IPv6", "src"): "Source Address", ("IPv6", "dst"): "Destination Address",
    ("DNS", "qr"): "Response", ("DNS", "aa"): "Authoritative", ("DNS", "tc"): "Truncated",
    ("DNS", "rd"): "Recursion Desired", ("DNS", "ra"): "Recursion Available", ("DNS", "z"): "Z",
    ("DNS", "ad"): "Authentic Data", ("DNS", "cd"): "Checking Disabled", ("DNS", "rcode"): "Reply Code",
    ("DNS", "qdcount"): "Questions", ("DNS", "ancount"): "Answer RRs", ("DNS", "nscount"): "Authority RRs",
    ("DNS", "arcount"): "Additional RRs", ("DNS", "questions"): "Queries",
})

_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")


def label(layer_name: str, name: str) -> str:
    """A field (or info key) name made readable: "header_checksum" -> "Header Checksum"."""
    found = _LAYER_LABELS.get((layer_name, name)) or _LABELS.get(name)
    if found:
        return found
    words = [w for w in name.replace("-", "_").split("_") if w]
    text = " ".join(_WORDS.get(w.lower(), w[:1].upper() + w[1:]) for w in words)
    return text[:1].upper() + text[1:] if text else name


def is_checksum(field: Field) -> bool:
    """True for a field holding a checksum (named "...checksum")."""
    return field.name.endswith("checksum")


def _width(field: Field | None) -> int:
    """Hex digits needed for the field's width (2 for an unknown width)."""
    bits = field.bits if field is not None and field.bits else 8
    return (bits + 3) // 4


def _flag_names(value: enum.IntFlag, sep: str) -> str:
    """The names of the bits set, in definition order, joined by `sep`; unnamed bits in hex."""
    cls = type(value)
    names = [m.name or "" for m in cls if m & value and m.name]
    rest = int(value) & ~sum(int(m) for m in cls if m & value)
    if rest:
        names.append(f"{rest:#x}")
    return sep.join(names)


def _clip(text: str, limit: int | None) -> str:
    """`text` cut to `limit` characters, ending in "..." when cut."""
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 3, 0)] + "..."


def _text(value: str) -> str:
    """A string as is when printable, else its repr (so CR/LF and control bytes show)."""
    return value if value.isprintable() else repr(value)


def brief(value: Any, field: Field | None = None, limit: int | None = 64) -> str:
    """Compact text for a value: enums by name, flags as "A|B", hex fields in hex, bytes as hex."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, enum.IntFlag):
        return _flag_names(value, "|") or "0"
    if isinstance(value, enum.Enum):
        return str(value.name) if value.name else str(int(value))
    if isinstance(value, int):
        return f"0x{value:0{_width(field)}x}" if field is not None and field.hex else str(value)
    if isinstance(value, MAC | IPv4Address):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return _clip(bytes(value).hex(), limit) if value else "(empty)"
    if isinstance(value, str):
        return _clip(_text(value), limit)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [f"{f.name}={brief(getattr(value, f.name), None, None)}" for f in dataclasses.fields(value)]
        return _clip(f"{type(value).__name__}({', '.join(parts)})", limit)
    if isinstance(value, tuple | list):
        inner = ", ".join(brief(v, None, None) for v in value)
        return _clip(f"({inner})", limit)
    return _clip(str(value), limit)


def describe(field: Field, value: Any) -> str:
    """Long text for the layer tree: decimal and hex, enum/flag names with the number, MACs, byte counts."""
    if value is None:
        return "(computed on encode)"
    if isinstance(value, bool):
        return str(value)
    digits = _width(field)
    if isinstance(value, enum.IntFlag):
        return f"{_flag_names(value, ', ') or 'none'} (0x{int(value):0{digits}x})"
    if isinstance(value, enum.Enum):
        number = f"0x{int(value):0{digits}x}" if field.hex else str(int(value))
        return f"{value.name} ({number})" if value.name else number
    if isinstance(value, int):
        if isinstance(field.kind, type) and issubclass(field.kind, enum.Enum):
            return f"Unknown ({value:#0{digits + 2}x})" if field.hex else f"Unknown ({value})"
        if field.hex:
            return f"0x{value:0{digits}x}" if is_checksum(field) else f"0x{value:0{digits}x} ({value})"
        return f"{value} (0x{value:0{digits}x})" if (field.bits or 0) >= 8 else str(value)
    if isinstance(value, MAC):
        return f"{value} (broadcast)" if value.is_broadcast else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        if not value:
            return "(none)"
        return f"{_clip(bytes(value).hex(), 64)} ({len(value)} byte{'s' if len(value) != 1 else ''})"
    if isinstance(value, str):
        return _text(value)
    return brief(value, field, None)


def item_text(item: Any) -> str:
    """One element of a tuple field on its own line: "MSS: value=1460", "Host: example.com", "NOP"."""
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        parts = [f"{f.name}={brief(getattr(item, f.name), None, 80)}" for f in dataclasses.fields(item)]
        return f"{type(item).__name__}: {', '.join(parts)}" if parts else type(item).__name__
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return f"{_text(item[0])}: {brief(item[1], None, 200)}"
    return brief(item, None, 200)


def span_value(layer: Layer, name: str, data: bytes, start: int, end: int) -> str:
    """Compact text for what `field_spans` called `name`: a field, one element "name[i]", or the raw bytes."""
    field = layer.spec.by_name.get(name)
    if field is not None:
        return brief(layer.fields()[name], field)
    match = _INDEXED.match(name)
    if match and match.group(1) in layer.spec.by_name:
        value = layer.fields()[match.group(1)]
        index = int(match.group(2))
        if isinstance(value, tuple | list) and index < len(value):
            return brief(value[index])
    raw = data[start:end]
    if raw and all(32 <= byte < 127 or byte in (9, 10, 13) for byte in raw):
        return _clip(repr(raw.decode("ascii")), 64)  # text (HTTP header lines): readable, CR/LF visible
    return brief(raw)


def concrete(packet: Packet) -> Packet:
    """The packet with every computed field filled in: a built packet decoded from its bytes.

    A packet with no None-valued field is returned as is; so is one that will not encode and decode.
    """
    layers = packet.layers
    if not any(v is None for layer in layers for v in layer.fields().values()):
        return packet
    try:
        return decode(packet.encode(), type(layers[0]))
    except LayersimError:
        return packet
