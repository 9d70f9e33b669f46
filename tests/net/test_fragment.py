"""IPv4 fragmentation (RFC 791 §3.2, RFC 1812 §5.2.6) on a 576-byte link and reassembly at the destination,
compared with scapy's fragment()."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet import fragment as scapy_fragment

from layersim.app import ping
from layersim.errors import LayersimError
from layersim.net.ipv4.fragment import Reassembler, fragment
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire.ipv4 import IPv4
from layersim.wire.udp import UDP

from .conftest import (
    CLIENT_IP,
    SERVER_IP,
    assert_quotes,
    build_chain,
    frame_on,
    header_checksum_ok,
    inject,
    ip_key,
    ip_packet,
    ipv4_frames,
    read_icmp_error,
)

PAYLOAD = bytes(range(256)) * 5 + bytes(range(120))  # 1400 bytes of UDP data
MF = 0x2000


def fields(packet: bytes) -> tuple[int, int, int, int]:
    """(total length, identification, MF flag, fragment offset in bytes) of an IPv4 packet."""
    total, ident, frag = struct.unpack_from("!HHH", packet, 2)
    return total, ident, frag & MF, (frag & 0x1FFF) * 8


def whole_datagram(**ip_fields: object) -> bytes:
    """A 1428-byte IPv4/UDP datagram without DF."""
    return (IPv4(src=CLIENT_IP, dst=SERVER_IP, identification=0x4242, **ip_fields)
            / UDP(sport=40000, dport=9999) / PAYLOAD).encode()


def scapy_fragments(packet: bytes, mtu: int) -> list[bytes]:
    """scapy's fragments of the same packet for the same MTU (fragsize counts data bytes, a multiple of 8)."""
    return [bytes(f) for f in scapy_fragment(IP(packet), fragsize=(mtu - 20) // 8 * 8)]


# Through the network -------------------------------------------------------------------------------------------
@pytest.fixture
def fragmented():
    """The chain with a 576-byte r1 - r2 link; the client sends one 1400-byte UDP datagram without DF."""
    chain = build_chain(link_b={"mtu": 576})
    server_socket = chain.server.udp_socket(9999)
    assert chain.client.send_ip(SERVER_IP, UDP(sport=40000, dport=9999) / PAYLOAD, df=False)
    chain.net.run_until_idle()
    return chain, server_socket


def test_router_fragments_to_the_small_links_mtu(fragmented) -> None:
    chain, _ = fragmented
    [sent] = ipv4_frames(chain.net, EventKind.SEND, "client:eth0")
    original = ip_packet(sent)
    pieces = [ip_packet(f) for f in ipv4_frames(chain.net, EventKind.SEND, "r1:eth1")]
    assert [fields(p)[0] for p in pieces] == [572, 572, 324]
    assert all(len(p) <= 576 for p in pieces)
    assert {fields(p)[1] for p in pieces} == {fields(original)[1]}
    assert [fields(p)[2] for p in pieces] == [MF, MF, 0]
    assert [fields(p)[3] for p in pieces] == [0, 552, 1104]
    assert all(p[8] == 63 and header_checksum_ok(b"\0" * 14 + p) for p in pieces)
    assert b"".join(p[20:] for p in pieces) == original[20:]
    [event] = chain.net.trace.select(EventKind.FRAGMENT, node="r1")
    assert event.details == {"fragments": 3, "mtu": 576}


def test_fragments_equal_scapys(fragmented) -> None:
    chain, _ = fragmented
    [arrived] = ipv4_frames(chain.net, EventKind.RECEIVE, "r1:eth0")
    forwarded = bytearray(ip_packet(arrived))
    forwarded[8] -= 1  # r1's TTL decrement; scapy recomputes the checksum of each fragment itself
    pieces = [ip_packet(f) for f in ipv4_frames(chain.net, EventKind.SEND, "r1:eth1")]
    assert pieces == scapy_fragments(bytes(forwarded), 576)


def test_fragments_cross_the_next_router_as_they_are(fragmented) -> None:
    chain, _ = fragmented
    for piece in ipv4_frames(chain.net, EventKind.SEND, "r1:eth1"):
        after = ip_packet(frame_on(chain.net, EventKind.SEND, "r2:eth1", ip_key(piece)))
        before = ip_packet(piece)
        assert after[8] == before[8] - 1
        assert after[:8] + after[9:10] + after[12:] == before[:8] + before[9:10] + before[12:]


def test_server_reassembles_the_original_payload(fragmented) -> None:
    chain, server_socket = fragmented
    assert [d.data for d in server_socket.received] == [PAYLOAD]
    assert len(ipv4_frames(chain.net, EventKind.RECEIVE, "server")) == 3
    [delivered] = chain.net.trace.select(EventKind.DELIVER, node="server")
    [sent] = ipv4_frames(chain.net, EventKind.SEND, "client:eth0")
    original = ip_packet(sent)
    assert delivered.frame[20:] == original[20:], "the reassembled datagram carries the original UDP bytes"
    assert fields(delivered.frame)[:3] == (len(original), fields(original)[1], 0)
    assert header_checksum_ok(b"\0" * 14 + delivered.frame)


def test_host_fragments_what_does_not_fit_its_own_link() -> None:
    chain = build_chain(link_a={"mtu": 576})
    server_socket = chain.server.udp_socket(9999)
    chain.client.udp_socket(40000).sendto(PAYLOAD, (SERVER_IP, 9999))
    chain.net.run_until_idle()
    pieces = [ip_packet(f) for f in ipv4_frames(chain.net, EventKind.SEND, "client:eth0")]
    assert [fields(p)[0] for p in pieces] == [572, 572, 324]
    assert all(not p[6] & 0x40 for p in pieces), "fragments go without DF"
    assert [d.data for d in server_socket.received] == [PAYLOAD]


def test_incomplete_datagram_times_out() -> None:
    chain = build_chain()
    ping(chain.client, SERVER_IP, count=1)  # resolves ARP on the whole path
    first, *_ = fragment(whole_datagram(), 576)
    inject(chain.iface("client:eth0"), chain.iface("r1:eth0").mac, first)
    sent_at = chain.net.now
    chain.net.run_until_idle()
    [drop] = chain.net.trace.drops(DropReason.REASSEMBLY_TIMEOUT)
    assert (drop.node, drop.details["identification"]) == ("server", 0x4242)
    per_link = 1_000_000 + (14 + len(first)) * 8 * 10  # 1 ms + serialization at 100 Mbit/s (10 ns a bit)
    assert drop.time_ns - sent_at == 3 * per_link + 30_000_000_000, "30 s after it arrived"


def test_a_datagram_whose_first_fragment_never_came_times_out_without_an_error() -> None:
    # Found by the fault sweep: a router's ICMP error, fragmented for a 128-byte link, lost its first fragment;
    # the timeout then had no arrival interface to name and raised TypeError out of the simulation.
    chain = build_chain()
    ping(chain.client, SERVER_IP, count=1)
    _, second, third = fragment(whole_datagram(), 576)
    for piece in (third, second):
        inject(chain.iface("client:eth0"), chain.iface("r1:eth0").mac, piece)
    chain.net.run_until_idle()
    [drop] = chain.net.trace.drops(DropReason.REASSEMBLY_TIMEOUT)
    assert (drop.node, drop.interface, drop.frame, drop.details["identification"]) == ("server", "eth0", None, 0x4242)
    assert [f for f in ipv4_frames(chain.net, EventKind.SEND, "server") if f[23] == 1 and f[34] == 11] == [], \
        "RFC 1122 §3.3.2: Time Exceeded only when fragment zero had arrived"


def test_reassembly_timeout_sends_time_exceeded_code_1() -> None:
    chain = build_chain()
    ping(chain.client, SERVER_IP, count=1)
    first, *_ = fragment(whole_datagram(), 576)
    inject(chain.iface("client:eth0"), chain.iface("r1:eth0").mac, first)
    chain.net.run_until_idle()
    errors = [f for f in ipv4_frames(chain.net, EventKind.SEND, "server") if f[23] == 1 and f[34] == 11]
    assert len(errors) == 1
    error = read_icmp_error(errors[0])
    assert (error.type, error.code, str(error.src), str(error.dst)) == (11, 1, SERVER_IP, CLIENT_IP)
    assert_quotes(error, ip_packet(frame_on(chain.net, EventKind.RECEIVE, "server:eth0", ip_key(first, 0))))


# fragment() and Reassembler on their own -------------------------------------------------------------------------
@pytest.mark.parametrize("mtu", [68, 296, 576, 1006, 1500])
@pytest.mark.parametrize("size", [1, 48, 1400, 4000])
def test_fragment_matches_scapy(mtu: int, size: int) -> None:
    packet = (IPv4(src=CLIENT_IP, dst=SERVER_IP, identification=7, ttl=33) / UDP(sport=1, dport=2)
              / bytes(i % 251 for i in range(size))).encode()
    ours = fragment(packet, mtu) if len(packet) > mtu else [packet]
    assert ours == scapy_fragments(packet, mtu)


def test_only_copied_options_go_into_later_fragments() -> None:
    router_alert = bytes([0x94, 4, 0, 0])  # copy flag set (RFC 2113)
    record_route = bytes([0x07, 7, 4]) + bytes(4)  # copy flag clear (RFC 791)
    packet = whole_datagram(options=router_alert + record_route)
    first, second, *rest = fragment(packet, 576)
    assert first[20:20 + 12] == router_alert + record_route + b"\0"
    assert second[0] & 0x0F == 6 and second[20:24] == router_alert
    assert all(p[20:24] == router_alert for p in rest)
    assert b"".join(p[(p[0] & 0x0F) * 4:] for p in (first, second, *rest)) == packet[32:]


def test_fragment_refuses_an_mtu_with_no_room_for_data() -> None:
    packet = whole_datagram(options=bytes([0x94, 4, 0, 0]) * 10)  # 60-byte header
    with pytest.raises(LayersimError, match="no room"):
        fragment(packet, 64)


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 0, 2, 2, 1]])
def test_reassembler_accepts_any_order_and_duplicates(order: list[int]) -> None:
    packet = whole_datagram()
    pieces = fragment(packet, 576)
    reassembler = Reassembler()
    results = [reassembler.add(pieces[i], now=0) for i in order]
    assert results[:-1] == [None] * (len(order) - 1)
    assert results[-1] == packet


def test_reassembler_waits_for_a_hole_then_forgets_it() -> None:
    pieces = fragment(whole_datagram(), 576)
    reassembler = Reassembler(timeout_ns=100)
    assert reassembler.add(pieces[0], now=0) is None
    assert reassembler.add(pieces[2], now=10) is None
    assert reassembler.expire(now=99) == []
    [(key, first, _context)] = reassembler.expire(now=100)
    assert key[3] == 0x4242 and first == pieces[0], "fragment zero is kept for the Time Exceeded quote"
    assert reassembler.add(pieces[1], now=101) is None, "the rest was forgotten"
