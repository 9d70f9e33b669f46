"""Nat: translations checked against packets built from scratch (layersim.wire computes every checksum anew) and
against scapy, port choice, ICMP, ICMP errors, fragments, timeouts at their boundaries, the table and events.
The comparison with a real Linux MASQUERADE capture is in test_nat_linux.py."""

from __future__ import annotations

import random
from ipaddress import IPv4Address

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scapy.layers.inet import ICMP as ScapyICMP
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as ScapyTCP
from scapy.layers.inet import UDP as ScapyUDP

from layersim.errors import LayersimError
from layersim.net.nat.napt import Nat, NatReason, NatVerdict
from layersim.net.nat.rewrite import adjust_checksum
from layersim.wire import ICMP, TCP, UDP, IPv4, Raw
from layersim.wire.checksum import update_checksum
from tests.tools import rfc1071_sum

A, B = "10.0.0.2", "10.0.0.3"  # inside hosts
OUT = "203.0.113.2"  # the NAT's outside address
WEB, DNS = "93.184.216.34", "198.51.100.53"
HOP = "198.51.100.1"  # a router on the way out
S = 1_000_000_000  # one second in simulated nanoseconds


def tcp(src: str, dst: str, sport: int, dport: int, flags: str = "A", payload: bytes = b"") -> bytearray:
    """A TCP/IPv4 packet with every length and checksum computed from scratch."""
    return bytearray((IPv4(src=src, dst=dst, identification=0x1234) / TCP(sport=sport, dport=dport, flags=flags,
                      seq=1000, ack=2000) / Raw(payload)).encode())


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes = b"query", checksum: int | None = None
        ) -> bytearray:
    return bytearray((IPv4(src=src, dst=dst, identification=0x4321) / UDP(sport=sport, dport=dport,
                      checksum=checksum) / Raw(payload)).encode())


def echo(src: str, dst: str, ident: int, kind: int = 8, seq: int = 1) -> bytearray:
    return bytearray((IPv4(src=src, dst=dst) / ICMP(type=kind, identifier=ident, sequence=seq)
                      / Raw(b"ping data 0123456789")).encode())


def icmp_error(src: str, dst: str, quoted: bytes, kind: int = 11, code: int = 0) -> bytearray:
    return bytearray((IPv4(src=src, dst=dst, ttl=255) / ICMP(type=kind, code=code) / Raw(quoted)).encode())


def make_nat(**options: object) -> Nat:
    return Nat(OUT, rng=random.Random(1), **options)  # type: ignore[arg-type]


def sport_of(packet: bytearray) -> int:
    return packet[20] << 8 | packet[21]


def dst_of(packet: bytearray) -> str:
    return str(IPv4Address(bytes(packet[16:20])))


def assert_scapy_agrees(packet: bytearray) -> None:
    """scapy recomputes the IPv4 and TCP/UDP/ICMP checksums from scratch and gets the same bytes."""
    parsed = IP(bytes(packet))
    del parsed.chksum
    for layer in (ScapyTCP, ScapyUDP, ScapyICMP):
        if layer in parsed and not (layer is ScapyUDP and parsed[layer].chksum == 0):
            del parsed[layer].chksum
    assert bytes(parsed) == bytes(packet)


# ---- TCP, UDP, ICMP echo ----------------------------------------------------------------------------------------

def test_outbound_tcp_takes_the_outside_address_and_keeps_its_port() -> None:
    nat = make_nat()
    packet = tcp(A, WEB, 40000, 80, "S")
    assert nat.outbound(packet, 0).verdict is NatVerdict.TRANSLATED
    assert packet == tcp(OUT, WEB, 40000, 80, "S")
    assert_scapy_agrees(packet)
    reply = tcp(WEB, OUT, 80, 40000, "SA")
    assert nat.inbound(reply, 1).verdict is NatVerdict.TRANSLATED
    assert reply == tcp(WEB, A, 80, 40000, "SA")


def test_udp_without_checksum_keeps_zero() -> None:
    """RFC 768: a zero UDP checksum means none was sent; NAT must not invent one."""
    nat = make_nat()
    packet = udp(A, DNS, 5353, 53, checksum=0)
    nat.outbound(packet, 0)
    assert packet == udp(OUT, DNS, 5353, 53, checksum=0)
    reply = udp(DNS, OUT, 53, 5353, b"answer", checksum=0)
    nat.inbound(reply, 1)
    assert reply == udp(DNS, A, 53, 5353, b"answer", checksum=0)


