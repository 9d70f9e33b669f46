"""The link model: arrival = queueing + serialization (bytes * 8 / bandwidth, rounded up) + propagation delay, a
drop-tail queue, the MTU, and seeded faults that replay identically."""

from __future__ import annotations

import pytest

from layersim.app import ping
from layersim.errors import LayersimError
from layersim.net.engine.link import Faults
from layersim.net.network import Network
from layersim.net.trace.log import DropReason, EventKind

from .conftest import SERVER_IP, build_chain, events

EXPERIMENTAL = b"\x88\xb5"  # IEEE 802 local experimental EtherType: the receiver drops it as UNSUPPORTED


def pair(seed: int = 7, **link: object):
    """Hosts a and b on one link; returns (net, a's interface, b's interface)."""
    net = Network(seed=seed)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24", **link)
    return net, a.interfaces["eth0"], b.interfaces["eth0"]


def frame(src, dst, size: int, fill: int = 0) -> bytes:
    """A frame of `size` bytes from one interface to another."""
    return bytes(dst.mac) + bytes(src.mac) + EXPERIMENTAL + bytes([fill]) * (size - 14)


def send(iface, data: bytes) -> None:
    iface.node.transmit(iface, data)


def arrivals(net: Network, iface) -> list[tuple[int, bytes]]:
    """(time, frame) of what arrived at an interface."""
    return [(e.time_ns, e.frame) for e in events(net, EventKind.RECEIVE, iface)]


def test_arrival_is_serialization_plus_propagation() -> None:
    net, a, b = pair(delay="2ms", bandwidth="10Mbit")
    small, big, later = frame(a, b, 100), frame(a, b, 1514, 1), frame(a, b, 60, 2)
    send(a, small)
    send(a, big)  # queued behind the first
    net.clock.at(10_000_000, send, a, later)  # the wire is idle again by then
    net.run_until_idle()
    ns_per_byte = 800  # 8 bits at 10 Mbit/s
    assert arrivals(net, b) == [
        (100 * ns_per_byte + 2_000_000, small),
        ((100 + 1514) * ns_per_byte + 2_000_000, big),
        (10_000_000 + 60 * ns_per_byte + 2_000_000, later),
    ]


def test_serialization_time_is_rounded_up_to_a_nanosecond() -> None:
    net, a, b = pair(delay=0, bandwidth=3_000_000)
    send(a, frame(a, b, 61))
    net.run_until_idle()
    assert arrivals(net, b)[0][0] == 162_667  # 488 bits / 3 Mbit/s = 162666.7 ns


def test_ping_rtt_is_the_sum_of_the_link_times() -> None:
    chain = build_chain(link_a={"delay": "1ms", "bandwidth": "100Mbit"}, link_b={"delay": "5ms", "bandwidth": "10Mbit"},
                        link_c={"delay": "250us", "bandwidth": "1Gbit"})
    result = ping(chain.client, SERVER_IP, count=2)
    echo = 98 * 8  # bits in a 56-byte ping's frame
    one_way = (1_000_000 + echo * 10) + (5_000_000 + echo * 100) + (250_000 + echo * 1)
    assert result.rtts_ns[2] == 2 * one_way, "the second ping needs no ARP"


def test_back_to_back_frames_leave_one_serialization_apart() -> None:
    net, a, b = pair(delay="1ms", bandwidth="64kbit")
    for i in range(5):
        send(a, frame(a, b, 142, i))
    net.run_until_idle()
    assert [t for t, _ in arrivals(net, b)] == [1_000_000 + k * 17_750_000 for k in range(1, 6)]


def test_queue_holds_at_most_its_limit_including_the_frame_on_the_wire() -> None:
    net, a, b = pair(delay="1ms", bandwidth="64kbit", queue=3)
    for i in range(5):
        send(a, frame(a, b, 142, i))
    drops = net.trace.drops(DropReason.QUEUE_FULL)
    assert [d.frame[-1] for d in drops] == [3, 4]
    net.clock.at(17_750_000, send, a, frame(a, b, 142, 5))  # the first frame has left: room for one
    net.run_until_idle()
    assert [f[-1] for _, f in arrivals(net, b)] == [0, 1, 2, 5]


