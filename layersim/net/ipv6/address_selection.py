"""Default address selection (RFC 6724): which source address a node uses, and in which order `getaddrinfo`
returns a name's addresses. Simplified as Linux's defaults need it: no deprecated or temporary addresses (rules
3 and 7), no home addresses (rule 4) and no native-transport rule (destination rule 7)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv6Address, IPv6Interface, IPv6Network

__all__ = ["POLICY", "label", "precedence", "scope", "select_source", "sort_destinations"]

Address = IPv4Address | IPv6Address

# RFC 6724 §2.1: the default policy table (prefix, precedence, label); an IPv4 address is looked up as ::ffff:a.b.c.d
POLICY: tuple[tuple[IPv6Network, int, int], ...] = tuple(
    (IPv6Network(prefix), prec, lab) for prefix, prec, lab in (
        ("::1/128", 50, 0), ("::/0", 40, 1), ("::ffff:0:0/96", 35, 4), ("2002::/16", 30, 2), ("2001::/32", 5, 5),
        ("fc00::/7", 3, 13), ("::/96", 1, 3), ("fec0::/10", 1, 11), ("3ffe::/16", 1, 12)))
_BY_LENGTH = sorted(POLICY, key=lambda row: -row[0].prefixlen)  # longest match first
LINK_LOCAL, SITE_LOCAL, GLOBAL = 0x2, 0x5, 0xE  # RFC 4291 §2.7 scope values


def _as_v6(address: Address) -> IPv6Address:
    return IPv6Address(f"::ffff:{address}") if isinstance(address, IPv4Address) else address


def _policy(address: Address) -> tuple[int, int]:
    v6 = _as_v6(address)
    for network, prec, lab in _BY_LENGTH:
        if v6 in network:
            return prec, lab
    raise AssertionError("::/0 matches every address")  # pragma: no cover


def precedence(address: Address) -> int:
    """The address's precedence in the default policy table (higher is preferred)."""
    return _policy(address)[0]


def label(address: Address) -> int:
    """The address's label in the default policy table (a source and a destination with the same label pair)."""
    return _policy(address)[1]


def scope(address: Address) -> int:
    """The address's scope (RFC 6724 §3.1): link-local for fe80::/10, loopback, 169.254/16 and 127/8; a multicast
    address's own scope field; else global."""
    if isinstance(address, IPv4Address):
        return LINK_LOCAL if address.is_link_local or address.is_loopback else GLOBAL
    if address.is_multicast:
        return address.packed[1] & 0x0F
    if address.is_link_local or address.is_loopback:
        return LINK_LOCAL
    return SITE_LOCAL if address.is_site_local else GLOBAL


def _common_prefix(a: IPv6Address, b: IPv6Address, limit: int) -> int:
    """The number of leading bits `a` and `b` share, up to `limit`."""
    return min(128 - (int(a) ^ int(b)).bit_length(), limit)


def select_source(dst: IPv6Address, candidates: Iterable[tuple[IPv6Interface, str]],
                  out_interface: str) -> IPv6Address | None:
    """The source address for `dst` among (address, interface) candidates (usable ones only: the caller leaves
    out tentative addresses), by RFC 6724 §5 rules 1, 2, 5, 6 and 8; None when there is none."""
    dst_scope, dst_label = scope(dst), label(dst)

    def key(candidate: tuple[IPv6Interface, str]) -> tuple[int, ...]:
        address, interface = candidate
        s = scope(address.ip)
        return (address.ip != dst,  # rule 1: the destination itself
                *((0, s) if s >= dst_scope else (1, -s)),  # rule 2: the smallest scope that reaches dst
                interface != out_interface,  # rule 5: an address of the outgoing interface
                label(address.ip) != dst_label,  # rule 6: matching label
                -_common_prefix(address.ip, dst, address.network.prefixlen))  # rule 8: longest matching prefix

    listed = list(candidates)
    if not listed:
        return None
    return min(listed, key=key)[0].ip  # min is stable: the first of equals, as the address list orders them


def sort_destinations(destinations: Sequence[Address], source_of: Callable[[Address], Address | None]) -> list:
    """`destinations` in RFC 6724 §6 order; `source_of(d)` is the source the node would use for d (None: no
    route or no address of that family, an unusable destination). Rules 1, 2, 5, 6, 8, 9, then the given order."""
    def key(item: tuple[int, Address]) -> tuple[int, ...]:
        index, dst = item
        source = source_of(dst)
        if source is None:
            return (1, 0, 0, 0, 0, 0, index)  # rule 1: avoid unusable destinations
        both_v6 = isinstance(dst, IPv6Address) and isinstance(source, IPv6Address)
        # rule 9 compares IPv6 destinations only, up to the source's prefix (taken as /64, the interface ID split)
        prefix = _common_prefix(dst, source, 64) if both_v6 else 0
        return (0,
                scope(dst) != scope(source),  # rule 2: matching scope
                label(source) != label(dst),  # rule 5: matching label
                -precedence(dst),  # rule 6: higher precedence
                scope(dst),  # rule 8: smaller scope
                -prefix,  # rule 9: longest matching prefix
                index)  # rule 10: otherwise as given
    return [dst for _, dst in sorted(enumerate(destinations), key=key)]
