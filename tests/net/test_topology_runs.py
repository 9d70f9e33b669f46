"""Topology files, [[run]] keys: durations must carry a unit and cannot be negative (every duration key, link
`delay` too), the run kinds for servers, HTTP GET and bulk transfers, and `hosts` (node names on every host)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from layersim.net.topology import Scenario, TopologyError, build_network
from tests.net.test_topology import BASE


def build(text: str) -> Scenario:
    return build_network(tomllib.loads(text), "t.toml")


PING = '[[run]]\nkind = "ping"\nfrom = "client"\nto = "r1"\n'


@pytest.mark.parametrize(("key", "value", "table"), [
    ("at", "1", PING), ("interval", "1", PING), ("timeout", "2.5", PING),
    ("timeout", "5", '[[run]]\nkind = "traceroute"\nfrom = "client"\nto = "r1"\n'),
    ("at", "0", '[[run]]\nkind = "script"\non = "client"\npath = "x.py"\n'),
])
def test_a_bare_number_is_not_a_duration(key: str, value: str, table: str) -> None:
    with pytest.raises(TopologyError, match=rf"\[\[run\]\] #1: {key}: {value} has no unit: write it as a string "
                                            rf"with one, e\.g\. \"{value}ms\""):
        build(BASE + table + f"{key} = {value}\n")


def test_a_bare_link_delay_is_refused() -> None:
    text = BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\ndelay = 2\n', 1)
    assert text != BASE
    with pytest.raises(TopologyError, match=r"\[\[link\]\] #1: delay: 2 has no unit"):
        build(text)


@pytest.mark.parametrize("key", ["at", "interval", "timeout"])
def test_a_negative_duration_is_named_negative(key: str) -> None:
    with pytest.raises(TopologyError, match=rf"#1: {key}: '-5ms' is negative: a duration is 0 or more"):
        build(BASE + PING + f'{key} = "-5ms"\n')
    text = BASE.replace('b_ip = "10.0.1.1/24"\n', 'b_ip = "10.0.1.1/24"\ndelay = "-1us"\n', 1)
    with pytest.raises(TopologyError, match=r"delay: '-1us' is negative"):
        build(text)


def test_zero_is_a_duration_but_not_an_interval() -> None:
    assert build(BASE + PING + 'at = "0s"\n').runs[0].at_ns == 0
    assert build(BASE + PING + 'at = "1ns"\n').runs[0].at_ns == 1
    with pytest.raises(TopologyError, match=r"interval: '0ms' must be more than 0"):
        build(BASE + PING + 'interval = "0ms"\n')


def test_cli_until_needs_a_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from layersim.cli import main

    path = tmp_path / "t.toml"
    path.write_text(BASE)
    assert main(["run", str(path), "--until", "10"]) == 2
    assert "--until: '10' has no unit" in capsys.readouterr().err
    assert main(["run", str(path), "--until=-1s", "--quiet"]) == 2
    assert "--until: '-1s' is negative" in capsys.readouterr().err
