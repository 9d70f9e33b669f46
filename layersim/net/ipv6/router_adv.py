"""Router Advertisements and what hosts make of them, without I/O.

A router interface with `ra` on advertises its prefixes on radvd's schedule (RFC 4861 §6.2.4: the first three
at most 16 s apart, then every 198-600 s at random; a solicited one within 0.5 s, at most one per 3 s). A host
solicits after its link-local address passes DAD (Linux's rtr_solicit_interval 4 s, doubling with RFC 7559's
±10 % up to rtr_solicit_max_interval 3600 s, until an advertisement comes) and autoconfigures an address from
every /64 prefix with the A flag (RFC 4862 §5.5.3), and a default route via the router (RFC 4861 §6.3.4).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Interface, IPv6Network

from layersim.errors import LayersimError
from layersim.net.ipv6.addresses import slaac_address
from layersim.wire.addresses import MAC

__all__ = ["Advert", "Advertiser", "PrefixInfo", "RaOutcome", "Solicitor", "process_advert"]

SECOND = 1_000_000_000
# RFC 4861 §10 router constants, radvd's defaults (radvd.conf(5))
MAX_INITIAL_RTR_ADVERT_INTERVAL_NS = 16 * SECOND
MAX_INITIAL_RTR_ADVERTISEMENTS = 3
MAX_RA_DELAY_TIME_NS = SECOND // 2
MIN_DELAY_BETWEEN_RAS_NS = 3 * SECOND
MAX_RTR_ADV_INTERVAL_NS = 600 * SECOND
MIN_RTR_ADV_INTERVAL_NS = 198 * SECOND  # 0.33 x the maximum
ROUTER_LIFETIME_NS = 1800 * SECOND  # 3 x the maximum interval
VALID_LIFETIME_NS, PREFERRED_LIFETIME_NS = 86400 * SECOND, 14400 * SECOND  # radvd AdvValidLifetime, ...Preferred
# Linux's router solicitation defaults (net/ipv6/addrconf.c)
RTR_SOLICIT_INTERVAL_NS = 4 * SECOND
RTR_SOLICIT_MAX_INTERVAL_NS = 3600 * SECOND


@dataclass(frozen=True, slots=True)
class PrefixInfo:
    """A Prefix Information option (RFC 4861 §4.6.2)."""

    prefix: IPv6Network
    on_link: bool = True  # L flag
    autonomous: bool = True  # A flag: hosts may form an address from it
    valid_ns: int = VALID_LIFETIME_NS
    preferred_ns: int = PREFERRED_LIFETIME_NS


@dataclass(frozen=True, slots=True)
class Advert:
    """What a Router Advertisement says (RFC 4861 §4.2), as the router sends it and a host reads it."""

    router: IPv6Address  # its link-local source address
    mac: MAC | None  # the source link-layer address option
    router_lifetime_ns: int = ROUTER_LIFETIME_NS  # 0: not a default router
    prefixes: tuple[PrefixInfo, ...] = ()
    mtu: int | None = None  # the MTU option
    cur_hop_limit: int = 64


class Advertiser:
    """When one router interface sends unsolicited and solicited advertisements (RFC 4861 §6.2.4, §6.2.6)."""

    def __init__(self, rng: random.Random, *, max_interval_ns: int = MAX_RTR_ADV_INTERVAL_NS,
                 min_interval_ns: int = MIN_RTR_ADV_INTERVAL_NS) -> None:
        if not 3 * SECOND <= min_interval_ns <= max_interval_ns * 3 // 4:  # RFC 4861 §6.2.1 bounds
            raise LayersimError(f"router advertisements: MinRtrAdvInterval {min_interval_ns} ns must be 3 s to "
                                f"0.75 x MaxRtrAdvInterval ({max_interval_ns} ns)")
        self.rng = rng
        self.max_interval_ns, self.min_interval_ns = max_interval_ns, min_interval_ns
        self.sent = 0
        self.last_sent: int | None = None
        self.deadline: int | None = None

    def start(self, now: int) -> int:
        """The interface starts advertising: the first advertisement is due now."""
        self.deadline = now
        return now

    def on_timer(self, now: int) -> int | None:
        """The deadline is due: send an advertisement now (the caller does) and return the next deadline; None
        when this deadline is no longer the pending one."""
        if self.deadline is None or now < self.deadline:
            return None
        self.sent += 1
        self.last_sent = now
        interval = self.rng.randrange(self.min_interval_ns, self.max_interval_ns + 1)
        if self.sent < MAX_INITIAL_RTR_ADVERTISEMENTS:  # §6.2.4: the first few come sooner
            interval = min(interval, MAX_INITIAL_RTR_ADVERT_INTERVAL_NS)
        self.deadline = now + interval
        return self.deadline

    def solicited(self, now: int) -> int:
        """A Router Solicitation arrived (§6.2.6): answer within MAX_RA_DELAY_TIME by multicast, but not sooner
        than MIN_DELAY_BETWEEN_RAS after the last one; returns the (possibly moved) deadline."""
        due = now + self.rng.randrange(MAX_RA_DELAY_TIME_NS + 1)
        if self.last_sent is not None:
            due = max(due, self.last_sent + MIN_DELAY_BETWEEN_RAS_NS)
        if self.deadline is None or due < self.deadline:
            self.deadline = due
        return self.deadline


class Solicitor:
    """When a host sends Router Solicitations: at once, then every 4 s doubling to an hour (RFC 7559, Linux)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.interval_ns = RTR_SOLICIT_INTERVAL_NS
        self.sent = 0
        self.deadline: int | None = None

    def start(self, now: int) -> int:
        """Link-local DAD is done: the first solicitation is due now."""
        self.deadline = now
        return now

    def on_timer(self, now: int) -> int | None:
        """The deadline is due: send a solicitation (the caller does); returns the next deadline."""
        if self.deadline is None or now < self.deadline:
            return None
        if self.sent:  # RFC 7559 §2: RT = 2 x RTprev + RAND x RTprev, RAND in -0.1..+0.1, at most MRT
            grown = 2 * self.interval_ns + self.interval_ns * self.rng.randrange(-100, 101) // 1000
            self.interval_ns = min(grown, RTR_SOLICIT_MAX_INTERVAL_NS)
        self.sent += 1
        self.deadline = now + self.interval_ns
        return self.deadline

    def advert_received(self) -> None:
        """An advertisement came: stop soliciting."""
        self.deadline = None