def test_udp_checksum_that_becomes_zero_is_sent_as_ffff() -> None:
    """When the updated checksum comes out as 0 it must be sent as 0xFFFF (RFC 768), as a fresh encoder does."""
    translated = udp(OUT, DNS, 5353, 53, b"\0\0payload")
    word = translated[26] << 8 | translated[27]  # the payload's first word set to ~sum makes the sum 0xFFFF
    checksum_after = udp(OUT, DNS, 5353, 53, word.to_bytes(2, "big") + b"payload")
    assert checksum_after[26:28] == b"\xff\xff"  # the encoder's answer: computed 0, sent as 0xFFFF
    packet = udp(A, DNS, 5353, 53, word.to_bytes(2, "big") + b"payload")
    assert packet[26:28] not in (b"\x00\x00", b"\xff\xff")
    make_nat().outbound(packet, 0)
    assert packet == checksum_after


def test_icmp_echo_identifier_is_kept_then_remapped_on_a_clash() -> None:
    nat = make_nat()
    first, second = echo(A, WEB, 0x1234), echo(B, WEB, 0x1234)
    nat.outbound(first, 0)
    nat.outbound(second, 0)
    assert first == echo(OUT, WEB, 0x1234)
    new_id = second[24] << 8 | second[25]
    assert new_id != 0x1234
    assert second == echo(OUT, WEB, new_id)  # identifier and ICMP checksum as built from scratch
    assert_scapy_agrees(second)
    reply = echo(WEB, OUT, new_id, kind=0)
    assert nat.inbound(reply, 1).verdict is NatVerdict.TRANSLATED
    assert reply == echo(WEB, B, 0x1234, kind=0)
    reply = echo(WEB, OUT, 0x1234, kind=0)
    nat.inbound(reply, 1)
    assert reply == echo(WEB, A, 0x1234, kind=0)


ADDRESSES = st.one_of(st.integers(0, 2**32 - 1),
                      st.sampled_from([0, 0xFFFF, 0xFFFF0000, 0xFFFFFFFF, 0x0000FFFF, 0x80008000, 1]))
PORTS = st.one_of(st.integers(1, 65535), st.sampled_from([1, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]))


@given(inside=ADDRESSES, outside=ADDRESSES, remote=ADDRESSES, sport=PORTS, dport=PORTS,
       payload=st.binary(max_size=24), protocol=st.sampled_from(["tcp", "udp", "icmp"]),
       taken=st.booleans())
def test_incremental_checksums_equal_a_fresh_encoding(inside: int, outside: int, remote: int, sport: int,
                                                      dport: int, payload: bytes, protocol: str,
                                                      taken: bool) -> None:
    """Both ways, with addresses and ports across the fold-carry boundaries (0x0000/0xFFFF words): the packet NAT
    patched is byte for byte the one an encoder computing every checksum from scratch builds, and scapy's own
    recomputation agrees."""
    assume(inside != outside)
    i, o, r = (str(IPv4Address(x)) for x in (inside, outside, remote))
    nat = Nat(o, rng=random.Random(sport))

    def build(src: str, dst: str, a: int, b: int, reply: bool = False) -> bytearray:
        if protocol == "tcp":
            return tcp(src, dst, a, b, "PA", payload)
        if protocol == "udp":
            return udp(src, dst, a, b, payload)
        return echo(src, dst, b if reply else a, kind=0 if reply else 8)

    if taken:  # another inside host holds the port first, so this one gets a new port: two words change
        nat.outbound(build("10.255.255.254", r, sport, dport), 0)
    packet = build(i, r, sport, dport)
    assert nat.outbound(packet, 0).verdict is NatVerdict.TRANSLATED
    port = sport_of(packet) if protocol != "icmp" else packet[24] << 8 | packet[25]
    assert packet == build(o, r, port, dport)
    assert_scapy_agrees(packet)
    reply = build(r, o, dport, port, reply=True)
    assert nat.inbound(reply, 1).verdict is NatVerdict.TRANSLATED
    assert reply == build(r, i, dport, sport, reply=True)
    assert_scapy_agrees(reply)


