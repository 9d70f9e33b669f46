"""HTML tables for Jupyter: a routing table row per route, a trace row per event, read back with an HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from layersim import DropReason, Network
from layersim.app import ping
from layersim.viz import routes_html, trace_html


class Table(HTMLParser):
    """Collects each <tr> as (class attribute, [cell texts]) and the text of <p> elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.paragraphs: list[str] = []
        self._cell: list[str] | None = None
        self._in_p = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append((dict(attrs).get("class") or "", []))
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "p":
            self._in_p = True
            self.paragraphs.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell))
            self._cell = None
        elif tag == "p":
            self._in_p = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_p:
            self.paragraphs[-1] += data


@pytest.fixture
def chain():
    net = Network(seed=2)
    client, r1, server = net.add_host("client"), net.add_router("r1"), net.add_host("server")
    net.link(client, r1, a_ip="10.0.1.10/24", b_ip="10.0.1.1/24")
    net.link(r1, server, a_ip="10.0.2.1/24", b_ip="10.0.2.20/24")
    r1.routes.add("192.168.0.0/16", via="10.0.2.20")
    ping(client, "10.0.2.20", count=1)
    ping(client, "10.0.2.20", count=1, ttl=1)
    return net


def test_routes_html_has_one_row_per_route_longest_prefix_first(chain):
    r1 = chain.nodes["r1"]
    rows = Table(routes_html(r1)).rows
    assert rows[0][1] == ["destination", "gateway", "interface", "metric", "kind"]
    body = [cells for cls, cells in rows[1:] if cls == "route"]
    assert len(body) == len(list(r1.routes)) == 3
    assert body[0][0] == "10.0.1.0/24" and body[-1][0] == "192.168.0.0/16"  # /24s before the /16
    by_prefix = {cells[0]: cells for cells in body}
    for route in r1.routes:
        cells = by_prefix[str(route.prefix)]
        assert cells[1] == (str(route.via) if route.via is not None else "on-link")
        assert cells[2] == route.interface and cells[4] == str(route.kind)
    client_rows = Table(routes_html(chain.nodes["client"])).rows[1:]
    assert [cells[:3] for _, cells in client_rows] == [["10.0.1.0/24", "on-link", "eth0"],
                                                       ["default", "10.0.1.1", "eth0"]]
    assert "10.0.1.10/24" in routes_html(chain.nodes["client"])


def test_trace_html_shows_events_up_to_the_limit_and_counts_the_rest(chain):
    events = chain.trace.events
    table = Table(trace_html(chain.trace, limit=5))
    body = table.rows[1:]
    assert len(body) == 5
    for (cls, cells), event in zip(body, events, strict=False):
        assert cells[:4] == [f"{event.time_ns / 1e6:.6f}", event.node, event.interface or "", event.kind.value]
        assert cls == f"event {event.kind.value}"
    assert table.paragraphs == [f"... {len(events) - 5} more events not shown (trace_html(trace, "
                                f"limit={len(events)}) shows all)"]
    whole = Table(trace_html(chain.trace, limit=len(events)))
    assert len(whole.rows) - 1 == len(events) and not whole.paragraphs
    drops = [cells for cls, cells in whole.rows if cls == "event drop"]
    assert len(drops) == len(chain.trace.drops(DropReason.TTL_EXCEEDED)) == 1
    assert drops[0][1] == "r1" and "reason=ttl_exceeded" in drops[0][4]


def test_a_switch_has_no_routing_table_and_says_so():
    net = Network()
    switch = net.add_switch("sw")
    rows = Table(routes_html(switch)).rows
    assert rows[1:] == [("", ["(sw forwards frames, not IP: no routing table)"])]


def test_trace_html_takes_a_selection_of_events(chain):
    drops = chain.trace.drops()
    rows = Table(trace_html(drops)).rows[1:]
    assert [cells[3] for _, cells in rows] == ["drop"] * len(drops) and len(drops) >= 1
