"""The bit layout picture: every field a box at the bit offset the RFC gives, 32 bits a row, filled with a
packet's values, and any layer (even one declared in a test) drawn from its field table alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as ScapyTCP
from scapy.layers.l2 import Ether

from layersim import TCP, UDP, Ethernet, HTTPRequest, IPv4, Layer, LayersimError, decode
from layersim.capture import read_capture
from layersim.examples import http_get_frame
from layersim.viz import bit_layout
from layersim.viz.bitlayout import ROW_BITS, row_pieces
from layersim.wire.fields import Bits, HeaderSpec, UInt, Var
from layersim.wire.tcp_options import NOP, SACK, Timestamps
from tests.viz.conftest import by_gid, one
from tests.viz.overlap import text_overlaps

CAPTURES = Path(__file__).resolve().parents[2] / "captures"

# (bit offset, width) of each field as drawn in RFC 791 §3.1 and RFC 9293 §3.1, read off the RFC diagrams.
RFC791 = {"version": (0, 4), "ihl": (4, 4), "dscp": (8, 6), "ecn": (14, 2), "total_length": (16, 16),
          "identification": (32, 16), "flags": (48, 3), "fragment_offset": (51, 13), "ttl": (64, 8),
          "protocol": (72, 8), "header_checksum": (80, 16), "src": (96, 32), "dst": (128, 32)}
RFC9293 = {"sport": (0, 16), "dport": (16, 16), "seq": (32, 32), "ack": (64, 32), "data_offset": (96, 4),
           "reserved": (100, 4), "flags": (104, 8), "window": (112, 16), "checksum": (128, 16),
           "urgent_pointer": (144, 16)}
RFC768 = {"sport": (0, 16), "dport": (16, 16), "length": (32, 16), "checksum": (48, 16)}
ETHERNET = {"dst": (0, 48), "src": (48, 48), "type": (96, 16)}  # IEEE 802.3 clause 3.2


def drawn_bits(ax, name: str) -> list[int]:
    """The absolute bit numbers covered by the boxes of field `name` (row * 32 + column)."""
    bits = []
    for box in by_gid(ax, f"field:{name}")[f"field:{name}"]:
        row, column = round(box.get_y()), round(box.get_x())
        assert box.get_x() == column and box.get_y() == row and box.get_height() >= 1
        for r in range(row, row + round(box.get_height())):
            bits += [r * ROW_BITS + column + b for b in range(round(box.get_width()))]
    return sorted(bits)


@pytest.mark.parametrize(("cls", "table"), [(IPv4, RFC791), (TCP, RFC9293), (UDP, RFC768), (Ethernet, ETHERNET)])
def test_every_field_box_sits_at_its_rfc_bit_offset(cls, table):
    ax = bit_layout(cls)
    fixed = {gid.removeprefix("field:") for gid in by_gid(ax, "field:")} - {f.name for f in cls.spec.fields
                                                                          if not f.fixed}
    assert fixed == set(table)
    for name, (offset, width) in table.items():
        assert drawn_bits(ax, name) == list(range(offset, offset + width)), name


def test_a_field_crossing_a_row_boundary_is_split_and_labelled_once():
    ax = bit_layout(Ethernet)
    dst = [(b.get_y(), b.get_x(), b.get_width()) for b in by_gid(ax, "field:dst")["field:dst"]]
    assert dst == [(0, 0, 32), (1, 0, 16)]
    src = [(b.get_y(), b.get_x(), b.get_width()) for b in by_gid(ax, "field:src")["field:src"]]
    assert src == [(1, 16, 16), (2, 0, 32)]
    label = one(ax, "label:src")
    assert label.get_position() == (16, 2.5)  # in the wider piece
    assert ax.get_title().startswith("Ethernet header: 14-byte fixed part")


def test_values_of_a_decoded_packet_fill_the_boxes():
    data = http_get_frame().encode()
    reference = Ether(data)
    packet = decode(data)
    ip_ax = bit_layout(packet[IPv4])
    assert one(ip_ax, "label:ttl").get_text() == f"Time to Live\n{reference[IP].ttl}"
    assert one(ip_ax, "label:src").get_text() == f"Source Address\n{reference[IP].src}"
    assert one(ip_ax, "label:header_checksum").get_text().endswith(f"0x{reference[IP].chksum:04x}")
    assert one(ip_ax, "label:flags").get_text().endswith("DF") and str(reference[IP].flags) == "DF"
    assert one(ip_ax, "label:ihl").get_text() == f"IHL\n{reference[IP].ihl}"
    tcp_ax = bit_layout(packet[TCP])
    assert one(tcp_ax, "label:seq").get_text() == f"Sequence Number\n{reference[ScapyTCP].seq}"
    assert one(tcp_ax, "label:checksum").get_text().endswith(f"0x{reference[ScapyTCP].chksum:04x}")
    assert one(tcp_ax, "label:data_offset").get_text().endswith(str(reference[ScapyTCP].dataofs))
    # The options (NOP, NOP, Timestamps: 12 bytes) fill exactly the 96 bits after the fixed header.
    assert drawn_bits(tcp_ax, "options") == list(range(160, 160 + 12 * 8))
    assert [one(tcp_ax, f"label:options[{i}]").get_text() for i in range(2)] == [
        "options[0]\nNo-Operation (kind 1)", "options[1]\nNo-Operation (kind 1)"]


def test_a_class_shows_names_only_and_an_open_variable_part():
    ax = bit_layout(IPv4)
    assert one(ax, "label:ttl").get_text() == "Time to Live"
    assert one(ax, "label:options").get_text() == "options (variable length)"
    assert drawn_bits(ax, "options") == list(range(160, 192))
    assert "payload" in one(ax, "label:payload").get_text()
    assert one(ax, "row:6").get_text() == "byte 20 +\noptions"  # the payload row: where it starts is not known
    assert [t.get_text() for t in ax.texts if t.get_text().isdigit()][:ROW_BITS] == [str(b) for b in range(32)]


def test_a_new_layer_gets_its_picture_from_its_field_table_alone():
    class Toy(Layer):
        """A GRE-like header (RFC 2784) declared only here."""

        __slots__ = ()
        spec = HeaderSpec("Toy", [Bits("c", 1), Bits("reserved0", 12), Bits("version", 3), UInt("protocol", 16,
                                  hex=True), UInt("key", 32), Var("rest", b"")])

    ax = bit_layout(Toy(c=1, version=0, protocol=0x0800, key=7))
    assert drawn_bits(ax, "c") == [0]
    assert drawn_bits(ax, "reserved0") == list(range(1, 13))
    assert drawn_bits(ax, "version") == [13, 14, 15]
    assert drawn_bits(ax, "protocol") == list(range(16, 32))
    assert drawn_bits(ax, "key") == list(range(32, 64))
    assert one(ax, "label:protocol").get_text() == "Protocol\n0x0800"
    assert one(ax, "label:c").get_text().endswith("\n1")


def test_a_text_message_is_one_variable_box_with_its_start_line():
    request = decode(http_get_frame().encode())[HTTPRequest]
    ax = bit_layout(request)
    text = one(ax, "label:method").get_text()
    size = len(request.encode_layer(b"", None, None))
    assert text.startswith(f"method, target, headers, body, version: {size} bytes")
    assert "GET / HTTP/1.1" in text
    assert ax.get_title() == "HTTPRequest: variable length, no fixed fields"


def test_a_whole_packet_is_refused_with_a_hint():
    with pytest.raises(LayersimError, match=r"packet\[IPv4\]"):
        bit_layout(http_get_frame())


@given(st.integers(0, 200), st.integers(1, 200), st.sampled_from([8, 16, 32]))
def test_row_pieces_tile_the_bits_without_crossing_a_row(offset, bits, row_bits):
    pieces = row_pieces(offset, bits, row_bits)
    covered = [row * row_bits + column + b for row, column, width in pieces for b in range(width)]
    assert covered == list(range(offset, offset + bits))
    assert all(column >= 0 and column + width <= row_bits and width > 0 for _, column, width in pieces)


def box_of(ax, text):
    """The option or field Rectangle a label's centre lies in."""
    x, y = text.get_position()
    inside = [box for box in ax.patches if box.get_x() < x < box.get_x() + box.get_width()
              and box.get_y() < y < box.get_y() + box.get_height()]
    assert len(inside) == 1, text.get_text()
    return inside[0]