@given(data=st.binary(min_size=2, max_size=64), index=st.integers(0, 31), new=st.integers(0, 0xFFFF))
def test_adjust_checksum_equals_recomputation(data: bytes, index: int, new: int) -> None:
    """RFC 1624 on any one word equals RFC 1071 over the changed data (tests.tools' word-by-word sum) and the
    wire layer's single-word update."""
    data = data[:len(data) // 2 * 2]
    index %= len(data) // 2
    changed = bytearray(data)
    old = changed[2 * index] << 8 | changed[2 * index + 1]
    changed[2 * index:2 * index + 2] = new.to_bytes(2, "big")
    assume(any(changed))  # an all-zero buffer has two checksum representations
    checksum = ~rfc1071_sum(data) & 0xFFFF
    assert adjust_checksum(checksum, old, new) == ~rfc1071_sum(bytes(changed)) & 0xFFFF
    assert adjust_checksum(checksum, old, new) == update_checksum(checksum, old, new)


# ---- port choice --------------------------------------------------------------------------------------------

def test_port_clash_between_two_inside_hosts() -> None:
    nat = make_nat()
    first, second = tcp(A, WEB, 40000, 80, "S"), tcp(B, WEB, 40000, 80, "S")
    nat.outbound(first, 0)
    nat.outbound(second, 0)
    assert sport_of(first) == 40000
    new = sport_of(second)
    assert new != 40000 and 1024 <= new <= 65535
    assert second == tcp(OUT, WEB, new, 80, "S")
    assert_scapy_agrees(second)
    for port, host in ((40000, A), (new, B)):
        reply = tcp(WEB, OUT, 80, port, "SA")
        nat.inbound(reply, 1)
        assert reply == tcp(WEB, host, 80, 40000, "SA")


def test_same_port_to_another_server_is_not_a_clash() -> None:
    """Linux keeps the port whenever the whole connection (remote address and port included) stays unique."""
    nat = make_nat()
    nat.outbound(tcp(A, WEB, 40000, 80, "S"), 0)
    to_dns, other_port = tcp(B, DNS, 40000, 80, "S"), tcp(B, WEB, 40000, 443, "S")
    nat.outbound(to_dns, 0)
    nat.outbound(other_port, 0)
    assert sport_of(to_dns) == 40000 and sport_of(other_port) == 40000


@pytest.mark.parametrize(("sport", "low", "high"), [(53, 1, 511), (700, 600, 1023), (40000, 1024, 65535)])
def test_a_new_port_stays_in_the_class_of_the_old(sport: int, low: int, high: int) -> None:
    for seed in range(20):
        nat = Nat(OUT, rng=random.Random(seed))
        nat.outbound(udp(A, DNS, sport, 53), 0)
        packet = udp(B, DNS, sport, 53)
        nat.outbound(packet, 0)
        assert low <= sport_of(packet) <= high and sport_of(packet) != sport


def test_an_inside_endpoint_reuses_its_outside_port_for_new_destinations() -> None:
    """nf_nat first tries the port the same inside address and port already map to (find_appropriate_src)."""
    nat = make_nat()
    nat.outbound(udp(B, DNS, 5000, 53), 0)  # B holds 5000 towards DNS
    first = udp(A, DNS, 5000, 53)
    nat.outbound(first, 0)
    remapped = sport_of(first)
    assert remapped != 5000
    second = udp(A, WEB, 5000, 53)  # 5000 would be free towards WEB, but A:5000 already maps to `remapped`
    nat.outbound(second, 0)
    assert sport_of(second) == remapped


def test_port_range_mode() -> None:
    nat = make_nat(port_range=(5000, 5003))
    inside_range = udp(A, DNS, 5002, 53)
    nat.outbound(inside_range, 0)
    assert sport_of(inside_range) == 5002  # already in the range and free: kept
    ports = {5002}
    for i in range(3):
        packet = udp(f"10.0.1.{i}", DNS, 40000, 53)
        assert nat.outbound(packet, 0).verdict is NatVerdict.TRANSLATED
        ports.add(sport_of(packet))
    assert ports == {5000, 5001, 5002, 5003}
    result = nat.outbound(udp("10.0.1.9", DNS, 40000, 53), 0)
    assert result.verdict is NatVerdict.DROP and result.reason == NatReason.PORTS_EXHAUSTED == "ports exhausted"
    other = udp("10.0.1.9", WEB, 40000, 53)  # another remote endpoint: the whole range is free again
    assert nat.outbound(other, 0).verdict is NatVerdict.TRANSLATED and 5000 <= sport_of(other) <= 5003


class ScriptedRandom(random.Random):
    """A random generator whose getrandbits answers come from a list, counting the calls."""

    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = values
        self.calls = 0

    def getrandbits(self, k: int) -> int:
        self.calls += 1
        return self.values.pop(0) if self.values else 0


def _hold(nat: Nat, ports: range) -> None:
    """Inside hosts that each keep their own source port (in the range, free) towards DNS:53."""
    for port in ports:
        packet = udp(f"10.1.{port >> 8}.{port & 0xFF}", DNS, port, 53)
        nat.outbound(packet, 0)
        assert sport_of(packet) == port


def test_port_search_takes_128_tries_then_a_new_offset_with_half_as_many() -> None:
    rng = ScriptedRandom([0, 500])
    nat = Nat(OUT, port_range=(1000, 1999), rng=rng)
    _hold(nat, range(1000, 1128))  # the first round (offset 0: ports 1000-1127) finds nothing free
    packet = udp(A, DNS, 40000, 53)
    assert nat.outbound(packet, 0).verdict is NatVerdict.TRANSLATED
    assert sport_of(packet) == 1500 and rng.calls == 2


def test_port_search_gives_up_after_rounds_of_128_64_32_16_and_8_tries() -> None:
    rng = ScriptedRandom([])
    nat = Nat(OUT, port_range=(1000, 1999), rng=rng)
    _hold(nat, range(1000, 2000))
    assert rng.calls == 0
    assert nat.outbound(udp(A, DNS, 40000, 53), 0).reason == "ports exhausted"
    assert rng.calls == 5


def test_bad_port_range_is_refused() -> None:
    with pytest.raises(LayersimError, match="port_range"):
        Nat(OUT, port_range=(6000, 5000), rng=random.Random(1))


def test_the_routers_own_traffic_is_tracked_untouched() -> None:
    nat = make_nat()
    own = udp(OUT, DNS, 33000, 53)
    assert nat.outbound(own, 0).verdict is NatVerdict.ACCEPT and own == udp(OUT, DNS, 33000, 53)
    answer = udp(DNS, OUT, 53, 33000)
    assert nat.inbound(answer, 1).verdict is NatVerdict.ACCEPT  # its answer is let in, not dropped
    clash = udp(A, DNS, 33000, 53)
    nat.outbound(clash, 2)
    assert sport_of(clash) != 33000


def test_other_protocols_get_the_address_only() -> None:
    nat = make_nat()
    gre = bytearray((IPv4(src=A, dst=WEB, protocol=47) / Raw(b"\x00\x00\x08\x00tunnelled")).encode())
    assert nat.outbound(gre, 0).verdict is NatVerdict.TRANSLATED
    assert gre == (IPv4(src=OUT, dst=WEB, protocol=47) / Raw(b"\x00\x00\x08\x00tunnelled")).encode()
    second = bytearray((IPv4(src=B, dst=WEB, protocol=47) / Raw(b"x")).encode())
    assert nat.outbound(second, 0).reason == "ports exhausted"  # no ports to tell two inside hosts apart
    back = bytearray((IPv4(src=WEB, dst=OUT, protocol=47) / Raw(b"r")).encode())
    assert nat.inbound(back, 1).verdict is NatVerdict.TRANSLATED
    assert back == (IPv4(src=WEB, dst=A, protocol=47) / Raw(b"r")).encode()


# ---- what is not let in ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("packet", [tcp(WEB, OUT, 80, 40000, "S"), udp(DNS, OUT, 53, 5353),
                                    echo(WEB, OUT, 7, kind=0)], ids=["tcp", "udp", "echo-reply"])
