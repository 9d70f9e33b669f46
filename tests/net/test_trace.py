"""The trace: typed details per kind, a packet id that follows one packet across hops and into the ICMP error it
causes, and the levels ("all", "events", "drops", "none") and limit that keep long runs small."""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import IP

from layersim.app import ping
from layersim.errors import LayersimError
from layersim.net.network import Network
from layersim.net.trace.details import (
    DETAILS,
    AppNote,
    Deliver,
    Dropped,
    DropReason,
    Forward,
    IcmpErrorSent,
    ProcessNote,
    Receive,
    Send,
)
from layersim.net.trace.log import EventKind
from tests.net.conftest import CLIENT_IP, R2_LEFT, SERVER_IP, Chain, build_chain


def scenario(trace: str = "all", limit: int | None = None) -> Chain:
    """Two pings to the server (the second takes the routers' fast path), one that expires at r2, and a
    datagram to a closed port: forwards, deliveries, ICMP errors and drops."""
    chain = build_chain(seed=21, trace=trace, trace_limit=limit)
    ping(chain.client, SERVER_IP, count=2)
    ping(chain.client, SERVER_IP, count=1, ttl=2)
    chain.client.udp_socket(40000).sendto(b"x", (SERVER_IP, 9))
    chain.net.run()
    return chain


@pytest.fixture(scope="module")
def full() -> Chain:
    return scenario()


def requests(chain: Chain) -> list[int]:
    """Packet ids of the client's echo requests, in order."""
    out = []
    for event in chain.net.trace.select(EventKind.SEND, node="client"):
        if event.frame[12:14] == b"\x08\x00" and IP(event.frame[14:]).proto == 1:
            out.append(event.packet_id)
    return out


# --- typed details -------------------------------------------------------------------------------------------------

def test_every_event_has_its_kinds_dataclass(full: Chain) -> None:
    seen = set()
    for event in full.net.trace:
        assert isinstance(event.info, DETAILS[event.kind.value]), event
        assert isinstance(event.details, dict)
        seen.add(type(event.info))
    assert {Send, Receive, Deliver, Forward, IcmpErrorSent, Dropped, AppNote, ProcessNote} <= seen


def test_details_say_what_happened(full: Chain) -> None:
    trace = full.net.trace
    forwards = [e.info for e in trace.select(EventKind.FORWARD, node="r1")]
    assert forwards[0] == Forward(64, 63, R2_LEFT, "eth0")
    assert all(f.ttl_out == f.ttl_in - 1 for f in forwards)
    delivered = trace.select(EventKind.DELIVER, node="server")
    assert {e.info.protocol for e in delivered} == {"ICMP", "UDP"}
    closed = trace.drops(DropReason.NO_LISTENER)
    assert len(closed) == 1 and closed[0].node == "server" and closed[0].details["port"] == 9
    assert closed[0].reason is DropReason.NO_LISTENER
    sends = trace.select(EventKind.SEND, node="r1", interface="eth1")
    assert any(e.comment == "r1: forwarded via eth1, TTL 64->63" for e in sends)


# --- packet ids ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", [0, 1])  # the first crosses the routers' general path (ARP), the second the fast
def test_packet_id_follows_a_packet_across_every_hop(full: Chain, which: int) -> None:
    trace = full.net.trace
    packet_id = requests(full)[which]
    path = [(e.node, e.interface, e.kind) for e in trace.select(packet_id=packet_id)
            if e.kind in (EventKind.SEND, EventKind.RECEIVE, EventKind.FORWARD, EventKind.DELIVER)]
    assert path == [("client", "eth0", EventKind.SEND), ("r1", "eth0", EventKind.RECEIVE),
                    ("r1", "eth1", EventKind.FORWARD), ("r1", "eth1", EventKind.SEND),
                    ("r2", "eth0", EventKind.RECEIVE), ("r2", "eth1", EventKind.FORWARD),
                    ("r2", "eth1", EventKind.SEND), ("server", "eth0", EventKind.RECEIVE),
                    ("server", "eth0", EventKind.DELIVER)]
    frames = [e.frame for e in trace.select(EventKind.SEND, packet_id=packet_id)]
    assert [IP(f[14:]).ttl for f in frames] == [64, 63, 62]
    assert len({IP(f[14:]).id for f in frames}) == 1  # one packet indeed


