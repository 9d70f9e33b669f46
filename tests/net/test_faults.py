"""What goes wrong on the chain, each checked twice: the DropReason in the trace and the ICMP error on the wire
(type, code, source = the interface the packet arrived on, quote = the packet as that router received it)."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Address

import pytest

from layersim.app import ping
from layersim.net.engine.link import Faults
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire import ARP, ARPOp, decode
from layersim.wire.icmp import ICMP
from layersim.wire.ipv4 import IPv4
from layersim.wire.udp import UDP

from .conftest import (
    CLIENT_IP,
    R1_LEFT,
    R1_RIGHT,
    R2_LEFT,
    R2_RIGHT,
    SERVER_IP,
    Chain,
    arp_frames,
    assert_quotes,
    build_chain,
    events,
    frame_on,
    icmp_errors_sent,
    inject,
    ip_key,
    ip_packet,
    ipv4_frames,
    read_icmp_error,
    records_by_interface,
    send_over_tcp,
)

FIVE_SECONDS = 5_000_000_000


def echo_request(chain: Chain) -> bytes:
    """The first echo request the client sent."""
    return next(f for f in ipv4_frames(chain.net, EventKind.SEND, "client:eth0") if f[23] == 1 and f[34] == 8)


def the_error(chain: Chain, router: str) -> bytes:
    """The one ICMP error frame `router` sent."""
    errors = icmp_errors_sent(chain.net, router)
    assert len(errors) == 1, f"{router} sent {len(errors)} ICMP errors"
    return errors[0]


def check_error(chain: Chain, router: str, arrived_on: str, icmp_type: int, code: int,
                offending_key: tuple[object, ...]) -> bytes:
    """The router's ICMP error: type/code, from its arrival interface to the client, quoting what it received;
    returns the error frame."""
    error_frame = the_error(chain, router)
    error = read_icmp_error(error_frame)
    assert (error.type, error.code) == (icmp_type, code)
    assert error.src == chain.iface(arrived_on).address.ip
    assert error.dst == IPv4Address(CLIENT_IP)
    assert_quotes(error, ip_packet(frame_on(chain.net, EventKind.RECEIVE, arrived_on, offending_key)))
    delivered = frame_on(chain.net, EventKind.RECEIVE, "client:eth0", ip_key(error_frame))
    assert ip_packet(delivered)[20:] == ip_packet(error_frame)[20:], "the error reached the client intact"
    return error_frame


# TTL ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("ttl", "router", "arrived_on"), [(1, "r1", "r1:eth0"), (2, "r2", "r2:eth0")])
def test_ttl_expiry_sends_time_exceeded_from_the_arrival_interface(ttl: int, router: str, arrived_on: str) -> None:
    chain = build_chain()
    result = ping(chain.client, SERVER_IP, count=1, ttl=ttl)
    key = ip_key(echo_request(chain))
    drops = chain.net.trace.drops(DropReason.TTL_EXCEEDED)
    assert [(d.node, d.interface, d.details["ttl"]) for d in drops] == [(router, "eth0", 1)]
    error = check_error(chain, router, arrived_on, 11, 0, key)
    assert read_icmp_error(error).quote[8] == 1, "quoted TTL is the TTL as received (1)"
    assert result.errors == {1: f"From {chain.iface(arrived_on).address.ip} Time to live exceeded"}
    assert ipv4_frames(chain.net, EventKind.RECEIVE, "server") == []


# No route ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("router", "arrived_on", "quoted_ttl"), [("r1", "r1:eth0", 64), ("r2", "r2:eth0", 63)])
def test_no_route_sends_net_unreachable(router: str, arrived_on: str, quoted_ttl: int) -> None:
    chain = build_chain()
    if router == "r2":
        chain.r1.routes.add("0.0.0.0/0", via=R2_LEFT, interface="eth1")  # r1 passes it on; r2 has no route
    result = ping(chain.client, "10.0.99.1", count=1)
    key = ip_key(echo_request(chain))
    drops = chain.net.trace.drops(DropReason.NO_ROUTE)
    assert [(d.node, d.interface, d.details["dst"]) for d in drops] == [(router, "eth0", "10.0.99.1")]
    error = check_error(chain, router, arrived_on, 3, 0, key)
    assert read_icmp_error(error).quote[8] == quoted_ttl
    assert result.errors == {1: f"From {chain.iface(arrived_on).address.ip} Destination Net Unreachable"}


# ARP failure ---------------------------------------------------------------------------------------------------
def arp_failure_chain() -> tuple[Chain, bytes]:
    """r1 routes 10.0.77.0/24 via 10.0.12.99, which nobody answers; the client pings 10.0.77.5."""
    chain = build_chain()
    chain.r1.routes.add("10.0.77.0/24", via="10.0.12.99", interface="eth1")
    ping(chain.client, "10.0.77.5", count=1, timeout_ns=FIVE_SECONDS)
    return chain, echo_request(chain)


def test_arp_failure_sends_three_requests_then_host_unreachable() -> None:
    chain, echo = arp_failure_chain()
    requests = [e for e in events(chain.net, EventKind.SEND, "r1:eth1") if e.frame[12:14] == b"\x08\x06"]
    assert len(requests) == 3
    r1_right = chain.iface("r1:eth1")
    for event in requests:
        arp = decode(event.frame)[ARP]
        assert event.frame[0:6] == b"\xff" * 6 and event.frame[6:12] == r1_right.mac
        assert (arp.opcode, arp.sender_mac, arp.sender_ip, arp.target_ip) == (
            ARPOp.REQUEST, r1_right.mac, r1_right.address.ip, IPv4Address("10.0.12.99"))
    times = [e.time_ns for e in requests]
    assert [b - a for a, b in itertools.pairwise(times)] == [1_000_000_000] * 2
    [drop] = chain.net.trace.drops(DropReason.ARP_FAILED)
    assert (drop.node, drop.interface, drop.details["next_hop"]) == ("r1", "eth1", "10.0.12.99")
    assert drop.time_ns == times[0] + 3_000_000_000
    error_frame = the_error(chain, "r1")
    error = read_icmp_error(error_frame)
    assert (error.type, error.code, error.src, error.dst) == (3, 1, IPv4Address(R1_LEFT), IPv4Address(CLIENT_IP))
    sent_at = next(e.time_ns for e in events(chain.net, EventKind.SEND, "r1:eth0") if e.frame == error_frame)
    assert sent_at == drop.time_ns
    original = ip_packet(echo)
    assert ip_key(error.quote, 0) == ip_key(original, 0)
    assert error.quote[20:] == original[20:20 + len(error.quote) - 20], "quoted data is the echo request's"
    assert len(error.quote) >= 28 and error.ip_total_length <= 576


def test_arp_failure_quotes_the_packet_as_received() -> None:
    chain, echo = arp_failure_chain()
    error = read_icmp_error(the_error(chain, "r1"))
    received = ip_packet(frame_on(chain.net, EventKind.RECEIVE, "r1:eth0", ip_key(echo)))
    assert error.quote[:20] == received[:20]


# Fragmentation needed ------------------------------------------------------------------------------------------
def test_df_packet_too_big_for_the_next_link_gets_fragmentation_needed() -> None:
    chain = build_chain(link_b={"mtu": 576})
    result = ping(chain.client, SERVER_IP, count=1, size=1400)
    echo = echo_request(chain)
    assert len(ip_packet(echo)) == 1428 and echo[20] & 0x40, "1428-byte packet with DF"
    [drop] = chain.net.trace.drops(DropReason.FRAGMENTATION_NEEDED)
    assert (drop.node, drop.interface, drop.details["mtu"]) == ("r1", "eth0", 576)
    error_frame = check_error(chain, "r1", "r1:eth0", 3, 4, ip_key(echo))
    error = read_icmp_error(error_frame)
    assert error.rest == 576, "RFC 1191: unused 16 bits, then the next-hop MTU"
    assert error.ip_total_length == 576, "as much of the datagram as fits in 576 bytes"
    assert error.quote[8] == 64
    assert ipv4_frames(chain.net, EventKind.SEND, "r1:eth1") == []
    assert result.errors == {1: f"From {R1_LEFT} Frag needed and DF set (mtu = 576)"}


# Bad checksum --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("checksum_right", [True, False])
def test_router_drops_a_packet_with_a_bad_header_checksum(checksum_right: bool) -> None:
    chain = build_chain()
    ping(chain.client, R1_LEFT, count=1)  # resolves r1's MAC
    good = (IPv4(src=CLIENT_IP, dst=SERVER_IP, identification=0x1234) / UDP(sport=5000, dport=9) / b"data").encode()
    packet = good if checksum_right else good[:10] + bytes([good[10] ^ 0x01]) + good[11:]
    before = len(ipv4_frames(chain.net, EventKind.SEND, "r1"))
    inject(chain.iface("client:eth0"), chain.iface("r1:eth0").mac, packet)
    chain.net.run_until_idle()
    forwarded = [f for f in ipv4_frames(chain.net, EventKind.SEND, "r1:eth1") if ip_key(f) == ip_key(packet, 0)]
    drops = chain.net.trace.drops(DropReason.BAD_CHECKSUM)
    if checksum_right:
        assert len(forwarded) == 1 and drops == []
        return
    assert [(d.node, d.interface, d.details["layer"]) for d in drops] == [("r1", "eth0", "IPv4")]
    assert ip_packet(drops[0].frame) == packet
    assert forwarded == []
    assert len(ipv4_frames(chain.net, EventKind.SEND, "r1")) == before, "RFC 1812 §5.2.2: silently discarded"
    assert chain.net.trace.select(EventKind.ICMP_ERROR) == []


def test_corrupted_bits_are_caught_by_the_checksum_that_covers_them() -> None:
    # client -> r1 flips one bit per frame, and the frame passes the FCS: the checksums are all that is left
    chain = build_chain(link_a={"corrupt": 1.0, "corrupt_fcs": "pass", "faults_ba": Faults()})
    chain.client.arp.learn(IPv4Address(R1_LEFT), chain.iface("r1:eth0").mac, 0)  # no ARP through the bad link
    server_socket = chain.server.udp_socket(9999)
    sender = chain.client.udp_socket(40000)
    originals = [bytes([i]) * 64 for i in range(30)]
    for data in originals:
        sender.sendto(data, (SERVER_IP, 9999))
    chain.net.run_until_idle()
    flips = events(chain.net, EventKind.LINK, "client:eth0")
    sent = ipv4_frames(chain.net, EventKind.SEND, "client:eth0")
    received = [e.frame for e in events(chain.net, EventKind.RECEIVE, "r1:eth0")]
    assert len(flips) == len(sent) == len(received) == 30
    in_ip_header = in_udp_data = 0
    for flip, original, damaged in zip(flips, sent, received, strict=True):
        bit = flip.details["bit"]
        expected = bytearray(original)
        expected[bit // 8] ^= 0x80 >> (bit % 8)
        assert damaged == bytes(expected) == flip.frame
        if bit // 8 == 15 or 18 <= bit // 8 < 34:  # IPv4 header, other than version/IHL and total length
            in_ip_header += 1
            assert any(d.frame == damaged for d in chain.net.trace.drops(DropReason.BAD_CHECKSUM) if d.node == "r1")
        elif bit // 8 >= 40:  # UDP checksum and data: r1 forwards, the server's UDP checksum catches it
            in_udp_data += 1
            assert any(d.details.get("layer") == "UDP" and d.frame[20:] == ip_packet(damaged)[20:]
                       for d in chain.net.trace.drops(DropReason.BAD_CHECKSUM) if d.node == "server")
    assert in_ip_header and in_udp_data, "this seed flips bits in both places"
    assert all(d.data in originals for d in server_socket.received), "no damaged datagram was delivered"


# Queue overflow ------------------------------------------------------------------------------------------------
def test_burst_into_a_slow_link_overflows_its_queue(tmp_path) -> None:
    chain = build_chain(link_b={"bandwidth": "64kbit", "queue": 5})
    ping(chain.client, SERVER_IP, count=1)  # ARP everywhere first
    chain.net.capture(tmp_path / "r2.pcapng", interfaces=["r2:eth0"])
    server_socket = chain.server.udp_socket(9999)
    sender = chain.client.udp_socket(40000)
    for i in range(50):
        sender.sendto(i.to_bytes(2, "big") * 50, (SERVER_IP, 9999))
    chain.net.run_until_idle()
    chain.net.close()
    drops = chain.net.trace.drops(DropReason.QUEUE_FULL)
    assert len(drops) == 45
    assert {(d.node, d.interface, d.details["queued"]) for d in drops} == {("r1", "eth1", 5)}
    assert [d.data[:2] for d in server_socket.received] == [i.to_bytes(2, "big") for i in range(5)]
    arrived = [r for r in records_by_interface(tmp_path / "r2.pcapng")["r2:eth0"] if r.data[23:24] == b"\x11"]
    assert len(arrived) == 5
    assert icmp_errors_sent(chain.net, "r1") == [], "no source quench (RFC 1812 §4.3.3.3)"


# Link loss -----------------------------------------------------------------------------------------------------
def test_lossy_link_drops_every_frame_it_is_given(tmp_path) -> None:
    chain = build_chain(link_a={"loss": 1.0})
    chain.net.capture(tmp_path / "client.pcapng", interfaces=["client:eth0"])
    chain.net.capture(tmp_path / "r1.pcapng", interfaces=["r1:eth0"])
    result = ping(chain.client, SERVER_IP, count=1, timeout_ns=FIVE_SECONDS)
    chain.net.close()
    assert result.received == 0 and result.errors == {}
    lost = chain.net.trace.drops(DropReason.LINK_LOSS)
    requests = arp_frames(chain.net, EventKind.SEND, "client:eth0")
    assert len(requests) == 3 and [d.frame for d in lost] == requests
    assert all((d.node, d.interface) == ("client", "eth0") for d in lost)
    [failed] = chain.net.trace.drops(DropReason.ARP_FAILED)
    assert failed.node == "client"
    assert events(chain.net, EventKind.RECEIVE, "r1") == []
    assert [r.data for r in records_by_interface(tmp_path / "client.pcapng")["client:eth0"]] == requests
    assert records_by_interface(tmp_path / "r1.pcapng") == {}


# No ICMP error about an ICMP error -----------------------------------------------------------------------------
@pytest.mark.parametrize("icmp_type", [3, 4, 5, 11, 12])
@pytest.mark.parametrize("problem", ["ttl", "no route"])
def test_no_icmp_error_about_an_icmp_error(icmp_type: int, problem: str) -> None:
    chain = build_chain()
    quote = (IPv4(src=SERVER_IP, dst=CLIENT_IP, ttl=5) / UDP(sport=1, dport=2) / b"abcdefgh").encode()
    chain.client.send_ip("10.0.99.1" if problem == "no route" else SERVER_IP, ICMP(type=icmp_type) / quote,
                         ttl=1 if problem == "ttl" else 64)
    chain.net.run_until_idle()
    reason = DropReason.TTL_EXCEEDED if problem == "ttl" else DropReason.NO_ROUTE
    assert [d.node for d in chain.net.trace.drops(reason)] == ["r1"]
    assert chain.net.trace.select(EventKind.ICMP_ERROR) == []
    assert ipv4_frames(chain.net, EventKind.SEND, "r1") == []


@pytest.mark.parametrize("icmp_type", [0, 8, 13])
def test_icmp_queries_do_get_errors(icmp_type: int) -> None:
    chain = build_chain()
    chain.client.send_ip(SERVER_IP, ICMP(type=icmp_type, identifier=1, sequence=1) / b"query", ttl=1)
    chain.net.run_until_idle()
    assert read_icmp_error(the_error(chain, "r1")).type == 11


def test_only_the_first_fragment_gets_an_icmp_error() -> None:
    chain = build_chain(link_a={"mtu": 576})
    chain.client.send_ip(SERVER_IP, UDP(sport=5000, dport=9) / bytes(1400), ttl=1, df=False)
    chain.net.run_until_idle()
    fragments = ipv4_frames(chain.net, EventKind.SEND, "client:eth0")
    assert len(fragments) == 3
    assert len(chain.net.trace.drops(DropReason.TTL_EXCEEDED)) == 3
    error = read_icmp_error(the_error(chain, "r1"))
    assert error.quote[:20] == ip_packet(fragments[0])[:20]


def test_no_icmp_error_about_the_first_fragment_of_an_icmp_error() -> None:
    chain = build_chain(link_a={"mtu": 576})
    chain.client.send_ip(SERVER_IP, ICMP(type=3, code=1) / bytes(1400), ttl=1, df=False)
    chain.net.run_until_idle()
    assert len(chain.net.trace.drops(DropReason.TTL_EXCEEDED)) == 3
    assert icmp_errors_sent(chain.net, "r1") == []


# Rate limit ----------------------------------------------------------------------------------------------------
def test_icmp_errors_are_rate_limited_per_destination() -> None:
    chain = build_chain()
    ping(chain.client, R1_LEFT, count=1)  # resolves ARP, so the burst reaches r1 back to back
    sender = chain.client.udp_socket(40000)
    sender.ttl = 1
    for _ in range(20):
        sender.sendto(b"probe", (SERVER_IP, 33434))
    chain.net.run_until_idle()
    assert len(chain.net.trace.drops(DropReason.TTL_EXCEEDED)) == 20
    assert len(icmp_errors_sent(chain.net, "r1")) == 6, "Linux: a burst of 6"
    notes = chain.net.trace.select(EventKind.ICMP_ERROR, node="r1")
    assert [e.details.get("suppressed") for e in notes] == [None] * 6 + ["rate limit"] * 14
    chain.net.run(until=chain.net.now + 1_000_000_000)
    sender.sendto(b"probe", (SERVER_IP, 33434))
    sender.sendto(b"probe", (SERVER_IP, 33434))
    chain.net.run_until_idle()
    assert len(icmp_errors_sent(chain.net, "r1")) == 7, "one token per second"


@pytest.mark.parametrize("source", ["10.0.1.255", "255.255.255.255", "240.0.0.1"])
def test_no_icmp_error_to_a_source_that_is_not_one_host(source: str) -> None:
    chain = build_chain()
    ping(chain.client, R1_LEFT, count=1)
    packet = (IPv4(src=source, dst=SERVER_IP, ttl=1) / UDP(sport=1, dport=2) / b"x").encode()
    inject(chain.iface("client:eth0"), chain.iface("r1:eth0").mac, packet)
    sent_before = len(events(chain.net, EventKind.SEND, "r1"))
    chain.net.run_until_idle()
    assert [d.node for d in chain.net.trace.drops(DropReason.TTL_EXCEEDED)] == ["r1"]
    assert chain.net.trace.select(EventKind.ICMP_ERROR) == []
    assert len(events(chain.net, EventKind.SEND, "r1")) == sent_before


def test_echo_to_a_directed_broadcast_is_not_answered_from_the_broadcast_address() -> None:
    chain = build_chain()
    ping(chain.client, "10.0.12.255", count=1)
    replies = [f for f in ipv4_frames(chain.net, EventKind.SEND, "r1") if f[23] == 1 and f[34] == 0]
    assert all(IPv4Address(ip_packet(f)[12:16]) != IPv4Address("10.0.12.255") for f in replies)


def test_a_unicast_packet_in_a_link_layer_broadcast_is_not_forwarded(chain: Chain) -> None:
    # RFC 1812 §5.3.4: a router does not forward a packet that arrived as a link-layer broadcast.
    packet = (IPv4(src=CLIENT_IP, dst=SERVER_IP, identification=0x4242) / UDP(sport=1, dport=2) / b"x").encode()
    ping(chain.client, R1_LEFT, count=1)  # resolve ARP first, so nothing else is in flight
    inject(chain.iface("client:eth0"), b"\xff" * 6, packet)
    chain.net.run_until_idle()
    [drop] = [d for d in chain.net.trace.drops(DropReason.NOT_FOR_ME) if d.node == "r1" and d.frame
              and d.frame[14 + 4:14 + 6] == b"\x42\x42"]
    assert drop.details["detail"] == "link-layer broadcast"
    assert [f for f in ipv4_frames(chain.net, EventKind.SEND, "r1") if f[18:20] == b"\x42\x42"] == []



def warm_arp(chain: Chain) -> None:
    """Every next hop's MAC known in advance both ways, so each frame crosses every hop on the fast path."""
    for node, ip, iface in ((chain.client, R1_LEFT, "r1:eth0"), (chain.r1, R2_LEFT, "r2:eth0"),
                            (chain.r2, SERVER_IP, "server:eth0"), (chain.server, R2_RIGHT, "r2:eth1"),
                            (chain.r2, R1_RIGHT, "r1:eth1"), (chain.r1, CLIENT_IP, "client:eth0")):
        node.arp.learn(IPv4Address(ip), chain.iface(iface).mac, 0)


