"""Packet views (layer tree, annotated hex dump, HTML, JSON, field diff) on frames that scapy builds.

scapy is the independent implementation: it builds the bytes, and its own field values and byte positions
(`build_ps`) are what our views must report.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import FrozenInstanceError
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP as SICMP
from scapy.layers.inet import IP, IPerror, IPOption, UDPerror
from scapy.layers.inet import TCP as STCP
from scapy.layers.inet import UDP as SUDP
from scapy.layers.l2 import ARP as SARP
from scapy.layers.l2 import Dot1Q as SDot1Q
from scapy.layers.l2 import Ether
from scapy.packet import Packet as ScapyPacket
from scapy.packet import Raw as SRaw

from layersim.errors import DecodeError
from layersim.wire import ICMP, TCP, UDP, Ethernet, IPv4, Packet, decode
from layersim.wire.show import (
    FieldChange,
    diff,
    field_map,
    format_diff,
    hexdump,
    hexdump_html,
    hexdump_text,
    layer_to_dict,
    packet_to_dict,
    show,
    show_text,
)

CLIENT_MAC, ROUTER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
HTTP_GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def _eth() -> Ether:
    """Ethernet from the client to its router."""
    return Ether(src=CLIENT_MAC, dst=ROUTER_MAC)


def tcp_frame() -> Ether:
    """An HTTP request segment with the options Linux puts on a SYN (they are legal on any segment)."""
    return (_eth() / IP(src="10.0.0.1", dst="93.184.216.34", id=0x1234, flags="DF", ttl=64)
            / STCP(sport=50512, dport=80, seq=1000, ack=2000, flags="PA", window=502,
                   options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (4242, 77)), ("NOP", None),
                            ("WScale", 7)])
            / SRaw(HTTP_GET))


def udp_frame() -> Ether:
    """A DNS-sized UDP datagram."""
    return (_eth() / IP(src="10.0.0.1", dst="10.0.0.53", id=7) / SUDP(sport=50007, dport=53)
            / SRaw(bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001")))


def icmp_echo_frame() -> Ether:
    """`ping`'s echo request: identifier 0x1fb3, sequence 1, 56 bytes of data."""
    return (_eth() / IP(src="10.0.0.1", dst="10.0.0.2", id=0x9f35, flags="DF")
            / SICMP(type=8, id=0x1FB3, seq=1) / SRaw(bytes(range(56))))


def time_exceeded_frame() -> Ether:
    """A router's Time Exceeded quoting the UDP datagram whose TTL ran out (traceroute's probe)."""
    quoted = (IP(src="10.0.0.1", dst="8.8.8.8", ttl=1, id=99) / SUDP(sport=33434, dport=33435)
              / SRaw(b"probe..!"))
    return (Ether(src=ROUTER_MAC, dst=CLIENT_MAC) / IP(src="10.0.0.254", dst="10.0.0.1", tos=0xC0)
            / SICMP(type=11, code=0) / quoted)


def arp_frame() -> Ether:
    """Who has 10.0.0.254? Tell 10.0.0.1."""
    return (Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff")
            / SARP(op=1, hwsrc=CLIENT_MAC, psrc="10.0.0.1", hwdst="00:00:00:00:00:00", pdst="10.0.0.254"))


def vlan_frame() -> Ether:
    """A UDP datagram on VLAN 42, priority 3, with an IPv4 Router Alert option."""
    return (_eth() / SDot1Q(prio=3, vlan=42)
            / IP(src="192.168.42.10", dst="192.168.42.1", options=[IPOption(b"\x94\x04\x00\x00")])
            / SUDP(sport=5000, dport=6000) / SRaw(b"hello vlan"))


def padded_frame() -> bytes:
    """A short UDP datagram in a frame padded with zeros to Ethernet's 60-byte minimum."""
    data = bytes(_eth() / IP(src="10.0.0.1", dst="10.0.0.2") / SUDP(sport=1, dport=2) / SRaw(b"hi"))
    return data + bytes(60 - len(data))


FRAMES = {"tcp": tcp_frame, "udp": udp_frame, "icmp_echo": icmp_echo_frame,
          "time_exceeded": time_exceeded_frame, "arp": arp_frame, "vlan": vlan_frame}


