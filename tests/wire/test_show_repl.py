"""`show()` and `hexdump()` typed at a real Python prompt print their text once (the REPL echoes no copy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from layersim.examples import http_get_frame
from layersim.wire import decode

ROOT = Path(__file__).resolve().parents[2]


def interactive(lines: list[str]) -> str:
    """Feed `lines` to `python -i` in the repository (as a new user at the prompt would) and return stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-i", "-q"], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, cwd=ROOT, env=env, check=True)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_show_and_hexdump_at_the_prompt_print_once_and_echo_nothing() -> None:
    packet = decode(http_get_frame().encode())
    out = interactive(["from layersim import decode",
                       "from layersim.examples import http_get_frame",
                       "pkt = decode(http_get_frame().encode())",
                       "pkt.show()",
                       "pkt.hexdump()"])
    assert out == packet.show_text() + "\n" + packet.hexdump_text() + "\n"


def test_the_text_methods_echo_their_text_at_the_prompt() -> None:
    """The control for the test above: this harness does see what the prompt echoes."""
    packet = decode(http_get_frame().encode())
    out = interactive(["from layersim import decode",
                       "from layersim.examples import http_get_frame",
                       "pkt = decode(http_get_frame().encode())",
                       "pkt.show_text()"])
    assert out == repr(packet.show_text()) + "\n"
