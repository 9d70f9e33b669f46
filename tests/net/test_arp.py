"""ARP (RFC 826) on the wire and in the cache: request and reply bytes, learning, retries, expiry, the pending
queue, and gratuitous ARP ignored safely."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from layersim.app import ping
from layersim.net.ip.neighbours import ArpCache
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire import ARP, ARPOp, decode
from layersim.wire.addresses import MAC
from layersim.wire.ethernet import BROADCAST, Ethernet

from .conftest import (
    CLIENT_IP,
    R1_LEFT,
    SERVER_IP,
    Chain,
    arp_frames,
    build_chain,
    events,
    ipv4_frames,
)

STRANGER_MAC = MAC("02:00:00:00:00:99")


def arp_frame(sender_mac: MAC, sender_ip: str, target_ip: str, *, opcode: ARPOp = ARPOp.REQUEST,
              dst: MAC = BROADCAST) -> bytes:
    """An ARP frame built from fields."""
    return (Ethernet(dst=dst, src=sender_mac) / ARP(opcode=opcode, sender_mac=sender_mac, sender_ip=sender_ip,
                                                     target_ip=target_ip)).encode()


def test_request_and_reply_on_the_wire(chain: Chain) -> None:
    ping(chain.client, R1_LEFT, count=1)
    client, r1 = chain.iface("client:eth0"), chain.iface("r1:eth0")
    [request] = arp_frames(chain.net, EventKind.SEND, "client")
    [reply] = arp_frames(chain.net, EventKind.SEND, "r1")
    assert request == bytes(BROADCAST) + client.mac + b"\x08\x06" + bytes.fromhex("0001 0800 06 04 0001") \
        + client.mac + IPv4Address(CLIENT_IP).packed + bytes(6) + IPv4Address(R1_LEFT).packed
    assert reply == client.mac + r1.mac + b"\x08\x06" + bytes.fromhex("0001 0800 06 04 0002") \
        + r1.mac + IPv4Address(R1_LEFT).packed + client.mac + IPv4Address(CLIENT_IP).packed
    assert decode(reply)[ARP].opcode == ARPOp.REPLY


def test_packet_waits_for_the_reply_then_goes_once(chain: Chain) -> None:
    ping(chain.client, SERVER_IP, count=1)
    [miss] = events(chain.net, EventKind.ARP_MISS, "client")
    [resolved] = events(chain.net, EventKind.ARP_RESOLVED, "client")
    [echo] = [e for e in events(chain.net, EventKind.SEND, "client") if e.frame[12:14] == b"\x08\x00"]
    assert miss.details["next_hop"] == R1_LEFT and resolved.details["released"] == 1
    assert echo.time_ns == resolved.time_ns > miss.time_ns
    assert echo.frame[0:6] == chain.iface("r1:eth0").mac


def test_answering_a_request_teaches_the_requester(chain: Chain) -> None:
    ping(chain.client, R1_LEFT, count=1)
    now = chain.net.now
    assert chain.r1.arp.lookup(IPv4Address(CLIENT_IP), now) == chain.iface("client:eth0").mac
    assert len(arp_frames(chain.net, EventKind.SEND, "r1")) == 1, "r1 needed no request of its own"


def test_request_for_someone_else_gets_no_reply_and_no_entry(chain: Chain) -> None:
    r1 = chain.iface("r1:eth0")
    chain.client.transmit(chain.iface("client:eth0"), arp_frame(STRANGER_MAC, "10.0.1.77", "10.0.1.99"))
    chain.net.run_until_idle()
    assert arp_frames(chain.net, EventKind.SEND, "r1") == []
    assert IPv4Address("10.0.1.77") not in chain.r1.arp.entries
    [drop] = chain.net.trace.drops(DropReason.NOT_FOR_ME)
    assert (drop.node, drop.interface, drop.details["arp_target"]) == ("r1", r1.name, "10.0.1.99")


@pytest.mark.parametrize("opcode", [ARPOp.REQUEST, ARPOp.REPLY])
def test_gratuitous_arp_creates_no_entry_and_gets_no_reply(chain: Chain, opcode: ARPOp) -> None:
    chain.client.transmit(chain.iface("client:eth0"), arp_frame(STRANGER_MAC, "10.0.1.77", "10.0.1.77",
                                                                opcode=opcode))
    chain.net.run_until_idle()
    assert chain.r1.arp.entries == {}
    assert events(chain.net, EventKind.SEND, "r1") == []
    assert [e.details for e in events(chain.net, EventKind.ARP_RESOLVED, "r1")] == [
        {"ip": "10.0.1.77", "gratuitous": True}]


def test_gratuitous_arp_claiming_the_routers_own_address_changes_nothing(chain: Chain) -> None:
    chain.client.transmit(chain.iface("client:eth0"), arp_frame(STRANGER_MAC, R1_LEFT, R1_LEFT))
    chain.net.run_until_idle()
    assert chain.r1.arp.entries == {}
    assert events(chain.net, EventKind.SEND, "r1") == []
    assert ping(chain.client, SERVER_IP, count=1).received == 1


def test_gratuitous_arp_updates_an_entry_that_exists(chain: Chain) -> None:
    ping(chain.client, R1_LEFT, count=1)  # r1 now knows the client
    chain.client.transmit(chain.iface("client:eth0"), arp_frame(STRANGER_MAC, CLIENT_IP, CLIENT_IP))
    chain.net.run_until_idle()
    assert chain.r1.arp.lookup(IPv4Address(CLIENT_IP), chain.net.now) == STRANGER_MAC


def test_gratuitous_arp_for_an_address_being_resolved_loses_no_packet() -> None:
    chain = build_chain()
    chain.r1.routes.add("10.0.77.0/24", via="10.0.12.99", interface="eth1")
    announce = arp_frame(STRANGER_MAC, "10.0.12.99", "10.0.12.99")
    chain.net.clock.at(500_000_000, chain.r2.transmit, chain.iface("r2:eth0"), announce)  # while r1 waits
    ping(chain.client, "10.0.77.5", count=1, timeout_ns=5_000_000_000)
    chain.net.run_until_idle()
    to_stranger = [f for f in ipv4_frames(chain.net, EventKind.SEND, "r1:eth1") if f[0:6] == STRANGER_MAC]
    dropped = [d for d in chain.net.trace.drops() if d.node == "r1" and d.frame and d.frame[:1] == b"\x45"]
    assert len(to_stranger) + len(dropped) == 1, "the queued echo request was sent or dropped with a reason"


def test_three_unanswered_requests_fail_a_locally_sent_packet_without_icmp(chain: Chain) -> None:
    result = ping(chain.client, "10.0.1.99", count=1, timeout_ns=5_000_000_000)
    requests = [e for e in events(chain.net, EventKind.SEND, "client") if e.frame[12:14] == b"\x08\x06"]
    assert [e.time_ns for e in requests] == [0, 1_000_000_000, 2_000_000_000]
    assert all(decode(e.frame)[ARP].target_ip == IPv4Address("10.0.1.99") for e in requests)
    [drop] = chain.net.trace.drops(DropReason.ARP_FAILED)
    assert (drop.node, drop.time_ns) == ("client", 3_000_000_000)
    assert chain.net.trace.select(EventKind.ICMP_ERROR) == []
    assert result.received == 0


def test_an_entry_expires_and_is_asked_for_again(chain: Chain) -> None:
    ping(chain.client, R1_LEFT, count=1)
    chain.net.run(until=31_000_000_000)  # entries are reachable for 30 s
    ping(chain.client, R1_LEFT, count=1)
    assert len(arp_frames(chain.net, EventKind.SEND, "client")) == 2


def test_the_pending_queue_holds_100_packets_then_drops(chain: Chain) -> None:
    sender = chain.client.udp_socket(40000)
    for i in range(101):
        sender.sendto(bytes([i % 256]), ("10.0.1.99", 9))
    [drop] = chain.net.trace.drops(DropReason.ARP_QUEUE_FULL)
    assert drop.details["next_hop"] == "10.0.1.99"
    assert len(arp_frames(chain.net, EventKind.SEND, "client")) == 1, "one request for the whole queue"
    chain.net.run_until_idle()
    assert len(chain.net.trace.drops(DropReason.ARP_FAILED)) == 100


# The cache on its own: input in, output out, time as an argument -------------------------------------------------
def test_cache_entry_lives_until_its_expiry() -> None:
    cache = ArpCache(reachable_ns=1000)
    ip = IPv4Address("10.0.0.1")
    assert cache.learn(ip, STRANGER_MAC, now=0) == []
    assert cache.lookup(ip, 999) == STRANGER_MAC
    assert cache.lookup(ip, 1000) is None
    assert ip not in cache.entries


def test_cache_queues_retries_and_gives_up() -> None:
    cache = ArpCache(max_requests=3)
    ip = IPv4Address("10.0.0.1")
    assert cache.queue(ip, "eth0", "p1") == (True, True)
    assert cache.queue(ip, "eth0", "p2") == (True, False)
    for sent in (1, 2):
        cache.pending[ip].requests_sent = sent
        assert cache.on_timeout(ip) == (True, [])
    cache.pending[ip].requests_sent = 3
    assert cache.on_timeout(ip) == (False, ["p1", "p2"])
    assert ip not in cache.pending


def test_cache_releases_queued_packets_when_the_answer_comes() -> None:
    cache = ArpCache()
    ip = IPv4Address("10.0.0.1")
    cache.queue(ip, "eth0", "p1")
    assert cache.learn(ip, STRANGER_MAC, now=5, create=False) == ["p1"]
    assert cache.lookup(ip, 6) == STRANGER_MAC
    assert cache.on_timeout(ip) == (False, [])


def test_an_unsolicited_reply_creates_no_entry(chain: Chain) -> None:
    # Linux (arp_accept=0) takes no entry from a reply it did not ask for, even one addressed to it.
    reply = arp_frame(STRANGER_MAC, "10.0.1.77", R1_LEFT, opcode=ARPOp.REPLY, dst=chain.iface("r1:eth0").mac)
    chain.client.transmit(chain.iface("client:eth0"), reply)
    chain.net.run_until_idle()
    assert IPv4Address("10.0.1.77") not in chain.r1.arp.entries
    assert events(chain.net, EventKind.SEND, "r1") == []
