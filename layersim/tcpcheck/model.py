"""The parsed form of a packetdrill-format script: timed events that are segments or socket calls."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import EllipsisType

from layersim.wire.tcp import TCPFlags
from layersim.wire.tcp_options import TCPOption

__all__ = ["Array", "Call", "CodeBlock", "Event", "Expr", "Field", "Flags", "IPFields", "Script", "SegmentSpec",
           "Shell", "Symbol", "Syscall", "TimeKind", "TimeSpec", "Unsupported"]


class TimeKind(Enum):
    """How an event's time is written: `0.1` absolute, `+0.1` after the previous event, `*` any time."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class TimeSpec:
    """When an event happens; `end_ns` closes a `~` range, `block_ns` is when a `START...END` call returns."""

    kind: TimeKind
    ns: int = 0
    end_ns: int | None = None
    block_ns: int | None = None


@dataclass(frozen=True, slots=True)
class IPFields:
    """IP header fields written on a segment line: `[ect0]`/`[ce]` (ECN), `(tos 0x.., ttl N)`; None: not given."""

    ecn: int | None = None
    tos: int | None = None
    ttl: int | None = None


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A TCP segment line: injected (`<`, inbound) or expected from the stack (`>`).

    `options` None means `<...>` (not checked); `ack`/`window` None means not given.
    """

    inbound: bool
    flags: TCPFlags
    seq: int
    length: int
    ack: int | None
    window: int | None
    options: tuple[TCPOption, ...] | None
    ip: IPFields = IPFields()


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name in a call's arguments (SOL_SOCKET, O_NONBLOCK, an errno name)."""

    name: str


@dataclass(frozen=True, slots=True)
class Flags:
    """`A|B|C` in a call's arguments."""

    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Array:
    """`[a, b]` (an int pointer argument) or `{a, b}` (a struct); `Field` items are `name=value`."""

    items: tuple[Expr, ...]
    braces: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """`name=value` inside a struct."""

    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """`htons(8080)` or `inet_addr("192.0.2.1")` in a call's arguments."""

    name: str
    args: tuple[Expr, ...]


Expr = int | str | Symbol | Flags | Array | Field | Call | EllipsisType


@dataclass(frozen=True, slots=True)
class Syscall:
    """A socket call line: `name(args) = result [ERRNO (text)]`; result None is `...` (not checked)."""

    name: str
    args: tuple[Expr, ...]
    result: int | None
    errno: str | None


@dataclass(frozen=True, slots=True)
class Shell:
    """A back-quoted shell command (`sysctl ...`, `../common/defaults.sh`), run by tcpcheck's small interpreter."""

    command: str


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """`%{ python }%`: run with the socket's TCP_INFO values (tcpi_*) in a restricted namespace."""

    source: str


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A line layersim cannot honour (shell command, code block, option flag, UDP/ICMP...): what it is."""

    what: str


@dataclass(frozen=True, slots=True)
class Event:
    """One script line: its time, what it does, and where it is."""

    line: int
    column: int
    time: TimeSpec
    action: SegmentSpec | Syscall | Shell | CodeBlock | Unsupported
    text: str


@dataclass(frozen=True, slots=True)
class Script:
    """A whole parsed script; `settings` are the `--name=value` lines layersim honours."""

    path: str
    events: tuple[Event, ...]
    settings: tuple[tuple[str, str, int], ...] = ()

    def unsupported(self) -> list[tuple[int, str]]:
        """(line, what) for every line that cannot be run."""
        return [(e.line, e.action.what) for e in self.events if isinstance(e.action, Unsupported)]
