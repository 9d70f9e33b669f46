"""The command line on a terminal: colour and a progress bar there, plain text everywhere else."""

from __future__ import annotations

import io
import re
from pathlib import Path

from layersim.app import ping
from layersim.app.narrative import narrative, run_scenario
from layersim.cli import main
from layersim.net.topology import load_topology
from layersim.terminal import print_story, progress
from tests.net.conftest import SERVER_IP, build_chain

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "client_r1_r2_server.toml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _story() -> str:
    scenario = load_topology(EXAMPLE)
    return narrative(scenario, run_scenario(scenario))


def test_a_pipe_gets_the_story_as_plain_text() -> None:
    story = _story()
    out = io.StringIO()  # not a terminal
    print_story(story, out)
    assert out.getvalue() == story + "\n" and "\x1b[" not in out.getvalue()


def test_a_terminal_gets_the_same_text_in_colour() -> None:
    story = _story()
    out = io.StringIO()
    print_story(story, out, force_terminal=True)
    coloured = out.getvalue()
    assert ANSI.sub("", coloured) == story + "\n"  # the same words, nothing added or lost
    run_line = next(line for line in coloured.splitlines() if "[[run]] #1" in line)
    drop_line = next(line for line in coloured.splitlines() if "no_listener" in line)
    assert "\x1b[1;36m" in run_line and "\x1b[31m" in drop_line  # runs bold cyan, drops red
    plain = next(line for line in coloured.splitlines() if "PING 10.0.2.20" in line)
    assert "\x1b[" not in plain


def test_a_long_run_shows_its_progress_on_a_terminal_only() -> None:
    for terminal in (True, False):
        chain = build_chain()
        out = io.StringIO()
        with progress(chain.net, out, after_seconds=0.0, force_terminal=terminal):
            ping(chain.client, SERVER_IP, count=6_000, interval_ns=1_000_000, timeout_ns=1_000_000)
        shown = ANSI.sub("", out.getvalue())
        if terminal:
            assert re.search(r"simulated +\d+\.\d{3} s, [\d,]+ events", shown), shown[:200]
        else:
            assert shown == ""
        assert chain.net.clock.progress is None  # taken off again


def test_progress_waits_before_it_shows() -> None:
    chain = build_chain()
    out = io.StringIO()
    with progress(chain.net, out, after_seconds=3600.0, force_terminal=True):
        ping(chain.client, SERVER_IP, count=6_000, interval_ns=1_000_000, timeout_ns=1_000_000)
    assert out.getvalue() == ""


def test_run_quiet_prints_only_the_files(tmp_path, capsys) -> None:
    pcap = tmp_path / "run.pcapng"
    assert main(["run", str(EXAMPLE), "--quiet", "--pcap", str(pcap)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("capture: ") and out[0].endswith(str(pcap)) and pcap.is_file()
