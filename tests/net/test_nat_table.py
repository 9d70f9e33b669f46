"""MappingTable on its own: removal leaves no stale index entry, outside port choice as nf_nat's
get_unique_tuple makes it (known answers for a seeded generator), conntrack's ASSURED rule, and expiry order."""

from __future__ import annotations

import random
from ipaddress import IPv4Address

import pytest

from layersim.net.nat.conntrack import (
    ACK,
    FIN,
    LINUX_TIMEOUTS,
    NS_PER_S,
    ORIGINAL,
    REPLY,
    SYN,
    SYNACK,
    TcpState,
)
from layersim.net.nat.table import MappingTable

OUTSIDE = IPv4Address("203.0.113.1")
H1, H2 = int(IPv4Address("192.168.1.10")), int(IPv4Address("192.168.1.11"))
R1, R2 = int(IPv4Address("198.51.100.1")), int(IPv4Address("198.51.100.2"))
SEED = 7


def table(port_range: tuple[int, int] | None = None) -> MappingTable:
    """A table for OUTSIDE with Linux's timeouts and a generator seeded with SEED."""
    return MappingTable(OUTSIDE, port_range, LINUX_TIMEOUTS, random.Random(SEED))


def udp(t: MappingTable, src: int, sport: int, dst: int, dport: int = 53, now: int = 0):
    """A new UDP mapping (asserting one was made)."""
    m = t.create(17, src, sport, dst, dport, now, None)
    assert m is not None
    return m


def first_offset(draw: int = 1) -> int:
    """The random offset of the `draw`-th search with this seed (getrandbits(16), as nf_nat's prandom_u32)."""
    rng = random.Random(SEED)
    return [rng.getrandbits(16) for _ in range(draw)][-1]


def test_remove_leaves_no_stale_entries():
    t = table()
    m = udp(t, H1, 5000, R1)
    t.remove(m, "reset", 5)
    assert (t.by_original, t.by_reply, t.by_source) == ({}, {}, {})
    t.remove(m, "reset", 6)  # removing twice is harmless
    assert [(e.kind, e.time) for e in t.drain_events()] == [("created", 0), ("reset", 5), ("reset", 6)]


def test_remove_keeps_the_other_mappings_of_the_same_source():
    t = table()
    a, b = udp(t, H1, 5000, R1), udp(t, H1, 5000, R2)
    t.remove(a, "reset", 1)
    assert t.by_source == {(17, H1, 5000): [b]}
    assert t.by_reply == {(17, R2, 53, 5000): b}
    assert t.by_original == {(17, H1, 5000, R2, 53): b}


def test_remove_does_not_drop_an_entry_another_mapping_now_holds():
    """A mapping replaced under the same reply key (expired, then the port reused) must not take the new one with it."""
    t = table()
    old = udp(t, H1, 5000, R1)
    assert t.live(old, old.expires) is None  # timed out: removed
    new = udp(t, H2, 5000, R1, now=old.expires)
    assert new.outside_port == 5000
    t.remove(old, "expired", old.expires + 1)
    assert t.by_reply == {(17, R1, 53, 5000): new} and t.by_source == {(17, H2, 5000): [new]}


def test_expired_event_is_dated_at_the_deadline():
    t = table()
    m = udp(t, H1, 5000, R1)
    assert t.next_deadline() == 30 * NS_PER_S
    assert t.expire(31 * NS_PER_S) == [m]
    assert [(e.kind, e.time) for e in t.drain_events()][-1] == ("expired", 30 * NS_PER_S)
    assert t.next_deadline() is None


def test_expiry_in_creation_order_for_equal_deadlines():
    t = table()
    ms = [udp(t, H1, 5000 + k, R1) for k in range(3)]
    assert t.expire(30 * NS_PER_S) == ms


def test_second_mapping_of_a_source_reuses_its_outside_port_if_free():
    """nf_nat: an inside endpoint keeps one outside port for all its remotes while it is free there."""
    t = table()
    udp(t, H2, 5000, R2)                    # R2 already sees 5000 from H2
    a = udp(t, H1, 5000, R1)
    assert a.outside_port == 5000
    b = udp(t, H1, 5000, R2)                # 5000 is taken towards R2: search from the random offset
    assert b.outside_port == 1024 + first_offset() % 64512


