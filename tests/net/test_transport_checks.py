"""A host checks a TCP or UDP checksum before it parses the header: a segment damaged so that its options no
longer decode is a BAD_CHECKSUM drop (as Linux's tcp_v4_rcv checks the checksum first); only a segment whose
checksum holds is MALFORMED."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from layersim import TCP, IPv4
from layersim.net.network import Network
from layersim.net.trace.log import DropReason
from layersim.wire.checksum import internet_checksum, pseudo_header_sum
from layersim.wire.tcp_options import Timestamps

from .conftest import inject


def two_hosts() -> tuple[Network, object, object]:
    net = Network(seed=1)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.1.0.1/24", b_ip="10.1.0.2/24")
    return net, a, b


def segment_with_broken_option(fix_checksum: bool) -> bytes:
    """A SYN whose timestamps option claims 106 bytes (kind 165 after a flip), checksum recomputed or not."""
    good = (IPv4(src="10.1.0.1", dst="10.1.0.2") / TCP(sport=1000, dport=80, flags="S", seq=1,
                                                          options=[Timestamps(1, 0)])).encode()
    damaged = bytearray(good)
    option = 20 + 20  # the first option byte after the 20-byte IPv4 and TCP headers
    damaged[option], damaged[option + 1] = 165, 106
    if fix_checksum:
        damaged[36:38] = b"\x00\x00"
        pseudo = pseudo_header_sum(IPv4Address("10.1.0.1"), IPv4Address("10.1.0.2"), 6, len(damaged) - 20)
        damaged[36:38] = internet_checksum(bytes(damaged[20:]), pseudo).to_bytes(2, "big")
    return bytes(damaged)


@pytest.mark.parametrize(("fix_checksum", "reason"), [(False, DropReason.BAD_CHECKSUM),
                                                      (True, DropReason.MALFORMED)])
def test_checksum_before_parsing(fix_checksum: bool, reason: DropReason) -> None:
    net, a, b = two_hosts()
    inject(a.interfaces["eth0"], bytes(b.interfaces["eth0"].mac), segment_with_broken_option(fix_checksum))
    net.run()
    drops = [d for d in net.trace.drops() if d.node == "b"]
    assert [d.reason for d in drops] == [reason]
    if reason is DropReason.BAD_CHECKSUM:
        assert drops[0].details["layer"] == "TCP"
