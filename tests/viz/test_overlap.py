"""The overlap finder the picture tests rely on: it must see a collision where there is one, and only there."""

from __future__ import annotations

from matplotlib.figure import Figure

from tests.viz.overlap import text_overlaps, texts_crossing


def figure():
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    return fig, ax


def test_two_texts_on_one_spot_overlap_and_far_apart_do_not():
    fig, ax = figure()
    ax.text(2, 5, "first label", gid="a")
    ax.text(2.5, 5, "second label", gid="b")
    ax.text(2, 1, "far away", gid="c")
    assert text_overlaps(fig) == [("a", "b")]


def test_texts_that_only_touch_do_not_count():
    fig, ax = figure()
    left = ax.text(5, 5, "left", ha="right", gid="left")
    ax.text(5, 5, "right", ha="left", gid="right")
    assert left.get_text() and text_overlaps(fig) == []


def test_a_text_background_box_counts_as_part_of_the_text():
    fig, ax = figure()
    ax.text(5, 5, "7", ha="center", va="center", gid="badge", fontsize=9,
            bbox={"boxstyle": "circle,pad=1.2", "facecolor": "red"})
    ax.text(5.45, 5, "x", ha="left", va="center", gid="near")  # clear of the digit, inside its circle
    assert text_overlaps(fig) == [("badge", "near")]


def test_tick_labels_outside_the_view_are_not_counted():
    fig, ax = figure()
    ax.set_axis_on()
    ax.set_yticks([5, 12])
    ax.set_ylim(0, 10)  # 12 is now above the view limits: matplotlib keeps its label but does not draw it
    ax.text(-0.3, 12, "here", ha="right", va="center", gid="where-12-would-be")
    ax.text(-0.3, 5, "here", ha="right", va="center", gid="on-the-5")
    assert text_overlaps(fig) == [("on-the-5", "'5'")]


def test_an_arrow_through_a_text_is_found_and_one_beside_it_is_not():
    fig, ax = figure()
    label = ax.text(5, 5, "STATE", ha="center", va="center", gid="state")
    ax.annotate("", xy=(9, 6), xytext=(1, 4), arrowprops={"arrowstyle": "-|>"}, gid="through")
    ax.annotate("", xy=(9, 9), xytext=(1, 8), arrowprops={"arrowstyle": "-|>"}, gid="above")
    (line,) = ax.plot([5, 5], [0, 2], gid="below")
    arrows = [t for t in ax.texts if t.get_gid() in ("through", "above")]
    assert texts_crossing(fig, [label], [*arrows, line]) == [("state", "through")]
