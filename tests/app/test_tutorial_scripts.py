"""The tutorial's two socket scripts (examples/) run unchanged on two hosts two routers apart: by
host.run_script, and from the topology file by `layersim run`. The client's short-read loop is the tutorial's bug:
with a response of several segments it keeps only the first read; reading until recv() returns b"" gets it all."""

from __future__ import annotations

import errno
import json
import re
import select
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from layersim.cli import main
from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from tests.net.conftest import SERVER_IP, Chain, build_chain

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERVER, CLIENT, TOPOLOGY = EXAMPLES / "tutorial_server.py", EXAMPLES / "tutorial_client.py", EXAMPLES / "tutorial.toml"


def response(repeat: int = 1) -> bytes:
    """The bytes the tutorial's server sends for `repeat` (built here from the HTTP rules, not from the script)."""
    body = b"Hello World" * repeat
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def run_pair(server: Path, client: Path, server_args: list[str] | None = None) -> tuple[Chain, object, object]:
    chain = build_chain()
    srv = chain.server.run_script(server, server_args or [])
    cli = chain.client.run_script(client, [SERVER_IP], at="100ms")
    chain.net.run_until(lambda: srv.done and cli.done, timeout_ns=10**10)
    chain.net.run(chain.net.now + 10**9)  # the segments still in flight arrive
    return chain, srv, cli


def printed(data: bytes) -> str:
    """What the tutorial's client prints when its loop collected `data`."""
    return f"{data.decode()}\n({len(data)} bytes received)\n"


def client_segments(chain: Chain) -> list[bytes]:
    """The payloads of the TCP segments from the server that reached the client's interface, in order."""
    out = []
    for event in chain.net.trace.select(EventKind.RECEIVE, node="client", interface="eth0"):
        packet = decode(event.frame)
        if TCP in packet and packet[TCP].sport == 80 and packet.payload_of(TCP):
            out.append(packet.payload_of(TCP))
    return out


def test_hello_world_reaches_the_client() -> None:
    chain, srv, cli = run_pair(SERVER, CLIENT)
    assert srv.exception is None and cli.exception is None, (srv.traceback, cli.traceback)
    assert srv.stdout.splitlines()[0] == "listening on port 80"
    assert srv.stdout.splitlines()[1].startswith("connection from ('10.0.1.10', ")
    assert srv.stdout.splitlines()[2] == "GET / HTTP/1.1"
    assert cli.stdout == printed(response())
    assert len(response()) == 76
    assert b"".join(client_segments(chain)) == response()


def test_short_read_loop_loses_the_tail_of_a_multi_segment_response() -> None:
    chain, srv, cli = run_pair(SERVER, CLIENT, ["500"])
    assert srv.exception is None and cli.exception is None, (srv.traceback, cli.traceback)
    segments = client_segments(chain)
    whole = response(500)
    assert len(whole) == 5567 and b"".join(segments) == whole  # every byte reached the client's host...
    assert [len(s) for s in segments] == [1448, 1448, 1448, 1223]  # MSS 1460 less 12 bytes of timestamps
    # ...but its first recv(4096) returned the one segment that had arrived, < 4096, and the loop stopped there
    assert cli.stdout == printed(segments[0]) == printed(whole[:1448])


def test_reading_until_eof_gets_every_byte(tmp_path: Path) -> None:
    source = CLIENT.read_text()
    loop = "    if len(chunk) < 4096:\n        break\n"
    assert loop in source
    fixed = tmp_path / "client_until_eof.py"
    fixed.write_text(source.replace(loop, "    if not chunk:\n        break\n"))
    _, _, cli = run_pair(SERVER, fixed, ["500"])
    assert cli.exception is None, cli.traceback
    assert cli.stdout == printed(response(500))


