"""`layersim tcpcheck`: exit 0 pass, 1 fail, 2 parse error or unsupported; messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from layersim.cli import main

SCRIPTS = Path(__file__).parent / "scripts"


def test_passing_script_exits_0(capsys):
    assert main(["tcpcheck", str(SCRIPTS / "passive_open.pkt")]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("(profile linux): 7 lines passed")
    assert out.startswith("PASS ")


def test_verbose_prints_every_line(capsys):
    assert main(["tcpcheck", str(SCRIPTS / "passive_open.pkt"), "--profile", "rfc", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert out.count("\nok   ") + out.startswith("ok   ") == 7
    assert "(profile rfc)" in out


def test_failing_script_exits_1_with_expected_and_actual(capsys):
    assert main(["tcpcheck", str(SCRIPTS / "must_fail" / "wrong_seq.pkt")]) == 1
    out = capsys.readouterr().out
    assert "FAIL " in out and "wrong_seq.pkt:12: +0    > P. 2:102(100) ack 1" in out
    assert "expected: > P. 2:102(100) ack 1" in out
    assert "actual:   > P. 1:101(100) ack 1" in out


def test_options_flag(capsys, tmp_path):
    script = tmp_path / "order.pkt"
    script.write_text("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                      "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1000,nop,nop,sackOK>\n"
                      "+0 > S. 0:0(0) ack 1 <sackOK,mss 1460>\n")
    assert main(["tcpcheck", str(script)]) == 1
    assert main(["tcpcheck", str(script), "--options", "loose"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("text", "message"), [
    ("0 < S 0:0(0) win 65536\n", "bad.pkt:1:18: window 65536 is out of range"),
    ("0 `ls`\n+0 pipe(...) = 0\n", "unsupported: {path}:1: shell command 'ls' is not interpreted"),
    ("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0\n",
     "unsupported: {path}:2: needs zerocopy (SO_ZEROCOPY), which layersim does not model"),
])
def test_bad_scripts_exit_2_with_one_line(capsys, tmp_path, text, message):
    script = tmp_path / "bad.pkt"
    script.write_text(text)
    assert main(["tcpcheck", str(script)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("layersim: error: ")
    assert message.format(path=script) in err
    assert "Traceback" not in err


def test_missing_file_exits_2(capsys, tmp_path):
    assert main(["tcpcheck", str(tmp_path / "none.pkt")]) == 2
    assert "none.pkt:0:0: cannot read" in capsys.readouterr().err


def test_command_line_process_exit_codes():
    """The installed entry point, as a user runs it: the exit code is the verdict."""
    run = [sys.executable, "-m", "layersim.cli", "tcpcheck"]
    ok = subprocess.run([*run, str(SCRIPTS / "close_active.pkt"), "--profile", "rfc"], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([*run, str(SCRIPTS / "must_fail" / "late_segment.pkt")], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 1
    assert "segment sent late" in bad.stdout