def frame_bytes(name: str) -> bytes:
    """The bytes of one of the sample frames (the padded one included)."""
    return padded_frame() if name == "padded" else bytes(FRAMES[name]())


ALL_FRAMES = [*FRAMES, "padded"]


# Layer tree -------------------------------------------------------------------------------------------------
def test_show_tcp_frame_has_wireshark_summaries_and_values() -> None:
    s = Ether(bytes(tcp_frame()))
    text = show_text(decode(bytes(s)))
    lines = [line.strip() for line in text.splitlines()]
    for expected in [
        f"Frame: {len(s)} bytes ({len(s) * 8} bits)",
        f"Ethernet II, Src: {CLIENT_MAC}, Dst: {ROUTER_MAC}",
        "Type: IPv4 (0x0800)",
        "Internet Protocol Version 4, Src: 10.0.0.1, Dst: 93.184.216.34",
        "Header Length: 5 [20 bytes]",
        f"Total Length: {s[IP].len} (0x{s[IP].len:04x})",
        "Identification: 0x1234 (4660)",
        "Flags: DF (0x2)",
        "Time to Live: 64 (0x40)",
        "Protocol: TCP (6)",
        f"Header Checksum: 0x{s[IP].chksum:04x} [correct]",
        "Source Address: 10.0.0.1",
        "Destination Address: 93.184.216.34",
        "Transmission Control Protocol, Src Port: 50512, Dst Port: 80, Seq: 1000, Ack: 2000, "
        f"Len: {len(HTTP_GET)}",
        "Source Port: 50512 (0xc550)",
        "Sequence Number: 1000 (0x000003e8)",
        f"Data Offset: {s[STCP].dataofs} [{s[STCP].dataofs * 4} bytes]",
        "Flags: PSH, ACK (0x18)",
        "Window: 502 (0x01f6)",
        f"Checksum: 0x{s[STCP].chksum:04x} [correct]",
        "Options: 5",
        "MSS: value=1460",
        "SACKPermitted",
        "Timestamps: tsval=4242, tsecr=77",
        "NOP",
        "WindowScale: shift=7",
    ]:
        assert expected in lines, f"{expected!r} not in:\n{text}"
    assert "Preamble" in text and "FCS" in text and "not in these bytes" in text


def test_show_prints_the_text_that_show_text_returns(capsys: pytest.CaptureFixture[str]) -> None:
    packet = decode(bytes(udp_frame()))
    text = show_text(packet)
    assert text.startswith("Frame: ") and packet.show_text() == text
    out = io.StringIO()
    assert show(packet, file=out) is None  # printing returns nothing: the REPL must not echo the tree again
    assert out.getvalue() == text + "\n"
    assert show(packet) is None and packet.show() is None
    assert capsys.readouterr().out == 2 * (text + "\n")
    out = io.StringIO()
    packet.show(file=out)
    assert out.getvalue() == text + "\n"


def test_show_corrupted_ipv4_checksum_says_what_it_should_be() -> None:
    data = bytearray(bytes(tcp_frame()))
    good = int.from_bytes(data[24:26], "big")
    data[24:26] = (good ^ 0x0F0F).to_bytes(2, "big")
    text = show_text(decode(bytes(data)))
    assert f"Header Checksum: 0x{good ^ 0x0F0F:04x} [incorrect, should be 0x{good:04x}]" in text
    assert "[incorrect" in text
    assert "Checksum: " in text and text.count("[correct]") == 1  # TCP still correct: pseudo-header unchanged


def test_show_corrupted_tcp_checksum_is_incorrect() -> None:
    data = bytearray(bytes(tcp_frame()))
    data[50] ^= 0xFF  # TCP checksum, bytes 50-51
    text = show_text(decode(bytes(data)))
    checksum = int.from_bytes(data[50:52], "big")
    assert f"    Checksum: 0x{checksum:04x} [incorrect]" in text
    assert "Header Checksum:" in text and "[correct]" in text


