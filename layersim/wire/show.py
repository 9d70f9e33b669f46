"""Views of a packet: the Wireshark-like layer tree here; hex dumps, JSON and field diffs re-exported.

Everything is derived from each layer's field table, so any Layer (HTTP, DNS, ...) shows without special
cases; the tables below only add Wireshark's summary lines and a few units.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from layersim.errors import LayersimError
from layersim.wire.fielddiff import FieldChange, diff, format_diff
from layersim.wire.fields import Field, Layer
from layersim.wire.hexdump import FieldBytes, field_map, hexdump, hexdump_html, hexdump_text
from layersim.wire.jsonview import layer_to_dict, packet_to_dict
from layersim.wire.packet import Packet
from layersim.wire.payload import Padding
from layersim.wire.valuefmt import brief, concrete, describe, is_checksum, item_text, label

__all__ = ["FieldBytes", "FieldChange", "diff", "field_map", "format_diff", "hexdump", "hexdump_html",
           "hexdump_text", "layer_to_dict", "packet_to_dict", "show", "show_text", "tree_lines"]

INDENT = "    "


def _arp_title(layer: Any, _: object) -> str:
    """ "Address Resolution Protocol (request), Who has 10.0.0.2? Tell 10.0.0.1"."""
    if layer.opcode == 1:
        return f"Address Resolution Protocol (request), Who has {layer.target_ip}? Tell {layer.sender_ip}"
    if layer.opcode == 2:
        return f"Address Resolution Protocol (reply), {layer.sender_ip} is at {layer.sender_mac}"
    return f"Address Resolution Protocol (opcode {int(layer.opcode)})"


def _icmp_title(layer: Any, _: object) -> str:
    """ "Internet Control Message Protocol, Type: ECHO_REQUEST (8), Code: 0"."""
    kind = describe(layer.spec.by_name["type"], layer.type)
    return f"Internet Control Message Protocol, Type: {kind}, Code: {layer.code}"


# Summary line per layer name: f(header, payload length) -> text. Layers not listed show their long name.
_TITLES: MappingProxyType[str, Callable[[Any, Any], str]] = MappingProxyType({
    "Ethernet": lambda h, n: f"Ethernet II, Src: {h.src}, Dst: {h.dst}",
    "802.1Q": lambda h, n: f"802.1Q Virtual LAN, PRI: {h.pcp}, DEI: {h.dei}, ID: {h.vid}",
    "ARP": _arp_title,
    "SLL": lambda h, n: f"Linux cooked capture v1, {describe(h.spec.by_name['packet_type'], h.packet_type)}",
    "SLL2": lambda h, n: (f"Linux cooked capture v2, {describe(h.spec.by_name['packet_type'], h.packet_type)}, "
                          f"interface {h.interface_index}"),
    "Loopback": lambda h, n: f"Null/Loopback, Family: {describe(h.spec.by_name['family'], h.family)}",
    "IPv4": lambda h, n: f"Internet Protocol Version 4, Src: {h.src}, Dst: {h.dst}",
    "IPv6": lambda h, n: f"Internet Protocol Version 6, Src: {h.src}, Dst: {h.dst}",
    "ICMPv6": lambda h, n: (f"Internet Control Message Protocol v6, Type: "
                            f"{describe(h.spec.by_name['type'], h.type)}, Code: {h.code}"),
    "ICMP": _icmp_title,
    "UDP": lambda h, n: f"User Datagram Protocol, Src Port: {h.sport}, Dst Port: {h.dport}, Len: {n}",
    "TCP": lambda h, n: (f"Transmission Control Protocol, Src Port: {h.sport}, Dst Port: {h.dport}, "
                         f"Seq: {h.seq}, Ack: {h.ack}, Len: {n}"),
    "Raw": lambda h, n: f"Data ({len(h.data)} bytes)",
    "Padding": lambda h, n: f"Padding ({len(h.data)} bytes)",
})
_LONG_NAMES = MappingProxyType({"HTTP": "Hypertext Transfer Protocol", "DNS": "Domain Name System"})
# Fields counted in units of several bytes: (layer, field) -> bytes per unit.
_UNITS = MappingProxyType({("IPv4", "ihl"): 4, ("TCP", "data_offset"): 4, ("IPv4", "fragment_offset"): 8,
                          ("Fragment", "fragment_offset"): 8})
# Layers whose checksum covers only their own header, so the right value can be computed from the layer alone.
_HEADER_CHECKSUM = frozenset({"IPv4"})
_NOTES = MappingProxyType({
    "Ethernet": "[Preamble and SFD (8 bytes) and FCS (4 bytes) are not in these bytes, as in pcap]",
})


def _title(layer: Layer, payload_length: int | str) -> str:
    """The layer's summary line."""
    make = _TITLES.get(layer.name)
    if make is not None:
        return make(layer, payload_length)
    for key, long in _LONG_NAMES.items():
        if layer.name.startswith(key):
            return long if layer.name == key else f"{long} ({layer.name})"
    return layer.name


