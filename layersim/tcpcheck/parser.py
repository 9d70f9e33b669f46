"""Parse packetdrill-format scripts (`.pkt`) into events: times, TCP segment lines and socket calls."""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from layersim.tcpcheck.calls import parse_call
from layersim.tcpcheck.errors import ScriptParseError
from layersim.tcpcheck.lexer import Statement, Token, TokenCursor, shown, split_statements, tokenize
from layersim.tcpcheck.model import Event, Script, SegmentSpec, Syscall, TimeKind, TimeSpec, Unsupported
from layersim.wire.tcp import TCPFlags
from layersim.wire.tcp_options import EOL, MSS, NOP, SACK, SACKPermitted, TCPOption, Timestamps, WindowScale

__all__ = ["SETTINGS", "SYSCALLS", "parse_file", "parse_script"]

# The socket calls the runner honours; any other name parses and is reported as unsupported.
SYSCALLS = frozenset({"socket", "bind", "listen", "accept", "connect", "read", "write", "send", "recv", "close",
                      "shutdown", "setsockopt", "getsockopt", "fcntl"})
# `--name=value` lines the runner honours (others are unsupported): timing tolerance as packetdrill names it.
SETTINGS = frozenset({"tolerance_usecs", "tolerance_percent"})
_FLAG_LETTERS = MappingProxyType({"F": TCPFlags.FIN, "S": TCPFlags.SYN, "R": TCPFlags.RST, "P": TCPFlags.PSH,
                                  "U": TCPFlags.URG, "E": TCPFlags.ECE, "W": TCPFlags.CWR})
_U32 = 2**32
_TIME_PREFIX = re.compile(r"\s*(\*|\+?(\d+\.?\d*|\.\d+))?\s*")


def _seconds_to_ns(token: Token, tokens: TokenCursor) -> int:
    """Convert a time token in seconds to integer nanoseconds, exactly (no float rounding)."""
    text = token.text
    if token.kind != "number" or text.lower().startswith("0x"):
        raise tokens.error(token, f"expected a time in seconds, found {shown(token)}")
    whole, _, frac = text.partition(".")
    if len(frac) > 9:
        raise tokens.error(token, f"time {text} has more than 9 decimals (nanoseconds)")
    return int(whole or "0") * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def _time(tokens: TokenCursor) -> TimeSpec:
    """`*`, `T`, `+T`, `T~T`, `+T~+T`, optionally followed by `...END` (checked by the caller)."""
    if tokens.accept("*"):
        return TimeSpec(TimeKind.ANY)
    relative = tokens.accept("+") is not None
    kind = TimeKind.RELATIVE if relative else TimeKind.ABSOLUTE
    start = _seconds_to_ns(tokens.take(), tokens)
    end_ns = block_ns = None
    if tokens.peek.text == "~":
        tilde = tokens.take()
        if relative and tokens.accept("+") is None:
            raise tokens.error(tokens.peek, "a range that starts with + must end with + too (+A~+B)")
        if not relative and tokens.peek.text == "+":
            raise tokens.error(tokens.peek, "an absolute range must end with an absolute time (A~B)")
        end_ns = _seconds_to_ns(tokens.take(), tokens)
        if end_ns < start:
            raise tokens.error(tilde, "time range is backwards (end before start)")
    if tokens.peek.text == "...":
        dots = tokens.take()
        if end_ns is not None:
            raise tokens.error(dots, "a time range (~) cannot also block (...)")
        block_ns = _seconds_to_ns(tokens.take(), tokens)
        if block_ns < start:
            raise tokens.error(dots, "blocking call ends before it starts")
    return TimeSpec(kind, start, end_ns, block_ns)


