"""Nat against a real Linux MASQUERADE: the packets Linux saw on the inside of its NAT router go through our Nat,
and what comes out must be what Linux put on the outside wire, and the reverse for the replies.

tests/data/record_masquerade.sh recorded the capture between network namespaces: inside hosts 10.0.0.2 and
10.0.0.3, the NAT router's outside address 203.0.113.2, the server 93.184.216.34 behind an ISP router
203.0.113.1. tcpdump ran on the router's inside bridge and on its outside interface. The router forwards
between the two captures, so our bytes get the TTL decrement (layersim.wire.ipv4.decrement_ttl) before
(outbound: PREROUTING, forward, POSTROUTING) or after (inbound) NAT, as Linux's did.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP as ScapyICMP
from scapy.layers.inet import IP, TCP, UDP

from layersim.capture import read_capture, write_pcap
from layersim.net.nat.napt import Nat, NatVerdict
from layersim.wire.ipv4 import decrement_ttl
from tests.tools import rfc1071_sum, run_tshark

DATA = Path(__file__).resolve().parent.parent / "data"
OUTSIDE = IPv4Address("203.0.113.2")
INSIDE_HOSTS = {IPv4Address("10.0.0.2"), IPv4Address("10.0.0.3")}
ROUTER_INSIDE = IPv4Address("10.0.0.1")


def _ip(frame: bytes) -> bytes:
    """The IPv4 packet in an Ethernet frame, without any trailing padding."""
    total = struct.unpack_from("!H", frame, 16)[0]
    return frame[14:14 + total]


def _addresses(packet: bytes) -> tuple[IPv4Address, IPv4Address]:
    return IPv4Address(packet[12:16]), IPv4Address(packet[16:20])


def _key_port(packet: bytes) -> tuple[int, int]:
    """(byte offset, value) of the field NAT maps on the inside endpoint's side: source port or ICMP id."""
    ihl = (packet[0] & 0x0F) * 4
    if packet[9] == 1:
        return ihl + 4, struct.unpack_from("!H", packet, ihl + 4)[0]
    return ihl, struct.unpack_from("!H", packet, ihl)[0]


@dataclass
class Crossing:
    """One packet crossing the NAT router: as seen inside and outside, and when it left the router."""

    time: int
    outbound: bool
    inside: bytes
    outside: bytes


def _crossings() -> list[Crossing]:
    inside = [(r.time_ns, _ip(r.data)) for r in read_capture(DATA / "linux_masquerade_inside.pcap")]
    outside = [(r.time_ns, _ip(r.data)) for r in read_capture(DATA / "linux_masquerade_outside.pcap")]
    # Inside packets that left: from an inside host with a TTL the router could forward (traceroute's TTL 1
    # probe gets the router's own Time Exceeded). Inside packets that came in: not from the router itself.
    out_in = [p for _, p in inside if _addresses(p)[0] in INSIDE_HOSTS and p[8] > 1]
    in_in = [p for _, p in inside if _addresses(p)[1] in INSIDE_HOSTS and _addresses(p)[0] != ROUTER_INSIDE]
    out_out = [(t, p) for t, p in outside if _addresses(p)[0] == OUTSIDE]
    in_out = [(t, p) for t, p in outside if _addresses(p)[1] == OUTSIDE]
    assert len(out_in) == len(out_out) and len(in_in) == len(in_out)
    start = outside[0][0]
    crossings = [Crossing(t - start, True, i, o) for i, (t, o) in zip(out_in, out_out, strict=True)]
    crossings += [Crossing(t - start, False, i, o) for i, (t, o) in zip(in_in, in_out, strict=True)]
    return sorted(crossings, key=lambda c: c.time)


CROSSINGS = _crossings()