@dataclass(frozen=True, slots=True)
class RaOutcome:
    """What a host does with an advertisement: addresses to add (each starting DAD), its default router (None:
    none from this advertisement; lifetime 0: remove it), the link MTU to use."""

    addresses: tuple[IPv6Interface, ...] = ()
    default_router: IPv6Address | None = None
    router_lifetime_ns: int = 0
    mtu: int | None = None
    ignored: tuple[tuple[IPv6Network, str], ...] = ()  # prefixes not used, and why


def process_advert(advert: Advert, mac: MAC, have: set[IPv6Network], link_mtu: int) -> RaOutcome:
    """Read an advertisement arriving on an interface with MAC `mac` that already has addresses in `have`."""
    addresses, ignored = [], []
    for info in advert.prefixes:
        prefix = info.prefix
        reason = None
        if not info.autonomous:  # RFC 4862 §5.5.3 a-c
            reason = "A flag clear"
        elif prefix.is_link_local:
            reason = "link-local prefix"
        elif info.preferred_ns > info.valid_ns:
            reason = "preferred lifetime longer than valid"
        elif prefix.prefixlen != 64:  # §5.5.3 d: prefix + 64-bit interface identifier must make 128 bits
            reason = f"prefix length {prefix.prefixlen}, not 64"
        elif info.valid_ns == 0:
            reason = "valid lifetime 0"
        if reason is not None:
            ignored.append((prefix, reason))
        elif prefix not in have:
            addresses.append(slaac_address(IPv6Interface(prefix), mac))
    mtu = advert.mtu if advert.mtu is not None and 1280 <= advert.mtu <= link_mtu else None  # RFC 4861 §6.3.4
    return RaOutcome(tuple(addresses), advert.router, advert.router_lifetime_ns, mtu, tuple(ignored))
