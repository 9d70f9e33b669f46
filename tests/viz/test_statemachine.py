"""The state machine picture holds every state and every transition of the table the TCP code runs, once each."""

from __future__ import annotations

from collections import Counter

from layersim.tcp.profile import LINUX, RFC
from layersim.tcp.states import TRANSITIONS, State
from layersim.viz import state_machine
from tests.viz.conftest import by_gid, one


def test_every_state_is_one_box_with_its_name():
    ax = state_machine()
    boxes = by_gid(ax, "state:")
    assert sorted(boxes) == sorted(f"state:{s.name}" for s in State) and len(State) == 11
    assert all(len(found) == 1 for found in boxes.values())
    for state in State:
        box = one(ax, f"state:{state.name}")
        name = one(ax, f"state-name:{state.name}")
        assert name.get_text() == state.name.replace("_", "-")
        x, y = name.get_position()  # the name sits inside its own box
        left, bottom = box.get_x(), box.get_y()
        assert left < x < left + box.get_width() and bottom < y < bottom + box.get_height()


def test_every_transition_is_drawn_once_on_the_arrow_between_its_states():
    ax = state_machine()
    arrows = by_gid(ax, "edge:")
    pairs = {(source, target) for source, events in TRANSITIONS.items() for target in events.values()}
    assert sorted(arrows) == sorted(f"edge:{s.name}->{t.name}" for s, t in pairs)
    assert all(len(found) == 1 for found in arrows.values())
    written = Counter()
    for source, events in TRANSITIONS.items():
        for event, target in events.items():
            lines = one(ax, f"edge-label:{source.name}->{target.name}").get_text().split("\n")
            assert event.value in lines, (source, event, target)
    for texts in by_gid(ax, "edge-label:").values():
        for line in texts[0].get_text().split("\n"):
            written[(texts[0].get_gid(), line)] += 1
    assert sum(written.values()) == sum(len(events) for events in TRANSITIONS.values()) == 46
    assert max(written.values()) == 1


def test_profile_adds_the_timers_that_differ():
    linux = one(state_machine(profile=LINUX), "profile-note").get_text()
    rfc = one(state_machine(profile=RFC), "profile-note").get_text()
    assert "TIME-WAIT lasts 60 s" in linux and "times out after 60 s" in linux
    assert "TIME-WAIT lasts 240 s" in rfc and "never times out" in rfc
    assert not by_gid(state_machine(), "profile-note")


def test_no_two_texts_of_the_state_machine_overlap():
    from tests.viz.overlap import text_overlaps

    ax = state_machine()
    assert text_overlaps(ax.figure) == []