def _transport_checksum_ok(packet: bytes) -> bool:
    """RFC 1071 from scratch (tests.tools) over the pseudo-header and the TCP/UDP segment, or the ICMP message."""
    ihl = (packet[0] & 0x0F) * 4
    segment = packet[ihl:]
    if packet[9] == 1:
        return rfc1071_sum(segment) == 0xFFFF
    pseudo = packet[12:20] + bytes([0, packet[9]]) + struct.pack("!H", len(segment))
    return rfc1071_sum(pseudo + segment) == 0xFFFF


def _with_port(packet: bytes, offset: int, port: int) -> bytes:
    """`packet` with the 16-bit field at `offset` set to `port` and its checksums recomputed by scapy."""
    changed = bytearray(packet)
    struct.pack_into("!H", changed, offset, port)
    ip = IP(bytes(changed))
    for layer in (TCP, UDP, ScapyICMP):
        if layer in ip:
            del ip[layer].chksum
    return bytes(ip)


def test_the_capture_holds_every_case() -> None:
    """The recording has what the comparison below relies on: port and identifier clashes, and ICMP errors."""
    changed = [c for c in CROSSINGS if c.outbound and _key_port(c.inside) != _key_port(c.outside)]
    assert {c.inside[9] for c in changed} == {1, 6, 17}  # Linux remapped a TCP port, a UDP port, an ICMP id
    errors = {c.outside[20] for c in CROSSINGS if not c.outbound and c.outside[9] == 1}
    assert {3, 11} <= errors  # Port Unreachable and Time Exceeded came back through the NAT


def _replay(nat: Nat, results: list[tuple[int, bytes]] | None = None) -> tuple[dict[int, int], int]:
    """Run every crossing through `nat`, checking each result against Linux's bytes as it goes (and appending
    (time, our bytes) to `results`).

    Returns Linux's randomly chosen outside ports/ids mapped to ours, and how many packets matched exactly.
    """
    ours: dict[int, int] = {}
    exact = 0
    results = [] if results is None else results
    for crossing in CROSSINGS:
        if crossing.outbound:
            packet = bytearray(crossing.inside)
            decrement_ttl(packet)
            assert nat.outbound(packet, crossing.time).verdict is NatVerdict.TRANSLATED
            offset, inside_port = _key_port(crossing.inside)
            linux_port = _key_port(crossing.outside)[1]
            if linux_port == inside_port:
                assert bytes(packet) == crossing.outside
                exact += 1
            else:
                our_port = _key_port(bytes(packet))[1]
                assert our_port != inside_port
                ours[linux_port] = our_port
                assert _transport_checksum_ok(bytes(packet))
                # Same bytes once our port is written over Linux's (the checksum follows from the port).
                assert bytes(packet) == _with_port(crossing.outside, offset, our_port)
            results.append((crossing.time, bytes(packet)))
        else:
            packet = bytearray(crossing.outside)
            if packet[9] != 1 or packet[20] in (0, 14):
                offset = (packet[0] & 0x0F) * 4 + (4 if packet[9] == 1 else 2)
                port = struct.unpack_from("!H", packet, offset)[0]
                if port in ours:
                    packet = bytearray(_with_port(bytes(packet), offset, ours[port]))
            assert nat.inbound(packet, crossing.time).verdict is NatVerdict.TRANSLATED
            decrement_ttl(packet)
            assert bytes(packet) == crossing.inside
            results.append((crossing.time, bytes(packet)))
            exact += 1
    return ours, exact


def test_our_nat_puts_linux_bytes_on_both_wires() -> None:
    """Every crossing: our translation equals Linux's, byte for byte where Linux kept the port; where Linux picked
    a new port (at random) ours is also new and the rest of the packet matches, with a valid checksum."""
    ours, exact = _replay(Nat(OUTSIDE, rng=random.Random(7)))
    # Remapped: one TCP connection (5 packets out), one UDP datagram and one echo request; all else exact.
    assert len(ours) == 3 and exact == len(CROSSINGS) - 7