def test_show_udp_and_icmp_echo() -> None:
    s = Ether(bytes(udp_frame()))
    text = show_text(decode(bytes(s)))
    assert "User Datagram Protocol, Src Port: 50007, Dst Port: 53, Len: 29" in text
    assert f"Length: {s[SUDP].len} (0x{s[SUDP].len:04x})" in text
    assert f"Checksum: 0x{s[SUDP].chksum:04x} [correct]" in text

    s = Ether(bytes(icmp_echo_frame()))
    text = show_text(decode(bytes(s)))
    assert "Internet Control Message Protocol, Type: ECHO_REQUEST (8), Code: 0" in text
    assert f"Checksum: 0x{s[SICMP].chksum:04x} [correct]" in text
    assert "[Identifier: 8115]" in text and "[Sequence: 1]" in text
    assert "Data (56 bytes)" in text


def test_show_time_exceeded_nests_the_quoted_datagram() -> None:
    s = Ether(bytes(time_exceeded_frame()))
    lines = show_text(decode(bytes(s))).splitlines()
    assert "Internet Control Message Protocol, Type: TIME_EXCEEDED (11), Code: 0" in lines
    assert "    [Code Name: TTL_EXCEEDED]" in lines
    quoted = lines.index("    Internet Protocol Version 4, Src: 10.0.0.1, Dst: 8.8.8.8")
    assert "        Time to Live: 1 (0x01)" in lines[quoted:]
    assert "    User Datagram Protocol, Src Port: 33434, Dst Port: 33435, Len: 8" in lines
    # The quoted datagram's header checksum is checkable; its UDP checksum is not (the quote may be cut).
    assert f"        Header Checksum: 0x{s[IPerror].chksum:04x} [correct]" in lines
    assert f"        Checksum: 0x{s[UDPerror].chksum:04x} [unverified]" in lines
    assert f"    Header Checksum: 0x{s[IP].chksum:04x} [correct]" in lines
    assert "    Differentiated Services Codepoint: 48" in lines


def test_show_arp_vlan_and_padding() -> None:
    text = show_text(decode(bytes(arp_frame())))
    assert "Address Resolution Protocol (request), Who has 10.0.0.254? Tell 10.0.0.1" in text
    assert "Destination: ff:ff:ff:ff:ff:ff (broadcast)" in text
    assert "Opcode: REQUEST (1)" in text and "Sender MAC: 02:00:00:00:00:01" in text

    text = show_text(decode(bytes(vlan_frame())))
    assert "802.1Q Virtual LAN, PRI: 3, DEI: 0, ID: 42" in text
    assert "Type: VLAN (0x8100)" in text and "VLAN ID: 42 (0x02a)" in text
    assert "Header Length: 6 [24 bytes]" in text and "Options: 94040000 (4 bytes)" in text

    data = padded_frame()
    text = show_text(decode(data))
    assert text.splitlines()[-2:] == ["Padding (16 bytes)", "    Data: " + "00" * 16 + " (16 bytes)"]


def test_show_built_packet_shows_the_computed_fields() -> None:
    built = (Ethernet(src=CLIENT_MAC, dst=ROUTER_MAC) / IPv4(src="10.0.1.10", dst="93.184.216.34")
             / TCP(sport=50512, dport=80, seq=1, flags="S"))
    text = show_text(built)
    assert "computed on encode" not in text
    assert "Protocol: TCP (6)" in text and text.count("[correct]") == 2


def test_show_unencodable_built_packet_still_shows_its_fields() -> None:
    text = show_text(Packet([UDP(sport=1, dport=2)]))  # no IPv4 below: the checksum cannot be computed
    assert text.startswith("Frame: not encodable (UDP.checksum is None")
    assert "User Datagram Protocol, Src Port: 1, Dst Port: 2, Len: ?" in text
    assert "Checksum: (computed on encode)" in text


# Hex dump ---------------------------------------------------------------------------------------------------
LEGEND = re.compile(r"^\s*(\d+)  (\S+)\s+(bytes? (\d+)(?:-(\d+))?(?: bits? \d+(?:-\d+)?)?)\s+(.*)$")


def legend_rows(text: str) -> list[tuple[int, str, int, int, str]]:
    """(number, "Layer.field", first byte, last byte, value) for each legend line of a plain hex dump."""
    rows = []
    for line in text.split("\n\n", 1)[1].splitlines()[1:]:
        match = LEGEND.match(line)
        assert match, f"legend line not understood: {line!r}"
        first = int(match.group(4))
        last = int(match.group(5)) if match.group(5) else first
        rows.append((int(match.group(1)), match.group(2), first, last, match.group(6)))
    return rows


