"""Run a script's `%{ ... }%` block as packetdrill does: Python with the socket's tcpi_* values as variables.

The namespace is restricted: the TCP_INFO values, Linux's TCP_CA_* and TCPI_OPT_* constants,
TCP_INFINITE_SSTHRESH, and a few harmless builtins. No imports, no names or attributes with a leading underscore,
no `while` (a block must end), so a block can check values and print them but reach nothing else.
"""

from __future__ import annotations

import ast
from types import MappingProxyType
from typing import Any

from layersim.tcp.info import CA_STATES, TCP_INFINITE_SSTHRESH, TCPI_OPTIONS

__all__ = ["CodeBlockError", "check_code", "run_code"]

_MAX_RANGE = 1_000_000


class CodeBlockError(Exception):
    """A block that cannot run here (a forbidden construct) or does not parse."""


def _range(*args: int) -> range:
    """range(), kept small so a block ends."""
    r = range(*args)
    if len(r) > _MAX_RANGE:
        raise ValueError(f"range of {len(r)} items in a code block (at most {_MAX_RANGE})")
    return r


_BUILTINS = MappingProxyType({
    "abs": abs, "all": all, "any": any, "bool": bool, "float": float, "int": int, "len": len, "max": max,
    "min": min, "range": _range, "round": round, "str": str, "sum": sum, "True": True, "False": False,
    "None": None, "AssertionError": AssertionError, "ValueError": ValueError})


def check_code(source: str) -> str | None:
    """Why a block cannot run here (a syntax error or a forbidden construct), or None."""
    try:
        tree = ast.parse(source.strip(), "<code block>")
    except SyntaxError as exc:
        return f"code block does not parse: {exc.msg} (line {exc.lineno} of the block)"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal):
            return "code block: import, global and nonlocal are not allowed"
        if isinstance(node, ast.While | ast.AsyncFunctionDef | ast.Await | ast.Yield | ast.YieldFrom):
            return "code block: while loops, async code and generators are not allowed (a block must end)"
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return f"code block: attribute {node.attr} is not allowed"
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return f"code block: name {node.id} is not allowed"
    return None


def run_code(source: str, info: dict[str, int], printed: list[str]) -> str | None:
    """Run the block with `info` as variables; None when it passes, else why it failed (an assert's message)."""
    problem = check_code(source)
    if problem is not None:
        raise CodeBlockError(problem)

    def show(*args: Any, sep: str = " ", end: str = "\n") -> None:
        printed.append(sep.join(str(a) for a in args))

    namespace: dict[str, Any] = {"__builtins__": {**_BUILTINS, "print": show}, **CA_STATES, **TCPI_OPTIONS,
                                 "TCP_INFINITE_SSTHRESH": TCP_INFINITE_SSTHRESH, **info}
    lines = source.strip().splitlines()
    try:
        exec(compile(source.strip(), "<code block>", "exec"), namespace)
    except AssertionError as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != "<code block>":
            tb = tb.tb_next
        where = lines[tb.tb_lineno - 1].strip() if tb is not None and 0 < tb.tb_lineno <= len(lines) else ""
        value = f" (value: {exc})" if str(exc) else ""
        return f"code block assertion failed: {where}{value}"
    except NameError as exc:
        name = getattr(exc, "name", None) or ""
        if name.startswith("tcpi_"):
            return f"code block reads {name}, which layersim's TCP_INFO does not provide (yet)"
        return f"code block raised NameError: {exc}"
    except Exception as exc:  # a block that raises fails its line, as packetdrill reports a Python error
        return f"code block raised {type(exc).__name__}: {exc}"
    return None
