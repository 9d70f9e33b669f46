"""Duplicate address detection as Linux does it: one solicitation after a random delay below 1 s, usable 1 s
later; an advertisement or another node's DAD for the address makes it dadfailed."""

from __future__ import annotations

import random
from ipaddress import IPv6Address

from layersim.net.ipv6.dad import Dad, DadState

SECOND = 1_000_000_000
ADDR = IPv6Address("2001:db8:1::10")


def test_one_probe_after_a_random_delay_then_usable_one_second_later():
    dad = Dad(random.Random(5))
    start = dad.start(ADDR, "eth0", 100)
    assert start.probe is None and 100 <= start.deadline < 100 + SECOND
    assert not dad.usable(ADDR) and dad.state(ADDR) is DadState.TENTATIVE
    assert dad.on_timer(ADDR, start.deadline - 1).probe is None  # early: nothing
    probe = dad.on_timer(ADDR, start.deadline)
    assert probe.probe == ADDR and probe.deadline == start.deadline + SECOND
    assert dad.on_timer(ADDR, probe.deadline - 1).state is DadState.TENTATIVE
    done = dad.on_timer(ADDR, probe.deadline)
    assert done.state is DadState.PREFERRED and done.probe is None and done.deadline is None
    assert dad.usable(ADDR)


def test_the_delay_comes_from_the_seeded_generator():
    delays = {Dad(random.Random(seed)).start(ADDR, "eth0", 0).deadline for seed in range(50)}
    assert len(delays) > 40 and all(0 <= d < SECOND for d in delays)
    assert Dad(random.Random(9)).start(ADDR, "eth0", 0) == Dad(random.Random(9)).start(ADDR, "eth0", 0)


def test_an_advertisement_for_a_tentative_address_fails_it():
    dad = Dad(random.Random(1))
    start = dad.start(ADDR, "eth0", 0)
    dad.on_timer(ADDR, start.deadline)
    assert dad.receive_na(ADDR)
    assert dad.state(ADDR) is DadState.DUPLICATE and not dad.usable(ADDR)
    assert dad.on_timer(ADDR, start.deadline + SECOND).state is DadState.DUPLICATE  # never becomes usable


def test_another_nodes_dad_fails_it_but_an_ordinary_solicitation_does_not():
    dad = Dad(random.Random(1))
    dad.start(ADDR, "eth0", 0)
    assert not dad.receive_ns(ADDR, IPv6Address("2001:db8:1::99"))
    assert dad.state(ADDR) is DadState.TENTATIVE
    assert dad.receive_ns(ADDR, IPv6Address("::"))
    assert dad.state(ADDR) is DadState.DUPLICATE


def test_a_preferred_address_is_not_failed_by_a_late_advertisement():
    dad = Dad(random.Random(1), max_delay_ns=0)
    dad.start(ADDR, "eth0", 0)
    dad.on_timer(ADDR, 0)
    dad.on_timer(ADDR, SECOND)
    assert not dad.receive_na(ADDR) and dad.usable(ADDR)


def test_no_dad_when_dad_transmits_is_zero_and_untested_addresses_are_usable():
    dad = Dad(random.Random(1), transmits=0)
    assert dad.start(ADDR, "eth0", 0).state is DadState.PREFERRED and dad.usable(ADDR)
    assert Dad(random.Random(1)).usable(ADDR) and Dad(random.Random(1)).state(ADDR) is None
