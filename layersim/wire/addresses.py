"""Address value types used by header fields: MAC addresses and IPv4/IPv6 address parsing."""

from __future__ import annotations

from ipaddress import AddressValueError, IPv4Address, IPv6Address
from socket import AF_INET, inet_pton

from layersim.errors import FieldValueError

__all__ = ["MAC", "to_ipv4", "to_ipv6"]


class MAC(bytes):
    """A 48-bit Ethernet address; accepts "02:00:00:00:00:01", "02-00-...", or 6 bytes and prints with colons."""

    __slots__ = ()

    def __new__(cls, value: str | bytes | int | MAC) -> MAC:
        if type(value) is cls:
            return value
        if isinstance(value, str):
            if len(value) == 17 and value.count(":") == 5:  # the usual "aa:bb:cc:dd:ee:ff" form, parsed in C
                try:
                    return super().__new__(cls, bytes.fromhex(value.replace(":", "")))
                except ValueError:
                    pass  # fall through to the detailed checks and their error message
            parts = value.replace("-", ":").split(":")
            if len(parts) != 6 or not all(len(p) in (1, 2) for p in parts):
                raise FieldValueError(f"MAC address {value!r} is not six ':'-separated hex bytes")
            try:
                return super().__new__(cls, bytes(int(p, 16) for p in parts))
            except ValueError:
                raise FieldValueError(f"MAC address {value!r} has a byte that is not hex") from None
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < 1 << 48:
                raise FieldValueError(f"MAC address {value:#x} does not fit in 48 bits")
            return super().__new__(cls, value.to_bytes(6, "big"))
        if isinstance(value, bytes | bytearray | memoryview) and len(value) == 6:
            return super().__new__(cls, value)
        raise FieldValueError(f"MAC address {value!r} is not a string, an int or 6 bytes")

    def __str__(self) -> str:
        return self.hex(":")

    def __repr__(self) -> str:
        return f"MAC('{self.hex(':')}')"

    @property
    def is_broadcast(self) -> bool:
        """True for ff:ff:ff:ff:ff:ff."""
        return self == b"\xff\xff\xff\xff\xff\xff"

    @property
    def is_multicast(self) -> bool:
        """True when the group bit (lowest bit of the first byte) is set."""
        return bool(self[0] & 1)


def to_ipv4(value: object) -> IPv4Address:
    """Convert a string, int, 4 bytes or IPv4Address to an IPv4Address, with a clear error otherwise."""
    if type(value) is IPv4Address:
        return value
    if type(value) is str:
        try:  # strict dotted quad in C (no leading zeros, no short forms); anything else gets ipaddress's error
            return IPv4Address(int.from_bytes(inet_pton(AF_INET, value), "big"))
        except OSError:
            pass
    if isinstance(value, bool) or not isinstance(value, str | int | bytes | IPv4Address):
        raise FieldValueError(f"IPv4 address {value!r} is not a string, an int or 4 bytes")
    try:
        return IPv4Address(value)
    except (AddressValueError, ValueError) as exc:
        raise FieldValueError(f"IPv4 address {value!r} is not valid: {exc}") from None


def to_ipv6(value: object) -> IPv6Address:
    """Convert a string, int, 16 bytes or IPv6Address to an IPv6Address, with a clear error otherwise."""
    if type(value) is IPv6Address:
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | bytes | IPv6Address):
        raise FieldValueError(f"IPv6 address {value!r} is not a string, an int or 16 bytes")
    try:
        return IPv6Address(value)
    except (AddressValueError, ValueError) as exc:
        raise FieldValueError(f"IPv6 address {value!r} is not valid: {exc}") from None