def _flags(tokens: TokenCursor) -> TCPFlags:
    """`S`, `S.`, `.`, `P.`, `F.`, `FP.`, `R`, `R.`, `-` (no flags), any of F S R P U E W with `.` for ACK."""
    token = tokens.peek
    if tokens.accept("-"):
        return TCPFlags(0)
    if tokens.accept("."):
        return TCPFlags.ACK
    if token.kind != "word":
        raise tokens.error(token, f"expected TCP flags (like S, S., ., P., F., R, -), found {shown(token)}")
    tokens.take()
    flags = TCPFlags(0)
    for i, letter in enumerate(token.text):
        if letter not in _FLAG_LETTERS:
            bad = Token(token.kind, letter, token.line, token.column + i)
            raise tokens.error(bad, f"unknown TCP flag {letter!r} in {token.text!r} (use F S R P U E W and . for ACK)")
        flags |= _FLAG_LETTERS[letter]
    nxt = tokens.peek
    if nxt.text == "." and nxt.line == token.line and nxt.column == token.column + len(token.text):
        tokens.take()
        flags |= TCPFlags.ACK
    return flags


def _option(tokens: TokenCursor) -> TCPOption:
    """One TCP option inside `<...>`."""
    token = tokens.take()
    name = token.text
    if name == "nop":
        return NOP()
    if name == "eol":
        return EOL()
    if name == "sackOK":
        return SACKPermitted()
    if name == "mss":
        return MSS(tokens.integer("mss value", 0xFFFF))
    if name == "wscale":
        return WindowScale(tokens.integer("window scale shift count", 0xFF))
    if name == "TS":
        tokens.expect("val", "'val' after TS")
        val = tokens.integer("TS val", _U32 - 1)
        tokens.expect("ecr", "'ecr' after the TS val")
        return Timestamps(val, tokens.integer("TS ecr", _U32 - 1))
    if name == "sack":
        blocks = []
        while tokens.peek.kind == "number":
            left = tokens.integer("SACK left edge", _U32 - 1)
            tokens.expect(":", "':' between SACK block edges")
            blocks.append((left, tokens.integer("SACK right edge", _U32 - 1)))
        if not blocks:
            raise tokens.error(tokens.peek, f"expected SACK blocks (L:R ...), found {shown(tokens.peek)}")
        if len(blocks) > 4:
            raise tokens.error(token, f"{len(blocks)} SACK blocks do not fit in TCP options (at most 4)")
        return SACK(tuple(blocks))
    if token.kind == "word":
        raise tokens.error(token, f"unsupported TCP option {name!r} (supported: mss, sackOK, TS val ecr, nop, "
                                  "wscale, eol, sack)")
    raise tokens.error(token, f"expected a TCP option, found {shown(token)}")


def _options(tokens: TokenCursor, inbound: bool) -> tuple[TCPOption, ...] | None:
    """`<opt, opt, ...>` or `<...>` (outbound only: do not check)."""
    opening = tokens.expect("<", "'<'")
    if tokens.peek.text == "...":
        if inbound:
            raise tokens.error(tokens.peek, "<...> (any options) can only be used on outbound (>) segments")
        tokens.take()
        tokens.expect(">", "'>' after <...")
        return None
    options = [_option(tokens)]
    while tokens.accept(","):
        options.append(_option(tokens))
    tokens.expect(">", "',' or '>' in the option list")
    size = sum(len(o.encode()) for o in options)
    if size > 40:
        raise tokens.error(opening, f"TCP options of {size} bytes exceed the 40-byte maximum")
    return tuple(options)


def _segment(tokens: TokenCursor, inbound: bool) -> SegmentSpec | Unsupported:
    """The rest of a `<` or `>` line."""
    token = tokens.peek
    if token.text in ("[", "("):
        return Unsupported("IP header fields ([ect0], (tos ...), ttl) on a segment line")
    if token.kind == "word" and token.text.lower() in ("udp", "icmp", "ipv4", "ipv6", "gre", "mpls"):
        return Unsupported(f"{token.text} packets (only TCP segments are supported)")
    if token.kind == "number" and tokens.peek_at(1).text == ">":
        return Unsupported("explicit port numbers on a segment line")
    flags = _flags(tokens)
    start = tokens.integer("start sequence number", _U32 - 1)
    tokens.expect(":", "':' in seq:end(length)")
    end_token = tokens.peek
    end = tokens.integer("end sequence number", _U32 - 1)
    tokens.expect("(", "'(' in seq:end(length)")
    length = tokens.integer("payload length", 0xFFFF)
    tokens.expect(")", "')' in seq:end(length)")
    if (start + length) % _U32 != end:
        raise tokens.error(end_token, f"inconsistent sequence numbers: {start}:{end} is not {length} bytes")
    ack = window = None
    if tokens.accept("ack"):
        ack = tokens.integer("ack number", _U32 - 1)
    if tokens.accept("win"):
        window = tokens.integer("window", 0xFFFF)
    if tokens.peek.text == "urg":
        return Unsupported("urgent pointer (urg)")
    options: tuple[TCPOption, ...] | None = ()
    if tokens.peek.text == "<":
        options = _options(tokens, inbound)
    tokens.end()
    return SegmentSpec(inbound, flags, start, length, ack, window, options)


