"""Link-layer headers of captures that are not Ethernet: Linux cooked captures (SLL, SLL2) and BSD loopback.

`tcpdump -i any` writes SLL or SLL2 (libpcap's pcap-linux.c builds them, the format is documented at
https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and LINKTYPE_LINUX_SLL2.html); BSD and macOS
loopback captures start with a 4-byte address family (LINKTYPE_NULL in the capturing host's byte order,
LINKTYPE_LOOP in network order).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from layersim.errors import DecodeError, LayersimError
from layersim.wire.addresses import MAC
from layersim.wire.ethernet import EtherType, _ethertype_for
from layersim.wire.fields import HeaderSpec, Layer, UInt

__all__ = ["ARPHRD", "AddressFamily", "LinuxSLL", "LinuxSLL2", "Loopback", "LoopbackLE", "SLLPacketType"]


class SLLPacketType(IntEnum):
    """Which way the packet went, as Linux's PACKET_* constants say (include/uapi/linux/if_packet.h)."""

    HOST = 0  # addressed to this host
    BROADCAST = 1
    MULTICAST = 2
    OTHERHOST = 3  # to another host, seen in promiscuous mode
    OUTGOING = 4  # sent by this host


class ARPHRD(IntEnum):
    """The interface's hardware type, Linux's ARPHRD_* (include/uapi/linux/if_arp.h), as far as named here."""

    NETROM = 0
    ETHER = 1
    PPP = 512
    RAWIP = 519
    TUNNEL = 768
    LOOPBACK = 772
    SIT = 776
    IPGRE = 778
    IEEE80211_RADIOTAP = 803
    NONE = 65534
    VOID = 65535


class AddressFamily(IntEnum):
    """The address family of a loopback header: AF_INET everywhere, AF_INET6 differs by BSD."""

    INET = 2
    INET6_BSD = 24  # NetBSD, OpenBSD, BSD/OS
    INET6_FREEBSD = 28
    INET6_DARWIN = 30


def _link_address(value: Any) -> Any:
    """Accept "aa:bb:cc:dd:ee:ff" (or a MAC) for the 8-byte address field: the bytes, zero-padded on the right."""
    if isinstance(value, str | MAC):
        return int.from_bytes(bytes(MAC(value)).ljust(8, b"\0"), "big")
    return value


def _address_text(layer: Any) -> str:
    """The first address_length bytes of the address field, as colon-separated hex (Wireshark's form)."""
    raw = layer.address.to_bytes(8, "big")[: min(layer.address_length, 8)]
    return ":".join(f"{b:02x}" for b in raw)


def _decode(cls: Any, data: bytes, start: int, end: int, size: int, name: str) -> tuple[Any, ...]:
    """The fixed header's values, or a DecodeError when fewer than `size` bytes are left."""
    if end - start < size:
        raise DecodeError(name, start, f"{end - start} bytes left, shorter than the {size}-byte header")
    return cls._unpack(data, start)


class LinuxSLL(Layer):
    """The 16-byte Linux cooked capture header (LINKTYPE_LINUX_SLL, 113): direction, hardware type, address."""

    __slots__ = ()
    spec = HeaderSpec("SLL", [
        UInt("packet_type", 16, kind=SLLPacketType),
        UInt("arphrd_type", 16, ARPHRD.ETHER, kind=ARPHRD),
        UInt("address_length", 16, 6),
        UInt("address", 64, hex=True, coerce=_link_address),
        UInt("protocol", 16, None, kind=EtherType, hex=True),
    ])
    packet_type: int
    arphrd_type: int
    address_length: int
    address: int
    protocol: int | None

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; a None protocol is the EtherType of the layer above."""
        protocol = self[4]
        if protocol is None:
            protocol = _ethertype_for("SLL", upper, "protocol")
        return self._pack(*self[:4], protocol) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 16-byte header; the protocol field is an EtherType for Ethernet-like interfaces."""
        values = _decode(cls, data, start, end, 16, "SLL")
        return tuple.__new__(cls, (*values, None)), start + 16, end, cls.next_layers.get(values[4])

    def info(self) -> dict[str, Any]:
        """The link-layer source address as Wireshark prints it."""
        return {"source": _address_text(self)}


class LinuxSLL2(Layer):
    """The 20-byte Linux cooked capture v2 header (LINKTYPE_LINUX_SLL2, 276): adds the interface index."""

    __slots__ = ()
    spec = HeaderSpec("SLL2", [
        UInt("protocol", 16, None, kind=EtherType, hex=True),
        UInt("reserved", 16),
        UInt("interface_index", 32),
        UInt("arphrd_type", 16, ARPHRD.ETHER, kind=ARPHRD),
        UInt("packet_type", 8, kind=SLLPacketType),
        UInt("address_length", 8, 6),
        UInt("address", 64, hex=True, coerce=_link_address),
    ])
    protocol: int | None
    reserved: int
    interface_index: int
    arphrd_type: int
    packet_type: int
    address_length: int
    address: int

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; a None protocol is the EtherType of the layer above."""
        protocol = self[0]
        if protocol is None:
            protocol = _ethertype_for("SLL2", upper, "protocol")
        return self._pack(protocol, *self[1:7]) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 20-byte header; the protocol field is an EtherType for Ethernet-like interfaces."""
        values = _decode(cls, data, start, end, 20, "SLL2")
        return tuple.__new__(cls, (*values, None)), start + 20, end, cls.next_layers.get(values[0])

    def info(self) -> dict[str, Any]:
        """The link-layer source address as Wireshark prints it."""
        return {"source": _address_text(self)}


def _family_for(upper: Layer | None) -> int:
    """AF_INET for an IPv4 layer above; for IPv6 the NetBSD/OpenBSD value 24, which every BSD reader accepts.

    (Wireshark's packet-null.c and libpcap read 24, 28 and 30 as IPv6 whatever the capturing OS.)
    """
    ethertype = getattr(type(upper), "ethertype", None)
    if ethertype == EtherType.IPv4:
        return AddressFamily.INET
    if ethertype == EtherType.IPv6:
        return AddressFamily.INET6_BSD
    above = type(upper).__name__ if upper is not None else "nothing"
    raise LayersimError(f"Loopback.family is None and cannot be derived from the layer above ({above})")


class Loopback(Layer):
    """A loopback header in network byte order: LINKTYPE_LOOP (108), or LINKTYPE_NULL from a big-endian host."""

    __slots__ = ()
    spec = HeaderSpec("Loopback", [UInt("family", 32, None, kind=AddressFamily)])
    family: int | None

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The family (from the layer above when None), then the payload."""
        family = self[0]
        return self._pack(_family_for(upper) if family is None else family) + payload

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the 4-byte family; what follows is chosen by it."""
        values = _decode(cls, data, start, end, 4, cls.spec.name)
        return tuple.__new__(cls, (*values, None)), start + 4, end, cls.next_layers.get(values[0])


class LoopbackLE(Loopback):
    """A LINKTYPE_NULL header from a little-endian host (x86, ARM): the family in little-endian byte order."""

    __slots__ = ()
    spec = HeaderSpec("Loopback", [UInt("family", 32, None, kind=AddressFamily)], byte_order="<")

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode a LINKTYPE_NULL header in whichever byte order the capturing host used.

        Families are small numbers, so a value with bits in its upper half was written by a big-endian host,
        the test Wireshark's packet-null.c makes too.
        """
        values = _decode(cls, data, start, end, 4, "Loopback")
        if values[0] > 0xFFFF:
            return Loopback.decode_layer(data, start, end, state)
        return tuple.__new__(cls, (*values, None)), start + 4, end, cls.next_layers.get(values[0])
