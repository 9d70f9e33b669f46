"""`layersim tcpcheck`: run packetdrill-format scripts against the TCP stack and sockets of a simulated host."""

from __future__ import annotations

from layersim.tcpcheck.errors import ScriptParseError, UnsupportedScriptError
from layersim.tcpcheck.model import Event, Script, SegmentSpec, Syscall, TimeKind, TimeSpec, Unsupported
from layersim.tcpcheck.parser import parse_file, parse_script
from layersim.tcpcheck.report import LineResult, RunResult, render
from layersim.tcpcheck.runner import RunConfig, run_script

__all__ = ["Event", "LineResult", "RunConfig", "RunResult", "Script", "ScriptParseError", "SegmentSpec", "Syscall",
           "TimeKind", "TimeSpec", "Unsupported", "UnsupportedScriptError", "parse_file", "parse_script", "render",
           "run_script"]
