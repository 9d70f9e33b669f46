"""The few fields of each layer that a picture shows: addresses, ports, TTL, flags, the request line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from layersim.wire.fields import Layer
from layersim.wire.valuefmt import brief

__all__ = ["key_fields", "layer_title"]

_TITLES = {"Ethernet": "Ethernet II", "HTTPRequest": "HTTP request", "HTTPResponse": "HTTP response",
           "Raw": "payload", "Padding": "padding"}


def layer_title(layer: Layer) -> str:
    """How a picture names a layer: "Ethernet II", "IPv4", "HTTP request", "payload"."""
    return _TITLES.get(layer.name, layer.name)


def _value(layer: Layer, name: str) -> str:
    return brief(layer.fields()[name], layer.spec.by_name[name])


def _number(value: Any, pattern: str) -> str:
    """A number in `pattern`, followed by its enum name when it has one: "0x0800 (IPv4)", "8 (ECHO_REQUEST)"."""
    if value is None:
        return "(computed)"
    name = getattr(value, "name", None)
    return pattern.format(int(value)) + (f" ({name})" if name else "")


def _ethernet(layer: Any) -> list[str]:
    return [f"dst {layer.dst}", f"src {layer.src}", f"type {_number(layer.type, '0x{:04x}')}"]


def _dot1q(layer: Any) -> list[str]:
    return [f"VLAN {layer.vid}", f"priority {layer.pcp}"]


def _ipv4(layer: Any) -> list[str]:
    lines = [f"src {layer.src}", f"dst {layer.dst}", f"TTL {layer.ttl}  proto {_value(layer, 'protocol')}"]
    flags = _value(layer, "flags")
    frag = f"id {_value(layer, 'identification')}  flags {'none' if flags == '0' else flags}"
    if layer.fragment_offset:
        frag += f"  offset {layer.fragment_offset * 8} B"
    return [*lines, frag]


def _ports(layer: Any) -> str:
    return f"port {layer.sport} \u2192 {layer.dport}"


def _tcp(layer: Any) -> list[str]:
    return [_ports(layer), f"flags {_value(layer, 'flags')}", f"seq {layer.seq}", f"ack {layer.ack}",
            f"window {layer.window}"]


def _ipv6(layer: Any) -> list[str]:
    return [f"src {layer.src}", f"dst {layer.dst}",
            f"hop limit {layer.hop_limit}  next {_value(layer, 'next_header')}"]


def _udp(layer: Any) -> list[str]:
    return [_ports(layer), f"length {layer.length}"]


def _icmp(layer: Any) -> list[str]:
    lines = [f"type {_number(layer.type, '{}')}", f"code {layer.code}"]
    return lines + [f"{key} {value}" for key, value in layer.info().items()]


def _arp(layer: Any) -> list[str]:
    return [_value(layer, "opcode"), f"sender {layer.sender_ip}", f"  {layer.sender_mac}",
            f"target {layer.target_ip}"]


def _dns(layer: Any) -> list[str]:
    lines = [f"id {_value(layer, 'id')}  {'response' if layer.qr else 'query'}"]
    lines += [f"? {q.name} {brief(q.qtype)}" for q in layer.questions[:2]]
    lines += [f"{r.name} {brief(r.data, None, 24)}" for r in layer.answers[:2]]
    return lines


def _http_request(layer: Any) -> list[str]:
    return [f"{layer.method} {layer.target} {layer.version}", *_headers(layer)]


def _http_response(layer: Any) -> list[str]:
    return [f"{layer.version} {layer.status} {layer.reason}", *_headers(layer)]


def _headers(layer: Any) -> list[str]:
    return [f"{name}: {brief(value, None, 28)}" for name, value in layer.headers[:2]]


def _raw(layer: Any) -> list[str]:
    data = layer.data
    if data and all(32 <= b < 127 for b in data[:24]):
        return [repr(data[:24].decode("ascii")) + ("..." if len(data) > 24 else "")]
    return [data[:8].hex(" ") + (" ..." if len(data) > 8 else "")] if data else []


def _generic(layer: Layer) -> list[str]:
    return [f"{f.name} {brief(v, f, 24)}" for f, v in list(layer.items())[:4]]


_KEYS: dict[str, Callable[[Any], list[str]]] = {
    "Ethernet": _ethernet, "802.1Q": _dot1q, "IPv4": _ipv4, "IPv6": _ipv6, "TCP": _tcp, "UDP": _udp, "ICMP": _icmp,
    "ICMPv6": _icmp, "ARP": _arp,
    "DNS": _dns, "HTTPRequest": _http_request, "HTTPResponse": _http_response, "Raw": _raw, "Padding": _raw,
}


def key_fields(layer: Layer) -> list[str]:
    """Short lines with the layer's most telling values (a layer without its own list shows its first fields)."""
    return _KEYS.get(layer.name, _generic)(layer)
