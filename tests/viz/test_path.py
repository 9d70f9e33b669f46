"""The path picture: the topology of examples/client_r1_r2_server.toml with one packet's hops numbered in the
order the trace saw them, and under each hop exactly the fields that node changed."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from layersim import EventKind, HTTPRequest, LayersimError, Network, decode
from layersim.app import ping
from layersim.app.narrative import run_scenario
from layersim.demo import run
from layersim.net.topology import load_topology
from layersim.viz import path
from layersim.viz.path import layout
from tests.viz.conftest import by_gid, one
from tests.viz.overlap import boxes_overlap, extent, renderer_of, text_overlaps

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "client_r1_r2_server.toml"


def first_ip_frame(net, node: str) -> bytes:
    return next(e.frame for e in net.trace.events
                if e.node == node and e.kind.value == "send" and e.frame[12:14] == b"\x08\x00")


@pytest.fixture(scope="module")
def example():
    scenario = load_topology(EXAMPLE)
    run_scenario(scenario)
    net = scenario.network
    return net, first_ip_frame(net, "client")


def centre(ax, name):
    box = one(ax, f"node:{name}")
    return box.get_x() + box.get_width() / 2, box.get_y() + box.get_height() / 2


def test_every_node_link_and_interface_is_drawn(example):
    net, frame = example
    ax = path(net, frame)
    assert set(by_gid(ax, "node:")) == {f"node:{name}" for name in net.nodes}
    assert len(by_gid(ax, "link:")) == len(net.links) == 3
    for link in net.links:
        line = one(ax, f"link:{link.a.node.name}:{link.a.name}-{link.b.node.name}:{link.b.name}")
        assert (line.get_xdata()[0], line.get_ydata()[0]) == centre(ax, link.a.node.name)
        assert (line.get_xdata()[1], line.get_ydata()[1]) == centre(ax, link.b.node.name)
        for iface in (link.a, link.b):
            label = one(ax, f"iface:{iface.node.name}:{iface.name}").get_text()
            assert label == f"{iface.name}\n{iface.address}"
            assert one(ax, f"mac:{iface.node.name}:{iface.name}").get_text() == str(iface.mac)
    assert one(ax, "iface:r1:eth1").get_text() == "eth1\n10.0.12.1/24"  # as the TOML file gives it


def test_hops_are_numbered_in_path_order_at_their_nodes(example):
    net, frame = example
    hops = net.trace.hops(frame)
    assert [h.node for h in hops] == ["client", "r1", "r2", "server"]
    ax = path(net, frame)
    numbers = by_gid(ax, "hop:")
    assert sorted(numbers) == [f"hop:{k}" for k in range(1, 5)]
    xs = []
    for k, hop in enumerate(hops, 1):
        marker = one(ax, f"hop:{k}")
        assert marker.get_text() == str(k)
        x, y = centre(ax, hop.node)
        mx, my = marker.get_position()
        assert abs(mx - x) < 1 and 0 < my - y < 1  # on the top edge of its node's box
        xs.append(mx)
    assert xs == sorted(xs) and len(set(xs)) == 4
    arrows = by_gid(ax, "path-arrow:")
    assert sorted(arrows) == sorted(["path-arrow:client-r1", "path-arrow:r1-r2", "path-arrow:r2-server"])


def test_each_hop_lists_exactly_what_its_node_changed(example):
    net, frame = example
    hops = net.trace.hops(frame)
    ax = path(net, frame)
    r1 = one(ax, "hop-text:2").get_text()
    assert r1.startswith("2. r1: forwarded (eth0 \u2192 eth1)")
    assert "IPv4.ttl: 64 \u2192 63" in r1 and "IPv4.ttl: 63 \u2192 62" in one(ax, "hop-text:3").get_text()
    r1_in = net.interface("r1:eth0").mac
    r1_out, r2_in = net.interface("r1:eth1").mac, net.interface("r2:eth0").mac
    assert f"Ethernet.dst: {r1_in} \u2192 {r2_in}" in r1
    assert f"Ethernet.src: {net.interface('client:eth0').mac} \u2192 {r1_out}" in r1
    for k, hop in enumerate(hops, 1):
        text = one(ax, f"hop-text:{k}").get_text()
        change_lines = [line.strip() for line in text.splitlines()[2:]]
        assert change_lines == [str(c).replace(" -> ", " \u2192 ") for c in hop.changes]
        assert f"at {(hop.left_ns if hop.left_ns is not None else hop.arrived_ns) / 1e6:.3f} ms" in text
    assert one(ax, "hop-text:4").get_text().startswith("4. server: delivered (eth0)")
    assert not by_gid(ax, "drop:")


def test_a_packet_dropped_for_ttl_is_marked_where_it_died():
    net = Network(seed=3)
    client, r1, r2, server = (net.add_host("client"), net.add_router("r1"), net.add_router("r2"),
                              net.add_host("server"))
    net.link(client, r1, a_ip="10.0.1.10/24", b_ip="10.0.1.1/24")
    net.link(r1, r2, a_ip="10.0.12.1/24", b_ip="10.0.12.2/24")
    net.link(r2, server, a_ip="10.0.2.1/24", b_ip="10.0.2.20/24")
    r1.routes.add("10.0.2.0/24", via="10.0.12.2")
    ping(client, "10.0.2.20", count=1, ttl=2)
    hops = net.trace.hops(first_ip_frame(net, "client"))
    assert [h.outcome for h in hops] == ["sent", "forwarded", "dropped: ttl_exceeded"]
    ax = path(net, hops)
    assert set(by_gid(ax, "drop:")) == {"drop:3"}
    assert one(ax, "hop-text:3").get_text().startswith("3. r2: dropped: ttl_exceeded")
    assert "IPv4.ttl: 2 \u2192 1" in one(ax, "hop-text:2").get_text()
    assert "server" in {gid.removeprefix("node:") for gid in by_gid(ax, "node:")}  # off the path, still drawn


def test_layout_puts_the_path_on_one_line_and_the_rest_above_it():
    net = Network(seed=1)
    a, sw, b, r, c = (net.add_host("a"), net.add_switch("sw"), net.add_host("b"), net.add_router("r"),
                      net.add_host("c"))
    net.link(a, sw)
    net.link(b, sw)
    net.link(sw, r)
    net.link(r, c)
    positions = layout(net, ["a", "sw", "r", "c"])
    assert [positions[n] for n in ("a", "sw", "r", "c")] == [(0.0, 0.0), (4.0, 0.0), (8.0, 0.0), (12.0, 0.0)]
    assert positions["b"][0] == positions["sw"][0] and positions["b"][1] > 0
    assert layout(net, ["a", "sw", "r", "c"]) == positions  # deterministic
    assert set(layout(net)) == {"a", "sw", "b", "r", "c"}


def test_a_hop_at_a_node_of_another_network_is_an_error(example):
    net, frame = example
    other = Network()
    other.add_host("client")
    with pytest.raises(LayersimError, match="'r1', which is not a node of this network"):
        path(other, net.trace.hops(frame))


def test_without_a_packet_the_topology_alone_is_drawn():
    net = Network(seed=1)
    hosts = [net.add_host(f"h{i}") for i in range(3)]
    switch, router = net.add_switch("sw"), net.add_router("r")
    for host in hosts:
        net.link(host, switch)
    net.link(switch, router)
    ax = path(net, [])
    assert set(by_gid(ax, "node:")) == {f"node:{n}" for n in ("h0", "h1", "h2", "sw", "r")}
    assert len(by_gid(ax, "link:")) == 4 and not by_gid(ax, "hop:") and not by_gid(ax, "path-arrow:")
    centres = {n: centre(ax, n) for n in ("h0", "h1", "h2", "sw", "r")}
    assert len(set(centres.values())) == 5  # no two nodes on top of each other
    assert one(ax, "iface:h1:eth0").get_text() == f"eth0\n{net.interface('h1:eth0').address}"
    assert one(ax, "mac:h1:eth0").get_text() == str(net.interface("h1:eth0").mac)
    assert one(ax, "iface:sw:eth1").get_text() == "eth1" and not by_gid(ax, "mac:sw:")  # ports: no address, no MAC


def chain(n: int):
    """client - r1 - ... - server, n nodes in a row, and the hops of one ping across them."""
    net = Network(seed=1)
    nodes = [net.add_host("client"), *(net.add_router(f"r{i}") for i in range(1, n - 1)), net.add_host("server")]
    for i, (a, b) in enumerate(pairwise(nodes)):
        net.link(a, b, a_ip=f"10.0.{i}.1/24", b_ip=f"10.0.{i}.2/24")
    for i, router in enumerate(nodes[1:-2], 1):
        router.routes.add(f"10.0.{n - 2}.0/24", via=f"10.0.{i}.2")
    ping(nodes[0], f"10.0.{n - 2}.2", count=1)
    hops = net.trace.hops(first_ip_frame(net, "client"))
    assert [h.node for h in hops] == [node.name for node in nodes]
    return net, hops


@pytest.fixture(scope="module")
def demo_get():
    """The demo's GET: laptop, home (NAT), isp1, isp2, web in a row, dns above isp1."""
    net = run(seed=1).network
    frame = next(e.frame for e in net.trace.select(EventKind.SEND, node="laptop")
                 if e.frame is not None and HTTPRequest in decode(e.frame))
    return net, list(net.trace.hops(frame))


