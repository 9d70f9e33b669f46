"""Packetdrill's matching rules: script-to-live number mapping, timing tolerance, segment and option comparison."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from layersim.tcpcheck.model import IPFields, SegmentSpec
from layersim.tcpcheck.report import format_flags, format_options, format_segment
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.tcp_options import EOL, NOP, SACK, TCPOption, Timestamps

__all__ = ["MappingError", "SegmentView", "SeqMap", "combine", "compare_ip", "compare_options", "compare_segment",
           "compare_tsval", "format_ip", "sent_ip", "spec_text", "tolerance_ns", "with_ip"]
_ECN_NAMES = ("noecn", "ect1", "ect0", "ce", "ect01")

_U32 = 2**32
DEFAULT_TOLERANCE_NS = 4_000_000
DEFAULT_TOLERANCE_PERCENT = 12.5


def tolerance_ns(expected_ns: int, previous_ns: int, *, floor_ns: int = DEFAULT_TOLERANCE_NS,
                 percent: float = DEFAULT_TOLERANCE_PERCENT) -> int:
    """How far off an outbound event may be: max(floor, percent of the gap since the previous event)."""
    return max(floor_ns, int(max(0, expected_ns - previous_ns) * percent / 100))


class MappingError(Exception):
    """A script number that cannot be mapped to a live one (a TS ecr with no outbound TS val before it)."""


@dataclass(frozen=True, slots=True)
class SegmentView:
    """A segment's fields in script numbers (what the script would have written for it)."""

    flags: TCPFlags
    seq: int
    length: int
    ack: int | None
    window: int
    options: tuple[TCPOption, ...]

    def text(self) -> str:
        """The segment as a `>` script line body."""
        return format_segment(False, self.flags, self.seq, self.length, self.ack, self.window, self.options)


def _shift_sack(options: Sequence[TCPOption], offset: int) -> tuple[TCPOption, ...]:
    """Options with every SACK edge moved by `offset` (mod 2**32)."""
    return tuple(SACK(tuple(((left + offset) % _U32, (right + offset) % _U32) for left, right in o.blocks))
                 if isinstance(o, SACK) else o for o in options)


@dataclass(slots=True)
class SeqMap:
    """Script <-> live numbers, as packetdrill maps them.

    The remote's numbers are the script's plus `remote_isn` (packetdrill: 0, the script's values as written).
    Ours are learned from our first SYN or SYN-ACK: live = script + `local_offset`. Our TS vals are learned as
    outbound segments match, so an inbound TS ecr written with a script TS val gets the live value.
    """

    remote_isn: int = 0
    local_offset: int | None = None
    ts_vals: dict[int, int] = field(default_factory=dict)
    first_ts: tuple[int, int] | None = None  # (script val, live val) of our first TS

    def inbound(self, spec: SegmentSpec) -> tuple[int, int, tuple[TCPOption, ...]]:
        """Live (seq, ack, options) for an inbound script segment."""
        local = self.local_offset or 0
        seq = (spec.seq + self.remote_isn) % _U32
        ack = (spec.ack + local) % _U32 if spec.ack is not None else 0
        options = _shift_sack(spec.options or (), local)
        if spec.flags & TCPFlags.ACK:
            options = tuple(self._live_ecr(o) if isinstance(o, Timestamps) else o for o in options)
        return seq, ack, options

    def _live_ecr(self, option: Timestamps) -> Timestamps:
        """The TS option with its ecr turned into the live TS val it echoes."""
        live = self.ts_vals.get(option.tsecr)
        if live is None and self.first_ts is not None:
            script, first_live = self.first_ts
            live = (option.tsecr - script + first_live) % _U32
        if live is None:
            raise MappingError(f"cannot map TS ecr {option.tsecr}: no outbound TS val was matched before it")
        return Timestamps(option.tsval, live)

    def learn_isn(self, spec: SegmentSpec, tcp: TCP) -> None:
        """Learn our ISN from our first SYN or SYN-ACK (the script writes its own number for it)."""
        if self.local_offset is None and tcp.flags & TCPFlags.SYN:
            self.local_offset = (tcp.seq - spec.seq) % _U32

    def learn_ts(self, spec: SegmentSpec, tcp: TCP) -> None:
        """Learn the live TS val for the script's, from an outbound segment that matched."""
        script_ts = next((o for o in spec.options or () if isinstance(o, Timestamps)), None)
        live_ts = next((o for o in tcp.options if isinstance(o, Timestamps)), None)
        if script_ts is not None and live_ts is not None:
            self.ts_vals[script_ts.tsval] = live_ts.tsval
            if self.first_ts is None:
                self.first_ts = (script_ts.tsval, live_ts.tsval)

    def view(self, tcp: TCP, length: int) -> SegmentView:
        """An outbound live segment in script numbers."""
        local = self.local_offset if self.local_offset is not None else 0
        options = _shift_sack(tcp.options, -self.remote_isn)
        if self.first_ts is not None:
            script, live = self.first_ts
            options = tuple(Timestamps((o.tsval - live + script) % _U32, o.tsecr) if isinstance(o, Timestamps)
                            else o for o in options)
        ack = (tcp.ack - self.remote_isn) % _U32 if tcp.flags & TCPFlags.ACK else None
        return SegmentView(tcp.flags, (tcp.seq - local) % _U32, length, ack, tcp.window, options)


