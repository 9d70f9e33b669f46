"""The demo's page in a real browser (headless Chromium): step through the GET hop by hop, click a field, filter,
drive it from the keyboard, and check that it never touches the network. One browser for the whole module."""

from __future__ import annotations

import json
import os

import pytest

from layersim.demo import run
from layersim.net import EventKind
from layersim.view import write_html
from layersim.wire.fielddiff import LAYER
from layersim.wire.hexdump import field_map
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import decode
from layersim.wire.valuefmt import brief
from tests.view import browser
from tests.view.tools import get_packet_id, sends_of

_WHY = browser.missing()
pytestmark = pytest.mark.skipif(_WHY is not None and os.environ.get("LAYERSIM_REQUIRE_BROWSER") != "1",
                                reason=f"no browser: {_WHY}")


@pytest.fixture(scope="module")
def driver():
    chrome = browser.start()
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def page(demo_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("view") / "demo.html"
    write_html(demo_run.network, path, title="demo")
    return path.as_uri()


def _open(driver, url: str) -> None:
    """Load the page (the fragment names the event) and wait until its script has run."""
    driver.get("about:blank")
    driver.get(url)
    assert driver.execute_script("return !!(window.layersimView && window.layersimView.ready)")


def _cursor(driver) -> int:
    return driver.execute_script("return window.layersimView.state.cur")


def _press(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def _highlighted_node(driver) -> str:
    return driver.execute_script("return [...document.querySelectorAll('.node.current')].map(n => n.dataset.node)"
                                 ".join(',')")


def _changes_shown(driver) -> list[list[str]]:
    return driver.execute_script("return [...document.querySelectorAll('#changes tr[data-layer]')]"
                                 ".map(r => [...r.cells].map(c => c.textContent))")


def test_step_through_the_get_hop_by_hop(driver, page, demo_run):
    """From the laptop's SEND of the GET to the web server, with the arrow key: at every event the node lit is the
    trace's, and at each hop the page shows what that node changed, exactly as Trace.hops has it."""
    from selenium.webdriver.common.keys import Keys

    net = demo_run.network
    events = net.trace.events
    packet = get_packet_id(net)
    sends = sends_of(net, packet)
    hops = net.trace.hops(packet)
    _open(driver, f"{page}#e{sends[0]}")
    assert _cursor(driver) == sends[0] and _highlighted_node(driver) == "laptop"
    assert _changes_shown(driver) == [] and "laptop made this packet" in driver.find_element("id", "detail").text
    assert driver.execute_script("return document.querySelectorAll('.pkt.current').length") == 1
    output = driver.find_element("id", "output").text  # the panel shows what has happened by now, no more
    assert "process=requests.get[1001], what=start" in output and "requests.get[1001], what=exit" not in output
    deliver = next(i for i, e in enumerate(events) if e.packet_id == packet and e.kind is EventKind.DELIVER)
    for target, hop in [*zip(sends[1:], hops[1:4], strict=True), (deliver, hops[4])]:
        for _ in range(200):
            if _cursor(driver) == target:
                break
            before = _cursor(driver)
            _press(driver, Keys.ARROW_RIGHT)
            assert _cursor(driver) == before + 1  # no filter: every event is a step
            assert _highlighted_node(driver) == events[before + 1].node
        assert _cursor(driver) == target and _highlighted_node(driver) == hop.node
        expected = [[c.layer, c.field, brief(c.old, c.spec_field, 40), brief(c.new, c.spec_field, 40)]
                    for c in hop.changes if c.field != LAYER]
        assert _changes_shown(driver) == expected
        assert driver.current_url.endswith(f"#e{target}")
    assert hops[4].node == "web" and "deliver at web" in driver.find_element("id", "detail-title").text
    _press(driver, Keys.END)
    assert "process=requests.get[1001], what=exit" in driver.find_element("id", "output").text
    _open(driver, f"{page}#e{deliver}")
    _press(driver, Keys.ARROW_LEFT)
    assert _cursor(driver) == deliver - 1


def test_a_clicked_field_lights_its_bytes(driver, page, demo_run):
    """The GET as home forwarded it: clicking a field in the tree lights exactly that field's bytes (first field,
    the IPv4 source NAT rewrote, a bit field, the last one), in hexdump's colour."""
    net = demo_run.network
    index = sends_of(net, get_packet_id(net))[1]
    rows = field_map(decode(net.trace.events[index].frame))
    _open(driver, f"{page}#e{index}")
    src = next(r for r in rows if (r.layer, r.field) == ("IPv4", "src"))
    flags = next(r for r in rows if (r.layer, r.field) == ("TCP", "flags"))
    for row in (rows[0], src, flags, rows[-1]):
        field = driver.find_element("css selector", f'.tree .field[data-group="{row.group}"]')
        field.click()
        lit = driver.execute_script("return [...document.querySelectorAll('#hex .b.hl')].map(b => +b.dataset.offset)")
        assert lit == list(range(row.start, row.end)), row
        assert "hl" in field.get_attribute("class")
        colours = driver.execute_script("return [...document.querySelectorAll('#hex .b.hl')].map(b => "
                                        "getComputedStyle(b).backgroundColor)")
        assert len(set(colours)) == 1
        field.click()  # unpin
        assert driver.execute_script("return document.querySelectorAll('#hex .b.hl').length") == 0
    assert src.start == 26 and src.end == 30


def _has_dns(event) -> bool:
    if event.frame is None:
        return False
    packet = decode(event.frame, None if event.kind in (EventKind.SEND, EventKind.RECEIVE) else IPv4)
    return any(name.startswith("DNS") for name in packet.layer_names)


def test_filter_to_dns_steps_only_through_dns(driver, page, demo_run):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    events = demo_run.network.trace.events
    expected = [i for i, e in enumerate(events) if _has_dns(e)]
    _open(driver, f"{page}#e0")
    Select(driver.find_element("id", "f-proto")).select_by_value("DNS")
    driver.find_element("tag name", "body").click()
    _press(driver, Keys.HOME)
    seen = [_cursor(driver)]
    for _ in range(len(expected)):
        _press(driver, Keys.ARROW_RIGHT)
        if _cursor(driver) == seen[-1]:
            break  # the last DNS event: a step goes nowhere
        seen.append(_cursor(driver))
    assert seen == expected and len(expected) >= 8  # query and answer, each at every hop
    listed = driver.execute_script("return [...document.querySelectorAll('#timeline li[data-event]')]"
                                   ".map(li => +li.dataset.event)")
    assert listed and set(listed) <= set(expected)
    Select(driver.find_element("id", "f-proto")).select_by_value("")


def test_keyboard_home_end_and_play(driver, page, demo_run):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _open(driver, f"{page}#e5")
    _press(driver, Keys.END)
    assert _cursor(driver) == len(demo_run.network.trace) - 1
    _press(driver, Keys.HOME)
    assert _cursor(driver) == 0 and driver.current_url.endswith("#e0")
    driver.execute_script("document.getElementById('speed').value = '40'")
    _press(driver, Keys.SPACE)
    WebDriverWait(driver, 10).until(lambda d: _cursor(d) >= 3)
    _press(driver, Keys.SPACE)
    assert "play" in driver.find_element("id", "play").text
    stopped = _cursor(driver)
    assert driver.execute_script("return window.layersimView.state.playing") is False and stopped >= 3


def test_a_drop_is_shown_where_it_happened(driver, tmp_path):
    """Under loss the page shows the drop at its node, with its reason, and 'drops only' finds it."""
    from selenium.webdriver.common.keys import Keys

    lossy = run(seed=3, loss=0.05)
    drops = lossy.network.trace.drops()
    assert drops
    path = write_html(lossy.network, tmp_path / "lossy.html")
    _open(driver, path.as_uri())
    driver.find_element("id", "f-drops").click()
    driver.find_element("tag name", "body").click()
    _press(driver, Keys.HOME)
    assert _highlighted_node(driver) == drops[0].node
    assert f"Dropped here: {drops[0].reason.value}" in driver.find_element("id", "drop-reason").text
    assert drops[0].reason.value in driver.find_element("id", "dropmark").text


def test_the_page_makes_no_network_request(driver, page, demo_run):
    """Every request the browser logged is the page file itself; the page lists no loaded resources; its policy
    forbids any (default-src 'none')."""
    driver.get_log("performance")  # drop what earlier tests logged
    driver.get_log("browser")
    first_frame = next(i for i, e in enumerate(demo_run.network.trace.events) if e.frame is not None)
    _open(driver, f"{page}#e{first_frame}")
    driver.find_element("css selector", ".tree .field").click()  # some interaction: still nothing loads
    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert requested and all(url.startswith("file://") and url.split("#")[0] == page for url in requested), requested
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    policy = driver.execute_script("return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')"
                                   ".content")
    assert "default-src 'none'" in policy
    assert driver.get_log("browser") == []  # no script error, no blocked load
