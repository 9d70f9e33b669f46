"""The frames neighbour discovery sends: byte for byte what scapy builds from the same fields, and tshark finds
nothing wrong in them (checksums over the IPv6 pseudo-header included)."""

from __future__ import annotations

from ipaddress import IPv6Address, IPv6Network

import pytest

from layersim.capture.pcap import write_pcap
from layersim.net.ipv6.addresses import link_local
from layersim.net.ipv6.nd_frames import (
    advertisement_frame,
    dad_probe_frame,
    router_advert_frame,
    router_solicit_frame,
    solicitation_frame,
)
from layersim.net.ipv6.ndp import Solicit
from layersim.net.ipv6.router_adv import Advert, PrefixInfo
from layersim.wire.addresses import MAC
from layersim.wire.ipv6 import IPv6
from layersim.wire.packet import decode
from tests.tools import expert_problems, run_tshark

scapy = pytest.importorskip("scapy.all")

HOST_MAC, ROUTER_MAC = MAC("02:00:00:00:00:0a"), MAC("02:00:00:00:00:01")
HOST_LL, ROUTER_LL = link_local(HOST_MAC).ip, link_local(ROUTER_MAC).ip
TARGET = IPv6Address("2001:db8:1::1")
SECOND = 1_000_000_000


def ns_scapy(src, dst, mac_dst, target, lladdr):
    frame = scapy.Ether(src=str(HOST_MAC), dst=mac_dst) / scapy.IPv6(src=src, dst=dst, hlim=255)
    frame /= scapy.ICMPv6ND_NS(tgt=target)
    if lladdr:
        frame /= scapy.ICMPv6NDOptSrcLLAddr(lladdr=lladdr)
    return bytes(frame)


def frames() -> dict[str, tuple[bytes, bytes]]:
    """(ours, scapy's) for each kind of ND frame."""
    advert = Advert(ROUTER_LL, ROUTER_MAC, prefixes=(PrefixInfo(IPv6Network("2001:db8:1::/64")),), mtu=1500)
    ra_scapy = (scapy.Ether(src=str(ROUTER_MAC), dst="33:33:00:00:00:01")
                / scapy.IPv6(src=str(ROUTER_LL), dst="ff02::1", hlim=255)
                / scapy.ICMPv6ND_RA(chlim=64, routerlifetime=1800, prf=0, M=0, O=0, H=0, P=0)
                / scapy.ICMPv6NDOptSrcLLAddr(lladdr=str(ROUTER_MAC)) / scapy.ICMPv6NDOptMTU(mtu=1500)
                / scapy.ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=14400,
                                              prefix="2001:db8:1::"))
    return {
        "NS multicast": (solicitation_frame(Solicit(TARGET, "eth0"), HOST_LL, HOST_MAC),
                         ns_scapy(str(HOST_LL), "ff02::1:ff00:1", "33:33:ff:00:00:01", str(TARGET), str(HOST_MAC))),
        "NS unicast probe": (solicitation_frame(Solicit(TARGET, "eth0", ROUTER_MAC), HOST_LL, HOST_MAC),
                             ns_scapy(str(HOST_LL), str(TARGET), str(ROUTER_MAC), str(TARGET), str(HOST_MAC))),
        "DAD NS": (dad_probe_frame(IPv6Address("2001:db8:1::10"), HOST_MAC),
                   ns_scapy("::", "ff02::1:ff00:10", "33:33:ff:00:00:10", "2001:db8:1::10", None)),
        "NA solicited": (advertisement_frame(TARGET, ROUTER_MAC, HOST_LL, HOST_MAC, router=True),
                         bytes(scapy.Ether(src=str(ROUTER_MAC), dst=str(HOST_MAC))
                               / scapy.IPv6(src=str(TARGET), dst=str(HOST_LL), hlim=255)
                               / scapy.ICMPv6ND_NA(tgt=str(TARGET), R=1, S=1, O=1)
                               / scapy.ICMPv6NDOptDstLLAddr(lladdr=str(ROUTER_MAC)))),
        "NA to a DAD probe": (advertisement_frame(TARGET, ROUTER_MAC, IPv6Address("::"), None, router=False),
                              bytes(scapy.Ether(src=str(ROUTER_MAC), dst="33:33:00:00:00:01")
                                    / scapy.IPv6(src=str(TARGET), dst="ff02::1", hlim=255)
                                    / scapy.ICMPv6ND_NA(tgt=str(TARGET), R=0, S=0, O=1)
                                    / scapy.ICMPv6NDOptDstLLAddr(lladdr=str(ROUTER_MAC)))),
        "RS": (router_solicit_frame(HOST_LL, HOST_MAC),
               bytes(scapy.Ether(src=str(HOST_MAC), dst="33:33:00:00:00:02")
                     / scapy.IPv6(src=str(HOST_LL), dst="ff02::2", hlim=255) / scapy.ICMPv6ND_RS()
                     / scapy.ICMPv6NDOptSrcLLAddr(lladdr=str(HOST_MAC)))),
        "RA": (router_advert_frame(advert, ROUTER_MAC), bytes(ra_scapy)),
    }


@pytest.mark.parametrize("kind", ["NS multicast", "NS unicast probe", "DAD NS", "NA solicited", "NA to a DAD probe",
                                  "RS", "RA"])
def test_nd_frames_equal_scapys(kind):
    ours, theirs = frames()[kind]
    assert ours.hex() == theirs.hex()
    packet = decode(ours)
    assert packet[IPv6].hop_limit == 255  # RFC 4861 §7.1.1


def test_a_router_solicitation_from_the_unspecified_address_has_no_lladdr_option():
    frame = router_solicit_frame(IPv6Address("::"), HOST_MAC)
    assert len(frame) == 14 + 40 + 8  # Ethernet, IPv6, ICMPv6 + reserved: no option


def test_tshark_reads_the_nd_frames_without_a_warning(tmp_path):
    path = tmp_path / "nd.pcap"
    write_pcap(path, [(i * SECOND, ours) for i, (ours, _) in enumerate(frames().values())])
    assert expert_problems(path) == []
    proc = run_tshark("-r", path, "-T", "fields", "-e", "icmpv6.type", "-e", "icmpv6.checksum.status")
    assert proc.stdout.split() == ["135", "1", "135", "1", "135", "1", "136", "1", "136", "1", "133", "1", "134", "1"]