def assert_groups_tile(rows: list[tuple[int, int, int]], length: int) -> None:
    """Legend rows (group, first byte, last byte): groups, numbered in order, tile bytes 0..length-1 once.

    Several rows share a group only for fields that share bytes (bit fields).
    """
    groups: dict[int, tuple[int, int]] = {}
    for group, first, last in rows:
        low, high = groups.get(group, (first, last))
        groups[group] = (min(low, first), max(high, last))
    assert list(groups) == list(range(len(groups)))
    expected_start = 0
    for group, (first, last) in groups.items():
        assert first == expected_start, f"group {group} starts at byte {first}, expected {expected_start}"
        expected_start = last + 1
    assert expected_start == length


@pytest.mark.parametrize("name", ALL_FRAMES)
def test_hexdump_legend_covers_every_byte_once_in_order(name: str) -> None:
    data = frame_bytes(name)
    packet = decode(data)
    text = hexdump_text(packet)
    rows = legend_rows(text)
    assert [f"{r.layer}.{r.field}" for r in field_map(packet)] == [name for _, name, *_ in rows]
    assert_groups_tile([(number - 1, first, last) for number, _, first, last, _ in rows], len(data))
    assert "(unassigned)" not in text


@pytest.mark.parametrize("name", ALL_FRAMES)
def test_hexdump_rows_hold_the_bytes(name: str) -> None:
    data = frame_bytes(name)
    text = hexdump_text(decode(data))
    dump = text.split("\n\n", 1)[0].splitlines()
    assert len(dump) == (len(data) + 15) // 16
    seen = b""
    for i, line in enumerate(dump):
        assert line.startswith(f"{i * 16:04x}  ")
        seen += bytes.fromhex(line[6:6 + 47].replace("|", " "))
        assert re.search(r"  #\d+(-\d+)?$", line)
    assert seen == data
    assert "\x1b" not in text


def scapy_offsets(frame: ScapyPacket) -> dict[tuple[str, str], tuple[int, int]]:
    """(scapy layer name, field name) -> (first byte, end byte), from scapy's own build (`build_ps`)."""
    _, layers = Ether(bytes(frame)).build_ps()
    offsets: dict[tuple[str, str], tuple[int, int]] = {}
    at = 0
    for layer, fields in reversed(layers):
        for field, _, raw in fields:
            offsets.setdefault((layer.name, field.name), (at, at + len(raw)))
            at += len(raw)
    return offsets


_SCAPY_TABLES = {
    "Ethernet": ("Ethernet", {"dst": "dst", "src": "src", "type": "type"}),
    "IP": ("IPv4", {"len": "total_length", "id": "identification", "ttl": "ttl", "proto": "protocol",
                    "chksum": "header_checksum", "src": "src", "dst": "dst"}),
    "TCP": ("TCP", {"sport": "sport", "dport": "dport", "seq": "seq", "ack": "ack", "window": "window",
                    "chksum": "checksum", "urgptr": "urgent_pointer"}),
    "UDP": ("UDP", {"sport": "sport", "dport": "dport", "len": "length", "chksum": "checksum"}),
    "ICMP": ("ICMP", {"type": "type", "code": "code", "chksum": "checksum"}),
    "ARP": ("ARP", {"op": "opcode", "hwsrc": "sender_mac", "psrc": "sender_ip", "hwdst": "target_mac",
                    "pdst": "target_ip"}),
    "802.1Q": ("802.1Q", {"type": "type"}),
}
# (scapy layer, scapy field) -> "Layer.field" as our legend names it.
SCAPY_NAMES = {(scapy_layer, scapy_field): f"{ours}.{field}"
               for scapy_layer, (ours, fields) in _SCAPY_TABLES.items()
               for scapy_field, field in fields.items()}


@pytest.mark.parametrize("name", ["tcp", "udp", "icmp_echo", "arp", "vlan"])
def test_hexdump_field_bytes_match_scapy(name: str) -> None:
    frame = FRAMES[name]()
    text = hexdump_text(decode(bytes(frame)))
    ours = {field: (first, last + 1) for _, field, first, last, _ in legend_rows(text)}
    checked = 0
    for key, where in scapy_offsets(frame).items():
        if key in SCAPY_NAMES:
            name = SCAPY_NAMES[key]
            assert ours[name] == where, f"{name}: ours {ours[name]}, scapy {where}"
            checked += 1
    assert checked >= 5
    if name == "tcp":
        assert ours["IPv4.ttl"] == (22, 23)


