"""IPv6 frames Linux sent (tests/data/IPV6_GOLDEN.md): layersim's field values equal tshark's, frame by frame."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest

from layersim.capture import decode_record, read_capture
from layersim.wire import TCP, UDP, Ethernet
from layersim.wire.cooked import LinuxSLL2
from layersim.wire.icmpv6 import ICMPv6, ICMPv6EchoRequest, ICMPv6Error
from layersim.wire.ipv6 import IPv6
from layersim.wire.ipv6_ext import ESP, DestOptions, Fragment, HopByHop, Routing
from layersim.wire.ipv6_options import RouterAlert
from layersim.wire.mld import MLDv2Report, MulticastRecord
from layersim.wire.ndp import NDPNeighborAdvertisement, NDPNeighborSolicitation, NDPRouterAdvertisement
from layersim.wire.ndp_options import RDNSS, MTUOption, PrefixInformation, SourceLinkAddress, TargetLinkAddress
from layersim.wire.packet import Packet
from tests.tools import expert_problems, run_tshark, tshark_stderr

DATA = Path(__file__).parents[1] / "data"


def _option(packet: Packet, *kinds: type) -> Any:
    """The first NDP option of one of `kinds` in the packet's NDP message, or None."""
    for layer in packet.layers:
        for option in getattr(layer, "options", ()):
            if isinstance(option, kinds):
                return option
    return None


def _get(packet: Packet, cls: type, read: Callable[[Any], Any]) -> Any:
    layer = packet.get(cls)
    return None if layer is None else read(layer)


def _error(packet: Packet, kind: int) -> Any:
    return packet[ICMPv6Error].parameter if packet.get(ICMPv6) and packet[ICMPv6].type == kind else None


# tshark field -> how layersim reads the same value (None: this packet has no such field).
FIELDS: dict[str, Callable[[Packet], Any]] = {
    "ipv6.src": lambda p: p[IPv6].src,
    "ipv6.dst": lambda p: p[IPv6].dst,
    "ipv6.plen": lambda p: p[IPv6].payload_length,
    "ipv6.nxt": lambda p: p[IPv6].next_header,
    "ipv6.hlim": lambda p: p[IPv6].hop_limit,
    "ipv6.flow": lambda p: p[IPv6].flow_label,
    "ipv6.tclass": lambda p: p[IPv6].traffic_class,
    "ipv6.hopopts.nxt": lambda p: _get(p, HopByHop, lambda h: h.next_header),
    "ipv6.hopopts.len": lambda p: _get(p, HopByHop, lambda h: h.hdr_ext_len),
    "ipv6.opt.type": lambda p: _get(p, HopByHop, lambda h: h.options[0].kind),
    "ipv6.opt.router_alert": lambda p: _get(p, HopByHop, lambda h: next(
        o.value for o in h.options if type(o) is RouterAlert)),
    "ipv6.routing.type": lambda p: _get(p, Routing, lambda h: h.routing_type),
    "ipv6.routing.segleft": lambda p: _get(p, Routing, lambda h: h.segments_left),
    "ipv6.fraghdr.nxt": lambda p: _get(p, Fragment, lambda h: h.next_header),
    "ipv6.fraghdr.ident": lambda p: _get(p, Fragment, lambda h: h.identification),
    "ipv6.fraghdr.offset": lambda p: _get(p, Fragment, lambda h: h.fragment_offset),
    "ipv6.fraghdr.more": lambda p: _get(p, Fragment, lambda h: h.more_fragments),
    "esp.spi": lambda p: _get(p, ESP, lambda h: h.spi),
    "esp.sequence": lambda p: _get(p, ESP, lambda h: h.sequence),
    "icmpv6.type": lambda p: _get(p, ICMPv6, lambda h: h.type),
    "icmpv6.code": lambda p: _get(p, ICMPv6, lambda h: h.code),
    "icmpv6.checksum": lambda p: _get(p, ICMPv6, lambda h: h.checksum),
    "icmpv6.checksum.status": lambda p: _get(p, ICMPv6, lambda h: int(h.checksum_ok)),  # 1: good
    "icmpv6.mtu": lambda p: _error(p, 2),
    "icmpv6.pointer": lambda p: _error(p, 4),
    "icmpv6.echo.identifier": lambda p: _get(p, ICMPv6EchoRequest, lambda h: h.identifier),
    "icmpv6.echo.sequence_number": lambda p: _get(p, ICMPv6EchoRequest, lambda h: h.sequence),
    "icmpv6.nd.ns.target_address": lambda p: _get(p, NDPNeighborSolicitation, lambda h: h.target),
    "icmpv6.nd.na.target_address": lambda p: _get(p, NDPNeighborAdvertisement, lambda h: h.target),
    "icmpv6.nd.na.flag": lambda p: _get(p, NDPNeighborAdvertisement, lambda h: h.flags << 29 | h.reserved),
    "icmpv6.nd.ra.cur_hop_limit": lambda p: _get(p, NDPRouterAdvertisement, lambda h: h.cur_hop_limit),
    "icmpv6.nd.ra.flag": lambda p: _get(p, NDPRouterAdvertisement, lambda h: h.flags),
    "icmpv6.nd.ra.router_lifetime": lambda p: _get(p, NDPRouterAdvertisement, lambda h: h.router_lifetime),
    "icmpv6.nd.ra.reachable_time": lambda p: _get(p, NDPRouterAdvertisement, lambda h: h.reachable_time),
    "icmpv6.nd.ra.retrans_timer": lambda p: _get(p, NDPRouterAdvertisement, lambda h: h.retrans_timer),
    "icmpv6.opt.linkaddr": lambda p: (o := _option(p, SourceLinkAddress, TargetLinkAddress)) and o.address,
    "icmpv6.opt.prefix": lambda p: (o := _option(p, PrefixInformation)) and o.prefix,
    "icmpv6.opt.prefix.length": lambda p: (o := _option(p, PrefixInformation)) and o.prefix_length,
    "icmpv6.opt.prefix.flag": lambda p: (o := _option(p, PrefixInformation)) and o.flags,
    "icmpv6.opt.prefix.valid_lifetime": lambda p: (o := _option(p, PrefixInformation)) and o.valid_lifetime,
    "icmpv6.opt.mtu": lambda p: (o := _option(p, MTUOption)) and o.mtu,
    "icmpv6.opt.rdnss.lifetime": lambda p: (o := _option(p, RDNSS)) and o.lifetime,
    "icmpv6.opt.rdnss": lambda p: (o := _option(p, RDNSS)) and o.servers[0],
    "icmpv6.mldr.nb_mcast_records": lambda p: _get(p, MLDv2Report, lambda h: h.num_records),
    "icmpv6.mldr.mar.record_type": lambda p: _get(p, MLDv2Report, lambda h: h.records[0].record_type),
    "icmpv6.mldr.mar.multicast_address": lambda p: _get(p, MLDv2Report, lambda h: h.records[0].address),
    "udp.srcport": lambda p: _get(p, UDP, lambda h: h.sport),
    "udp.checksum": lambda p: _get(p, UDP, lambda h: h.checksum),
    "tcp.srcport": lambda p: _get(p, TCP, lambda h: h.sport),
    "tcp.checksum": lambda p: _get(p, TCP, lambda h: h.checksum),
}


