"""Annotated hex dumps: every byte attributed to the field it belongs to, as plain text, rich colour or HTML.

`field_map()` is the single source: one `FieldBytes` row per field (or per element of a variable field, such
as one TCP option), numbered by colour group. Fields that share bytes (IPv4 version and IHL) share a group, so
each byte of the packet belongs to exactly one group and groups come in byte order.
"""

from __future__ import annotations

import html
import os
import sys
from dataclasses import dataclass
from typing import Any

from layersim.wire.packet import Packet
from layersim.wire.valuefmt import concrete, span_value

__all__ = ["FieldBytes", "field_map", "hexdump", "hexdump_html", "hexdump_text"]

ROW = 16
HEX_WIDTH = ROW * 3 - 1  # characters of a full row's hex column
# Pastel backgrounds that stay readable under black text, from the xterm 256-colour cube so a terminal shows
# the same colours as the HTML; consecutive groups never share one.
PALETTE = ("#ffd7af", "#afffaf", "#d7afff", "#ffffaf", "#afffff", "#ffafaf",
           "#d7ffd7", "#afd7ff", "#ffd7ff", "#ffffd7", "#d7ffff", "#ffafff")


@dataclass(frozen=True, slots=True)
class FieldBytes:
    """One legend row: a field of one layer, the bytes [start, end) it occupies, and its value as text."""

    group: int  # colour group, 0-based; fields that share bytes share a group
    layer_index: int
    layer: str
    field: str
    start: int
    end: int
    bits: tuple[int, int] | None  # first and last bit inside bytes [start, end), for fields not byte-aligned
    value: str

    @property
    def where(self) -> str:
        """"bytes 0-5", "byte 22", "byte 14 bits 0-3", "byte 14 bit 3": inclusive, bit 0 most significant."""
        text = f"byte {self.start}" if self.end - self.start == 1 else f"bytes {self.start}-{self.end - 1}"
        if self.bits is None:
            return text
        first, last = self.bits
        return f"{text} bit {first}" if first == last else f"{text} bits {first}-{last}"

    @property
    def title(self) -> str:
        """"Layer.field = value"."""
        return f"{self.layer}.{self.field} = {self.value}"


def _bits(layer: Any, name: str, header_start: int, start: int, end: int) -> tuple[int, int] | None:
    """Bit range of a fixed field that does not fill whole bytes, relative to its first byte."""
    spec = layer.spec
    field = spec.by_name.get(name)
    if field is None or not field.fixed or spec.byte_span(name) != (start - header_start, end - header_start):
        return None
    offset = spec.bit_offsets[name]
    if offset % 8 == 0 and (field.bits or 0) % 8 == 0:
        return None
    first = offset - 8 * (start - header_start)
    return first, first + (field.bits or 0) - 1


def field_map(packet: Packet) -> list[FieldBytes]:
    """Every field's bytes in order; bytes no layer claims become "(unassigned)" rows so nothing is hidden."""
    packet = concrete(packet)
    data = packet.data
    rows: list[FieldBytes] = []
    group, covered = -1, 0  # the current colour group; the first byte not yet in any group

    def unassigned(upto: int, index: int, name: str) -> None:
        """A row for bytes [covered, upto) that no field claims."""
        nonlocal group, covered
        group += 1
        rows.append(FieldBytes(group, index, name, "(unassigned)", covered, upto, None,
                               data[covered:upto].hex()))
        covered = upto

    for index, (layer, (start, end)) in enumerate(zip(packet.layers, packet.spans, strict=True)):
        for name, a, b in sorted(layer.field_spans(start, end), key=lambda span: span[1]):
            a, b = max(a, 0), min(b, len(data))
            if b <= a:
                continue
            if a >= covered:  # else it shares bytes with the fields before it: same group
                if a > covered:
                    unassigned(a, index, layer.name)
                group += 1
            covered = max(covered, b)
            rows.append(FieldBytes(group, index, layer.name, name, a, b, _bits(layer, name, start, a, b),
                                   span_value(layer, name, data, a, b)))
    if covered < len(data):
        unassigned(len(data), len(packet.layers) - 1, packet.layers[-1].name if packet.layers else "?")
    return rows


def _owners(rows: list[FieldBytes], length: int) -> list[int]:
    """The colour group of each byte."""
    owner = [-1] * length
    for row in rows:
        owner[row.start:row.end] = [row.group] * (row.end - row.start)
    return owner


def _ascii(byte: int) -> str:
    """The byte's character in the ASCII column."""
    return chr(byte) if 32 <= byte < 127 else "."


def _dump_rows(data: bytes, owner: list[int]) -> list[tuple[int, list[tuple[str, int]], str]]:
    """Per 16-byte row: offset, (text, group) pieces of the hex column (-1: separator), groups touched."""
    out = []
    for offset in range(0, len(data), ROW):
        pieces: list[tuple[str, int]] = []
        for i in range(offset, min(offset + ROW, len(data))):
            if i > offset:
                pieces.append(("|" if owner[i] != owner[i - 1] else " ", -1))
            pieces.append((f"{data[i]:02x}", owner[i]))
        touched = sorted({g for g in owner[offset:offset + ROW] if g >= 0})
        marker = "" if not touched else (f"#{touched[0] + 1}" if len(touched) == 1
                                         else f"#{touched[0] + 1}-{touched[-1] + 1}")
        out.append((offset, pieces, marker))
    return out