def _setting(path: str, statement: Statement) -> tuple[str, str] | ScriptParseError:
    """`--name=value` (or `--name`)."""
    match = re.fullmatch(r"\s*--([A-Za-z0-9_\-]+)(?:=(\S*))?\s*", statement.text)
    if match is None:
        line, column = statement.positions[0]
        return ScriptParseError(path, line, column, f"bad option line {statement.text.strip()!r}")
    return match.group(1), match.group(2) or ""


def _statement(path: str, statement: Statement, settings: list[tuple[str, str, int]]) -> Event | None:
    """One statement: an event, or a setting (recorded, returns None)."""
    text = statement.text.strip()
    first = statement.positions[len(statement.text) - len(statement.text.lstrip())]
    if text.startswith("--"):
        setting = _setting(path, statement)
        if isinstance(setting, ScriptParseError):
            raise setting
        name, value = setting
        if name in SETTINGS:
            settings.append((name, value, first[0]))
            return None
        return Event(first[0], first[1], TimeSpec(TimeKind.ABSOLUTE), Unsupported(f"option --{name}"), text)
    code = statement.text.find("%{")
    if code >= 0 and _TIME_PREFIX.fullmatch(statement.text[:code]):
        return Event(first[0], first[1], TimeSpec(TimeKind.RELATIVE), Unsupported("code block %{ }%"), text)
    tokens = TokenCursor(path, tokenize(path, statement))
    if tokens.peek.kind == "backquote":
        tokens.take()
        tokens.end()
        return Event(first[0], first[1], TimeSpec(TimeKind.RELATIVE), Unsupported("shell command `...`"), text)
    time = _time(tokens)
    token = tokens.peek
    action: SegmentSpec | Syscall | Unsupported
    if token.text in ("<", ">"):
        tokens.take()
        action = _segment(tokens, token.text == "<")
    elif token.kind == "backquote":
        tokens.take()
        tokens.end()
        action = Unsupported("shell command `...`")
    elif token.kind == "word" and tokens.peek_at(1).text == "(":
        action = parse_call(tokens)
        if action.name not in SYSCALLS:
            action = Unsupported(f"system call {action.name}()")
    else:
        raise tokens.error(token, f"expected '<', '>' or a system call after the time, found {shown(token)}")
    outbound = isinstance(action, SegmentSpec) and not action.inbound
    if time.kind is TimeKind.ANY and not outbound:
        raise tokens.error(tokens.tokens[0], "time * can only be used on outbound (>) segments")
    if time.end_ns is not None and not outbound:
        raise tokens.error(tokens.tokens[0], "a time range (~) can only be used on outbound (>) segments")
    if time.block_ns is not None and not isinstance(action, Syscall):
        raise tokens.error(tokens.tokens[0], "START...END can only be used on system calls")
    return Event(first[0], first[1], time, action, text)


def parse_script(text: str, path: str = "<script>") -> Script:
    """Parse a whole script; raises ScriptParseError naming file:line:column on the first error."""
    events: list[Event] = []
    settings: list[tuple[str, str, int]] = []
    for statement in split_statements(path, text):
        event = _statement(path, statement, settings)
        if event is not None:
            events.append(event)
    for name, value, line in settings:
        try:
            float(value)
        except ValueError:
            raise ScriptParseError(path, line, 1, f"--{name} needs a number, not {value!r}") from None
    return Script(path, tuple(events), tuple(settings))


def parse_file(path: str | Path) -> Script:
    """Read and parse a script file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptParseError(str(path), 0, 0, f"cannot read: {exc}") from None
    return parse_script(text, str(path))