def test_ids_are_distinct_per_packet(full: Chain) -> None:
    trace = full.net.trace
    ids = requests(full)
    assert len(set(ids)) == len(ids) == 3
    replies = [e.packet_id for e in trace.select(EventKind.SEND, node="server")
               if e.frame[12:14] == b"\x08\x00" and IP(e.frame[14:]).proto == 1 and IP(e.frame[14:]).payload.type == 0]
    assert len(replies) == 2 and not set(replies) & set(ids)


def test_icmp_error_about_is_the_offending_packets_id(full: Chain) -> None:
    trace = full.net.trace
    expiring = requests(full)[2]
    sent = trace.select(EventKind.ICMP_ERROR, node="r2")
    assert [(e.info.type, e.info.code, e.info.to, e.info.about) for e in sent] == [(11, 0, CLIENT_IP, expiring)]
    error_frames = [e for e in trace.select(EventKind.SEND, node="r2") if e.frame[12:14] == b"\x08\x00"
                    and IP(e.frame[14:]).proto == 1 and IP(e.frame[14:]).payload.type == 11]
    assert len(error_frames) == 1 and error_frames[0].packet_id != expiring
    followed = {(e.node, e.kind) for e in trace.select(packet_id=error_frames[0].packet_id)}
    assert ("client", EventKind.DELIVER) in followed  # the error itself is followed to the client
    udp = next(e for e in trace.select(EventKind.SEND, node="client")
               if e.frame[12:14] == b"\x08\x00" and IP(e.frame[14:]).proto == 17)
    unreachable = trace.select(EventKind.ICMP_ERROR, node="server")
    assert [(e.info.type, e.info.code, e.info.about) for e in unreachable] == [(3, 3, udp.packet_id)]


def test_hops_by_id_and_by_bytes(full: Chain) -> None:
    trace = full.net.trace
    packet_id = requests(full)[1]
    hops = trace.hops(packet_id)
    assert [(h.node, h.outcome) for h in hops] == [("client", "sent"), ("r1", "forwarded"), ("r2", "forwarded"),
                                                   ("server", "delivered")]
    assert all(h.packet_id == packet_id for h in hops)
    assert {c.field for c in hops[1].changes} == {"dst", "src", "ttl", "header_checksum"}
    frame = trace.select(EventKind.SEND, packet_id=packet_id)[1].frame  # as r1 sent it
    assert trace.hops(frame) == hops


# --- levels and limits ----------------------------------------------------------------------------------------------

def test_level_events_keeps_every_event_without_bytes(full: Chain) -> None:
    chain = scenario("events")
    kept = list(chain.net.trace)
    assert [(e.time_ns, e.node, e.interface, e.kind, e.packet_id, e.info) for e in kept] == [
        (e.time_ns, e.node, e.interface, e.kind, e.packet_id, e.info) for e in full.net.trace]
    assert all(e.frame is None for e in kept)


def test_hops_at_level_events_by_id(full: Chain) -> None:
    chain = scenario("events")
    packet_id = requests(full)[1]  # same seed, same ids
    hops = chain.net.trace.hops(packet_id)
    assert [(h.node, h.outcome, h.in_interface, h.out_interface) for h in hops] == [
        (h.node, h.outcome, h.in_interface, h.out_interface) for h in full.net.trace.hops(packet_id)]
    assert all(h.changes == () for h in hops)
    expiring = requests(full)[2]
    assert [(h.node, h.outcome) for h in chain.net.trace.hops(expiring)] == [
        ("client", "sent"), ("r1", "forwarded"), ("r2", "dropped: ttl_exceeded")]