def _legend_lines(rows: list[FieldBytes]) -> list[tuple[int, str, str]]:
    """(group, number text, rest of the line) for each legend row, columns aligned."""
    names = [f"{r.layer}.{r.field}" for r in rows]
    name_width = max((len(n) for n in names), default=0)
    where_width = max((len(r.where) for r in rows), default=0)
    return [(r.group, f"{r.group + 1:>4}", f"  {n:<{name_width}}  {r.where:<{where_width}}  {r.value}")
            for r, n in zip(rows, names, strict=True)]


@dataclass(frozen=True, slots=True)
class _Layout:
    """A dump laid out once, for both the plain text and the coloured rendering."""

    data: bytes
    owner: list[int]  # colour group of each byte
    dump: list[tuple[int, list[tuple[str, int]], str]]  # per row: offset, hex pieces, legend numbers touched
    legend: list[tuple[int, str, str]]
    text: str  # the whole dump as plain text


def _layout(packet: Packet) -> _Layout:
    """Attribute each byte to its field and lay out the rows and the legend."""
    packet = concrete(packet)
    rows = field_map(packet)
    data = packet.data
    owner = _owners(rows, len(data))
    lines = []
    dump = _dump_rows(data, owner)
    for offset, pieces, marker in dump:
        hexpart = "".join(text for text, _ in pieces)
        ascii_part = "".join(_ascii(b) for b in data[offset:offset + ROW])
        lines.append(f"{offset:04x}  {hexpart:<{HEX_WIDTH}}  {ascii_part:<{ROW}}  {marker}".rstrip())
    legend = _legend_lines(rows)
    lines += ["", "   #  field, bytes, value"] + [number + rest for _, number, rest in legend]
    return _Layout(data, owner, dump, legend, "\n".join(lines))


def hexdump_text(packet: Packet) -> str:
    """The annotated hex dump as plain text, for code that wants the text instead of printing it.

    Field boundaries are marked with "|" between bytes, each row ends with the legend numbers it touches, and
    the legend follows.
    """
    return _layout(packet).text


def hexdump(packet: Packet, *, file: Any = None, color: bool | None = None) -> None:
    """Print the annotated hex dump to `file` (stdout by default), coloured when `color`, or when it is a tty.

    Returns None so that the REPL does not echo the dump a second time; `hexdump_text()` gives the text.
    """
    layout = _layout(packet)
    out = sys.stdout if file is None else file
    if color is None:  # https://no-color.org: a terminal gets colour unless NO_COLOR is set
        color = bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
    if not color:
        print(layout.text, file=out)
        return
    from rich.console import Console
    from rich.text import Text

    def style(group: int) -> str:
        """The rich style of a colour group (none for separators)."""
        return f"black on {PALETTE[group % len(PALETTE)]}" if group >= 0 else ""

    styled = Text()
    data, owner = layout.data, layout.owner
    for offset, pieces, marker in layout.dump:
        styled.append(f"{offset:04x}  ")
        for piece, group in pieces:
            styled.append(piece, style(group))
        styled.append(" " * (HEX_WIDTH - sum(len(p) for p, _ in pieces)) + "  ")
        for i in range(offset, min(offset + ROW, len(data))):
            styled.append(_ascii(data[i]), style(owner[i]))
        styled.append(f"{' ' * (ROW - min(ROW, len(data) - offset))}  {marker}".rstrip() + "\n")
    styled.append("\n   #  field, bytes, value\n")
    for group, number, rest in layout.legend:
        styled.append(number, style(group))
        styled.append(rest + "\n")
    styled.rstrip()
    Console(file=out, force_terminal=True, color_system="256", no_color=False, highlight=False,
            soft_wrap=True).print(styled)


def hexdump_html(packet: Packet) -> str:
    """HTML for Jupyter: each byte a <span> coloured by its field, titled "Layer.field = value"; a legend."""
    packet = concrete(packet)
    rows = field_map(packet)
    data = packet.data
    owner = _owners(rows, len(data))
    titles: dict[int, list[str]] = {}
    for row in rows:
        titles.setdefault(row.group, []).append(row.title)

    def span(text: str, group: int) -> str:
        """`text` in a span coloured and titled for its group."""
        if group < 0:
            return html.escape(text)
        tip = html.escape("; ".join(titles[group]), quote=True)
        colour = PALETTE[group % len(PALETTE)]
        return f'<span style="background:{colour}" title="{tip}">{html.escape(text)}</span>'

    out = ['<div class="layersim-hexdump">', '<pre style="line-height:1.4">']
    for offset in range(0, len(data), ROW):
        end = min(offset + ROW, len(data))
        cells = " ".join(span(f"{data[i]:02x}", owner[i]) for i in range(offset, end))
        pad = "   " * (offset + ROW - end)
        ascii_part = "".join(span(_ascii(data[i]), owner[i]) for i in range(offset, end))
        out.append(f'<span style="color:#888">{offset:04x}</span>  {cells}{pad}  {ascii_part}')
    out.append("</pre>")
    out.append('<table class="layersim-legend"><thead>'
               "<tr><th>#</th><th>field</th><th>bytes</th><th>value</th></tr></thead><tbody>")
    for row in rows:
        colour = PALETTE[row.group % len(PALETTE)]
        out.append(f'<tr><td style="background:{colour}">{row.group + 1}</td>'
                   f"<td>{html.escape(row.layer)}.{html.escape(row.field)}</td>"
                   f"<td>{html.escape(row.where)}</td><td><code>{html.escape(row.value)}</code></td></tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)
