"""Router Advertisements: radvd's schedule, solicited answers, Linux's solicitation backoff, and SLAAC."""

from __future__ import annotations

import random
from ipaddress import IPv6Address, IPv6Interface, IPv6Network
from itertools import pairwise

import pytest

from layersim.errors import LayersimError
from layersim.net.ipv6.router_adv import Advert, Advertiser, PrefixInfo, Solicitor, process_advert
from layersim.wire.addresses import MAC

SECOND = 1_000_000_000
HOST_MAC = MAC("02:00:00:00:00:0a")
ROUTER = IPv6Address("fe80::ff:fe00:1")


def test_the_first_three_advertisements_come_at_most_16_s_apart_then_198_to_600_s():
    adv = Advertiser(random.Random(4))
    now = adv.start(0)
    gaps = []
    for _ in range(40):
        nxt = adv.on_timer(now)
        gaps.append(nxt - now)
        now = nxt
    assert all(0 < gap <= 16 * SECOND for gap in gaps[:2])
    assert all(198 * SECOND <= gap <= 600 * SECOND for gap in gaps[2:])
    assert adv.on_timer(now - 1) is None  # not due yet


def test_a_solicited_advertisement_comes_within_half_a_second_but_not_within_3_s_of_the_last():
    adv = Advertiser(random.Random(4))
    adv.on_timer(adv.start(0))  # one sent at 0; the next unsolicited one is up to 16 s away
    due = adv.solicited(10 * SECOND)
    assert 10 * SECOND <= due <= 10 * SECOND + SECOND // 2
    adv.on_timer(due)
    assert adv.solicited(due + 1) == due + 3 * SECOND  # MIN_DELAY_BETWEEN_RAS


def test_advertiser_intervals_are_checked():
    with pytest.raises(LayersimError, match="MinRtrAdvInterval"):
        Advertiser(random.Random(0), min_interval_ns=SECOND)
    with pytest.raises(LayersimError, match="MinRtrAdvInterval"):
        Advertiser(random.Random(0), max_interval_ns=10 * SECOND, min_interval_ns=8 * SECOND)


def test_solicitations_back_off_from_4_s_to_an_hour_and_stop_on_an_advert():
    sol = Solicitor(random.Random(2))
    now = sol.start(0)
    gaps = []
    for _ in range(15):
        nxt = sol.on_timer(now)
        gaps.append(nxt - now)
        now = nxt
    assert gaps[0] == 4 * SECOND
    assert all(1.8 * a <= b <= 2.2 * a or b == 3600 * SECOND for a, b in pairwise(gaps))
    assert gaps[-1] == 3600 * SECOND
    sol.advert_received()
    assert sol.on_timer(now) is None


def test_slaac_forms_an_address_per_autonomous_64_prefix_and_a_default_router():
    advert = Advert(ROUTER, MAC("02:00:00:00:00:01"), prefixes=(
        PrefixInfo(IPv6Network("2001:db8:1::/64")),
        PrefixInfo(IPv6Network("2001:db8:2::/64"), autonomous=False),
        PrefixInfo(IPv6Network("2001:db8:3::/48")),
        PrefixInfo(IPv6Network("fe80::/64")),
        PrefixInfo(IPv6Network("2001:db8:4::/64"), valid_ns=10, preferred_ns=20),
        PrefixInfo(IPv6Network("2001:db8:5::/64"), valid_ns=0, preferred_ns=0),
        PrefixInfo(IPv6Network("2001:db8:6::/64"))), mtu=1400)
    outcome = process_advert(advert, HOST_MAC, {IPv6Network("2001:db8:6::/64")}, 1500)
    assert outcome.addresses == (IPv6Interface("2001:db8:1::ff:fe00:a/64"),)
    assert outcome.default_router == ROUTER and outcome.router_lifetime_ns == 1800 * SECOND
    assert outcome.mtu == 1400
    assert [reason for _, reason in outcome.ignored] == [
        "A flag clear", "prefix length 48, not 64", "link-local prefix", "preferred lifetime longer than valid",
        "valid lifetime 0"]


@pytest.mark.parametrize(("mtu", "used"), [(1279, None), (1280, 1280), (1500, 1500), (1501, None)])
def test_the_mtu_option_is_used_only_between_1280_and_the_link_mtu(mtu, used):
    assert process_advert(Advert(ROUTER, None, mtu=mtu), HOST_MAC, set(), 1500).mtu == used


def test_router_lifetime_zero_means_not_a_default_router():
    outcome = process_advert(Advert(ROUTER, None, router_lifetime_ns=0), HOST_MAC, set(), 1500)
    assert outcome.router_lifetime_ns == 0 and outcome.addresses == ()