def test_expired_mapping_of_the_source_is_not_reused():
    t = table()
    udp(t, H2, 5000, R1)                            # holds 5000 towards R1 (and lives 30 s)
    a = udp(t, H1, 5000, R1)                        # so H1 gets a searched port
    assert a.outside_port != 5000
    b = udp(t, H1, 5000, R2, now=a.expires)         # a has expired: H1 keeps its own port 5000 towards R2
    assert b.outside_port == 5000


@pytest.mark.parametrize("edge", ["low", "high"])
def test_reused_port_at_the_edge_of_the_range(edge):
    t = table((6000, 6000))
    a = udp(t, H1, 5000, R1)
    assert a.outside_port == 6000
    t.port_range = (6000, 6100) if edge == "low" else (5900, 6000)
    assert udp(t, H1, 5000, R2).outside_port == 6000


def test_reused_port_outside_a_new_range_is_not_reused():
    t = table((6000, 6000))
    udp(t, H1, 5000, R1)  # 5000 is outside the range: the first search, one port to try
    t.port_range = (7000, 7100)
    assert udp(t, H1, 5000, R2).outside_port == 7000 + first_offset(2) % 101


def test_router_own_connections_do_not_reuse_a_searched_port():
    """The router's own packets, already from the outside address, skip the reuse step (Linux does too)."""
    t = table()
    udp(t, H1, 1000, R1)                             # 1000 towards R1 taken
    own = udp(t, int(OUTSIDE), 1000, R1)             # the router's own port 1000 to R1: searched
    assert own.outside_port != 1000
    assert udp(t, int(OUTSIDE), 1000, R2).outside_port == 1000


@pytest.mark.parametrize(("sport", "low", "size"), [
    (511, 1, 511), (512, 600, 424), (1023, 600, 424), (1024, 1024, 64512)])
def test_search_range_by_source_port_class(sport, low, size):
    """nf_nat_l4proto_unique_tuple without a range: ports below 512 map into 1-511, below 1024 into 600-1023, the
    rest into 1024-65535, starting at a random offset."""
    t = table()
    udp(t, H2, sport, R1)
    assert udp(t, H1, sport, R1).outside_port == low + first_offset() % size


def test_icmp_identifiers_ignore_the_port_range_and_search_all_65536():
    t = MappingTable(OUTSIDE, (6000, 6001), LINUX_TIMEOUTS, random.Random(SEED))
    a = t.create(1, H1, 5, R1, 8, 0, None)
    assert a is not None and a.outside_port == 5  # identifier 5 kept: the range is for ports only
    b = t.create(1, H2, 5, R1, 8, 0, None)
    assert b is not None and b.outside_port == first_offset() % 65536


def test_exhausted_range_gives_none_after_one_round():
    """A 20-port range, all taken towards R1: the first round tries all 20, and no further offsets are drawn."""
    t = table((6000, 6019))
    for k in range(20):
        udp(t, H2, 7000 + k, R1)
    t.rng = random.Random(SEED)
    assert t.create(17, H1, 5000, R1, 53, 0, None) is None
    check = random.Random(SEED)
    check.getrandbits(16)
    assert t.rng.getrandbits(32) == check.getrandbits(32)


def test_assured_only_when_the_handshake_completes():
    """conntrack's tcp_packet: ASSURED on the ACK that completes the handshake after a reply, not on a reply alone
    or a FIN in SYN_RECV."""
    t = table()
    m = t.create(6, H1, 5000, R1, 80, 0, TcpState.SYN_SENT)
    assert m is not None
    t.track_tcp(m, REPLY, SYNACK, 1)
    t.track_tcp(m, REPLY, SYNACK, 2)  # the SYN-ACK again: still SYN_RECV, not assured
    assert (m.state, m.replied, m.assured) == (TcpState.SYN_RECV, True, False)
    t.track_tcp(m, ORIGINAL, FIN, 3)
    assert (m.state, m.assured) == (TcpState.FIN_WAIT, False)
    m = t.create(6, H1, 5001, R1, 80, 0, TcpState.SYN_SENT)
    t.track_tcp(m, REPLY, SYNACK, 1)
    t.track_tcp(m, ORIGINAL, ACK, 2)
    assert (m.state, m.assured, m.expires) == (TcpState.ESTABLISHED, True, 2 + 432000 * NS_PER_S)


def test_retransmitted_syn_does_not_extend_syn_sent():
    t = table()
    m = t.create(6, H1, 5000, R1, 80, 0, TcpState.SYN_SENT)
    t.track_tcp(m, ORIGINAL, SYN, 5 * NS_PER_S)
    assert m.expires == 120 * NS_PER_S
