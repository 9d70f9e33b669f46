"""cwnd/RTT and link plots: their lines hold exactly the trace's samples, and the link replay matches the simulator."""

from __future__ import annotations

import pytest

from layersim import LayersimError, Network
from layersim.app import ping
from layersim.demo import run
from layersim.net.trace.log import DropReason, EventKind
from layersim.viz import cwnd_plot, link_activity, link_plot
from tests.viz.conftest import one
from tests.viz.overlap import renderer_of, text_overlaps

MS = 1e6


@pytest.fixture(scope="module")
def lossy():
    """Seed 3, 5% loss: the web server's FIN times out, so its ssthresh drops from "infinite" to a number."""
    net = run(seed=3, loss=0.05).network
    assert net.trace.drops(DropReason.LINK_LOSS)
    return net


def samples(net, node, what):
    return [(e.time_ns, dict(e.info.facts)) for e in net.trace.select(EventKind.TCP, node=node) if e.info.what == what
            and e.info.connection == first_label(net, node)]


def first_label(net, node):
    return next(e.info.connection for e in net.trace.select(EventKind.TCP, node=node))


@pytest.mark.parametrize("node", ["laptop", "web"])
def test_cwnd_line_is_the_traces_cwnd_samples(lossy, node):
    ax = cwnd_plot(lossy, first_label(lossy, node))
    cwnd = samples(lossy, node, "cwnd")
    line = one(ax, "cwnd")
    assert list(line.get_ydata()) == [f["cwnd"] for _, f in cwnd]
    assert list(line.get_xdata()) == pytest.approx([t / MS for t, _ in cwnd])
    assert line.get_drawstyle() == "steps-post"  # a window holds its value until the next sample
    rtt_axes = next(a for a in ax.figure.axes if a.get_gid() == "rtt-axes")
    rtt = samples(lossy, node, "rtt")
    srtt = one(rtt_axes, "srtt")
    assert list(srtt.get_ydata()) == pytest.approx([f["srtt_ns"] / MS for _, f in rtt])
    assert list(one(rtt_axes, "rtt-sample").get_ydata()) == pytest.approx([f["sample_ns"] / MS for _, f in rtt])


def test_ssthresh_is_drawn_once_it_is_finite(lossy):
    label = first_label(lossy, "web")
    ax = cwnd_plot(lossy, label)
    finite = [(t, f["ssthresh"]) for t, f in samples(lossy, "web", "cwnd") if f["ssthresh"] < 2**30]
    assert finite and any(f["ssthresh"] >= 2**30 for _, f in samples(lossy, "web", "cwnd"))
    line = one(ax, "ssthresh")
    assert list(line.get_ydata()) == [s for _, s in finite]
    retransmits = [e for e in lossy.trace.select(EventKind.TCP, node="web") if e.info.what == "retransmit"
                   and e.info.connection == label]
    assert [one(ax, f"retransmit:{n}").get_xdata()[0] for n in range(len(retransmits))] == \
        pytest.approx([e.time_ns / MS for e in retransmits])
    laptop = cwnd_plot(lossy, first_label(lossy, "laptop"))
    assert not [line for line in laptop.lines if line.get_gid() == "ssthresh"]  # never lowered: not drawn


def test_default_connection_is_the_end_that_sent_the_page(lossy):
    ax = cwnd_plot(lossy)
    assert ax.get_title().startswith("web: 93.184.216.34:80-")
    with pytest.raises(LayersimError, match="no TCP connection 'nope'"):
        cwnd_plot(lossy, "nope")


def test_link_replay_matches_when_frames_arrived(lossy):
    """Each frame's replayed end of transmission plus the link delay is exactly when the far end received it."""
    link = next(link for link in lossy.links if (link.a.node.name, link.b.node.name) == ("home", "isp1"))
    activity = link_activity(lossy, "home-isp1")
    checked = 0
    for direction, (sender, receiver) in (("a->b", (link.a, link.b)), ("b->a", (link.b, link.a))):
        sends = lossy.trace.select(EventKind.SEND, node=sender.node.name, interface=sender.name)
        assert len(activity[direction]) == len(sends) > 5
        for (queued, start, end), event in zip(activity[direction], sends, strict=True):
            assert queued == event.time_ns <= start and end - start == link.serialization_ns(len(event.frame))
            got = lossy.trace.select(EventKind.RECEIVE, node=receiver.node.name, packet_id=event.packet_id)
            if got and event.packet_id is not None:
                assert got[0].time_ns == end + link.delay_ns
                checked += 1
    assert checked > 10


def test_link_plot_utilisation_adds_up_to_the_bytes_sent(lossy):
    link = next(link for link in lossy.links if (link.a.node.name, link.b.node.name) == ("home", "isp1"))
    ax = link_plot(lossy, link, bins=50)
    for direction, sender in (("a->b", link.a), ("b->a", link.b)):
        line = one(ax, f"utilisation:{direction}")
        xs, ys = line.get_xdata(), line.get_ydata()
        width_ms = xs[1] - xs[0]
        busy_ms = sum(y / 100 * width_ms for y in ys)
        sent = lossy.trace.select(EventKind.SEND, node=sender.node.name, interface=sender.name)
        assert busy_ms == pytest.approx(sum(link.serialization_ns(len(e.frame)) for e in sent) / MS, rel=1e-6)
        assert max(ys) <= 100 + 1e-9
    queue_axes = next(a for a in ax.figure.axes if a.get_gid() == "queue-axes")
    queue = one(queue_axes, "queue:b->a").get_ydata()
    assert min(queue) == 0 and max(queue) >= 2  # the page's segments queue at the 50 Mbit/s uplink's far end
    with pytest.raises(LayersimError, match=r"no link 'x-y'.*home-isp1"):
        link_plot(lossy, "x-y")


def one_ping_network():
    """Two hosts and one ping: the link never holds more than one frame, the smallest queue axis there is."""
    net = Network(seed=1)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24")
    ping(a, "10.0.0.2", count=1)
    return net


@pytest.mark.parametrize("which", ["demo", "one-ping"])
def test_the_queue_axis_counts_whole_frames(which, lossy):
    net, link = (lossy, "home-isp1") if which == "demo" else (one_ping_network(), "a-b")
    ax = link_plot(net, link)
    queue = one(ax.figure.axes[1], "queue:a->b")
    assert max(queue.get_ydata()) >= 1
    right = ax.figure.axes[1]
    renderer_of(ax.figure)
    low, high = right.get_ylim()
    shown = [tick for tick in right.get_yticks() if low <= tick <= high]
    assert len(shown) >= 2 and all(float(tick).is_integer() for tick in shown), shown
    assert text_overlaps(ax.figure) == []


def test_no_two_texts_of_the_cwnd_plot_overlap(lossy):
    ax = cwnd_plot(lossy)
    assert text_overlaps(ax.figure) == []
