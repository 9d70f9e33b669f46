"""The frames neighbour discovery sends, built from what the protocol objects decided (RFC 4861 §4, §7.2).

Every ND message goes with hop limit 255 (RFC 4861 §7.1: a receiver drops any other, so it cannot come from off
the link) to a multicast group's 33:33 MAC or to a known neighbour's MAC.
"""

from __future__ import annotations

from ipaddress import IPv6Address

from layersim.net.ipv6.addresses import ALL_NODES, ALL_ROUTERS, multicast_mac, solicited_node
from layersim.net.ipv6.ndp import Solicit
from layersim.net.ipv6.router_adv import Advert
from layersim.wire.addresses import MAC
from layersim.wire.ethernet import Ethernet
from layersim.wire.icmpv6 import ICMPv6
from layersim.wire.ipv6 import IPv6
from layersim.wire.ndp import (
    NAFlags,
    NDPNeighborAdvertisement,
    NDPNeighborSolicitation,
    NDPRouterAdvertisement,
    NDPRouterSolicitation,
)
from layersim.wire.ndp_options import MTUOption, PrefixFlags, PrefixInformation, SourceLinkAddress, TargetLinkAddress

__all__ = ["ND_HOP_LIMIT", "advertisement_frame", "dad_probe_frame", "router_advert_frame", "router_solicit_frame",
           "solicitation_frame"]

ND_HOP_LIMIT = 255
_UNSPECIFIED = IPv6Address(0)
_SECOND = 1_000_000_000


def _frame(src_mac: MAC, dst: IPv6Address, dst_mac: MAC | None, src: IPv6Address, body: object) -> bytes:
    """Ethernet / IPv6 (hop limit 255) / ICMPv6 / body, to `dst_mac` or else `dst`'s multicast MAC."""
    mac = dst_mac if dst_mac is not None else multicast_mac(dst)
    return (Ethernet(src=src_mac, dst=mac) / IPv6(src=src, dst=dst, hop_limit=ND_HOP_LIMIT) / ICMPv6()
            / body).encode()


def solicitation_frame(solicit: Solicit, src: IPv6Address, src_mac: MAC) -> bytes:
    """A Neighbor Solicitation (RFC 4861 §7.2.2): to the target's solicited-node group, or unicast to its MAC
    when probing, with our link-layer address so the target can answer."""
    dst = solicited_node(solicit.target) if solicit.mac is None else solicit.target
    body = NDPNeighborSolicitation(target=solicit.target, options=(SourceLinkAddress(src_mac),))
    return _frame(src_mac, dst, solicit.mac, src, body)


def dad_probe_frame(tentative: IPv6Address, src_mac: MAC) -> bytes:
    """A DAD solicitation (RFC 4862 §5.4.2): from ::, to the tentative address's solicited-node group, with no
    source link-layer address option (RFC 4861 §4.3 forbids it from ::)."""
    body = NDPNeighborSolicitation(target=tentative)
    return _frame(src_mac, solicited_node(tentative), None, _UNSPECIFIED, body)


def advertisement_frame(target: IPv6Address, src_mac: MAC, asker: IPv6Address, asker_mac: MAC | None, *,
                        router: bool) -> bytes:
    """The Neighbor Advertisement answering a solicitation for our `target` (RFC 4861 §7.2.4): unicast and
    Solicited to the asker, or to all nodes without S when the asker was :: (DAD); Override set (not anycast)."""
    flags = NAFlags.O | (NAFlags.R if router else NAFlags(0))
    if asker.is_unspecified:
        dst, dst_mac = ALL_NODES, None
    else:
        dst, dst_mac, flags = asker, asker_mac, flags | NAFlags.S
    body = NDPNeighborAdvertisement(flags=flags, target=target, options=(TargetLinkAddress(src_mac),))
    return _frame(src_mac, dst, dst_mac, target, body)


def router_solicit_frame(src: IPv6Address, src_mac: MAC) -> bytes:
    """A Router Solicitation (RFC 4861 §6.3.7) to all routers; with our link-layer address unless from ::."""
    options = () if src.is_unspecified else (SourceLinkAddress(src_mac),)
    return _frame(src_mac, ALL_ROUTERS, None, src, NDPRouterSolicitation(options=options))


def router_advert_frame(advert: Advert, src_mac: MAC) -> bytes:
    """A multicast Router Advertisement to all nodes (RFC 4861 §6.2.3), from the router's link-local address:
    source link-layer address, MTU when given, then one Prefix Information option per prefix."""
    options: list[object] = [SourceLinkAddress(src_mac)]
    if advert.mtu is not None:
        options.append(MTUOption(advert.mtu))
    for info in advert.prefixes:
        flags = (PrefixFlags.L if info.on_link else 0) | (PrefixFlags.A if info.autonomous else 0)
        options.append(PrefixInformation(prefix_length=info.prefix.prefixlen, flags=flags,
                                         valid_lifetime=info.valid_ns // _SECOND,
                                         preferred_lifetime=info.preferred_ns // _SECOND,
                                         prefix=info.prefix.network_address))
    body = NDPRouterAdvertisement(cur_hop_limit=advert.cur_hop_limit,
                                  router_lifetime=advert.router_lifetime_ns // _SECOND, options=tuple(options))
    return _frame(src_mac, ALL_NODES, None, advert.router, body)
