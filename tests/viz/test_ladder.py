"""The ladder diagram of the demo's requests.get connection, checked against the trace's own frames and events.

The expected segments are worked out here directly from the trace (SEND events of the laptop and of the web
server carrying the connection's ports, their RECEIVE and DROP events by packet id), not with the module's code.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from layersim import TCP, IPv4, LayersimError, decode
from layersim.demo import run
from layersim.net.trace.log import DropReason, EventKind
from layersim.viz import ladder, segments
from layersim.viz.tcptrace import SegmentSeen
from tests.viz.conftest import by_gid, one
from tests.viz.overlap import renderer_of, text_overlaps, texts_crossing

MS = 1e6
FLAG_BITS = (("SYN", 0x02), ("FIN", 0x01), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10))  # Wireshark's order


def expected(net):
    """(packet id, from client, send ns, received ns or None, dropped ns or None, TCP, payload length), in order."""
    trace = net.trace
    sends = [(e, decode(e.frame)) for e in trace.select(EventKind.SEND) if e.frame is not None]
    syn = next(p for e, p in sends if e.node == "laptop" and TCP in p and p[TCP].flags == 0x02)
    cport = syn[TCP].sport
    first_id = next(e.packet_id for e, p in sends if e.node == "laptop" and TCP in p and p[TCP].sport == cport)
    at_web = next(decode(e.frame) for e in trace.select(EventKind.RECEIVE, node="web", packet_id=first_id))
    nat_port = at_web[TCP].sport
    rows = []
    for event, pkt in sends:
        if TCP not in pkt:
            continue
        tcp = pkt[TCP]
        client = event.node == "laptop" and (tcp.sport, tcp.dport) == (cport, 80)
        server = event.node == "web" and (tcp.sport, tcp.dport) == (80, nat_port)
        if not (client or server):
            continue
        other = "web" if client else "laptop"
        got = trace.select(EventKind.RECEIVE, node=other, packet_id=event.packet_id)
        drops = trace.select(EventKind.DROP, packet_id=event.packet_id)
        length = pkt[IPv4].total_length - 4 * pkt[IPv4].ihl - 4 * tcp.data_offset
        rows.append((event.packet_id, client, event.time_ns, got[0].time_ns if got else None,
                     drops[0].time_ns if drops and not got else None, tcp, length))
    return rows


@pytest.fixture(scope="module")
def clean():
    return run(seed=1, loss=0.0).network


@pytest.fixture(scope="module")
def lossy():
    """Seed 3 with 5% loss on the ISP links: the laptop's last ACK is lost at home and the web server's FIN is
    retransmitted when its timer fires."""
    net = run(seed=3, loss=0.05).network
    assert net.trace.drops(DropReason.LINK_LOSS)
    return net


@pytest.mark.parametrize("which", ["clean", "lossy"])
def test_one_arrow_per_segment_from_its_send_to_its_receive(which, request):
    net = request.getfixturevalue(which)
    rows = expected(net)
    ax = ladder(net)
    arrows = by_gid(ax, "segment:")  # annotations: xyann where the arrow starts, xy where it ends
    assert len(rows) >= 10 and len(arrows) == len(rows)
    for pid, client, sent, received, dropped, _, _ in rows:
        (arrow,) = arrows[f"segment:{pid}"]
        assert arrow.xyann[1] == pytest.approx(sent / MS)  # starts when the frame left its host
        assert arrow.xyann[0] == (0.0 if client else 1.0)
        if received is not None:
            assert arrow.xy == pytest.approx((1.0 if client else 0.0, received / MS))  # ends when it arrived
        else:
            assert arrow.xy[1] == pytest.approx(dropped / MS)


def test_labels_carry_flags_relative_numbers_and_length_from_the_frames(clean):
    rows = expected(clean)
    ax = ladder(clean)
    isn = {True: next(t.seq for _, c, *_, t, _ in rows if c), False: next(t.seq for _, c, *_, t, _ in rows if not c)}
    lengths = set()
    for pid, client, _, _, _, tcp, length in rows:
        text = one(ax, f"segment-label:{pid}").get_text()
        flags = [name for name, bit in FLAG_BITS if tcp.flags & bit]
        assert text.startswith("[" + ", ".join(flags) + "]"), text
        assert f"seq={(tcp.seq - isn[client]) % 2**32} " in text
        if tcp.flags & 0x10:
            assert f"ack={(tcp.ack - isn[not client]) % 2**32} " in text
        assert text.endswith(f"len={length}")
        lengths.add(length)
    assert lengths >= {0, 1448} and any(n > 100 for n in lengths)  # the GET, full segments and the last piece


def test_lost_segments_end_where_the_trace_dropped_them(lossy):
    rows = expected(lossy)
    ours = {pid for pid, *_ in rows}
    losses = [e for e in lossy.trace.drops(DropReason.LINK_LOSS) if e.packet_id in ours]
    assert losses
    ax = ladder(lossy)
    marks = by_gid(ax, "lost:")
    assert sorted(marks) == sorted(f"lost:{e.packet_id}" for e in losses)
    for event in losses:
        (mark,) = marks[f"lost:{event.packet_id}"]
        assert mark.get_ydata()[0] == pytest.approx(event.time_ns / MS)
        label = one(ax, f"segment-label:{event.packet_id}").get_text()
        link = next(link for link in lossy.links for end in (link.a, link.b)
                    if (end.node.name, end.name) == (event.node, event.interface))
        peer = link.b.node.name if (link.a.node.name, link.a.name) == (event.node, event.interface) else \
            link.a.node.name
        assert label.endswith(f" lost on link {event.node}:{event.interface} \u2192 {peer}"), label
        assert "LOST at" not in label
    delivered = [pid for pid, _, _, received, *_ in rows if received is not None]
    assert not any(f"lost:{pid}" in marks for pid in delivered)


def test_retransmissions_are_marked_where_tcp_retransmitted(lossy):
    rows = expected(lossy)
    again = [e for e in lossy.trace.select(EventKind.TCP, node="web") if e.info.what == "retransmit"]
    assert again
    ax = ladder(lossy)
    marked = {pid for pid, *_ in rows if one(ax, f"segment-label:{pid}").get_text().startswith("retransmission")}
    resent = {pid for pid, client, sent, *_, tcp, _ in rows if not client
              and any(e.time_ns == sent and dict(e.info.facts)["seq"] == tcp.seq for e in again)}
    assert resent and marked == resent


def test_either_ends_label_names_the_same_connection(clean):
    conn, segs = segments(clean)
    assert conn.client_node == "laptop" and conn.server_node == "web"
    assert conn.server_label.startswith("93.184.216.34:80-198.51.100.2:")  # the NAT's outside address
    by_client = ladder(clean, conn.client_label)
    by_server = ladder(clean, conn.server_label)
    assert sorted(by_gid(by_client, "segment-label:")) == sorted(by_gid(by_server, "segment-label:"))
    assert len(segs) == len(expected(clean))


def test_state_changes_are_written_on_each_axis(clean):
    ax = ladder(clean)
    client = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("state:client:")]
    server = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("state:server:")]
    assert client[:2] == ["SYN_SENT", "ESTABLISHED"] and "TIME_WAIT" in client
    assert server[:2] == ["SYN_RECEIVED", "ESTABLISHED"] and "CLOSE_WAIT > LAST_ACK" in server


def test_unknown_connection_names_the_ones_there(clean):
    with pytest.raises(LayersimError, match=r"no TCP connection '1\.2\.3\.4:5-6\.7\.8\.9:10'.*10\.0\.0\.2:"):
        ladder(clean, "1.2.3.4:5-6.7.8.9:10")


def test_a_loss_named_from_the_trace_alone_says_which_interface_sent_it(lossy):
    losses = [e for e in lossy.trace.drops(DropReason.LINK_LOSS) if e.packet_id in {pid for pid, *_ in expected(lossy)}]
    ax = ladder(lossy.trace)  # no network at hand: the link's far end is not known
    for event in losses:
        label = one(ax, f"segment-label:{event.packet_id}").get_text()
        assert label.endswith(f" lost on the link out of {event.node}:{event.interface}"), label


def seen(**changes):
    """A SegmentSeen lost somewhere, built by hand."""
    base = {"packet_id": 1, "from_client": True, "send_ns": 0, "receive_ns": None, "drop_ns": 5, "drop_reason": None,
            "drop_node": None, "drop_interface": None, "flags": 0x10, "seq": 0, "ack": 0, "length": 0,
            "retransmission": False}
    return SegmentSeen(**{**base, **changes})


@pytest.mark.parametrize(("changes", "words"), [
    ({"drop_reason": DropReason.QUEUE_FULL, "drop_node": "isp1", "drop_interface": "eth1"},
     "dropped at isp1:eth1 (queue_full)"),
    ({"drop_reason": DropReason.TTL_EXCEEDED, "drop_node": "isp2"}, "dropped by isp2 (ttl_exceeded)"),
    ({"drop_reason": DropReason.LINK_LOSS, "drop_node": "web", "drop_interface": "eth0"},
     "lost on the link out of web:eth0"),
    ({}, "lost"),
])
def test_other_drops_name_the_node_that_dropped_and_why(changes, words):
    from layersim.viz.ladder import _lost_words

    assert _lost_words(seen(**changes), None) == words


def arrows_and_states(ax):
    arrows = [t for t in ax.texts if (t.get_gid() or "").startswith("segment:")]
    leaders = [line for line in ax.lines if (line.get_gid() or "").startswith("segment-leader:")]
    states = [t for t in ax.texts if (t.get_gid() or "").startswith("state:")]
    return arrows, leaders, states


@pytest.mark.parametrize("which", ["clean", "lossy"])
def test_state_labels_cross_no_arrow_and_no_text_overlaps_another(which, request):
    net = request.getfixturevalue(which)
    ax = ladder(net)
    arrows, leaders, states = arrows_and_states(ax)
    assert len(states) >= 6 and len(arrows) == len(expected(net))
    assert texts_crossing(ax.figure, states, arrows + leaders) == []
    assert text_overlaps(ax.figure) == []


def drawn_ends(ax, arrow):
    """Where an arrow starts and ends on the canvas, in pixels."""
    return ax.transData.transform([arrow.xyann, arrow.xy])


@pytest.mark.parametrize("which", ["clean", "lossy"])
def test_segments_drawn_as_one_line_are_tagged_with_their_count(which, request):
    net = request.getfixturevalue(which)
    rows = expected(net)
    ax = ladder(net)
    renderer_of(ax.figure)
    arrows = {int(gid.removeprefix("segment:")): arrow for gid, (arrow,) in by_gid(ax, "segment:").items()}
    tags = {int(gid.removeprefix("burst:")): tag for gid, (tag,) in by_gid(ax, "burst:").items()}
    bundles = []  # consecutive segments from one side whose arrows start and end within 2 pixels
    for client in (True, False):
        side = [pid for pid, c, *_ in rows if c == client]
        for previous, pid in pairwise(side):
            gap = abs(drawn_ends(ax, arrows[previous]) - drawn_ends(ax, arrows[pid]))
            if (gap < 2).all():
                if bundles and bundles[-1][-1] == previous:
                    bundles[-1].append(pid)
                else:
                    bundles.append([previous, pid])
    assert bundles, "the demo's connection sends back to back"
    for bundle in bundles:
        tag = tags.get(bundle[0])
        assert tag is not None, f"segments {bundle} drawn as one line without a tag"
        count = int(tag.get_text().split()[0])
        assert count >= len(bundle) and tag.get_text() == f"{count} segments"
    others = {pid: arrow for pid, arrow in arrows.items() if not any(pid in b for b in bundles)}
    assert texts_crossing(ax.figure, list(tags.values()), list(others.values())) == []
    for first, tag in tags.items():  # each tag sits on its bundle's line
        x, y = ax.transData.transform(tag.get_position())
        (sx, sy), (ex, ey) = drawn_ends(ax, arrows[first])
        assert min(sx, ex) <= x <= max(sx, ex)
        assert abs(sy + (ey - sy) * (x - sx) / (ex - sx) - y) < 3


@pytest.mark.parametrize("size", [(8, 5), (16, 8)])
def test_on_a_narrow_or_wide_axes_texts_still_keep_apart(lossy, size):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    ax = ladder(lossy, ax=fig.subplots())
    arrows, leaders, states = arrows_and_states(ax)
    assert text_overlaps(fig) == [] and texts_crossing(fig, states, arrows + leaders) == []


@pytest.mark.parametrize(("start", "end", "crosses"), [
    ((-1, 0.5), (2, 0.5), True),  # straight through
    ((0.4, 0.4), (0.6, 0.6), True),  # inside
    ((-1, 2), (2, 2), False),  # above, parallel
    ((-1, -1), (-0.5, 3), False),  # beside, steep
    ((-1, 0.5), (-0.01, 0.5), False),  # stops short
    ((-1, 0), (1, 2), True),  # through a corner
])
def test_a_line_crosses_a_box_exactly_when_it_passes_through_it(start, end, crosses):
    from layersim.viz.ladder import _crosses

    assert _crosses((0, 1, 0, 1), start, end) is crosses
