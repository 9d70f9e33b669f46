"""Neighbor Discovery messages (RFC 4861 §4): the bodies that follow the ICMPv6 header, options last."""

from __future__ import annotations

from enum import IntFlag
from ipaddress import IPv6Address
from typing import Any

from layersim.errors import DecodeError
from layersim.wire.fields import Addr, Bits, HeaderSpec, Layer, UInt, Var
from layersim.wire.icmpv6 import ICMPv6Type
from layersim.wire.ndp_options import NDOption, coerce_nd_options, decode_nd_options

__all__ = ["NDPNeighborAdvertisement", "NDPNeighborSolicitation", "NDPRedirect", "NDPRouterAdvertisement",
           "NDPRouterSolicitation", "RAFlags"]


class RAFlags(IntFlag):
    """Router Advertisement flags: Managed, Other configuration (RFC 4861 §4.2), Home Agent, preference, Proxy."""

    PROXY = 0x04  # RFC 4389
    PRF0 = 0x08  # RFC 4191 §2.2: the two preference bits, 01 high, 00 medium, 11 low
    PRF1 = 0x10
    H = 0x20  # RFC 6275
    O = 0x40  # noqa: E741 (the RFC's name)
    M = 0x80


class NAFlags(IntFlag):
    """Neighbor Advertisement flags (RFC 4861 §4.4): Router, Solicited, Override."""

    O = 1  # noqa: E741 (the RFC's name)
    S = 2
    R = 4


class _NDMessage(Layer):
    """A message body whose fixed part the spec describes and whose options fill the rest."""

    __slots__ = ()

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The fixed part, then the options, then whatever follows (nothing, usually)."""
        n = len(self.spec.fixed_fields)
        return self._pack(*self[:n]) + b"".join(o.encode() for o in self[n]) + payload

    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """The fixed fields, then each option on its own."""
        spans = [s for s in super().field_spans(start, end) if s[0] != "options"]
        at = start + self.spec.fixed_length
        for i, option in enumerate(self[len(self.spec.fixed_fields)]):
            size = len(option.encode())
            spans.append((f"options[{i}]", at, at + size))
            at += size
        return spans

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, None]:
        """Decode the fixed part and the options to the end of the message."""
        size = cls.spec.fixed_length
        if end - start < size:
            raise DecodeError(cls.spec.name, start, f"{end - start} bytes left, shorter than the {size}-byte body")
        options = decode_nd_options(data, start + size, end)
        return tuple.__new__(cls, (*cls._unpack(data, start), options, None)), end, end, None


def _options() -> Any:
    return Var("options", (), kind=tuple, coerce=coerce_nd_options)


class NDPRouterSolicitation(_NDMessage):
    """Router Solicitation (type 133, RFC 4861 §4.1): a host asks routers to advertise now."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.ROUTER_SOLICITATION
    spec = HeaderSpec("NDP Router Solicitation", [UInt("reserved", 32), _options()])
    reserved: int
    options: tuple[NDOption, ...]


class NDPRouterAdvertisement(_NDMessage):
    """Router Advertisement (type 134, RFC 4861 §4.2): hop limit, flags, lifetimes, and prefixes in options."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.ROUTER_ADVERTISEMENT
    spec = HeaderSpec("NDP Router Advertisement", [
        UInt("cur_hop_limit", 8, 64),
        UInt("flags", 8, RAFlags(0), kind=RAFlags, hex=True),
        UInt("router_lifetime", 16, 1800),
        UInt("reachable_time", 32),
        UInt("retrans_timer", 32),
        _options(),
    ])
    cur_hop_limit: int
    flags: RAFlags
    router_lifetime: int
    reachable_time: int
    retrans_timer: int
    options: tuple[NDOption, ...]


class NDPNeighborSolicitation(_NDMessage):
    """Neighbor Solicitation (type 135, RFC 4861 §4.3): who has the target address (or is it still there)?"""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.NEIGHBOR_SOLICITATION
    spec = HeaderSpec("NDP Neighbor Solicitation", [UInt("reserved", 32), Addr("target", IPv6Address), _options()])
    reserved: int
    target: IPv6Address
    options: tuple[NDOption, ...]


class NDPNeighborAdvertisement(_NDMessage):
    """Neighbor Advertisement (type 136, RFC 4861 §4.4): the target's link-layer address, with R/S/O flags."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.NEIGHBOR_ADVERTISEMENT
    spec = HeaderSpec("NDP Neighbor Advertisement", [
        Bits("flags", 3, NAFlags(0), kind=NAFlags), Bits("reserved", 29),
        Addr("target", IPv6Address),
        _options(),
    ])
    flags: NAFlags
    reserved: int
    target: IPv6Address
    options: tuple[NDOption, ...]


class NDPRedirect(_NDMessage):
    """Redirect (type 137, RFC 4861 §4.5): a better first hop (target) for a destination."""

    __slots__ = ()
    icmpv6_type = ICMPv6Type.REDIRECT
    spec = HeaderSpec("NDP Redirect", [
        UInt("reserved", 32), Addr("target", IPv6Address), Addr("destination", IPv6Address), _options(),
    ])
    reserved: int
    target: IPv6Address
    destination: IPv6Address
    options: tuple[NDOption, ...]
