"""The path MTU cache as IPv6 uses it (RFC 8201): Packet Too Big lowers it, never below 1280, never locked."""

from __future__ import annotations

from ipaddress import IPv6Address

from layersim.net.ip.pmtu import PathMtuCache

DST = int(IPv6Address("2001:db8:2::10"))
MINUTE = 60 * 1_000_000_000


def test_packet_too_big_lowers_and_never_raises():
    cache = PathMtuCache(version=6)
    assert cache.learn(DST, 1400, 0) and cache.get(DST, 0) == 1400
    assert not cache.learn(DST, 1450, 1)  # RFC 8201 §4: a larger MTU is not an increase
    assert cache.learn(DST, 1281, 2) and cache.get(DST, 2) == 1281


def test_below_1280_is_raised_to_1280_and_not_locked():
    cache = PathMtuCache(version=6)
    assert cache.learn(DST, 1279, 0) and cache.get(DST, 0) == 1280
    assert not cache.is_locked(DST, 0)  # no fragment header on every packet (RFC 8021)
    assert not cache.learn(DST, 576, 1)


def test_an_ipv4_cache_still_locks_below_552():
    cache = PathMtuCache()
    cache.learn(1, 500, 0)
    assert cache.get(1, 0) == 552 and cache.is_locked(1, 0)


def test_a_learned_mtu_expires_after_ten_minutes():
    cache = PathMtuCache(version=6)
    cache.learn(DST, 1400, 0)
    assert cache.get(DST, 10 * MINUTE - 1) == 1400
    assert cache.get(DST, 10 * MINUTE) is None
