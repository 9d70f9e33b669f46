"""JSON-ready descriptions of layers and packets (the `--json` output of `layersim inspect`).

Shape, stable across versions::

    {"layers": [{"name": "IPv4",
                 "fields": {"version": 4, ..., "src": "10.0.0.1", "options": ""},
                 "checksum_ok": true,            # only for layers with a "...checksum" field
                 "info": {"identifier": 1}},     # only when the layer derives values (ICMP echo id/seq)
                ...],
     "length": 74}

Field names are those of the layer's HeaderSpec, in header order. Values map as follows:

- int, IntEnum, IntFlag -> integer (6, not "TCP"; flags 0x18, not "PSH|ACK")
- bool -> true/false; None (a field left to compute on encode) -> null
- MAC -> "02:00:00:00:00:01"; IPv4Address -> "10.0.0.1"
- bytes -> lowercase hex string without separators ("" when empty)
- str -> as is
- frozen dataclass (TCP option, DNS record) -> {"type": class name, field: value, ...}, recursively
- tuple or list (options, records, (name, value) header pairs) -> list, recursively
- dict -> object with string keys; anything else -> str(value)

"checksum_ok" is true or false when the checksum was verified, and null when it cannot be (a built layer, a
datagram quoted in an ICMP error, a UDP checksum of 0 meaning "none sent").
"""

from __future__ import annotations

import dataclasses
import enum
from ipaddress import IPv4Address
from typing import Any

from layersim.wire.addresses import MAC
from layersim.wire.fields import Layer
from layersim.wire.packet import Packet
from layersim.wire.valuefmt import concrete, is_checksum

__all__ = ["jsonable", "layer_to_dict", "packet_to_dict"]


def jsonable(value: Any) -> Any:
    """A field value converted to JSON types, following the mapping in this module's docstring."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value
    if isinstance(value, MAC | IPv4Address):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"type": type(value).__name__}
        out.update((f.name, jsonable(getattr(value, f.name))) for f in dataclasses.fields(value))
        return out
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return str(value.name)
    return str(value)


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    """One layer as {"name", "fields", "checksum_ok"?, "info"?}."""
    out: dict[str, Any] = {"name": layer.name,
                           "fields": {f.name: jsonable(v) for f, v in layer.items()}}
    if any(is_checksum(f) for f in layer.spec.fields):
        ok = layer.checksum_ok
        out["checksum_ok"] = None if ok is None else bool(ok)
    info = layer.info()
    if info:
        out["info"] = jsonable(dict(info))
    return out


def packet_to_dict(packet: Packet) -> dict[str, Any]:
    """The packet as {"layers": [...], "length": bytes}; a built packet is described as its bytes decode."""
    packet = concrete(packet)
    return {"layers": [layer_to_dict(layer) for layer in packet.layers], "length": len(packet.data)}