def linux_syn():
    """The SYN of a real Linux client (MSS, SACK permitted, timestamps, NOP, window scale: 20 bytes of options)."""
    capture = [decode(record.data) for record in read_capture(CAPTURES / "linux_namespaces.pcap")]
    return next(p for p in capture if TCP in p and p[TCP].flags == 0x02)[TCP]


def tcp_with(options):
    return decode((Ethernet() / IPv4(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2, flags="A",
                                                                           options=options)).encode())[TCP]


FULL_OPTIONS = (NOP(), NOP(), Timestamps(1, 2), NOP(), NOP(), SACK(((1000, 2000), (3000, 4000), (5000, 6000))))


@pytest.mark.parametrize("layer", [
    pytest.param(lambda: decode(http_get_frame().encode())[IPv4], id="ipv4-ihl5"),
    pytest.param(lambda: tcp_with(()), id="tcp-no-options"),
])
def test_an_empty_variable_part_gets_no_row_and_the_payload_starts_at_byte_20(layer):
    layer = layer()
    assert (layer.ihl if isinstance(layer, IPv4) else layer.data_offset) == 5  # a 20-byte header
    ax = bit_layout(layer)
    assert not by_gid(ax, "field:options") and not by_gid(ax, "label:options")
    payload = by_gid(ax, "payload")["payload"]
    assert [(box.get_y(), box.get_height()) for box in payload] == [(5, 1)]  # row 5: bytes 20-23
    assert one(ax, "row:5").get_text() == "byte 20"
    assert "no options" in ax.get_title()


