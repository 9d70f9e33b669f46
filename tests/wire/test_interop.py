"""Conversion to and from scapy: always through bytes, so both sides see exactly the same frame."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.dns import DNS as SDNS
from scapy.layers.dns import DNSQR
from scapy.layers.http import HTTP
from scapy.layers.http import HTTPRequest as SHTTPRequest
from scapy.layers.inet import ICMP as SICMP
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as STCP
from scapy.layers.inet import UDP as SUDP
from scapy.layers.l2 import ARP as SARP
from scapy.layers.l2 import Dot1Q as SDot1Q
from scapy.layers.l2 import Ether
from scapy.packet import Packet as ScapyPacket
from scapy.packet import Raw as SRaw

from layersim.examples import http_get_frame
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


def test_to_scapy_in_a_fresh_interpreter_dissects_every_layer() -> None:
    """A new user's first call: no scapy layer module imported yet, and scapy must still see IP, TCP, DNS..."""
    dns_query = (IP(src="10.0.0.1", dst="10.0.0.53") / SUDP(sport=33000, dport=53)
                 / SDNS(id=7, rd=1, qd=DNSQR(qname="example.com")))
    frames = {"http": (Ether, http_get_frame().encode()), "ip_dns": (IP, bytes(dns_query)),
              "vlan_dns": (Ether, bytes(Ether(**MACS) / SDot1Q(vlan=7) / dns_query)),
              **{name: (Ether, bytes(SCAPY_FRAMES[name])) for name in ("icmp", "arp", "udp")}}
    code = ("import json, sys; from layersim.wire import IPv4, decode\n"
            "out = {}\n"
            "for name, (first, data) in json.loads(sys.argv[1]).items():\n"
            "    packet = decode(bytes.fromhex(data), IPv4 if first == 'IP' else None)\n"
            "    out[name] = [layer.__name__ for layer in packet.to_scapy().layers()]\n"
            "print(json.dumps(out))")
    argument = json.dumps({name: (first.__name__, data.hex()) for name, (first, data) in frames.items()})
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code, argument], check=True, cwd=root, capture_output=True,
                          text=True)
    fresh = json.loads(done.stdout)
    assert fresh["http"] == ["Ether", "IP", "TCP", HTTP.__name__, SHTTPRequest.__name__]
    assert fresh["ip_dns"] == ["IP", "UDP", "DNS"] and fresh["vlan_dns"] == ["Ether", "Dot1Q", "IP", "UDP", "DNS"]
    for name, (first, data) in frames.items():  # this process has every scapy layer loaded: the same view
        assert fresh[name] == [layer.__name__ for layer in first(data).layers()], name