def test_hexdump_tcp_first_row_and_legend_values() -> None:
    s = Ether(bytes(tcp_frame()))
    text = hexdump_text(decode(bytes(s)))
    first_row = "0000  02 00 00 00 00 02|02 00 00 00 00 01|08 00|45|00  ..............E.  #1-5"
    assert text.splitlines()[0] == first_row
    values = {field: value for _, field, _, _, value in legend_rows(text)}
    assert values["IPv4.ttl"] == "64"
    assert values["IPv4.header_checksum"] == f"0x{s[IP].chksum:04x}"
    assert values["IPv4.protocol"] == "TCP"
    assert values["TCP.flags"] == "PSH|ACK"
    assert values["TCP.options[0]"] == "MSS(value=1460)"
    assert values["Ethernet.src"] == CLIENT_MAC
    assert "IPv4.version" in values and "byte 14 bits 0-3" in text and "byte 14 bits 4-7" in text


def test_hexdump_colour_prints_ansi_and_the_text_is_plain(capsys: pytest.CaptureFixture[str]) -> None:
    packet = decode(bytes(icmp_echo_frame()))
    plain = hexdump_text(packet)
    assert "\x1b[" not in plain and packet.hexdump_text() == plain and plain.startswith("0000  ")
    out = io.StringIO()
    assert hexdump(packet, file=out, color=True) is None  # printing returns nothing (no second echo)
    assert "\x1b[" in out.getvalue()
    assert re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()).rstrip("\n") == plain
    auto = io.StringIO()  # not a terminal: plain
    hexdump(packet, file=auto)
    assert auto.getvalue() == plain + "\n"
    plain_out = io.StringIO()
    assert packet.hexdump(file=plain_out, color=False) is None and plain_out.getvalue() == plain + "\n"
    assert packet.hexdump() is None and capsys.readouterr().out == plain + "\n"