def caught_flips(chain: Chain, layer: str) -> tuple[list[object], list[object]]:
    """(bits r1 -> r2 flipped past the IPv4 header, the server's BAD_CHECKSUM drops for `layer`)."""
    flips = [f for f in events(chain.net, EventKind.LINK, "r1:eth1") if f.details["bit"] // 8 >= 34]
    caught = [d for d in chain.net.trace.drops(DropReason.BAD_CHECKSUM)
              if d.node == "server" and d.details.get("layer") == layer]
    return flips, caught


def test_a_udp_bit_flipped_past_the_first_router_is_caught_though_the_sender_vouched_for_the_checksum() -> None:
    # The client's fast path marks its frames "checksum unnecessary"; r1 forwards them on its fast path (the mark
    # kept), then r1 -> r2 flips one bit per frame. The flip must clear the mark: every flip in the UDP part is a
    # BAD_CHECKSUM drop at the server, and nothing damaged reaches the socket.
    chain = build_chain(link_b={"corrupt": 1.0, "corrupt_fcs": "pass", "faults_ba": Faults()})
    warm_arp(chain)
    server_socket = chain.server.udp_socket(9999)
    sender = chain.client.udp_socket(40000)
    for i in range(40):
        sender.sendto(bytes([i]) * 600, (SERVER_IP, 9999))  # long enough for the vectorised sum too
    chain.net.run_until_idle()
    assert not arp_frames(chain.net, EventKind.SEND)  # every hop was known: the fast path all the way
    flips, caught = caught_flips(chain, "UDP")
    assert len(events(chain.net, EventKind.LINK, "r1:eth1")) == 40
    assert flips and len(caught) == len(flips)
    assert all(d.data == bytes([d.data[0]]) * 600 for d in server_socket.received)


def test_a_tcp_bit_flipped_past_the_first_router_is_caught_and_the_stream_survives() -> None:
    # The same for TCP: a fifth of the client's segments get a bit flipped between r1 and r2; each flip past the
    # IPv4 header is a BAD_CHECKSUM drop at the server, and retransmission delivers the stream intact.

    chain = build_chain(seed=3, link_b={"corrupt": 0.2, "corrupt_fcs": "pass", "faults_ba": Faults()})
    warm_arp(chain)
    data = bytes(range(256)) * 800

    assert send_over_tcp(chain, data) == data
    assert not arp_frames(chain.net, EventKind.SEND)
    flips, caught = caught_flips(chain, "TCP")
    assert len(flips) > 10 and len(caught) == len(flips)
