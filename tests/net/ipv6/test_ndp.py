"""The IPv6 neighbour cache as a state machine: every NUD transition, Linux's timers and their boundaries."""

from __future__ import annotations

import random
from ipaddress import IPv6Address

import pytest

from layersim.errors import LayersimError
from layersim.net.ipv6.ndp import TRANSITIONS, NdEvent, NeighbourCache, NudState, Solicit, reachable_time
from layersim.wire.addresses import MAC

SECOND = 1_000_000_000
PEER = IPv6Address("2001:db8:1::1")
MAC_A, MAC_B = MAC("02:00:00:00:00:0a"), MAC("02:00:00:00:00:0b")


def cache() -> NeighbourCache:
    return NeighbourCache(random.Random(7))


def reachable(c: NeighbourCache, now: int = 0) -> None:
    """Bring PEER to REACHABLE at `now` with MAC_A."""
    c.resolve(PEER, "eth0", "p0", now)
    c.receive_na(PEER, MAC_A, solicited=True, override=True, now=now)
    assert c.state(PEER) is NudState.REACHABLE


def stale(c: NeighbourCache) -> int:
    """Bring PEER to STALE; returns the time it happened."""
    reachable(c)
    when = c.reachable_ns
    c.on_timer(PEER, when)
    assert c.state(PEER) is NudState.STALE
    return when


def test_reachable_time_is_drawn_between_half_and_one_and_a_half_base():
    draws = [reachable_time(30 * SECOND, random.Random(seed)) for seed in range(300)]
    assert all(15 * SECOND <= d < 45 * SECOND for d in draws)
    assert min(draws) < 16 * SECOND and max(draws) > 44 * SECOND  # the whole range is used
    assert NeighbourCache(random.Random(3)).reachable_ns == NeighbourCache(random.Random(3)).reachable_ns
    with pytest.raises(LayersimError, match="times must be positive"):
        NeighbourCache(random.Random(0), retrans_ns=0)


def test_incomplete_solicits_three_times_by_multicast_then_fails_the_queue():
    c = cache()
    first = c.resolve(PEER, "eth0", "p1", 0)
    assert first.queued and first.solicits == [Solicit(PEER, "eth0", None, 1)] and first.deadline == SECOND
    again = c.resolve(PEER, "eth0", "p2", 10)
    assert again.queued and not again.solicits and c.state(PEER) is NudState.INCOMPLETE
    assert c.on_timer(PEER, SECOND - 1).solicits == []  # not yet due: nothing
    assert c.on_timer(PEER, SECOND).solicits == [Solicit(PEER, "eth0", None, 2)]
    assert c.on_timer(PEER, 2 * SECOND).solicits == [Solicit(PEER, "eth0", None, 3)]
    result = c.on_timer(PEER, 3 * SECOND)
    assert result.failed == ["p1", "p2"] and not result.solicits  # -> ICMPv6 Address Unreachable for each
    assert c.state(PEER) is NudState.FAILED


def test_incomplete_queue_has_a_limit():
    c = NeighbourCache(random.Random(0), queue_limit=2)
    c.resolve(PEER, "eth0", "p1", 0)
    assert c.resolve(PEER, "eth0", "p2", 0).queued
    assert c.resolve(PEER, "eth0", "p3", 0).dropped


def test_incomplete_to_reachable_on_a_solicited_na_flushes_the_queue():
    c = cache()
    c.resolve(PEER, "eth0", "p1", 0)
    result = c.receive_na(PEER, MAC_A, solicited=True, override=True, now=500)
    assert result.send == [("p1", MAC_A)] and result.deadline == 500 + c.reachable_ns
    assert c.state(PEER) is NudState.REACHABLE


def test_incomplete_to_stale_on_an_unsolicited_na_and_na_without_lladdr_is_discarded():
    c = cache()
    c.resolve(PEER, "eth0", "p1", 0)
    assert c.receive_na(PEER, None, solicited=True, override=True, now=1).send == []
    assert c.state(PEER) is NudState.INCOMPLETE
    assert c.receive_na(PEER, MAC_A, solicited=False, override=True, now=2).send == [("p1", MAC_A)]
    assert c.state(PEER) is NudState.STALE


def test_incomplete_to_stale_on_a_solicitation_from_the_neighbour():
    c = cache()
    c.resolve(PEER, "eth0", "p1", 0)
    assert c.receive_ns(PEER, MAC_A, "eth0", 3).send == [("p1", MAC_A)]
    assert c.state(PEER) is NudState.STALE


def test_reachable_to_stale_exactly_when_the_reachable_time_passes():
    c = cache()
    reachable(c)
    c.on_timer(PEER, c.reachable_ns - 1)
    assert c.state(PEER) is NudState.REACHABLE
    c.on_timer(PEER, c.reachable_ns)
    assert c.state(PEER) is NudState.STALE


def test_a_confirmation_while_reachable_postpones_stale():
    c = cache()
    reachable(c)
    c.confirm(PEER, 10 * SECOND)
    assert c.on_timer(PEER, c.reachable_ns).deadline == 10 * SECOND + c.reachable_ns
    assert c.state(PEER) is NudState.REACHABLE
    c.on_timer(PEER, 10 * SECOND + c.reachable_ns)
    assert c.state(PEER) is NudState.STALE


def test_sending_to_a_reachable_entry_past_its_time_starts_delay():
    c = cache()
    reachable(c)
    result = c.resolve(PEER, "eth0", "late", c.reachable_ns)  # the timer has not run yet
    assert result.send == [("late", MAC_A)] and c.state(PEER) is NudState.DELAY