def test_level_drops_keeps_only_drops_with_bytes(full: Chain) -> None:
    chain = scenario("drops")
    kept = list(chain.net.trace)
    assert kept and all(e.kind is EventKind.DROP for e in kept)
    assert [(e.node, e.reason) for e in kept] == [(e.node, e.reason) for e in full.net.trace.drops()]
    assert all(e.frame is not None for e in kept)
    assert {e.reason for e in kept} >= {DropReason.TTL_EXCEEDED, DropReason.NO_LISTENER}


def test_level_none_keeps_nothing_but_the_network_still_works() -> None:
    chain = build_chain(trace="none")
    assert ping(chain.client, SERVER_IP, count=2).received == 2
    assert len(chain.net.trace) == 0 and list(chain.net.trace) == [] and chain.net.trace.recorded == 0


def test_limit_keeps_the_newest_events(full: Chain) -> None:
    chain = scenario("all", limit=25)
    kept = list(chain.net.trace)
    everything = list(full.net.trace)
    assert len(kept) == 25 and chain.net.trace.recorded == len(everything)
    assert [(e.time_ns, e.node, e.kind, e.packet_id, e.frame) for e in kept] == [
        (e.time_ns, e.node, e.kind, e.packet_id, e.frame) for e in everything[-25:]]


def test_network_takes_level_and_limit() -> None:
    net = Network(trace="drops", trace_limit=3)
    assert (net.trace.level, net.trace.limit) == ("drops", 3)
    with pytest.raises(LayersimError, match="trace level 'packets' is not one of all, events, drops, none"):
        Network(trace="packets")
    with pytest.raises(LayersimError, match="trace limit 0 must be a positive number"):
        Network(trace_limit=0)


def test_trace_level_does_not_change_what_happens(tmp_path) -> None:
    captures = []
    for level in ("all", "events", "drops", "none"):
        chain = build_chain(seed=21, trace=level, trace_limit=10 if level == "events" else None)
        chain.net.capture(tmp_path / f"{level}.pcapng")
        ping(chain.client, SERVER_IP, count=2)
        ping(chain.client, SERVER_IP, count=1, ttl=2)
        chain.client.udp_socket(40000).sendto(b"x", (SERVER_IP, 9))
        chain.net.run()
        chain.net.close()
        captures.append((tmp_path / f"{level}.pcapng").read_bytes())
    assert len(captures[0]) > 1000 and len(set(captures)) == 1


def test_capture_comments_are_each_frames_own_note(tmp_path: Path) -> None:
    # The capture formats a note once and reuses the text for the same note: each frame must still carry its own
    # (the same note again, a different TTL, a note holding a list, which cannot be a key, and none at all).
    from layersim.capture import read_pcapng

    net = Network(seed=1)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.9.0.1/24", b_ip="10.9.0.2/24")
    net.capture(tmp_path / "notes.pcapng", interfaces=["a:eth0"])
    iface = a.interfaces["eth0"]
    frame = bytes(b.interfaces["eth0"].mac) + bytes(iface.mac) + b"\x88\xb5" + bytes(46)  # local experimental type
    notes = [("forward", "eth0", 64, 63), ("forward", "eth0", 64, 63), ("forward", "eth0", 9, 8),
             ("text", ["not", "hashable"]), None, ("text", ["not", "hashable"]), ("forward", "eth0", 64, 63)]
    for note in notes:
        iface.send(frame, None, note)
    net.run()
    net.close()
    sent = [r.comment for r in read_pcapng(tmp_path / "notes.pcapng") if r.data == frame][:len(notes)]
    assert sent == ["a: forwarded via eth0, TTL 64->63", "a: forwarded via eth0, TTL 64->63",
                    "a: forwarded via eth0, TTL 9->8", "a: ['not', 'hashable']", None, "a: ['not', 'hashable']",
                    "a: forwarded via eth0, TTL 64->63"]