CLEARANCE = -2.0  # pixels (at 100 dpi): texts must stay this far apart, not merely not overlap


def draw(net, hops, size):
    if size is None:
        return path(net, hops)
    fig = Figure(figsize=size, layout="constrained")
    return path(net, hops, fig.subplots())


@pytest.mark.parametrize("size", [None, (15, 5.5), (12, 5)], ids=["own-figure", "15x5.5", "12x5"])
@pytest.mark.parametrize("nodes", [2, 5, 6])
def test_no_two_texts_of_a_path_in_a_row_touch(nodes, size):
    net, hops = chain(nodes)
    ax = draw(net, hops, size)
    assert text_overlaps(ax.figure, CLEARANCE) == []


@pytest.mark.parametrize("size", [None, (15, 5.5)], ids=["own-figure", "15x5.5"])
def test_no_two_texts_of_the_demo_path_touch(demo_get, size):
    net, hops = demo_get
    ax = draw(net, hops, size)
    assert text_overlaps(ax.figure, CLEARANCE) == []


def test_interface_labels_stay_clear_of_the_hop_badges(demo_get):
    net, hops = demo_get
    ax = draw(net, hops, (15, 5.5))  # the size the demo used to draw its path at
    renderer = renderer_of(ax.figure)
    badges = [extent(t, renderer) for t in ax.texts if (t.get_gid() or "").startswith("hop:")]
    labels = {t.get_gid(): extent(t, renderer) for t in ax.texts if (t.get_gid() or "").startswith(("iface:", "mac:"))}
    assert len(badges) == 5 and len(labels) == 20
    close = [gid for gid, box in labels.items() if any(boxes_overlap(box, badge, CLEARANCE) for badge in badges)]
    assert close == []


def test_the_demo_draws_its_path_at_a_size_where_neighbours_fit(demo_get):
    from layersim.viz.path import figure_size

    net, hops = demo_get
    width, height = figure_size(net, hops)
    assert width >= 5 * 2.9  # five columns of "Ethernet.dst: 02:00:00:00:00:02 -> 02:00:00:00:00:04" (2.9 inches)
    ax = draw(net, hops, (width, height))
    columns = sorted((t for t in ax.texts if (t.get_gid() or "").startswith("hop-text:")),
                     key=lambda t: t.get_position()[0])
    assert len({t.get_position()[1] for t in columns}) == 1  # room enough: one row, nothing staggered
    assert text_overlaps(ax.figure, CLEARANCE) == []