@pytest.mark.parametrize("layer", [
    pytest.param(lambda: decode(http_get_frame().encode())[TCP], id="nop-nop-timestamps"),
    pytest.param(linux_syn, id="linux-syn"),
    pytest.param(lambda: tcp_with(FULL_OPTIONS), id="40-bytes"),
])
def test_every_byte_of_the_tcp_options_is_in_a_labelled_box(layer):
    layer = layer()
    ax = bit_layout(layer)
    end = layer.data_offset * 4
    assert drawn_bits(ax, "options") == list(range(160, end * 8))
    boxes = by_gid(ax, "field:options")["field:options"]
    labelled = {id(box_of(ax, text)) for text in ax.texts if (text.get_gid() or "").startswith(("label:options",
                                                                                              "label-more:"))}
    unlabelled = [(box.get_y(), box.get_x(), box.get_width()) for box in boxes if id(box) not in labelled]
    assert unlabelled == []  # (row, first bit, bits) of any box no text names


def test_each_option_field_is_drawn_at_the_bytes_rfc_7323_gives_it():
    data = http_get_frame().encode()
    options = Ether(data)[ScapyTCP].options  # [('NOP', None), ('NOP', None), ('Timestamp', (tsval, tsecr))]
    assert [name for name, _ in options] == ["NOP", "NOP", "Timestamp"]
    tsval, tsecr = options[2][1]
    ax = bit_layout(decode(data)[TCP])
    # byte: 20 NOP, 21 NOP, 22 kind 8, 23 length 10, 24-27 TSval, 28-31 TSecr (RFC 7323 §3.2, Appendix A layout)
    expected = {"options[0]": ((160, 168), "options[0]\nNo-Operation (kind 1)"),
                "options[1]": ((168, 176), "options[1]\nNo-Operation (kind 1)"),
                "options[2].kind": ((176, 184), "options[2] Kind\n8 (Timestamps)"),
                "options[2].length": ((184, 192), "Length\n10"),
                "options[2].tsval": ((192, 224), f"TSval\n{tsval}"),
                "options[2].tsecr": ((224, 256), f"TSecr\n{tsecr}")}
    for name, ((first, end), text) in expected.items():
        label = one(ax, f"label:{name}")
        assert label.get_text() == text
        box = box_of(ax, label)
        start = round(box.get_y()) * ROW_BITS + round(box.get_x())
        assert (start, start + round(box.get_width())) == (first, end), name


def test_sack_blocks_and_window_scale_are_split_into_their_fields():
    ax = bit_layout(tcp_with(FULL_OPTIONS))
    assert one(ax, "label:options[5].kind").get_text() == "options[5] Kind\n5 (SACK)"
    assert one(ax, "label:options[5].length").get_text() == "Length\n26"  # 2 + 3 blocks x 8
    assert [one(ax, f"label:options[5].{edge}{n}").get_text().split("\n")[1] for n in (1, 2, 3)
            for edge in ("left", "right")] == ["1000", "2000", "3000", "4000", "5000", "6000"]
    syn = bit_layout(linux_syn())
    assert one(syn, "label:options[0].mss").get_text().startswith("Maximum Segment Size\n")
    assert one(syn, "label:options[4].shift").get_text() == f"Shift Count\n{linux_syn().options[4].shift}"


IHL15 = (Ethernet() / IPv4(src="10.0.0.1", dst="10.0.0.2", options=bytes([1] * 39 + [0])) / TCP(sport=1, dport=2))


@pytest.mark.parametrize("layer", [
    pytest.param(lambda: decode(http_get_frame().encode())[IPv4], id="ipv4-ihl5"),
    pytest.param(lambda: decode(IHL15.encode())[IPv4], id="ipv4-ihl15"),
    pytest.param(lambda: tcp_with(()), id="tcp-0-bytes-of-options"),
    pytest.param(lambda: decode(http_get_frame().encode())[TCP], id="tcp-12-bytes-of-options"),
    pytest.param(linux_syn, id="tcp-linux-syn"),
    pytest.param(lambda: tcp_with(FULL_OPTIONS), id="tcp-40-bytes-of-options"),
    pytest.param(lambda: decode(http_get_frame().encode())[HTTPRequest], id="http"),
    pytest.param(lambda: IPv4, id="ipv4-class"),
    pytest.param(lambda: TCP, id="tcp-class"),
    pytest.param(lambda: Ethernet, id="ethernet-class"),
    pytest.param(lambda: UDP, id="udp-class"),
])
def test_no_two_texts_of_a_bit_layout_overlap(layer):
    ax = bit_layout(layer())
    assert text_overlaps(ax.figure) == []
