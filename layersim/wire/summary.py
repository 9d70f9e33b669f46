"""One-line packet summaries in scapy's style: "Ethernet / IPv4 10.0.1.10 > 93.184.216.34 / TCP 50512 > 80 PA"."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from types import MappingProxyType
from typing import Any

from layersim.wire.fields import Layer

__all__ = ["layer_summary", "packet_summary"]

_FLAG_LETTERS = "FSRPAUEC"  # TCP flag bits from 0x01 up, the letters scapy and tcpdump print


def _tcp_flags(flags: int) -> str:
    """ "PA" for PSH+ACK, as scapy prints them (lowest bit first); "" for none."""
    return "".join(letter for bit, letter in enumerate(_FLAG_LETTERS) if flags >> bit & 1)


def _name(value: Any) -> str:
    """An enum member by name, anything else as str."""
    return str(value.name) if isinstance(value, Enum) and value.name else str(value)


def _arp(h: Any) -> str:
    if h.opcode == 1:
        return f"ARP who has {h.target_ip} says {h.sender_ip}"
    if h.opcode == 2:
        return f"ARP {h.sender_ip} is at {h.sender_mac}"
    return f"ARP opcode {int(h.opcode)}"


def _icmp(h: Any) -> str:
    text = f"ICMP {_name(h.type)}"
    return f"{text} code {h.code}" if h.code else text


def _dns(h: Any) -> str:
    info = h.info()
    parts = [f"DNS {info['kind']}", *info["questions"]]
    if h.qr:
        parts += [str(info["rcode"]), *info["answers"]]
    return " ".join(parts)


# The line per layer name; layers not listed show their name only.
_SUMMARIES: MappingProxyType[str, Callable[[Any], str]] = MappingProxyType({
    "802.1Q": lambda h: f"802.1Q vlan {h.vid}",
    "ARP": _arp,
    "IPv4": lambda h: f"IPv4 {h.src} > {h.dst}",
    "IPv6": lambda h: f"IPv6 {h.src} > {h.dst}",
    "ICMPv6": lambda h: f"ICMPv6 {_name(h.type)}",
    "Fragment": lambda h: f"Fragment offset {h.fragment_offset * 8}{' MF' if h.more_fragments else ''}",
    "ICMP": _icmp,
    "UDP": lambda h: f"UDP {h.sport} > {h.dport}",
    "TCP": lambda h: f"TCP {h.sport} > {h.dport} {_tcp_flags(h.flags)}".rstrip(),
    "DNS": _dns,
    "HTTPRequest": lambda h: f"HTTPRequest {h.method} {h.target}",
    "HTTPResponse": lambda h: f"HTTPResponse {h.status} {h.reason}",
    "Raw": lambda h: f"Raw {len(h.data)} bytes",
    "Padding": lambda h: f"Padding {len(h.data)} bytes",
    "SLL": lambda h: f"SLL {_name(h.packet_type)}",
    "SLL2": lambda h: f"SLL2 {_name(h.packet_type)} ifindex {h.interface_index}",
    "Loopback": lambda h: f"Loopback {_name(h.family)}",
})


def layer_summary(layer: Layer) -> str:
    """One layer's part of the summary line."""
    make = _SUMMARIES.get(layer.name)
    return make(layer) if make is not None else layer.name


def packet_summary(layers: tuple[Layer, ...]) -> str:
    """Every layer's summary, outermost first, joined by " / "."""
    return " / ".join(layer_summary(layer) for layer in layers)