def test_stale_to_delay_on_send_and_delay_to_reachable_when_confirmed_in_time():
    c = cache()
    t = stale(c)
    result = c.resolve(PEER, "eth0", "p", t)
    assert result.send == [("p", MAC_A)] and result.deadline == t + 5 * SECOND
    assert c.state(PEER) is NudState.DELAY
    c.confirm(PEER, t)  # e.g. TCP saw an ACK; neigh_timer_handler: now <= confirmed + delay_first_probe_time
    c.on_timer(PEER, t + 5 * SECOND)
    assert c.state(PEER) is NudState.REACHABLE


def test_delay_to_probe_when_unconfirmed_then_unicast_probes_then_failed():
    c = cache()
    t = stale(c)
    c.resolve(PEER, "eth0", "p", t)
    c.confirm(PEER, t - 1)  # one nanosecond too early to count
    result = c.on_timer(PEER, t + 5 * SECOND)
    assert c.state(PEER) is NudState.PROBE
    assert result.solicits == [Solicit(PEER, "eth0", MAC_A, 1)]  # unicast to the MAC it has
    assert c.resolve(PEER, "eth0", "q", t + 5 * SECOND).send == [("q", MAC_A)]  # PROBE still sends
    assert c.on_timer(PEER, t + 6 * SECOND).solicits == [Solicit(PEER, "eth0", MAC_A, 2)]
    assert c.on_timer(PEER, t + 7 * SECOND).solicits == [Solicit(PEER, "eth0", MAC_A, 3)]
    assert c.on_timer(PEER, t + 8 * SECOND).failed == []
    assert c.state(PEER) is NudState.FAILED


def test_probe_to_reachable_on_a_solicited_na():
    c = cache()
    t = stale(c)
    c.resolve(PEER, "eth0", "p", t)
    c.on_timer(PEER, t + 5 * SECOND)
    c.receive_na(PEER, MAC_A, solicited=True, override=False, now=t + 5 * SECOND + 1)
    assert c.state(PEER) is NudState.REACHABLE


def test_a_confirmation_leaves_stale_alone_as_linux_does():
    c = cache()
    t = stale(c)
    c.confirm(PEER, t + 1)  # neigh_confirm only stamps the time ...
    assert c.state(PEER) is NudState.STALE
    c.resolve(PEER, "eth0", "p", t + 1)  # ... which the DELAY timer then finds
    assert c.state(PEER) is NudState.DELAY
    c.on_timer(PEER, t + 1 + 5 * SECOND)
    assert c.state(PEER) is NudState.REACHABLE


def test_failed_to_incomplete_when_a_packet_is_sent_again():
    c = cache()
    c.resolve(PEER, "eth0", "p1", 0)
    for second in (1, 2, 3):
        c.on_timer(PEER, second * SECOND)
    assert c.state(PEER) is NudState.FAILED
    result = c.resolve(PEER, "eth0", "p2", 4 * SECOND)
    assert result.queued and result.solicits == [Solicit(PEER, "eth0", None, 1)]
    assert c.state(PEER) is NudState.INCOMPLETE


def test_override_clear_with_another_mac_only_makes_reachable_stale():
    # RFC 4861 §7.2.5: O clear and a different address: keep the old address, REACHABLE becomes STALE
    c = cache()
    reachable(c)
    c.receive_na(PEER, MAC_B, solicited=True, override=False, now=1)
    assert c.state(PEER) is NudState.STALE and c.entries[PEER].mac == MAC_A
    c.receive_na(PEER, MAC_B, solicited=False, override=False, now=2)
    assert c.state(PEER) is NudState.STALE and c.entries[PEER].mac == MAC_A


def test_override_set_takes_the_new_mac():
    c = cache()
    reachable(c)
    c.receive_na(PEER, MAC_B, solicited=False, override=True, now=1)
    assert c.state(PEER) is NudState.STALE and c.entries[PEER].mac == MAC_B
    c.receive_na(PEER, MAC_A, solicited=True, override=True, now=2)
    assert c.state(PEER) is NudState.REACHABLE and c.entries[PEER].mac == MAC_A


def test_an_unsolicited_na_that_changes_nothing_changes_nothing():
    c = cache()
    t = stale(c)
    c.receive_na(PEER, MAC_A, solicited=False, override=True, now=t + 1)
    assert c.state(PEER) is NudState.STALE


def test_reachable_to_stale_on_a_solicitation_with_a_new_mac():
    c = cache()
    reachable(c)
    c.receive_ns(PEER, MAC_B, "eth0", 1)
    assert c.state(PEER) is NudState.STALE and c.entries[PEER].mac == MAC_B


def test_advertisements_create_no_entry_and_dad_solicitations_change_nothing():
    c = cache()
    c.receive_na(PEER, MAC_A, solicited=False, override=True, now=0)
    assert c.state(PEER) is None
    c.receive_ns(IPv6Address("::"), MAC_A, "eth0", 0)
    assert c.entries == {}
    c.receive_ns(PEER, MAC_A, "eth0", 0)  # a solicitation with an address: a new STALE entry (§7.2.3)
    assert c.state(PEER) is NudState.STALE


def test_the_cache_prints_like_ip_6_neigh():
    c = cache()
    reachable(c)
    c.resolve(IPv6Address("2001:db8:1::2"), "eth0", "p", 0)
    assert str(c).splitlines() == ["2001:db8:1::1 dev eth0 lladdr 02:00:00:00:00:0a REACHABLE",
                                   "2001:db8:1::2 dev eth0 INCOMPLETE"]


def test_every_state_has_its_linux_name_and_the_table_only_names_states():
    assert {s.value for s in NudState} == {"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED"}
    assert set(TRANSITIONS) == set(NudState)
    assert all(isinstance(e, NdEvent) and isinstance(s, NudState) for row in TRANSITIONS.values()
               for e, s in row.items())
