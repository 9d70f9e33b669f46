"""Which ICMPv6 errors Linux sends and how often (net/ipv6/icmp.c icmpv6_xrlim_allow, icmpv6_mask_allow)."""

from __future__ import annotations

from ipaddress import IPv6Address

from layersim.net.ip.ratelimit import ErrorRateLimit

__all__ = ["ICMPV6_TIME_NS", "PACKET_TOO_BIG", "Icmp6RateLimit"]

ICMPV6_TIME_NS = 1_000_000_000  # net.ipv6.icmp.ratelimit: 1000 ms
PACKET_TOO_BIG = 2
_INFORMATIONAL = 128  # types 128-255 are informational (RFC 4443 §2.1)


class Icmp6RateLimit:
    """ICMPv6 error rate limiting as Linux does it: a per-destination bucket whose interval shrinks with the
    prefix length of the route back to the destination, and no limit on Packet Too Big (RFC 4443 §2.4 f)."""

    def __init__(self, interval_ns: int = ICMPV6_TIME_NS) -> None:
        self.interval_ns = interval_ns
        self.bucket = ErrorRateLimit()

    def interval(self, route_prefixlen: int) -> int:
        """The refill interval towards a destination reached by a route of this length: icmpv6_xrlim_allow
        gives a host route (/128) the full interval and halves it for every 32 bits shorter."""
        if route_prefixlen >= 128:
            return self.interval_ns
        return self.interval_ns >> ((128 - route_prefixlen) >> 5)

    def allow(self, icmp_type: int, dst: IPv6Address, route_prefixlen: int, now: int) -> bool:
        """Whether an ICMPv6 message of `icmp_type` to `dst` may go now."""
        # icmpv6_mask_allow: net.ipv6.icmp.ratemask "0-1,3-127" spares Packet Too Big (PMTU discovery needs
        # every one) and informational messages
        if icmp_type == PACKET_TOO_BIG or icmp_type >= _INFORMATIONAL:
            return True
        return self.bucket.allow(dst, self.interval(route_prefixlen), now)
