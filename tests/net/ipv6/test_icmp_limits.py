"""ICMPv6 error rate limiting as Linux's icmpv6_xrlim_allow: burst 6 per destination, the interval shortened by
the route's prefix length, Packet Too Big and informational messages never limited."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from layersim.net.ip.ratelimit import ErrorRateLimit
from layersim.net.ipv6.icmp_limits import Icmp6RateLimit

MS = 1_000_000
DST = IPv6Address("2001:db8:1::10")
UNREACHABLE, PTB, TIME_EXCEEDED, ECHO_REPLY = 1, 2, 3, 129


@pytest.mark.parametrize(("prefixlen", "interval_ms"), [(128, 1000), (127, 1000), (97, 1000), (96, 500), (65, 500),
                                                        (64, 250), (33, 250), (32, 125), (1, 125), (0, 62.5)])
def test_the_interval_halves_for_every_32_bits_of_prefix_missing(prefixlen, interval_ms):
    assert Icmp6RateLimit().interval(prefixlen) == int(interval_ms * MS)


def test_six_errors_then_one_per_interval():
    limit = Icmp6RateLimit()
    assert [limit.allow(UNREACHABLE, DST, 128, 0) for _ in range(7)] == [True] * 6 + [False]
    assert not limit.allow(TIME_EXCEEDED, DST, 128, 999 * MS)  # the bucket is per destination, any error type
    assert limit.allow(TIME_EXCEEDED, DST, 128, 1000 * MS)
    assert limit.allow(UNREACHABLE, IPv6Address("2001:db8:1::11"), 128, 1000 * MS)  # another destination


def test_a_shorter_route_refills_faster():
    limit = Icmp6RateLimit()
    for _ in range(6):
        limit.allow(UNREACHABLE, DST, 64, 0)
    assert not limit.allow(UNREACHABLE, DST, 64, 249 * MS)
    assert limit.allow(UNREACHABLE, DST, 64, 250 * MS)


def test_packet_too_big_and_informational_messages_are_never_limited():
    limit = Icmp6RateLimit()
    assert all(limit.allow(PTB, DST, 128, 0) for _ in range(50))
    assert all(limit.allow(ECHO_REPLY, DST, 128, 0) for _ in range(50))
    assert limit.allow(UNREACHABLE, DST, 128, 0)  # PTBs took no tokens


def test_the_shared_bucket_keeps_at_most_the_burst():
    bucket = ErrorRateLimit()
    assert bucket.allow("x", 1000, 0)
    assert sum(bucket.allow("x", 1000, 10**9) for _ in range(10)) == 6  # a long idle time refills only 6
