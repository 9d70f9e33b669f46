"""Split a packetdrill-format script into statements and tokens, keeping each token's line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from layersim.tcpcheck.errors import ScriptParseError

__all__ = ["Statement", "Token", "TokenCursor", "blank_comments", "shown", "split_statements", "tokenize"]

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<backquote>`[^`]*`)
  | (?P<number>0[xX][0-9a-fA-F]+|\d+\.\d+|\d+\.(?!\.)|\.\d+|\d+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.\.\.|%\{|\}%|--|[<>()\[\]{},:=~+\-*|.!])
""", re.VERBOSE)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: kind (string, backquote, number, word, punct, end), its text and position."""

    kind: str
    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement's text (comments blanked) and the (line, column) of each of its characters."""

    text: str
    positions: tuple[tuple[int, int], ...]

    @property
    def line(self) -> int:
        """The line the statement starts on."""
        return self.positions[0][0]


def blank_comments(path: str, text: str) -> str:
    """Replace // and /* */ comments with spaces (newlines kept) so columns stay where they were."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif c == "`":
            j = text.find("`", i + 1)
            i = n if j < 0 else j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                line = text.count("\n", 0, i) + 1
                column = i - (text.rfind("\n", 0, i) + 1) + 1
                raise ScriptParseError(path, line, column, "comment /* is never closed with */")
            for k in range(i, j + 2):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 2
        else:
            i += 1
    return "".join(out)


_OPENERS = MappingProxyType({"(": ")", "[": "]", "{": "}"})


def _depth_change(line: str) -> int:
    """How many brackets this line leaves open (strings and back-quoted commands skipped)."""
    depth = 0
    for match in _TOKEN.finditer(line):
        if match.lastgroup == "punct":
            if match.group() in _OPENERS:
                depth += 1
            elif match.group() in _OPENERS.values():
                depth -= 1
    return depth


def _open_backquote(text: str) -> bool:
    """The text opens a back-quoted command it does not close (back quotes inside strings do not count)."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', "", text).count("`") % 2 == 1


def split_statements(path: str, text: str) -> list[Statement]:
    """Statements: one per line, joined across lines while a bracket or a back quote is open; `%{ }%` blocks kept
    whole."""
    lines = blank_comments(path, text).split("\n")
    statements: list[Statement] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        parts = [(i, line)]
        if _open_backquote(line):  # a shell command may run over several lines: `cmd1\n cmd2`
            while i + 1 < len(lines) and _open_backquote("\n".join(part for _n, part in parts)):
                i += 1
                parts.append((i, lines[i]))
        elif "%{" in line and "}%" not in line[line.index("%{"):]:
            while i + 1 < len(lines) and "}%" not in parts[-1][1]:
                i += 1
                parts.append((i, lines[i]))
        else:
            depth = _depth_change(line)
            while depth > 0 and i + 1 < len(lines) and lines[i + 1].strip():
                i += 1
                parts.append((i, lines[i]))
                depth += _depth_change(lines[i])
        chars: list[str] = []
        positions: list[tuple[int, int]] = []
        joint = "\n" if _open_backquote(line) or "%{" in line else " "  # shell and Python keep their lines
        for number, part in parts:
            if chars:
                chars.append(joint)
                positions.append((number + 1, 1))
            chars.extend(part)
            positions.extend((number + 1, col + 1) for col in range(len(part)))
        statements.append(Statement("".join(chars), tuple(positions)))
        i += 1
    return statements


def tokenize(path: str, statement: Statement) -> list[Token]:
    """The statement's tokens, ending with an `end` token; an unknown character is a parse error."""
    text = statement.text
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        line, column = statement.positions[at]
        if match is None:
            if text[at] == '"':
                raise ScriptParseError(path, line, column, "string is never closed with \"")
            if text[at] == "`":
                raise ScriptParseError(path, line, column, "command is never closed with `")
            raise ScriptParseError(path, line, column, f"unexpected character {text[at]!r}")
        kind = match.lastgroup or "punct"
        if kind != "space":
            tokens.append(Token(kind, match.group(), line, column))
        at = match.end()
    line, column = statement.positions[-1]
    tokens.append(Token("end", "", line, column + 1))
    return tokens


class TokenCursor:
    """A cursor over one statement's tokens that raises errors naming file:line:column."""

    def __init__(self, path: str, tokens: list[Token]) -> None:
        self.path = path
        self.tokens = tokens
        self.at = 0

    @property
    def peek(self) -> Token:
        """The next token, not consumed."""
        return self.tokens[self.at]

    def peek_at(self, ahead: int) -> Token:
        """The token `ahead` places after the next one."""
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        """Consume and return the next token."""
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def accept(self, text: str) -> Token | None:
        """Consume the next token if its text is `text`."""
        if self.peek.text == text and self.peek.kind != "string":
            return self.take()
        return None

    def error(self, token: Token, message: str) -> ScriptParseError:
        """A parse error at `token`."""
        return ScriptParseError(self.path, token.line, token.column, message)

    def expect(self, text: str, what: str) -> Token:
        """Consume `text` or fail saying what was expected."""
        token = self.peek
        if token.text != text or token.kind == "string":
            raise self.error(token, f"expected {what}, found {shown(token)}")
        return self.take()

    def integer(self, what: str, maximum: int | None = None, signed: bool = False) -> int:
        """Consume an integer (decimal or 0x hex), checked against `maximum`."""
        token = self.peek
        negative = signed and token.text == "-"
        if negative:
            self.take()
            token = self.peek
        if token.kind != "number" or "." in token.text:
            raise self.error(token, f"expected {what} (an integer), found {shown(token)}")
        self.take()
        value = int(token.text, 0) if token.text.lower().startswith("0x") else int(token.text)
        if maximum is not None and value > maximum:
            raise self.error(token, f"{what} {value} is out of range (at most {maximum})")
        return -value if negative else value

    def end(self) -> None:
        """The statement must be over."""
        if self.peek.kind != "end":
            raise self.error(self.peek, f"unexpected {shown(self.peek)} at the end of the line")


def shown(token: Token) -> str:
    """A token as an error message shows it."""
    return "the end of the line" if token.kind == "end" else repr(token.text)
