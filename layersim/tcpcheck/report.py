"""Text of segments, options and line results the way packetdrill scripts write them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from layersim.tcpcheck.model import Event, Syscall
from layersim.wire.tcp import TCPFlags
from layersim.wire.tcp_options import (
    EOL,
    MSS,
    NOP,
    SACK,
    SACKPermitted,
    TCPOption,
    Timestamps,
    UnknownOption,
    WindowScale,
)

__all__ = ["LineResult", "RunResult", "actual_call", "expected_call", "format_flags", "format_options",
           "format_segment", "format_time", "render"]

_LETTERS = ((TCPFlags.FIN, "F"), (TCPFlags.SYN, "S"), (TCPFlags.RST, "R"), (TCPFlags.PSH, "P"),
            (TCPFlags.URG, "U"), (TCPFlags.ECE, "E"), (TCPFlags.CWR, "W"))


def format_flags(flags: int) -> str:
    """`S.`, `FP.`, `R`, `.`, or `-` for no flags, as packetdrill writes them."""
    text = "".join(letter for bit, letter in _LETTERS if flags & bit)
    if flags & TCPFlags.ACK:
        text += "."
    return text or "-"


def _option(option: TCPOption) -> str:
    """One option in script syntax."""
    if isinstance(option, NOP):
        return "nop"
    if isinstance(option, EOL):
        return "eol"
    if isinstance(option, MSS):
        return f"mss {option.value}"
    if isinstance(option, WindowScale):
        return f"wscale {option.shift}"
    if isinstance(option, SACKPermitted):
        return "sackOK"
    if isinstance(option, Timestamps):
        return f"TS val {option.tsval} ecr {option.tsecr}"
    if isinstance(option, SACK):
        return "sack " + " ".join(f"{left}:{right}" for left, right in option.blocks)
    if isinstance(option, UnknownOption):
        return f"kind {option.kind} ({option.data.hex() or 'empty'})"
    return repr(option)


def format_options(options: Iterable[TCPOption] | None) -> str:
    """`<mss 1460,sackOK,...>`, `<...>` for None, or "" for no options."""
    if options is None:
        return "<...>"
    items = [_option(o) for o in options]
    return f"<{','.join(items)}>" if items else ""


def format_segment(inbound: bool, flags: int, seq: int, length: int, ack: int | None, window: int | None,
                   options: Iterable[TCPOption] | None) -> str:
    """A whole segment line body: `> P. 1:1001(1000) ack 1 win 502 <nop,nop,TS val 1 ecr 2>`."""
    parts = ["<" if inbound else ">", format_flags(flags), f"{seq}:{(seq + length) % 2**32}({length})"]
    if ack is not None:
        parts.append(f"ack {ack}")
    if window is not None:
        parts.append(f"win {window}")
    text = format_options(options)
    if text:
        parts.append(text)
    return " ".join(parts)


def format_time(ns: int) -> str:
    """Seconds with microseconds, as packetdrill prints times."""
    return f"{ns / 1e9:.6f}"


@dataclass(frozen=True, slots=True)
class LineResult:
    """How one script line went: passed, or failed with the reason and what actually happened."""

    event: Event
    passed: bool
    time_ns: int | None = None
    message: str | None = None
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """A whole run: each line that ran, in order; `passed` when every line did and nothing extra was sent."""

    path: str
    profile: str
    lines: tuple[LineResult, ...]
    passed: bool

    @property
    def failure(self) -> LineResult | None:
        """The line that failed (the run stops there), if any."""
        return next((line for line in self.lines if not line.passed), None)


def render(result: RunResult, *, verbose: bool = False) -> str:
    """The report: each line with ok/FAIL (all of them when verbose), the failure's expected vs actual."""
    out: list[str] = []
    for line in result.lines:
        if line.passed and not verbose:
            continue
        mark = "ok  " if line.passed else "FAIL"
        when = f" @{format_time(line.time_ns)}" if line.time_ns is not None else ""
        out.append(f"{mark} {result.path}:{line.event.line}: {line.event.text}{when}")
        if not line.passed:
            out.append(f"     {line.message}")
            if line.expected is not None:
                out.append(f"     expected: {line.expected}")
            if line.actual is not None:
                out.append(f"     actual:   {line.actual}")
    ran = sum(1 for line in result.lines if line.passed)
    verdict = "PASS" if result.passed else "FAIL"
    out.append(f"{verdict} {result.path} (profile {result.profile}): {ran} line{'' if ran == 1 else 's'} passed"
               + ("" if result.passed else f", failed at line {result.failure.event.line}" if result.failure else ""))
    return "\n".join(out)


def expected_call(call: Syscall) -> str:
    """`= 0` or `= -1 EAGAIN` as the script expects."""
    if call.result is None:
        return "= ..."
    return f"= {call.result}" + (f" {call.errno}" if call.errno else "")


def actual_call(result: Any) -> str:
    """`= 4` or `= -1 ECONNRESET` as a call returned (a CallResult: value and errno)."""
    return f"= {result.value}" + (f" {result.errno}" if result.errno else "")
