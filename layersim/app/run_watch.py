"""What a run's processes own and leave behind: their sockets' ports, their stderr, where a still-running one is
blocked, the last frames of a failing script's traceback in the script's own file.

The narrator tells a run's packets apart from those of the other runs on the same host by these ports (a run is
its own sockets, as `ss -p` ties sockets to a process), not by the host they leave.
"""

from __future__ import annotations

import io
import socket as _std
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from layersim.net.engine.process import Process

__all__ = ["TRACEBACK_FRAMES", "Watch", "blocked_in", "script_frames"]

TRACEBACK_FRAMES = 3  # how many of a failing script's innermost frames the story shows
_NET_DIR = str(Path(__file__).resolve().parent.parent / "net")
_TCP, _UDP = 6, 17


class Watch:
    """A run's processes (its own and those it spawns): the (protocol, local port) of every socket they held, and
    what they wrote to stderr."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.ports: set[tuple[int, int]] = set()
        self.stderr = io.StringIO()
        self.processes: list[Process] = []

    def follow(self, process: Process) -> None:
        """Note `process`'s sockets each time it parks and send its stderr here (through its environment hooks)."""
        self.processes.append(process)
        saved: list[Any] = []

        def at_exit() -> None:
            self._note(process)

        def switch(entering: bool) -> None:
            if entering:
                saved.append(sys.stderr)
                sys.stderr = self.stderr
                if at_exit in process.on_exit:  # kept last, as on_exit runs last-in first: before files close
                    process.on_exit.remove(at_exit)
                process.on_exit.append(at_exit)
                return
            self._note(process)
            if saved:
                sys.stderr = saved.pop()

        process.environment.append(switch)

    def spawn(self, fn: Any, *args: Any) -> Process:
        """host.spawn for a service's helper tasks (a DNS server's TCP listener), followed like the run itself."""
        child = self.host.spawn(fn, *args)
        self.follow(child)
        return child

    def _note(self, process: Process) -> None:
        for sock in list(self.host.fd_table.values()):
            if getattr(sock, "owner", None) is not process:
                continue
            try:
                port = sock.getsockname()[1]
            except OSError:
                continue
            if port:
                self.ports.add((_TCP if sock.type == _std.SOCK_STREAM else _UDP, port))

    def owns_connection(self, label: str) -> bool:
        """Whether a TCP connection named "10.0.1.10:50147-10.0.2.20:80" (local first) is on one of its ports."""
        local = label.partition("-")[0]
        return (_TCP, int(local.rpartition(":")[2])) in self.ports


def blocked_in(process: Process, script: str | None = None) -> str:
    """Where a still-running process waits: "accept() at server.py:19" (the call its script is in), or the socket
    call it waits in ("recvfrom()")."""
    stack = process.stack()
    if script is not None:
        mine = [i for i, frame in enumerate(stack) if frame.f_code.co_filename == script]
        if mine and mine[-1] + 1 < len(stack):
            inner, callee = stack[mine[-1]], stack[mine[-1] + 1]
            return f"{callee.f_code.co_name}() at {Path(script).name}:{inner.f_lineno}"
    for frame in stack:
        if frame.f_code.co_filename.startswith(_NET_DIR) and not frame.f_code.co_name.startswith("_"):
            return f"{frame.f_code.co_name}()"
    return "a wait on the simulated clock"


def script_frames(tb: TracebackType | None, script: str, limit: int = TRACEBACK_FRAMES) -> list[str]:
    """The innermost `limit` frames of a traceback that are in the script's file: "server.py:19 in <module>: code"."""
    frames = [f for f in traceback.extract_tb(tb) if f.filename == script]
    name = Path(script).name
    return [f"{name}:{f.lineno} in {f.name}: {(f.line or '').strip()}" for f in frames[-limit:]]
