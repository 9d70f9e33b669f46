"""The SPEC file: its cells, and one clear error naming the place for every mistake."""

from __future__ import annotations

import pytest

from layersim.sweep import SweepError, load_spec
from layersim.sweep.spec import apply_params
from tests.sweep.tiny import SPEC, TOPOLOGY, write_sweep


def test_cells_are_the_grid_times_the_seeds(tmp_path):
    spec = load_spec(write_sweep(tmp_path, SPEC.replace("seeds = 2", "seeds = [7, 3]") + '"link#1.delay" = '
                                 '["1ms", "2ms", "3ms"]\n'))
    cells = spec.cells()
    assert len(cells) == 2 * 3 * 2
    assert [c.seed for c in cells[:4]] == [7, 3, 7, 3]
    assert cells[0].params == (("link#2.loss", 0.0), ("link#1.delay", "1ms"))
    assert cells[0].cell_id == cells[1].cell_id != cells[2].cell_id  # one id per grid point, whatever the seed
    assert len({c.cell_id for c in cells}) == 6


def test_key_paths_set_what_they_name():
    import tomllib

    data = tomllib.loads(TOPOLOGY)
    out = apply_params(data, (("link#2.loss", 0.5), ("node:client.congestion", "cubic"), ("run#1.bytes", 9),
                              ("hosts", False)))
    assert out["link"][1]["loss"] == 0.5 and out["node"][0]["congestion"] == "cubic"
    assert out["run"][0]["bytes"] == 9 and out["hosts"] is False
    assert data["link"][1]["loss"] == 0.0 and "congestion" not in data["node"][0]  # the original is untouched
    named = apply_params({"node": [{"name": "r1.lab"}]}, (("node:r1.lab.congestion", "cubic"),))
    assert named["node"][0]["congestion"] == "cubic"  # a node name may hold dots: the key is after the last one


@pytest.mark.parametrize(("grid_line", "expected"), [
    ('"link#3.loss" = [0.1]', 'spec.toml:6: [grid] \'link#3.loss\' = 0.1: the topology has 2 [[link]] tables'),
    ('"link#0.loss" = [0.1]', "spec.toml:6: [grid] 'link#0.loss' = 0.1: the topology has 2 [[link]] tables"),
    ('"link#2.los" = [0.1]', "spec.toml:6: [grid] 'link#2.los' = 0.1: "),  # the topology's own error follows
    ('"link#1.loss" = [1.5]', "spec.toml:6: [grid] 'link#1.loss' = 1.5: "),
    ('"node:laptop.congestion" = ["cubic"]', "no [[node]] named 'laptop' (nodes: client, router, server)"),
    ('"node:client.congestion" = ["vegas"]', "unknown congestion control 'vegas'"),
    ('"seed" = [1, 2]', "spec.toml:6: [grid] 'seed' = 1: 'seed' cannot be swept"),
    ('"link.loss" = [0.1]', "spec.toml:6: [grid] 'link.loss' = 0.1: not a key path"),
    ('"link#1.loss" = []', "spec.toml:6: [grid] 'link#1.loss': expected a non-empty array"),
])
def test_a_bad_grid_key_or_value_is_one_error_naming_the_line_and_key(tmp_path, grid_line, expected):
    with pytest.raises(SweepError) as caught:
        load_spec(write_sweep(tmp_path, SPEC + grid_line + "\n"))
    assert expected in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "spec.toml"))


def test_the_last_link_is_in_range(tmp_path):
    assert len(load_spec(write_sweep(tmp_path, SPEC + '"link#1.loss" = [0.1]\n')).cells()) == 2 * 1 * 2


@pytest.mark.parametrize(("text", "expected"), [
    ('topology = "bulk.toml"\nseed = 2\n[grid]\nhosts = [true]\n', "spec.toml:2: seed: unknown key (did you mean "
                                                                    "'seeds'?)"),
    ('topology = "bulk.toml"\nseeds = 0\n[grid]\nhosts = [true]\n', "spec.toml:2: seeds: expected at least 1"),
    ('topology = "bulk.toml"\nseeds = [1, 1]\n[grid]\nhosts = [true]\n', "spec.toml:2: seeds: expected a count"),
    ('topology = "nowhere.toml"\nseeds = 1\n[grid]\nhosts = [true]\n', "spec.toml:1: topology: cannot read"),
    ('topology = "bulk.toml"\nseeds = 1\nuntil = 5\n[grid]\nhosts = [true]\n', "spec.toml:3: until: 5 has no unit"),
    ('topology = "bulk.toml"\nseeds = 1\n', "spec.toml: grid: missing required key"),
    ('topology = "bulk.toml"\nseeds = 1\n[grid]\n', "spec.toml:3: grid: expected a table"),
])
def test_a_bad_top_level_key_names_the_line(tmp_path, text, expected):
    with pytest.raises(SweepError, match=None) as caught:
        load_spec(write_sweep(tmp_path, text))
    assert expected in str(caught.value)