def test_server_without_listen_fails_at_accept_with_einval(tmp_path: Path) -> None:
    source = SERVER.read_text()
    assert "server.listen(1)\n" in source
    broken = tmp_path / "server_no_listen.py"
    broken.write_text(source.replace("server.listen(1)\n", ""))
    chain = build_chain()
    proc = chain.server.run_script(broken)
    chain.net.run_until(lambda: proc.done, timeout_ns=10**9)
    assert proc.done and isinstance(proc.exception, OSError)
    assert type(proc.exception) is OSError and proc.exception.errno == errno.EINVAL
    assert str(proc.exception) == "[Errno 22] Invalid argument"
    assert "server.accept()" in (proc.traceback or "")
    assert proc.stdout == "listening on port 80\n"


def test_layersim_run_runs_the_tutorial_topology(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(TOPOLOGY)]) == 0
    out = capsys.readouterr().out
    assert "  listening on port 80\n" in out and "  GET / HTTP/1.1\n" in out
    assert "  Hello World\n  (76 bytes received)\n" in out


def test_layersim_run_with_the_repeat_argument_shows_the_short_read(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for script in (SERVER, CLIENT):
        shutil.copy(script, tmp_path / script.name)
    text = TOPOLOGY.read_text()
    marker = 'path = "tutorial_server.py"\n'
    assert marker in text
    (tmp_path / "tutorial.toml").write_text(text.replace(marker, marker + 'args = ["500"]\n'))
    pcap = tmp_path / "tutorial.pcapng"
    assert main(["run", str(tmp_path / "tutorial.toml"), "--pcap", str(pcap)]) == 0
    out = capsys.readouterr().out
    assert "  (1448 bytes received)\n" in out
    assert pcap.stat().st_size > 5567


SCRIPT = '''
import select, selectors, socket, sys, time
t0, m0 = time.time(), time.monotonic()
time.sleep(1.5)
print(sys.argv[1:], socket.gethostname(), round(time.monotonic() - m0, 9), round(time.time() - t0, 9))
print(type(socket.socket()).__module__ != "socket", select.select([], [], [], 0.25), time.monotonic() - m0)
sys.exit(int(sys.argv[1]))
'''


@pytest.mark.parametrize("code", ["0", "3"])
def test_a_script_sees_its_hosts_socket_time_and_argv_and_only_it(tmp_path: Path, code: str) -> None:
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    real = (socket.socket, select.select, time.sleep, time.monotonic, sys.argv)
    chain = build_chain()
    proc = chain.client.run_script(script, [code], at="2s")
    other = chain.server.run_script(script, ["0"], at="2s")
    chain.net.run_until(lambda: proc.done and other.done, timeout_ns=10 * 10**9)
    assert proc.stdout == f"['{code}'] client 1.5 1.5\nTrue ([], [], []) 1.75\n"
    assert other.stdout == "['0'] server 1.5 1.5\nTrue ([], [], []) 1.75\n"
    assert proc.started_ns == 2 * 10**9 and proc.ended_ns == 3_750_000_000
    if code == "0":
        assert proc.exception is None
    else:
        assert isinstance(proc.exception, SystemExit) and proc.exception.code == 3
    assert (socket.socket, select.select, time.sleep, time.monotonic, sys.argv) == real


def test_layersim_run_narrative_shows_tcp_state_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(TOPOLOGY)]) == 0
    out = capsys.readouterr().out
    for state in ("SYN.SENT", "SYN.RECEIVED", "ESTABLISHED", "FIN.WAIT.?1", "TIME.WAIT"):
        assert re.search(state, out, re.IGNORECASE), f"no {state} in the story"
    assert main(["run", str(TOPOLOGY), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    client = next(run for run in data["runs"] if run["from"] == "client")
    (connection,) = client["tcp"]
    states = [change["state"] for change in connection["changes"]]
    assert states[:2] == ["SYN_SENT", "ESTABLISHED"] and states[-1] == "CLOSED"
    times = [change["time_ns"] for change in connection["changes"]]
    assert times == sorted(times) and connection["connection"].startswith("10.0.1.10:")
