"""One narrator (issue 16): the run narrator and the demo's story word fields, hops and losses from one place."""

from __future__ import annotations

import layersim.app.narrative as narrative_module
import layersim.demo_story as demo_story_module
from layersim.app.wording import FIELD_LABELS, change_text, hop_where, link_name
from layersim.demo import build


def test_a_labelled_field_reads_as_its_label() -> None:
    assert change_text("IPv4.ttl: 64 -> 63") == "TTL 64 -> 63"
    assert change_text("IPv4.header_checksum: 0x2541 -> 0x060d") == "IP checksum 0x2541 -> 0x060d"
    assert change_text("TCP.checksum: 0xdca8 -> 0xbc74") == "TCP checksum 0xdca8 -> 0xbc74"
    assert change_text("IPv4.src: 10.0.0.2 -> 198.51.100.2") == "src address (NAT) 10.0.0.2 -> 198.51.100.2"
    assert change_text("IPv6.hop_limit: 64 -> 63") == "hop limit 64 -> 63"


def test_a_field_without_a_label_is_kept_as_written() -> None:
    assert "IPv4.dscp" not in FIELD_LABELS
    assert change_text("IPv4.dscp: 0 -> 46") == "IPv4.dscp: 0 -> 46"
    assert change_text("no colon here") == "no colon here"
    assert change_text("") == ""


def test_neither_narrator_keeps_a_table_of_its_own() -> None:
    for module in (narrative_module, demo_story_module):
        for name in ("_LABELS", "_MEANING", "_hops", "_friendly"):
            assert not hasattr(module, name), f"{module.__name__}.{name}"


def test_hop_where_names_one_or_both_interfaces() -> None:
    assert hop_where({"in": "eth0", "out": "eth1"}) == "eth0 -> eth1"
    assert hop_where({"in": None, "out": "eth0"}) == "eth0"
    assert hop_where({"in": "eth0", "out": None}) == "eth0"
    assert hop_where({"in": None, "out": None}) == ""


def test_link_name_from_either_end_and_none_for_what_is_not_a_link() -> None:
    net = build()
    assert link_name(net, "home", "eth1") == link_name(net, "isp1", "eth0") == "home-isp1"
    assert link_name(net, "isp2", "eth0") == "isp1-isp2"
    assert link_name(net, "home", None) is None
    assert link_name(net, "home", "eth9") is None
    assert link_name(net, "nowhere", "eth0") is None
