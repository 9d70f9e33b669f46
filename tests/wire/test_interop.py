"""Conversion to and from scapy: always through bytes, so both sides see exactly the same frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP as SICMP
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as STCP
from scapy.layers.inet import UDP as SUDP
from scapy.layers.l2 import ARP as SARP
from scapy.layers.l2 import Dot1Q as SDot1Q
from scapy.layers.l2 import Ether
from scapy.packet import Packet as ScapyPacket
from scapy.packet import Raw as SRaw

from layersim.wire import ARP, ICMP, TCP, UDP, Dot1Q, Ethernet, IPv4, Packet, Raw, decode
from layersim.wire.interop import from_scapy, to_scapy

MACS = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}

SCAPY_FRAMES = {
    "tcp": (Ether(**MACS) / IP(src="10.0.0.1", dst="10.0.0.2", ttl=61)
            / STCP(sport=40000, dport=8080, flags="S", options=[("MSS", 1460)])),
    "udp": Ether(**MACS) / IP(src="10.0.0.1", dst="10.0.0.9") / SUDP(sport=5000, dport=5001) / SRaw(b"q"),
    "icmp": Ether(**MACS) / IP(src="10.0.0.1", dst="10.0.0.2") / SICMP(id=1, seq=2) / SRaw(b"ping"),
    "arp": Ether(src=MACS["src"], dst="ff:ff:ff:ff:ff:ff") / SARP(psrc="10.0.0.1", pdst="10.0.0.254",
                                                                   hwsrc=MACS["src"]),
    "vlan": Ether(**MACS) / SDot1Q(vlan=7) / IP(src="10.7.0.1", dst="10.7.0.2") / SUDP(sport=1, dport=2),
}
LAYERS = {"tcp": [Ethernet, IPv4, TCP], "udp": [Ethernet, IPv4, UDP, Raw],
          "icmp": [Ethernet, IPv4, ICMP, Raw], "arp": [Ethernet, ARP], "vlan": [Ethernet, Dot1Q, IPv4, UDP]}


@pytest.mark.parametrize("name", list(SCAPY_FRAMES))
def test_from_scapy_then_to_scapy_keeps_every_byte(name: str) -> None:
    frame = Ether(bytes(SCAPY_FRAMES[name]))
    packet = from_scapy(frame)
    assert [type(layer) for layer in packet.layers] == LAYERS[name]
    assert packet.data == bytes(frame)
    back = to_scapy(packet)
    assert isinstance(back, Ether)
    assert bytes(back) == bytes(frame)
    assert back.summary() == frame.summary()


def test_to_scapy_field_values_agree() -> None:
    packet = decode(bytes(SCAPY_FRAMES["tcp"]))
    s = packet.to_scapy()
    assert s[IP].ttl == packet[IPv4].ttl == 61
    assert s[IP].chksum == packet[IPv4].header_checksum
    assert s[STCP].sport == packet[TCP].sport and int(s[STCP].flags) == int(packet[TCP].flags)
    assert s[Ether].src == str(packet[Ethernet].src)


def test_ip_first_packets_convert_as_ip() -> None:
    datagram = IP(src="10.0.0.1", dst="10.0.0.2") / SUDP(sport=1000, dport=2000) / SRaw(b"payload")
    packet = from_scapy(datagram)
    assert [type(layer) for layer in packet.layers] == [IPv4, UDP, Raw]
    assert packet[UDP].checksum_ok is True
    back = to_scapy(packet)
    assert isinstance(back, IP) and not isinstance(back, Ether)
    assert bytes(back) == bytes(datagram)
    assert Packet.from_scapy(datagram) == packet


def test_built_packets_and_other_first_layers() -> None:
    built = (Ethernet(**MACS) / IPv4(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=7, dport=7) / b"echo")
    s = to_scapy(built)
    assert bytes(s) == built.encode()
    assert s[SUDP].chksum == decode(built.encode())[UDP].checksum
    arp_only = Packet([ARP(sender_ip="10.0.0.1", target_ip="10.0.0.2")])
    raw = to_scapy(arp_only)
    assert isinstance(raw, SRaw) and bytes(raw) == arp_only.encode()
    assert isinstance(to_scapy(Packet()), SRaw)


def test_scapy_packet_type_is_still_scapys() -> None:
    assert isinstance(to_scapy(decode(bytes(SCAPY_FRAMES["icmp"]))), ScapyPacket)


def test_interop_does_not_import_scapy_until_used() -> None:
    root = Path(__file__).resolve().parents[2]
    code = ("import sys; import layersim.wire.interop, layersim.wire.show; "
            "assert not any(m == 'scapy' or m.startswith('scapy.') for m in sys.modules), 'scapy imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