def _same(ours: Any, theirs: str) -> bool:
    """tshark's text (decimal, 0x-hex, address) equals our value."""
    if isinstance(ours, IPv6Address):
        return ours == IPv6Address(theirs)
    if isinstance(ours, int):
        return int(ours) == int(theirs, 16 if theirs.startswith("0x") else 10)
    return str(ours) == theirs


def _compare(name: str, first: type) -> int:
    proc = run_tshark("-r", DATA / name, "-o", "ipv6.defragment:FALSE", "-E", "occurrence=f", "-T", "fields",
                      *[arg for f in FIELDS for arg in ("-e", f)])
    assert proc.returncode == 0 and tshark_stderr(proc) == "", proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    records = list(read_capture(DATA / name))
    assert len(rows) == len(records)
    compared = 0
    for number, (record, row) in enumerate(zip(records, rows, strict=True), 1):
        packet = decode_record(record)
        assert type(packet[0]) is first and packet.encode() == record.data
        fragment = packet.get(Fragment)
        for (tshark_name, read), theirs in zip(FIELDS.items(), row, strict=True):
            ours = read(packet)
            if not theirs:
                assert ours is None, f"frame {number} {tshark_name}: tshark has none, we have {ours!r}"
                continue
            if ours is None and fragment is not None and (fragment.more_fragments or fragment.fragment_offset):
                continue  # tshark reads the first fragment's UDP header; layersim leaves a fragment's bytes Raw
            assert ours is not None and _same(ours, theirs), f"frame {number} {tshark_name}: {ours!r} != {theirs}"
            compared += 1
    return compared


@pytest.mark.tshark
def test_ethernet_ipv6_fields_equal_tsharks() -> None:
    assert _compare("ipv6_golden.pcap", Ethernet) > 400


@pytest.mark.tshark
def test_sll2_ipv6_fields_equal_tsharks() -> None:
    assert _compare("ipv6_sll2.pcap", LinuxSLL2) > 50


def built_frames() -> list[Packet]:
    """IPv6 frames built from fields, every length and checksum computed by layersim."""
    eth = Ethernet(src="02:00:00:00:01:10", dst="02:00:00:00:01:01")
    ip = IPv6(src="2001:db8:1::10", dst="2001:db8:2::20")
    request = ip / UDP(sport=40000, dport=9) / b"probe"
    return [
        eth / IPv6(src="::", dst="ff02::1:ff00:10", hop_limit=255) / ICMPv6() / NDPNeighborSolicitation(
            target="2001:db8:1::10"),
        eth / IPv6(src="fe80::1", dst="ff02::1", hop_limit=255) / ICMPv6() / NDPRouterAdvertisement(options=[
            SourceLinkAddress("02:00:00:00:01:01"), MTUOption(1500), PrefixInformation(prefix="2001:db8:1::"),
            RDNSS(600, (IPv6Address("2001:db8:2::53"),))]),
        eth / ip / ICMPv6() / ICMPv6EchoRequest(identifier=7, sequence=1) / b"ping",
        eth / ip / HopByHop(options=[RouterAlert(0)]) / DestOptions() / Fragment(identification=9) / request[UDP]
        / b"probe",
        eth / ip / TCP(sport=40000, dport=80, flags="S"),
        eth / IPv6(src="2001:db8:1::1", dst="2001:db8:1::10") / ICMPv6(type=2) / ICMPv6Error(parameter=1400)
        / request,
        eth / IPv6(src="fe80::1", dst="ff02::16", hop_limit=1) / HopByHop(options=[RouterAlert(0)]) / ICMPv6()
        / MLDv2Report(records=[MulticastRecord(4, IPv6Address("ff02::1:ff00:10"))]),
    ]


@pytest.mark.tshark
def test_tshark_finds_nothing_wrong_in_ipv6_that_layersim_built(tmp_path: Path) -> None:
    """Checksums over the IPv6 pseudo-header, lengths and option padding as tshark expects them."""
    from layersim.capture import Interface, PcapngWriter

    path = tmp_path / "built.pcapng"
    with PcapngWriter(path, [Interface("eth0")]) as writer:
        for i, packet in enumerate(built_frames()):
            writer.write(0, i * 1000, packet.encode())
    assert expert_problems(path) == []