def _strip_padding(options: Sequence[TCPOption]) -> list[TCPOption]:
    """Options without the EOLs that only pad the end."""
    out = list(options)
    while out and isinstance(out[-1], EOL):
        out.pop()
    return out


def _ts_unchecked(option: TCPOption) -> TCPOption:
    """A TS option with its val cleared: packetdrill does not check our TS val (only its ecr)."""
    return Timestamps(0, option.tsecr) if isinstance(option, Timestamps) else option


def compare_options(expected: Sequence[TCPOption] | None, actual: Sequence[TCPOption], mode: str) -> str | None:
    """None when the options match; else why not. `exact`: same options in the same order; `loose`: the same
    set, ignoring NOP and EOL. Either way our TS val is not checked, its ecr is."""
    if expected is None:
        return None
    if mode == "loose":
        want = Counter(_ts_unchecked(o) for o in expected if not isinstance(o, NOP | EOL))
        got = Counter(_ts_unchecked(o) for o in actual if not isinstance(o, NOP | EOL))
        if want == got:
            return None
        return f"options differ (compared as a set): expected {format_options(expected) or '<>'}, " \
               f"got {format_options(actual) or '<>'}"
    want_list = [_ts_unchecked(o) for o in _strip_padding(expected)]
    got_list = [_ts_unchecked(o) for o in _strip_padding(actual)]
    if want_list == got_list:
        return None
    return f"options differ: expected {format_options(expected) or '<>'}, got {format_options(actual) or '<>'}"


def compare_segment(spec: SegmentSpec, view: SegmentView, mode: str) -> list[str]:
    """Every field where the outbound segment (in script numbers) differs from the script's."""
    problems = []
    if view.flags != spec.flags:
        problems.append(f"flags: expected {format_flags(spec.flags)}, got {format_flags(view.flags)}")
    if view.seq != spec.seq:
        problems.append(f"seq: expected {spec.seq}, got {view.seq}")
    if view.length != spec.length:
        problems.append(f"payload length: expected {spec.length}, got {view.length}")
    if spec.ack is not None and view.ack != spec.ack:
        problems.append(f"ack: expected {spec.ack}, got {view.ack if view.ack is not None else 'none'}")
    if spec.window is not None and view.window != spec.window:
        problems.append(f"win: expected {spec.window}, got {view.window}")
    options = compare_options(spec.options, view.options, mode)
    if options is not None:
        problems.append(options)
    return problems


