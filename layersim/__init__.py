"""layersim: see what really happens on the wire, layer by layer, with real bytes.

The wire layer loads with the package; the simulation (`Network`, ...) and the pictures (`viz`) load on first use,
so `import layersim.wire` or `layersim.capture` needs neither greenlet nor matplotlib."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from layersim.errors import CaptureError, DecodeError, FieldValueError, LayersimError, UnknownFieldError
from layersim.wire import (
    ARP,
    BROADCAST,
    DNS,
    ICMP,
    MAC,
    TCP,
    UDP,
    ARPOp,
    DNSQuestion,
    DNSRecord,
    Dot1Q,
    Ethernet,
    EtherType,
    FieldChange,
    HTTPRequest,
    HTTPResponse,
    ICMPType,
    ICMPv6,
    ICMPv6Type,
    IPProto,
    IPv4,
    IPv4Flags,
    IPv6,
    Layer,
    Packet,
    Padding,
    Raw,
    TCPFlags,
    UnreachableCode,
    decode,
    diff,
)

if TYPE_CHECKING:
    from layersim import viz
    from layersim.net import DropReason, EventKind, HookPoint, Network, Process, sleep

__version__ = "0.1.0"

# name -> the module that defines it, imported when the name is first read (PEP 562)
_LAZY = {"viz": "layersim.viz", **{name: "layersim.net" for name in
                                   ("DropReason", "EventKind", "HookPoint", "Network", "Process", "sleep")}}


def __getattr__(name: str) -> Any:
    """Load the simulation and the pictures when one of their names is first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'layersim' has no attribute {name!r}")
    value = import_module(module) if name == "viz" else getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

__all__ = [
    "ARP",
    "BROADCAST",
    "DNS",
    "ICMP",
    "MAC",
    "TCP",
    "UDP",
    "ARPOp",
    "CaptureError",
    "DNSQuestion",
    "DNSRecord",
    "DecodeError",
    "Dot1Q",
    "DropReason",
    "EtherType",
    "Ethernet",
    "EventKind",
    "FieldChange",
    "FieldValueError",
    "HTTPRequest",
    "HTTPResponse",
    "HookPoint",
    "ICMPType",
    "ICMPv6",
    "ICMPv6Type",
    "IPProto",
    "IPv4",
    "IPv4Flags",
    "IPv6",
    "Layer",
    "LayersimError",
    "Network",
    "Packet",
    "Padding",
    "Process",
    "Raw",
    "TCPFlags",
    "UnknownFieldError",
    "UnreachableCode",
    "__version__",
    "decode",
    "diff",
    "sleep",
    "viz",
]