@pytest.mark.tshark
def test_tshark_finds_every_checksum_we_wrote_good(tmp_path: Path) -> None:
    """tshark, checksum validation on, finds every IPv4, TCP, UDP and ICMP checksum our Nat wrote good, both
    ways, including those of the datagrams quoted in ICMP errors."""
    results: list[tuple[int, bytes]] = []
    _replay(Nat(OUTSIDE, rng=random.Random(3)), results)
    path = tmp_path / "ours.pcap"
    write_pcap(path, results, linktype=228)  # LINKTYPE_IPV4: raw IPv4 packets
    statuses = ("ip", "tcp", "udp", "icmp")
    proc = run_tshark("-r", path, "-T", "fields", *(f"-e{name}.checksum.status" for name in statuses),
                      "-E", "occurrence=a", "-E", "aggregator=,")
    assert proc.returncode == 0, proc.stderr
    rows = [dict(zip(statuses, line.split("\t"), strict=True)) for line in proc.stdout.splitlines()]
    assert len(rows) == len(CROSSINGS)
    for row in rows:
        assert all(value == "1" for column in row.values() for value in column.split(",") if value), row  # 1: Good
        assert row["ip"] and (row["tcp"] or row["udp"] or row["icmp"]), row
    assert sum(row["ip"] == "1,1" for row in rows) == 3  # the ICMP errors: outer and quoted IPv4 headers


def _linux_table() -> list[str]:
    """The router's /proc/net/nf_conntrack at the end of the recording, as `conntrack -L` lines, for the
    inside hosts' connections (its own IGMP entry left out)."""
    lines = []
    for raw in (DATA / "linux_masquerade_conntrack.txt").read_text().splitlines():
        line = raw.split(None, 2)[2]  # drop "ipv4     2 "
        line = line[:line.index(" mark=")]
        if any(f"src={host} " in line for host in INSIDE_HOSTS):
            lines.append(line)
    return lines


def test_table_matches_linux_conntrack() -> None:
    """table() after the whole capture lists the same connections, states and flags as Linux's conntrack, and the
    same seconds left on each (up to when the dump was taken)."""
    nat = Nat(OUTSIDE, rng=random.Random(7))
    renamed = {str(linux): str(ours) for linux, ours in _replay(nat)[0].items()}
    now = CROSSINGS[-1].time
    ours = {_mask(line, {}): _seconds(line) for line in nat.table(now).splitlines()}
    linux = {_mask(line, renamed): _seconds(line) for line in _linux_table()}
    assert ours.keys() == linux.keys()
    # Linux read its table about 3 s after the last packet (the closed-port client waits out its 2 s timeout,
    # then the script sleeps 1 s): every entry must be that much further down its timeout than ours.
    behind = {line: ours[line] - seconds for line, seconds in linux.items()}
    assert max(behind.values()) - min(behind.values()) <= 1, behind
    assert 2 <= min(behind.values()) <= 4, behind


def _seconds(line: str) -> int:
    return int(line.split()[2])


def _mask(line: str, renamed: dict[str, str]) -> str:
    """The line without its seconds, with Linux's randomly chosen reply ports/ids replaced by ours."""
    words = line.split()
    words[2] = "*"
    for i, word in enumerate(words):
        name, _, value = word.partition("=")
        if name in ("dport", "id") and value in renamed and i > len(words) // 2:
            words[i] = f"{name}={renamed[value]}"
    return " ".join(words)


@pytest.mark.parametrize("crossing", [c for c in CROSSINGS if not c.outbound][:3],
                         ids=lambda c: f"{c.time // 1000}us")
def test_replies_without_the_outbound_packets_are_dropped(crossing: Crossing) -> None:
    """A fresh Nat has no mapping: the replies Linux let in are unsolicited to it."""
    result = Nat(OUTSIDE, rng=random.Random(1)).inbound(bytearray(crossing.outside), crossing.time)
    assert result.verdict is NatVerdict.DROP and result.reason == "no mapping"