def combine(views: Sequence[SegmentView]) -> SegmentView | str:
    """Consecutive segments of one size (the last may be shorter) as the one larger segment a script may write
    for them (packetdrill's TSO/GSO rule); a string says why they cannot be combined."""
    first = views[0]
    at = first.seq
    for i, view in enumerate(views):
        if view.seq != at:
            return f"segment {i + 1} starts at {view.seq}, not {at} where the previous one ended"
        if i < len(views) - 1 and view.length != first.length:
            return f"segment {i + 1} carries {view.length} bytes, not {first.length} like the first"
        if i < len(views) - 1 and view.flags & (TCPFlags.FIN | TCPFlags.SYN | TCPFlags.RST):
            return f"segment {i + 1} has flags that only a last segment may have"
        at = (at + view.length) % _U32
    flags = TCPFlags(0)
    for view in views:
        flags |= view.flags
    last = views[-1]
    return replace(first, flags=flags, length=sum(v.length for v in views), ack=last.ack, window=last.window)


def compare_ip(ip: IPFields, tos: int, ttl: int) -> list[str]:
    """Differences between the IP fields a `>` line writes and those sent (ECN codepoints as RFC 3168 §5)."""
    problems = []
    ecn = tos & 3
    if ip.ecn is not None and not (ecn == ip.ecn or (ip.ecn == 4 and ecn in (1, 2))):
        problems.append(f"IP ECN: expected [{_ECN_NAMES[ip.ecn]}], got [{_ECN_NAMES[ecn]}]")
    if ip.tos is not None and tos != ip.tos:
        problems.append(f"IP tos: expected {ip.tos:#x}, got {tos:#x}")
    if ip.ttl is not None and ttl != ip.ttl:
        problems.append(f"IP ttl: expected {ip.ttl}, got {ttl}")
    return problems


def compare_tsval(spec: SegmentSpec, view: SegmentView, slack: int) -> list[str]:
    """With --tcp_ts_tick_usecs packetdrill checks our TS val too: within `slack` ticks of the script's (both in
    script numbers: counted from our first TS val)."""
    want = next((o for o in spec.options or () if isinstance(o, Timestamps)), None)
    got = next((o for o in view.options if isinstance(o, Timestamps)), None)
    if want is None or got is None:
        return []
    off = (got.tsval - want.tsval + _U32 // 2) % _U32 - _U32 // 2
    if abs(off) <= slack:
        return []
    return [f"TS val: expected {want.tsval} (within {slack} ticks), got {got.tsval}"]


def format_ip(ip: IPFields) -> str:
    """`[ect0] (tos 0x10, ttl 64)` as a script line writes the IP fields it gives ("" for none)."""
    parts = [f"[{_ECN_NAMES[ip.ecn]}]"] if ip.ecn is not None else []
    fields = [f"tos {ip.tos:#x}"] if ip.tos is not None else []
    fields += [f"ttl {ip.ttl}"] if ip.ttl is not None else []
    if fields:
        parts.append(f"({', '.join(fields)})")
    return " ".join(parts)


def with_ip(line: str, ip: IPFields) -> str:
    """A `> ...` or `< ...` segment text with the IP fields put in after the direction."""
    shown = format_ip(ip)
    return f"{line[:2]}{shown} {line[2:]}" if shown else line


def sent_ip(given: IPFields, tos: int, ttl: int) -> IPFields:
    """The IP fields a segment was sent with, those a script line gives only."""
    return IPFields(tos & 3 if given.ecn is not None else None, tos if given.tos is not None else None,
                    ttl if given.ttl is not None else None)


def spec_text(spec: SegmentSpec) -> str:
    """A script segment as text, with the IP fields it gives."""
    return with_ip(format_segment(spec.inbound, spec.flags, spec.seq, spec.length, spec.ack, spec.window,
                                  spec.options), spec.ip)