# HTML -------------------------------------------------------------------------------------------------------
class _Collect(HTMLParser):
    """Checks tags nest properly and collects every <span>'s title and text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.spans: list[tuple[str | None, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        self.tags.append(tag)
        if tag == "span":
            self.spans.append((dict(attrs).get("title"), ""))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "span" and self.spans:
            title, text = self.spans[-1]
            self.spans[-1] = (title, text + data)


def test_hexdump_html_is_well_formed_and_names_fields() -> None:
    frame = _eth() / IP(src="10.0.0.1", dst="10.0.0.2") / SUDP(sport=1, dport=2) / SRaw(b"<script>&\"'")
    packet = decode(bytes(frame))
    page = hexdump_html(packet)
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert "script" not in parser.tags and "&lt;" in page
    ascii_column = "".join(text for title, text in parser.spans
                           if title and title.startswith("Raw.") and len(text) == 1)
    assert ascii_column == "<script>&\"'"  # unescaped by the parser
    titled = [(title, text) for title, text in parser.spans if title]
    hex_cells = [(title, text) for title, text in titled if re.fullmatch(r"[0-9a-f]{2}", text)]
    assert len(hex_cells) == len(packet.data)
    assert ("IPv4.ttl = 64", "40") in hex_cells
    assert ("IPv4.ttl = 64", "@") in titled  # the ASCII column is coloured too
    assert any(title == "IPv4.version = 4; IPv4.ihl = 5" for title, _ in titled)
    assert page.count("<tr>") == len(field_map(packet)) + 1
    assert packet._repr_html_() == page


# JSON -------------------------------------------------------------------------------------------------------
def test_to_dict_matches_scapy_values() -> None:
    s = Ether(bytes(tcp_frame()))
    d = packet_to_dict(decode(bytes(s)))
    assert json.loads(json.dumps(d)) == d
    assert d["length"] == len(s)
    assert [layer["name"] for layer in d["layers"][:3]] == ["Ethernet", "IPv4", "TCP"]
    eth, ip, tcp, payload = d["layers"]  # payload: HTTPRequest once port 80 dispatches to HTTP, else Raw
    assert eth == {"name": "Ethernet", "fields": {"dst": ROUTER_MAC, "src": CLIENT_MAC, "type": 0x0800}}
    assert ip["fields"]["ttl"] == s[IP].ttl
    assert ip["fields"]["src"] == s[IP].src and ip["fields"]["dst"] == s[IP].dst
    assert ip["fields"]["header_checksum"] == s[IP].chksum
    assert ip["fields"]["protocol"] == 6 and ip["fields"]["flags"] == int(s[IP].flags) == 2
    assert ip["fields"]["options"] == "" and ip["checksum_ok"] is True
    assert {k: tcp["fields"][k] for k in ("sport", "dport", "seq", "ack", "window", "checksum")} == {
        "sport": s[STCP].sport, "dport": s[STCP].dport, "seq": s[STCP].seq, "ack": s[STCP].ack,
        "window": s[STCP].window, "checksum": s[STCP].chksum}
    assert tcp["fields"]["flags"] == int(s[STCP].flags) == 0x18
    assert tcp["checksum_ok"] is True
    assert tcp["fields"]["options"][:3] == [{"type": "MSS", "value": 1460}, {"type": "SACKPermitted"},
                                            {"type": "Timestamps", "tsval": 4242, "tsecr": 77}]
    assert tcp["fields"]["options"][3:] == [{"type": "NOP"}, {"type": "WindowScale", "shift": 7}]
    assert payload["name"] in ("Raw", "HTTPRequest")
    assert decode(bytes(s)).to_dict() == d


def test_to_dict_icmp_info_checksums_and_quoted_datagram() -> None:
    s = Ether(bytes(icmp_echo_frame()))
    icmp = packet_to_dict(decode(bytes(s)))["layers"][2]
    assert icmp["fields"]["type"] == 8 and icmp["fields"]["checksum"] == s[SICMP].chksum
    assert icmp["info"] == {"identifier": s[SICMP].id, "sequence": s[SICMP].seq}
    assert icmp["checksum_ok"] is True

    data = bytearray(bytes(time_exceeded_frame()))
    data[24] ^= 1
    d = packet_to_dict(decode(bytes(data)))
    json.dumps(d)
    assert [layer["name"] for layer in d["layers"]] == ["Ethernet", "IPv4", "ICMP", "IPv4", "UDP", "Raw"]
    assert d["layers"][1]["checksum_ok"] is False
    assert d["layers"][2]["info"] == {"code_name": "TTL_EXCEEDED"}
    assert d["layers"][4]["checksum_ok"] is None  # quoted: not checkable
    assert d["layers"][3]["fields"]["ttl"] == 1


def test_layer_to_dict_of_built_layers() -> None:
    ip = layer_to_dict(IPv4(src="10.0.0.1", dst="10.0.0.2"))
    assert ip["fields"]["header_checksum"] is None and ip["fields"]["total_length"] is None
    assert ip["checksum_ok"] is None and "info" not in ip
    assert json.loads(json.dumps(ip)) == ip
    echo = layer_to_dict(ICMP(identifier=7, sequence=9))
    assert echo["info"] == {"identifier": 7, "sequence": 9}
    assert "checksum_ok" not in layer_to_dict(Ethernet())


# Diff -------------------------------------------------------------------------------------------------------
def test_diff_after_a_router_hop_lists_exactly_the_rewritten_fields() -> None:
    before = Ether(bytes(tcp_frame()))
    hop = before.copy()
    hop[Ether].src, hop[Ether].dst = "02:00:00:00:00:12", "02:00:00:00:00:21"
    hop[IP].ttl -= 1
    del hop[IP].chksum
    hop = Ether(bytes(hop))
    changes = diff(decode(bytes(before)), decode(bytes(hop)))
    assert [(c.layer, c.index, c.field) for c in changes] == [
        ("Ethernet", 0, "dst"), ("Ethernet", 0, "src"), ("IPv4", 1, "ttl"), ("IPv4", 1, "header_checksum")]
    assert [str(c) for c in changes] == [
        f"Ethernet.dst: {ROUTER_MAC} -> 02:00:00:00:00:21",
        f"Ethernet.src: {CLIENT_MAC} -> 02:00:00:00:00:12",
        "IPv4.ttl: 64 -> 63",
        f"IPv4.header_checksum: 0x{before[IP].chksum:04x} -> 0x{hop[IP].chksum:04x}",
    ]
    assert changes[2] == FieldChange("IPv4", 1, "ttl", 64, 63)
    assert format_diff(changes).splitlines() == [str(c) for c in changes]


def test_diff_reports_layer_changes_and_nothing_for_equal_packets() -> None:
    tcp, udp = decode(bytes(tcp_frame())), decode(bytes(udp_frame()))
    assert diff(tcp, tcp) == [] and format_diff([]) == "no differences"
    changes = diff(tcp, udp)
    assert FieldChange("TCP", 2, "(layer)", "TCP", "UDP") in changes
    assert str(next(c for c in changes if c.index == 2)) == "layer 2: TCP -> UDP"
    short = Packet(tcp.layers[:2])
    assert [(c.index, c.field, c.old, c.new) for c in diff(tcp, short)] == [
        (2, "(layer)", "TCP", None), (3, "(layer)", tcp[3].name, None)]
    assert str(diff(short, tcp)[0]) == "layer 2: (none) -> TCP"
    with pytest.raises(FrozenInstanceError):
        changes[0].field = "x"  # type: ignore[misc]


# Real Linux frames ------------------------------------------------------------------------------------------
GOLDEN = ["ARP_REQUEST", "ICMP_ECHO", "TIME_EXCEEDED", "NET_UNREACHABLE", "DNS_QUERY", "TCP_SYN", "HTTP_GET"]


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_linux_frames_show_correct_checksums_and_full_legends(name: str) -> None:
    from tests.wire import golden

    data = getattr(golden, name)
    packet = decode(data)
    text = show_text(packet)
    assert "[incorrect" not in text and "(unassigned)" not in hexdump_text(packet)
    assert_groups_tile([(r.group, r.start, r.end - 1) for r in field_map(packet)], len(data))
    d = packet_to_dict(packet)
    assert json.loads(json.dumps(d)) == d and d["length"] == len(data)
    assert all(layer.get("checksum_ok") is not False for layer in d["layers"])


# Property: any valid packet's description is JSON -----------------------------------------------------------
_u16 = st.integers(0, 0xFFFF)
_addr = st.integers(0, 0xFFFFFFFF)
_upper = st.one_of(
    st.builds(lambda sp, dp, seq, ack, flags, win: TCP(sport=sp, dport=dp, seq=seq, ack=ack, flags=flags,
                                                       window=win),
              _u16, _u16, _addr, _addr, st.integers(0, 255), _u16),
    st.builds(lambda sp, dp: UDP(sport=sp, dport=dp), _u16, _u16),
    st.builds(lambda t, c, i, s: ICMP(type=t, code=c, identifier=i, sequence=s),
              st.sampled_from([0, 3, 8, 11, 13, 42]), st.integers(0, 15), _u16, _u16),
)


@settings(max_examples=150, deadline=None)
@given(src=_addr, dst=_addr, ttl=st.integers(0, 255), ident=_u16, dscp=st.integers(0, 63),
       upper=_upper, payload=st.binary(max_size=64), corrupt=st.integers(0, 200))
def test_to_dict_is_json_for_random_valid_packets(src: int, dst: int, ttl: int, ident: int, dscp: int,
                                                  upper: Any, payload: bytes, corrupt: int) -> None:
    built = (Ethernet(src=src & 0xFEFFFFFFFFFF, dst=dst << 16) / IPv4(src=src, dst=dst, ttl=ttl,
                                                                       identification=ident, dscp=dscp)
             / upper / payload)
    for packet in (built, decode(built.encode())):
        d = packet_to_dict(packet)
        assert json.loads(json.dumps(d, allow_nan=False)) == d
        assert d["length"] == len(built.encode())
    data = bytearray(built.encode())
    data[corrupt % len(data)] ^= 0x5A  # one damaged byte: decodes (to something) or raises DecodeError
    try:
        damaged = decode(bytes(data))
    except DecodeError:
        return
    d = packet_to_dict(damaged)
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert show_text(damaged) and hexdump_text(damaged)