def test_unsolicited_inbound_is_dropped(packet: bytearray) -> None:
    before = bytes(packet)
    result = make_nat().inbound(packet, 0)
    assert result.verdict is NatVerdict.DROP and result.reason == "no mapping"
    assert packet == before


def test_reply_from_another_remote_port_is_dropped() -> None:
    nat = make_nat()
    nat.outbound(udp(A, DNS, 5353, 53), 0)
    assert nat.inbound(udp(DNS, OUT, 54, 5353), 1).reason == "no mapping"
    assert nat.inbound(udp(WEB, OUT, 53, 5353), 1).reason == "no mapping"


def test_not_nat_business_is_accepted_untouched() -> None:
    nat = make_nat()
    to_router = echo(WEB, OUT, 9)  # an echo request to the router: it answers itself
    routed = udp(WEB, A, 53, 5353)  # addressed to another address than the outside one
    for packet in (to_router, routed):
        before = bytes(packet)
        assert nat.inbound(packet, 0).verdict is NatVerdict.ACCEPT and packet == before
    assert nat.mappings() == []


def test_a_segment_that_cannot_open_a_connection_is_dropped() -> None:
    for flags in ("FA", "R", "SA", ""):
        result = make_nat().outbound(tcp(A, WEB, 40000, 80, flags), 0)
        assert result.verdict is NatVerdict.DROP and result.reason == NatReason.INVALID_TCP


def test_a_truncated_header_is_dropped() -> None:
    packet = tcp(A, WEB, 40000, 80, "S")
    short = bytearray(packet[:30])
    assert make_nat().outbound(short, 0).reason == "truncated header"