def _verdict(layer: Layer, field: Field) -> str:
    """"[correct]", "[incorrect, should be 0x....]", "[incorrect]" or "[unverified]"."""
    ok = layer.checksum_ok
    if ok is None:
        return "[unverified]"
    if ok:
        return "[correct]"
    if layer.name in _HEADER_CHECKSUM:
        try:
            header = layer.replace(**{field.name: None}).encode_layer(b"", None, None)
        except (LayersimError, TypeError):
            return "[incorrect]"
        a, b = layer.spec.byte_span(field.name)
        return f"[incorrect, should be 0x{int.from_bytes(header[a:b], 'big'):0{(b - a) * 2}x}]"
    return "[incorrect]"


def _field_lines(layer: Layer) -> list[str]:
    """The indented lines under a layer's summary: fields, list items, notes and derived values."""
    lines = []
    for field, value in layer.items():
        name = label(layer.name, field.name)
        if field.bits is None and isinstance(value, tuple | list):
            lines.append(f"{name}: {len(value)}" if value else f"{name}: (none)")
            lines += [INDENT + item_text(item) for item in value]
            continue
        text = describe(field, value)
        if is_checksum(field) and isinstance(value, int):
            text += " " + _verdict(layer, field)
        unit = _UNITS.get((layer.name, field.name))
        if unit and isinstance(value, int):
            text += f" [{value * unit} bytes]"
        lines.append(f"{name}: {text}")
    note = _NOTES.get(layer.name)
    if note:
        lines.append(note)
    for key, value in layer.info().items():
        many = isinstance(value, tuple | list)
        text = ", ".join(brief(v, None, 80) for v in value) if many else brief(value, None, 80)
        lines.append(f"[{label(layer.name, key)}: {text}]")
    return lines


def _payload_lengths(packet: Packet) -> list[Any]:
    """For each layer, the bytes after its header up to any padding ("?" when the packet will not encode)."""
    layers = packet.layers
    try:
        spans = packet.spans
    except LayersimError:
        return ["?"] * len(layers)
    ends = [end for (_, end), layer in zip(spans, layers, strict=True) if not isinstance(layer, Padding)]
    content_end = ends[-1] if ends else 0
    return [max(content_end - end, 0) for _, end in spans]


def tree_lines(packet: Packet) -> list[str]:
    """The layer tree as lines; layers quoted inside an ICMP error are indented under it."""
    packet = concrete(packet)
    layers = packet.layers
    try:
        length = len(packet.data)
        lines = [f"Frame: {length} bytes ({length * 8} bits)"]
    except LayersimError as exc:
        lines = [f"Frame: not encodable ({exc})"]
    depth = 0
    for layer, payload_length in zip(layers, _payload_lengths(packet), strict=True):
        level = 0 if isinstance(layer, Padding) else depth
        lines.append(INDENT * level + _title(layer, payload_length))
        lines += [INDENT * (level + 1) + line for line in _field_lines(layer)]
        if getattr(layer, "is_error", False):
            depth += 1
    return lines


def show_text(packet: Packet) -> str:
    """The Wireshark-like layer tree as text, for code that wants the text instead of printing it."""
    return "\n".join(tree_lines(packet))


def show(packet: Packet, *, file: Any = None) -> None:
    """Print the Wireshark-like layer tree to `file` (stdout by default).

    Returns None so that the REPL does not echo the tree a second time; `show_text()` gives the text.
    """
    print(show_text(packet), file=sys.stdout if file is None else file)
