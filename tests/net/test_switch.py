"""A learning switch on a LAN of two hosts and a router: frames pass unchanged, source MACs are learned, unknown
destinations are flooded, entries age out."""

from __future__ import annotations

from layersim.app import ping
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire import ARP, ARPOp, decode
from layersim.wire.ethernet import BROADCAST, Ethernet
from layersim.wire.ipv4 import IPv4
from layersim.wire.udp import UDP

from .conftest import Lan, arp_frames, events, first_ipv4_sent, inject


def port_of(lan: Lan, host_iface: str) -> str:
    """The switch port a host interface is linked to."""
    iface = lan.net.interface(host_iface)
    return iface.link.peer(iface).name


def switch_sends(lan: Lan, frame: bytes) -> list[str]:
    """The switch ports a frame left by."""
    return [e.interface for e in events(lan.net, EventKind.SEND, "sw") if e.frame == frame]


def test_switch_forwards_every_frame_unchanged(lan: Lan) -> None:
    assert ping(lan.h1, "10.0.1.12", count=2).received == 2
    assert ping(lan.h1, "10.0.9.9", count=1).received == 1
    received = {e.frame for e in events(lan.net, EventKind.RECEIVE, "sw")}
    sent = events(lan.net, EventKind.SEND, "sw")
    assert sent
    for event in sent:
        assert event.frame in received, f"switch sent bytes it never received on {event.interface}"
        arrival = next(e for e in events(lan.net, EventKind.RECEIVE, "sw") if e.frame == event.frame)
        assert arrival.time_ns == event.time_ns and arrival.interface != event.interface


def test_arp_request_is_flooded_and_the_reply_switched_to_one_port(lan: Lan) -> None:
    ping(lan.h1, "10.0.1.12", count=1)
    [request], [reply] = arp_frames(lan.net, EventKind.SEND, "h1:eth0"), arp_frames(lan.net, EventKind.SEND, "h2")
    assert request[0:6] == BROADCAST and decode(request)[ARP].opcode == ARPOp.REQUEST
    assert sorted(switch_sends(lan, request)) == sorted([port_of(lan, "h2:eth0"), port_of(lan, "gw:eth0")])
    assert decode(reply)[ARP].opcode == ARPOp.REPLY
    assert switch_sends(lan, reply) == [port_of(lan, "h1:eth0")]
    drops = lan.net.trace.drops(DropReason.NOT_FOR_ME)
    assert [(d.node, d.details.get("arp_target")) for d in drops] == [("gw", "10.0.1.12")]


def test_switch_learns_the_source_mac_of_each_port(lan: Lan) -> None:
    assert lan.sw.mac_table() == {}
    ping(lan.h1, "10.0.1.12", count=1)
    h1, h2 = lan.h1.interfaces["eth0"].mac, lan.h2.interfaces["eth0"].mac
    assert lan.sw.mac_table() == {str(h1): port_of(lan, "h1:eth0"), str(h2): port_of(lan, "h2:eth0")}
    echo = first_ipv4_sent(lan.net, "h1", 1)
    assert switch_sends(lan, echo) == [port_of(lan, "h2:eth0")], "a learned destination goes to one port only"


def test_unknown_destination_is_flooded_to_every_other_port(lan: Lan) -> None:
    h1 = lan.h1.interfaces["eth0"]
    unknown = bytes.fromhex("02aabbccddee")
    packet = (IPv4(src="10.0.1.11", dst="10.0.1.12") / UDP(sport=1, dport=2) / b"who?").encode()
    inject(h1, unknown, packet)
    lan.net.run_until_idle()
    frame = unknown + bytes(h1.mac) + b"\x08\x00" + packet
    assert sorted(switch_sends(lan, frame)) == sorted([port_of(lan, "h2:eth0"), port_of(lan, "gw:eth0")])
    assert sorted(d.node for d in lan.net.trace.drops(DropReason.NOT_FOR_ME)) == ["gw", "h2"]
    assert str(h1.mac) in lan.sw.mac_table(), "the sender is learned even when the destination is not"


def test_frame_for_the_port_it_came_from_is_dropped(lan: Lan) -> None:
    h1 = lan.h1.interfaces["eth0"]
    packet = (IPv4(src="10.0.1.11", dst="10.0.1.11") / UDP(sport=1, dport=2) / b"to myself").encode()
    inject(h1, h1.mac, packet)  # the switch learns h1 on this port, then sees h1's MAC as the destination
    lan.net.run_until_idle()
    drop = lan.net.trace.drops(DropReason.NOT_FOR_ME)
    assert [(d.node, d.interface) for d in drop] == [("sw", port_of(lan, "h1:eth0"))]
    assert events(lan.net, EventKind.SEND, "sw") == []


def test_entries_age_out_and_the_destination_is_flooded_again(lan: Lan) -> None:
    lan.sw.ageing_ns = 500_000_000  # 0.5 s instead of 300 s
    ping(lan.h1, "10.0.1.12", count=2)  # the second echo is sent at 1 s, after both entries expired
    echoes = [f for f in (e.frame for e in events(lan.net, EventKind.SEND, "h1:eth0")) if f[12:14] == b"\x08\x00"]
    assert len(echoes) == 2
    assert switch_sends(lan, echoes[0]) == [port_of(lan, "h2:eth0")]
    assert sorted(switch_sends(lan, echoes[1])) == sorted([port_of(lan, "h2:eth0"), port_of(lan, "gw:eth0")])


def test_no_learning_from_a_broadcast_source(lan: Lan) -> None:
    h1 = lan.h1.interfaces["eth0"]
    spoofed = Ethernet(dst=BROADCAST, src=BROADCAST) / ARP(sender_mac=h1.mac, sender_ip="10.0.1.11",
                                                         target_ip="10.0.1.99")
    lan.h1.transmit(h1, spoofed.encode())
    lan.net.run_until_idle()
    assert lan.sw.mac_table() == {}


def test_hops_through_the_switch_and_the_router(lan: Lan) -> None:
    assert ping(lan.h1, "10.0.9.9", count=2).received == 2
    echo = [f for f in (e.frame for e in events(lan.net, EventKind.SEND, "h1:eth0")) if f[12:14] == b"\x08\x00"][1]
    hops = lan.net.trace.hops(echo)
    assert [(h.node, h.outcome) for h in hops] == [("h1", "sent"), ("sw", "switched"), ("gw", "forwarded"),
                                                     ("far", "delivered")]
    assert hops[1].changes == ()
    assert {(c.layer, c.field) for c in hops[2].changes} == {("Ethernet", "dst"), ("Ethernet", "src"),
                                                             ("IPv4", "ttl"), ("IPv4", "header_checksum")}


def test_hops_of_a_flooded_frame_name_the_switch_as_switching(lan: Lan) -> None:
    lan.sw.ageing_ns = 500_000_000
    ping(lan.h1, "10.0.1.12", count=2)
    echo = [f for f in (e.frame for e in events(lan.net, EventKind.SEND, "h1:eth0")) if f[12:14] == b"\x08\x00"][1]
    assert len(switch_sends(lan, echo)) == 2, "the second echo is flooded"
    hops = lan.net.trace.hops(echo)
    switch_hops = [h for h in hops if h.node == "sw"]
    assert switch_hops and all(h.outcome == "switched" and h.in_interface == port_of(lan, "h1:eth0")
                               for h in switch_hops)
    assert [h.node for h in hops if h.outcome == "sent"] == ["h1"]
