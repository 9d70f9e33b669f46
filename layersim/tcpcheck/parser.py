"""Parse packetdrill-format scripts (`.pkt`) into events: times, TCP segment lines and socket calls."""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from layersim.tcpcheck.calls import parse_call
from layersim.tcpcheck.errors import ScriptParseError, UnsupportedScriptError
from layersim.tcpcheck.features import unmodelled_feature
from layersim.tcpcheck.lexer import Statement, Token, TokenCursor, shown, split_statements, tokenize
from layersim.tcpcheck.model import (
    CodeBlock,
    Event,
    IPFields,
    Script,
    SegmentSpec,
    Shell,
    Syscall,
    TimeKind,
    TimeSpec,
    Unsupported,
)
from layersim.wire.tcp import TCPFlags
from layersim.wire.tcp_options import EOL, MSS, NOP, SACK, SACKPermitted, TCPOption, Timestamps, WindowScale

__all__ = ["SETTINGS", "SYSCALLS", "parse_file", "parse_script"]

# The socket calls the runner honours; any other name parses and is reported as unsupported.
SYSCALLS = frozenset({"socket", "bind", "listen", "accept", "connect", "read", "write", "send", "recv", "close",
                      "shutdown", "setsockopt", "getsockopt", "fcntl", "ioctl", "poll", "sendmsg", "sendto",
                      "recvfrom"})
# `--name=value` lines the runner honours (others are unsupported), as packetdrill names them: numbers ...
SETTINGS = frozenset({"tolerance_usecs", "tolerance_percent", "tcp_ts_tick_usecs"})
# ... and those whose value is a word, or that take none (checked by the runner).
WORD_SETTINGS = frozenset({"strict_segments", "ip_version", "local_ip", "remote_ip", "gateway_ip", "netmask_ip"})
# What `[...]` on a segment line names: the IP ECN field (RFC 3168 §5); `ect01` is either ECT codepoint.
_ECN = MappingProxyType({"noecn": 0, "ect1": 1, "ect0": 2, "ce": 3, "ect01": 4})
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
    ip = _ip_fields(tokens)
    token = tokens.peek
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
    return SegmentSpec(inbound, flags, start, length, ack, window, options, ip)


def _ip_fields(tokens: TokenCursor) -> IPFields:
    """`[ect0]` and `(tos 0x2, ttl 64)` before a segment's flags: the IP header fields the line sets or checks."""
    ecn = tos = ttl = None
    if tokens.accept("["):
        token = tokens.take()
        if token.text not in _ECN:
            raise tokens.error(token, f"unknown ECN codepoint {shown(token)} (use {', '.join(_ECN)})")
        ecn = _ECN[token.text]
        tokens.expect("]", "']' after the ECN codepoint")
    if tokens.peek.text == "(" and tokens.peek_at(1).text in ("tos", "ttl", "flowlabel", "id"):
        tokens.take()
        while True:
            name = tokens.take()
            if name.text == "tos":
                tos = tokens.integer("tos", 0xFF)
            elif name.text == "ttl":
                ttl = tokens.integer("ttl", 0xFF)
            else:
                raise tokens.error(name, f"IP field {shown(name)} is not supported on a segment line (tos, ttl)")
            if not tokens.accept(","):
                break
        tokens.expect(")", "')' after the IP fields")
    return IPFields(ecn, tos, ttl)


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
        if name in WORD_SETTINGS:
            settings.append((name, value, first[0]))
            return None
        if name in SETTINGS:
            settings.append((name, value, first[0]))
            return None
        return Event(first[0], first[1], TimeSpec(TimeKind.ABSOLUTE), Unsupported(f"option --{name}"), text)
    code = statement.text.find("%{")
    if code >= 0 and _TIME_PREFIX.fullmatch(statement.text[:code]):
        close = statement.text.rfind("}%")
        if close < code:
            raise ScriptParseError(path, first[0], first[1], "code block %{ is never closed with }%")
        prefix = TokenCursor(path, tokenize(path, Statement(statement.text[:code] or " ",
                                                            statement.positions[:code] or statement.positions[:1])))
        time = _time(prefix) if prefix.peek.kind != "end" else TimeSpec(TimeKind.RELATIVE)
        return Event(first[0], first[1], time, CodeBlock(statement.text[code + 2:close]), text)
    tokens = TokenCursor(path, tokenize(path, statement))
    if tokens.peek.kind == "backquote":
        command = tokens.take().text[1:-1]
        tokens.end()
        return Event(first[0], first[1], TimeSpec(TimeKind.RELATIVE), Shell(command), text)
    time = _time(tokens)
    token = tokens.peek
    action: SegmentSpec | Syscall | Shell | Unsupported
    if token.text in ("<", ">"):
        tokens.take()
        action = _segment(tokens, token.text == "<")
    elif token.kind == "backquote":
        command = tokens.take().text[1:-1]
        tokens.end()
        action = Shell(command)
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
    """Parse a whole script; raises ScriptParseError naming file:line:column on the first error, and
    UnsupportedScriptError (one line) when it needs a feature layersim does not model."""
    feature = unmodelled_feature(path, text)
    if feature is not None:
        raise UnsupportedScriptError(path, [feature])
    events: list[Event] = []
    settings: list[tuple[str, str, int]] = []
    for statement in split_statements(path, text):
        event = _statement(path, statement, settings)
        if event is not None:
            events.append(event)
    for name, value, line in settings:
        if name in WORD_SETTINGS:
            continue
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