def test_frame_longer_than_the_mtu_is_dropped() -> None:
    net, a, b = pair(mtu=1000)
    send(a, frame(a, b, 1014))
    send(a, frame(a, b, 1015, 1))
    net.run_until_idle()
    [drop] = net.trace.drops(DropReason.MTU_EXCEEDED)
    assert (drop.node, drop.details["mtu"], len(drop.frame)) == ("a", 1000, 1015)
    assert [len(f) for _, f in arrivals(net, b)] == [1014]


def test_duplicate_arrives_one_serialization_after_the_original() -> None:
    net, a, b = pair(delay="1ms", bandwidth="100Mbit", duplicate=1.0)
    data = frame(a, b, 100)
    send(a, data)
    net.run_until_idle()
    assert arrivals(net, b) == [(1_008_000, data), (1_016_000, data)]
    assert [e.details for e in events(net, EventKind.LINK, a)] == [{"fault": "duplicate"}]


def test_reordered_frames_are_held_back_by_one_delay_and_two_serializations() -> None:
    net, a, b = pair(delay="1ms", bandwidth="100Mbit", reorder=0.5)
    sent = [frame(a, b, 100, i) for i in range(10)]
    for data in sent:
        send(a, data)
    net.run_until_idle()
    held = {e.frame: e.details["arrive_ns"] for e in events(net, EventKind.LINK, a)}
    assert 0 < len(held) < 10, "this seed reorders some frames and not others"
    for i, data in enumerate(sent):
        normal = (i + 1) * 8_000 + 1_000_000
        expected = normal + 1_000_000 + 2 * 8_000 if data in held else normal
        assert (expected, data) in arrivals(net, b)
        assert held.get(data, expected) == expected
    assert [f for _, f in arrivals(net, b)] != sent


def test_corruption_flips_exactly_the_reported_bit() -> None:
    net, a, b = pair(corrupt=1.0, corrupt_fcs="pass")  # delivered, so what arrived can be compared
    sent = [frame(a, b, 80, i) for i in range(5)]
    for data in sent:
        send(a, data)
    net.run_until_idle()
    flips = [e.details["bit"] for e in events(net, EventKind.LINK, a)]
    for bit, data, (_, got) in zip(flips, sent, arrivals(net, b), strict=True):
        assert int.from_bytes(data, "big") ^ int.from_bytes(got, "big") == 1 << (len(data) * 8 - 1 - bit)


def test_faults_can_differ_per_direction() -> None:
    net, a, b = pair(loss=1.0, faults_ba=Faults())
    send(a, frame(a, b, 60))
    send(b, frame(b, a, 60))
    net.run_until_idle()
    assert [d.node for d in net.trace.drops(DropReason.LINK_LOSS)] == ["a"]
    assert len(arrivals(net, a)) == 1 and arrivals(net, b) == []


def faulty_run(seed: int) -> Network:
    """Forty frames through a link with every fault at once."""
    net, a, b = pair(seed, loss=0.2, duplicate=0.2, reorder=0.2, corrupt=0.2)
    for i in range(40):
        send(a, frame(a, b, 64, i))
    net.run_until_idle()
    return net


def test_faults_replay_identically_with_the_same_seed() -> None:
    first, again = faulty_run(7), faulty_run(7)
    assert first.trace.events == again.trace.events
    kinds = {e.details.get("fault") or e.details.get("reason") for e in first.trace.events
             if e.kind in (EventKind.LINK, EventKind.DROP) and e.node == "a"}
    assert kinds == {"duplicate", "reorder", "corrupt", DropReason.LINK_LOSS}


def test_another_seed_gives_other_faults() -> None:
    def pattern(net: Network) -> list[tuple]:
        return [(e.kind, e.frame[-1], e.details.get("bit")) for e in net.trace.events
                if e.kind in (EventKind.LINK, EventKind.DROP) and e.node == "a"]

    assert pattern(faulty_run(7)) != pattern(faulty_run(8))


@pytest.mark.parametrize("options", [{"mtu": 67}, {"queue": 0}, {"loss": 1.5}, {"corrupt": -0.1}])
def test_impossible_links_are_refused(options: dict) -> None:
    with pytest.raises(LayersimError):
        pair(**options)
