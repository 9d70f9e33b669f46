"""The bytes of one TCP option split into the fields its RFC draws (kind, length, each value), for the bit layout."""

from __future__ import annotations

from typing import Any, NamedTuple

from layersim.wire.tcp_options import EOL, MSS, NOP, SACK, SACKPermitted, Timestamps, UnknownOption, WindowScale

__all__ = ["OptionPart", "is_option", "option_parts"]

_NAMES = {EOL: "End of Option List", NOP: "No-Operation", MSS: "MSS", WindowScale: "Window Scale",
          SACKPermitted: "SACK Permitted", SACK: "SACK", Timestamps: "Timestamps"}


_OPTION_TYPES = (EOL, NOP, MSS, WindowScale, SACKPermitted, SACK, Timestamps, UnknownOption)


def is_option(value: Any) -> bool:
    """Whether `value` is a TCP option value (an element of TCP.options)."""
    return isinstance(value, _OPTION_TYPES)


class OptionPart(NamedTuple):
    """One field of an option: its name (for the gid), title, value text and bytes [start, end) in the header."""

    name: str
    title: str
    value: str
    start: int
    end: int


def _values(option: Any) -> list[tuple[str, str, int, str]]:
    """(name, title, size in bytes, value) of the fields after kind and length."""
    if isinstance(option, MSS):  # RFC 9293 §3.2: kind 2, length 4, 16-bit MSS
        return [("mss", "Maximum Segment Size", 2, str(option.value))]
    if isinstance(option, WindowScale):  # RFC 7323 §2.2: kind 3, length 3, shift.cnt
        return [("shift", "Shift Count", 1, str(option.shift))]
    if isinstance(option, Timestamps):  # RFC 7323 §3.2: kind 8, length 10, TSval, TSecr
        return [("tsval", "TSval", 4, str(option.tsval)), ("tsecr", "TSecr", 4, str(option.tsecr))]
    if isinstance(option, SACK):  # RFC 2018 §3: kind 5, length 2 + 8n, a left and a right edge per block
        return [part for n, (left, right) in enumerate(option.blocks, 1)
                for part in ((f"left{n}", f"Left Edge {n}", 4, str(left)), (f"right{n}", f"Right Edge {n}", 4,
                                                                          str(right)))]
    if isinstance(option, UnknownOption) and option.data:
        return [("data", "Data", len(option.data), option.data.hex())]
    return []


def option_parts(option: Any, index: int, start: int, end: int) -> list[OptionPart]:
    """The fields of `option` (the header's options[index]) at byte `start`, cut at `end` (a truncated header)."""
    prefix = f"options[{index}]"
    kind = int(option.kind)
    name = _NAMES.get(type(option), "option")
    if isinstance(option, NOP | EOL):  # RFC 9293 §3.2: a single byte, its kind
        parts = [OptionPart(prefix, prefix, f"{name} (kind {kind})", start, start + 1)]
        if isinstance(option, EOL) and option.padding:
            parts.append(OptionPart(f"{prefix}.padding", "padding", option.padding.hex(), start + 1,
                                    start + 1 + len(option.padding)))
    else:
        length = len(option.encode())
        parts = [OptionPart(f"{prefix}.kind", f"{prefix} Kind", f"{kind} ({name})", start, start + 1),
                 OptionPart(f"{prefix}.length", "Length", str(length), start + 1, start + 2)]
        at = start + 2
        for field, title, size, value in _values(option):
            parts.append(OptionPart(f"{prefix}.{field}", title, value, at, at + size))
            at += size
    return [part._replace(end=min(part.end, end)) for part in parts if part.start < end]
