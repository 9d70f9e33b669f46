"""`layersim run` stories of scripts: runs on one host told apart by their own sockets, a script still blocked at
the end, a failing script's traceback and exit status, stderr inside the story, drops explained per protocol."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from layersim.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TUTORIAL = (EXAMPLES / "tutorial.toml").read_text(encoding="utf-8")
RUNS = TUTORIAL[TUTORIAL.index("[[run]]"):]
NETWORK = TUTORIAL[:TUTORIAL.index("[[run]]")]

ECHO_SERVER = '''import socket
server = socket.socket()
server.bind(("", 7))
server.listen(1)
conn, _ = server.accept()
conn.sendall(conn.recv(100))
conn.close()
'''
ECHO_CLIENT = '''import socket
client = socket.create_connection(("10.0.2.20", 7))
client.sendall(b"ping")
print(client.recv(100))
client.close()
'''


def scenario(tmp_path: Path, runs: str, scripts: dict[str, str]) -> Path:
    """The tutorial's network with these runs, the tutorial's scripts and `scripts` beside it."""
    for name in ("tutorial_server.py", "tutorial_client.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    for name, text in scripts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "t.toml"
    path.write_text(NETWORK + runs, encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict]:
    code = main(["run", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


SAME_HOST = '''[[run]]
kind = "script"
on = "server"
path = "echo_server.py"

[[run]]
kind = "script"
on = "client"
path = "echo_client.py"
at = "10ms"

[[run]]
kind = "script"
on = "server"
path = "tutorial_server.py"

[[run]]
kind = "script"
on = "client"
path = "tutorial_client.py"
at = "200ms"
'''


def test_runs_on_one_host_keep_their_own_packets_and_connections(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, SAME_HOST, {"echo_server.py": ECHO_SERVER, "echo_client.py": ECHO_CLIENT})
    code, data = run_json(capsys, path)
    assert code == 0
    echo, _, web, _ = data["runs"]
    assert echo["result"]["error"] is None and web["result"]["error"] is None
    first = web["hops"][0]
    assert first["node"] == "server" and first["outcome"] == "sent"
    assert [c["connection"].split("-")[0] for c in echo["tcp"]] == ["10.0.2.20:7"]
    assert [c["connection"].split("-")[0] for c in web["tcp"]] == ["10.0.2.20:80"]
    assert main(["run", str(path)]) == 0
    story = capsys.readouterr().out
    told = story[story.index("[[run]] #3"):story.index("[[run]] #4")]
    assert "first packet, hop by hop: TCP 10.0.2.20:80 -> 10.0.1.10:" in told
    assert ":7 " not in told and "10.0.2.20:7-" not in told


SERVER_ONLY = '''[[run]]
kind = "script"
on = "server"
path = "tutorial_server.py"
'''


def test_a_script_blocked_at_the_end_shows_its_output_and_where_it_waits(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, SERVER_ONLY, {})
    assert main(["run", str(path)]) == 0
    story = capsys.readouterr().out
    assert "  listening on port 80\n" in story
    assert "(printed nothing)" not in story
    assert "  (still running at the end, blocked in accept() at tutorial_server.py:20)\n" in story
    code, data = run_json(capsys, path)
    assert code == 0
    (run,) = data["runs"]
    assert run["result"]["stdout"] == "listening on port 80\n"
    assert run["running"] == "blocked in accept() at tutorial_server.py:20"


SILENT = '''import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 9))
s.recvfrom(100)
'''


def test_a_silent_blocked_script_says_nothing_so_far(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, '[[run]]\nkind = "script"\non = "server"\npath = "silent.py"\n', {"silent.py": SILENT})
    assert main(["run", str(path)]) == 0
    story = capsys.readouterr().out
    assert "  (printed nothing so far)\n  (still running at the end, blocked in recvfrom() at silent.py:4)\n" in story


def test_a_finished_script_is_not_said_to_be_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, RUNS, {})
    code, data = run_json(capsys, path)
    assert code == 0 and [run["running"] for run in data["runs"]] == [None, None]


BOOM = '''import sys
print("before")
print("careful", file=sys.stderr)


def fail():
    raise ValueError("boom")


fail()
'''


def test_a_failing_script_shows_its_frames_and_stderr_in_its_run_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, '[[run]]\nkind = "script"\non = "client"\npath = "boom.py"\n', {"boom.py": BOOM})
    assert main(["run", str(path)]) == 1
    captured = capsys.readouterr()
    assert "careful" not in captured.err
    story = captured.out
    told = story[story.index("[[run]] #1"):]
    assert ("  before\n  Traceback (innermost last, in boom.py):\n    boom.py:10 in <module>: fail()\n"
            "    boom.py:7 in fail: raise ValueError(\"boom\")\n  ValueError: boom\n  stderr:\n    careful\n") in told
    code, data = run_json(capsys, path)
    assert code == 1
    (run,) = data["runs"]
    assert run["result"]["error"] == "ValueError: boom" and run["stderr"] == "careful\n"
    assert run["result"]["traceback"] == ["boom.py:10 in <module>: fail()",
                                          'boom.py:7 in fail: raise ValueError("boom")']


@pytest.mark.parametrize(("exit_call", "error", "code"), [("sys.exit(3)", "exited with status 3", 1),
                                                          ("sys.exit('bad input')", "exited with status 1", 1),
                                                          ("sys.exit(0)", None, 0), ("sys.exit()", None, 0)])
def test_a_script_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str], exit_call: str, error: str | None,
                              code: int) -> None:
    path = scenario(tmp_path, '[[run]]\nkind = "script"\non = "client"\npath = "x.py"\n',
                    {"x.py": f"import sys\nprint('hi')\n{exit_call}\n"})
    status, data = run_json(capsys, path)
    assert status == code
    assert data["runs"][0]["result"]["error"] == error
    if "bad input" in exit_call:
        assert data["runs"][0]["stderr"] == "bad input\n"


def test_drops_for_closed_ports_are_explained_per_protocol(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(EXAMPLES / "tutorial_long.toml")]) == 0
    story = capsys.readouterr().out
    tcp = next(line for line in story.splitlines() if "no_listener" in line)
    assert tcp.startswith("  no_listener/TCP") and "RST" in tcp and "UDP" not in tcp and "traceroute" not in tcp
    assert main(["run", str(EXAMPLES / "client_r1_r2_server.toml")]) == 0
    udp = next(line for line in capsys.readouterr().out.splitlines() if "no_listener" in line)
    assert udp.startswith("  no_listener/UDP") and "ICMP port unreachable" in udp and "RST" not in udp
