"""The demo's story (issue 18): a request that fails under loss told up to the failure (exit 1), lost frames and
retransmissions marked where they happen, section 5 in time order with the server's ACK of the GET, the FIN's ACK
once, windows scaled, and the simulated time explained by TIME_WAIT."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from layersim.capture import read_capture
from layersim.cli import main
from layersim.demo import run
from layersim.demo_story import render, story
from layersim.net.trace.log import EventKind
from layersim.terminal import print_story

_SEGMENT = re.compile(r"^ +\d+\.\d{3} ms  (->|<-) [SFRP.]+ +seq=")


@pytest.fixture(scope="module")
def clean() -> dict[str, Any]:
    return story(run(seed=1))


@pytest.fixture(scope="module")
def lossy() -> dict[str, Any]:
    """Seed 3 at 5 % loss: the laptop's last ACK is lost on home-isp1 and the server sends its FIN again."""
    return story(run(seed=3, loss=0.05))


def test_a_failed_lookup_is_told_up_to_the_failure_and_exits_1(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--seed", "9", "--loss", "0.05"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    dns = [line for line in out.splitlines() if " id 0x" in line]
    assert len(dns) == 3, out
    assert "-> id" in dns[0] and dns[0].endswith("LOST on home-isp1")
    assert "-> id" in dns[1] and dns[1].endswith("retransmission")
    assert "<- id" in dns[2] and "answer example.com A" in dns[2] and dns[2].endswith("LOST on home-isp1")
    assert "requests.get failed: ConnectionError" in out and "NameResolutionError" in out
    assert "no DNS answer reached the laptop: 2 queries sent" in out
    assert "3. TCP three-way handshake" not in out  # no connection was opened: nothing to tell
    assert f"captures: {tmp_path / 'demo.pcapng'} (the laptop's eth0" in out and 'all-interfaces.pcapng' in out
    assert (tmp_path / "demo.pcapng").is_file()


def test_a_failed_lookup_as_json_and_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--seed", "9", "--loss", "0.05", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "NameResolutionError" in data["failures"]["requests.get"] and "tutorial-client" not in data["failures"]
    assert [(d["direction"], d["retransmission"], d["lost"] and d["lost"]["link"]) for d in data["dns"]] == \
        [("out", False, "home-isp1"), ("out", True, None), ("in", False, "home-isp1")]
    assert data["handshake"] == [] and "get" not in data and data["close"] == []
    assert main(["demo", "--out", str(tmp_path), "--seed", "9", "--loss", "0.05", "--quiet",
                 "--figures", str(tmp_path / "figs")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == str(tmp_path / "demo.pcapng")


def test_a_clean_run_exits_0_and_marks_nothing(clean: dict[str, Any]) -> None:
    text = render(clean)
    assert clean["failures"] == {} and "failed" not in text
    assert "LOST" not in text and not re.search(r"  retransmission\b", text)


def test_lost_frames_and_retransmissions_are_marked_where_they_happen(lossy: dict[str, Any]) -> None:
    close = lossy["close"]
    lost = [s for s in close if s["lost"]]
    assert [(s["direction"], s["flags"], s["lost"]["link"], s["lost"]["reason"]) for s in lost] == \
        [("out", ".", "home-isp1", "link_loss")]
    again = [s for s in close if s["retransmission"]]
    assert [(s["direction"], s["flags"]) for s in again] == [("in", "F.")]
    assert close.index(again[0]) > close.index(lost[0])
    text = render(lossy).splitlines()
    assert sum(line.endswith("LOST on home-isp1") for line in text) == 1
    assert sum(line.endswith("  retransmission") and "<- F." in line for line in text) == 1


def test_a_frame_lost_towards_the_laptop_is_listed_when_it_was_lost() -> None:
    data = story(run(seed=1, loss=0.05))  # the SYN-ACK is lost on isp1-isp2, the SYN and SYN-ACK sent again
    shake = data["handshake"]
    assert [(s["direction"], s["flags"], s["retransmission"], s["lost"] and s["lost"]["link"]) for s in shake] == [
        ("out", "S", False, None), ("out", "S", True, None), ("in", "S.", False, "isp1-isp2"),
        ("in", "S.", True, None), ("out", ".", False, None)]
    assert shake[2]["t_ms"] == shake[2]["lost"]["t_ms"]
    assert [s["t_ms"] for s in shake] == sorted(s["t_ms"] for s in shake)


def test_lost_and_retransmitted_lines_are_coloured_on_a_terminal_only(lossy: dict[str, Any]) -> None:
    text = render(lossy)
    coloured, plain = io.StringIO(), io.StringIO()
    print_story(text, coloured, force_terminal=True)
    print_story(text, plain, force_terminal=False)
    lines = coloured.getvalue().splitlines()
    lost = next(line for line in lines if "LOST on" in line)
    again = next(line for line in lines if line.endswith("retransmission\x1b[0m"))
    assert lost.startswith("\x1b[1;31m") and again.startswith("\x1b[35m")
    assert plain.getvalue() == text + "\n"


def test_section_5_is_in_time_order_with_the_servers_ack_of_the_get(clean: dict[str, Any]) -> None:
    exchange = clean["response"]["exchange"]
    assert [s["t_ms"] for s in exchange] == sorted(s["t_ms"] for s in exchange)
    get = exchange[0]
    assert (get["direction"], get["len"]) == ("out", 142)
    server_ack = exchange[1]
    assert (server_ack["direction"], server_ack["flags"], server_ack["len"], server_ack["ack"]) == \
        ("in", ".", 0, get["seq"] + get["len"])
    assert [s["len"] for s in exchange if s["direction"] == "in" and s["len"]] == [1448, 1448, 697]
    assert [s["ack"] for s in clean["response"]["acks"]] == [1449, 2897, 3594]


def test_each_segment_is_told_once(clean: dict[str, Any]) -> None:
    lines = [line for line in render(clean).splitlines() if _SEGMENT.match(line)]
    assert len(lines) == len(set(lines)) == 3 + 8 + 3
    fin_ack = clean["close"][-1]
    assert (fin_ack["direction"], fin_ack["flags"], fin_ack["ack"]) == ("out", ".", 3595)
    assert fin_ack not in clean["response"]["exchange"] and fin_ack not in clean["response"]["acks"]


def test_windows_are_scaled_except_in_the_syns(clean: dict[str, Any]) -> None:
    assert clean["window_scale"] == {"laptop": 10, "web": 10}
    syn, syn_ack, ack = clean["handshake"]
    assert (syn["window"], syn["window_bytes"]) == (64240, 64240)  # RFC 7323 §2.2: a SYN's window is not scaled
    assert syn_ack["window_bytes"] == syn_ack["window"] == 65160
    assert ack["window_bytes"] == ack["window"] * 1024 == 64512
    text = render(clean)
    assert text.count("window scale 10 both ways") == 1 and "x 1024" in text
    assert not re.search(r"win=\d{1,3} ", text)


def test_the_simulated_time_is_explained_by_time_wait(tmp_path: Path) -> None:
    outcome = run(seed=1, out=tmp_path)
    data = story(outcome)
    wait, last = data["time_wait"], data["last_frame_ms"]
    records = list(read_capture(tmp_path / "all-interfaces.pcapng"))
    first_sent = min(e.time_ns for e in outcome.network.trace.events if e.frame is not None)
    assert last == round((records[-1].time_ns - records[0].time_ns + first_sent) / 1e6, 3)  # the capture's end
    entered = max(e.time_ns for e in outcome.network.trace.select(EventKind.TCP, node="laptop")
                  if e.info.what == "state" and str(dict(e.info.facts).get("new")) == "TIME_WAIT")
    assert wait["timer_s"] == 60 and wait["left_ms"] == round((entered + 60 * 10**9) / 1e6, 3)
    assert last < 1000 < 60_000 < wait["left_ms"] < data["simulated_ms"]
    assert (f"(the last frame, where the captures end, is at {last / 1000:.3f} s; the clock then ran on so each "
            f"connection's 60 s TIME_WAIT timer could run out, the last at {wait['left_ms'] / 1000:.3f} s)") \
        in render(data)


def test_a_drop_that_is_not_a_loss_and_an_icmp_error_are_not_segments() -> None:
    # Seed 1 at 20 % loss: isp1's ARP for the next hop goes unanswered, so it drops the first SYN and sends the
    # laptop an ICMP host unreachable, which quotes the SYN; the two SYNs sent again are lost; requests.get fails.
    data = story(run(seed=1, loss=0.2))
    shake = data["handshake"]
    assert [(s["direction"], s["retransmission"]) for s in shake] == [("out", False), ("out", True), ("out", True)]
    assert shake[0]["lost"]["text"] == "DROPPED at isp1 (arp_failed)"
    assert [s["lost"]["text"] for s in shake[1:]] == ["LOST on home-isp1"] * 2
    assert data["window_scale"] == {"laptop": 10}  # no SYN-ACK came back, so no scaling was agreed
    text = render(data)
    assert "window scale" not in text and "No route to host" in text
    assert data["time_wait"] is None and f"is at {data['last_frame_ms'] / 1000:.3f} s)" in text


def test_a_tutorial_client_that_got_nothing_says_so() -> None:
    data = story(run(seed=11, loss=0.2))
    assert data["tutorial_client"]["bytes_received"] == 0 and data["tutorial_client"]["error"] is None
    assert "  it got no reply: its first recv returned b'' (the connection was closed)" in render(data)
