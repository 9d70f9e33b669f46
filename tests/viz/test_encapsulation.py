"""The encapsulation picture: one nested box per layer, header columns at the byte offsets scapy finds, labels
with the packet's real values, and an honest "not to scale" when narrow headers had to be widened."""

from __future__ import annotations

import itertools

import pytest
from scapy.layers.inet import ICMP as ScapyICMP
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as ScapyTCP
from scapy.layers.l2 import Ether

from layersim import ARP, ICMP, TCP, Ethernet, HTTPRequest, IPv4, LayersimError, decode
from layersim.viz import encapsulation
from layersim.viz.encapsulation import display_widths
from tests.viz.conftest import by_gid, one
from tests.viz.overlap import text_overlaps

README_FRAME = (Ethernet(src="02:00:00:00:01:10", dst="02:00:00:00:01:01")
                / IPv4(src="10.0.1.10", dst="93.184.216.34", ttl=64)
                / TCP(sport=50512, dport=80, seq=1000, ack=2000, flags="PA")
                / HTTPRequest("GET", "/", headers={"Host": "example.com"}))


def scapy_header_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each header scapy dissects (Ethernet, IPv4, TCP, ICMP) and of everything after them."""
    spans, layer, start = [], Ether(data), 0
    while isinstance(layer, Ether | IP | ScapyTCP | ScapyICMP):  # whatever scapy makes of the payload is one part
        end = start + len(layer) - len(layer.payload)
        spans.append((start, end))
        start, layer = end, layer.payload
    return [*spans, (start, len(data))]


def header_geometry(ax, count):
    return [(one(ax, f"encap-header:{i}").get_x(), one(ax, f"encap-header:{i}").get_width()) for i in range(count)]


def test_to_scale_columns_sit_at_the_byte_offsets_scapy_finds():
    data = README_FRAME.encode()
    ax = encapsulation(README_FRAME)
    spans = scapy_header_spans(data)
    assert spans == [(0, 14), (14, 34), (34, 54), (54, 91)]
    assert header_geometry(ax, 4) == [(start, end - start) for start, end in spans]
    assert "drawn to scale" in ax.get_xlabel() and "91-byte frame" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "14", "34", "54", "91"]
    assert [tick for tick in ax.get_xticks()] == [0, 14, 34, 54, 91]


def test_one_box_per_layer_each_nested_inside_the_one_before():
    ax = encapsulation(README_FRAME)
    boxes = [one(ax, f"encap-box:{i}") for i in range(4)]
    assert len(by_gid(ax, "encap-box:")) == len(decode(README_FRAME.encode()).layers) == 4
    for outer, inner in itertools.pairwise(boxes):
        assert outer.get_y() < inner.get_y()
        assert inner.get_y() + inner.get_height() < outer.get_y() + outer.get_height()
        assert outer.get_x() < inner.get_x()
        assert inner.get_x() + inner.get_width() <= outer.get_x() + outer.get_width()
    assert boxes[0].get_x() == 0 and boxes[0].get_width() == 91  # the frame box spans every byte
    assert all(box.get_x() + box.get_width() == 91 for box in boxes)


def test_labels_carry_the_packets_real_values_and_header_sizes():
    data = README_FRAME.encode()
    reference = Ether(data)
    ax = encapsulation(decode(data))
    titles = [one(ax, f"encap-title:{i}").get_text() for i in range(4)]
    assert titles == ["Ethernet II header\n14 bytes", "IPv4 header\n20 bytes", "TCP header\n20 bytes",
                      "HTTP request\n37 bytes"]
    eth, ip, tcp, http = (one(ax, f"encap-fields:{i}").get_text() for i in range(4))
    assert f"dst {reference.dst}" in eth and f"src {reference.src}" in eth and "0x0800" in eth
    assert f"src {reference[IP].src}" in ip and f"dst {reference[IP].dst}" in ip and f"TTL {reference[IP].ttl}" in ip
    assert f"port {reference[ScapyTCP].sport} \u2192 {reference[ScapyTCP].dport}" in tcp
    assert f"seq {reference[ScapyTCP].seq}" in tcp and f"ack {reference[ScapyTCP].ack}" in tcp
    assert "PSH|ACK" in tcp and str(reference[ScapyTCP].flags) == "PA"
    assert "GET / HTTP/1.1" in http and "Host: example.com" in http


def test_a_tiny_header_is_widened_and_the_picture_says_not_to_scale():
    ping = (Ethernet(src="02:00:00:00:01:10", dst="02:00:00:00:01:01") / IPv4(src="10.0.1.10", dst="10.0.2.20")
            / ICMP(identifier=7, sequence=1) / bytes(56))
    data = ping.encode()
    assert scapy_header_spans(data) == [(0, 14), (14, 34), (34, 42), (42, 98)]
    assert Ether(data)[ScapyICMP].id == 7
    ax = encapsulation(ping)
    assert "NOT to scale" in ax.get_xlabel()
    geometry = header_geometry(ax, 4)
    assert geometry[2][1] > 8  # the 8-byte ICMP header drawn wider than its bytes
    edges = [x for x, _ in geometry] + [geometry[-1][0] + geometry[-1][1]]
    assert edges == sorted(edges) and len(set(edges)) == 5  # order kept, nothing collapsed
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "14", "34", "42", "98"]  # real offsets
    assert list(ax.get_xticks()) == edges
    assert "identifier 7" in one(ax, "encap-fields:2").get_text()
    forced = encapsulation(ping, force_scale=True)
    assert header_geometry(forced, 4) == [(0, 14), (14, 20), (34, 8), (42, 56)]
    assert "drawn to scale" in forced.get_xlabel()


def test_ethernet_padding_is_its_own_column_outside_the_arp_box():
    frame = (Ethernet(src="02:00:00:00:00:01") / ARP(sender_mac="02:00:00:00:00:01", sender_ip="10.0.0.1",
                                                       target_ip="10.0.0.2")).encode() + bytes(18)
    packet = decode(frame)
    assert [layer.name for layer in packet.layers] == ["Ethernet", "ARP", "Padding"]
    ax = encapsulation(packet, force_scale=True)
    assert header_geometry(ax, 3) == [(0, 14), (14, 28), (42, 18)]
    assert one(ax, "encap-box:1").get_width() == 28  # the ARP box ends where ARP ends, before the padding
    assert "who" not in one(ax, "encap-fields:1").get_text() and "10.0.0.2" in one(ax, "encap-fields:1").get_text()
    assert ax.get_title() == "ARP inside Ethernet II"


def test_draws_on_the_axes_it_is_given_and_accepts_bytes():
    import matplotlib.pyplot as plt

    _fig, axes = plt.subplots(2, 1)
    assert encapsulation(README_FRAME.encode(), axes[1]) is axes[1]
    assert len(by_gid(axes[1], "encap-box:")) == 4 and not axes[0].patches
    with pytest.raises(LayersimError, match="Packet, a Layer or frame bytes"):
        encapsulation("not a packet")


@pytest.mark.parametrize(("widths", "needed"), [([14, 20, 20, 37], [0.1] * 4), ([14, 20, 8, 56], [0.15] * 4),
                                                 ([14, 20, 20, 1400], [0.12, 0.12, 0.12, 0.05]),
                                                 ([1, 1, 1, 1, 1, 1, 1], [0.3] * 7)])
def test_display_widths_give_every_part_its_share(widths, needed):
    drawn, scaled = display_widths(widths, needed)
    total = sum(drawn)
    claims = needed if sum(needed) <= 0.95 else [r * 0.95 / sum(needed) for r in needed]
    assert all(d >= w for d, w in zip(drawn, widths, strict=True))
    assert all(d >= r * total * (1 - 1e-9) for d, r in zip(drawn, claims, strict=True))
    kept = [(d, w) for d, w in zip(drawn, widths, strict=True) if d == w]
    assert scaled == (drawn == [float(w) for w in widths])
    assert kept  # the widest part always keeps its real width


def test_display_widths_threshold_is_inclusive():
    assert display_widths([10, 90], [0.1, 0.1]) == ([10.0, 90.0], True)
    drawn, scaled = display_widths([9, 91], [0.1, 0.1])
    assert not scaled and drawn[1] == 91 and drawn[0] == pytest.approx(0.1 * sum(drawn))
    assert display_widths([9, 91], [0.1, 0.1], force_scale=True) == ([9.0, 91.0], True)


def demo_get():
    from layersim import EventKind
    from layersim.demo import run

    net = run(seed=1).network
    return next(decode(e.frame) for e in net.trace.select(EventKind.SEND, node="laptop")
                if e.frame is not None and HTTPRequest in decode(e.frame))


PING = (Ethernet(src="02:00:00:00:01:10", dst="02:00:00:00:01:01") / IPv4(src="10.0.1.10", dst="10.0.2.20")
        / ICMP(identifier=7, sequence=1) / bytes(56))


@pytest.mark.parametrize("make", [demo_get, lambda: README_FRAME, lambda: PING], ids=["demo-get", "readme", "ping"])
@pytest.mark.parametrize("size", [None, (12, 2.7)], ids=["own-figure", "demo-size"])
def test_no_two_texts_of_an_encapsulation_overlap(make, size):
    from matplotlib.figure import Figure

    ax = None if size is None else Figure(figsize=size, layout="constrained").subplots()
    ax = encapsulation(make(), ax)
    assert text_overlaps(ax.figure) == []
