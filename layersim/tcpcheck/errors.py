"""Errors of the packetdrill-format script checker: each names the script file, line and column."""

from __future__ import annotations

from layersim.errors import LayersimError

__all__ = ["ScriptParseError", "UnsupportedScriptError"]


class ScriptParseError(LayersimError):
    """A script that cannot be read: the message starts with file:line:column."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path = path
        self.line = line
        self.column = column
        self.detail = message


class UnsupportedScriptError(LayersimError):
    """A script that parses but uses what layersim cannot honour: every such line is named."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        lines = "; ".join(f"{path}:{line}: {what}" for line, what in problems)
        super().__init__(f"unsupported: {lines}")
        self.path = path
        self.problems = problems
