"""The RFC-style bit layout of a header (32 bits a row), drawn from the layer's field table."""

from __future__ import annotations

import re
from typing import Any

from layersim.errors import LayersimError
from layersim.viz.keyfields import key_fields
from layersim.viz.optionparts import OptionPart, is_option, option_parts
from layersim.viz.style import axes_for, layer_colour
from layersim.wire.fields import Field, HeaderSpec, Layer
from layersim.wire.packet import Packet
from layersim.wire.valuefmt import brief, label, span_value

__all__ = ["ROW_BITS", "bit_layout", "row_pieces"]

ROW_BITS = 32
_SIZE = 8.0
_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")  # "options[2]": one element of a variable field
_MAX_VARIABLE_ROWS = 3  # a long variable part (an HTTP message) is drawn this tall and labelled with its size


def row_pieces(offset: int, bits: int, row_bits: int = ROW_BITS) -> list[tuple[int, int, int]]:
    """Where `bits` bits starting at bit `offset` fall in rows of `row_bits`: (row, first column, width) each."""
    pieces = []
    while bits > 0:
        row, column = divmod(offset, row_bits)
        width = min(bits, row_bits - column)
        pieces.append((row, column, width))
        offset += width
        bits -= width
    return pieces


def _encoded(layer: Layer) -> bytes | None:
    """The layer's own bytes, or None when it cannot be encoded alone (it needs a layer below, for checksums)."""
    try:
        return Packet.of(layer).encode()
    except (LayersimError, NotImplementedError):
        return None


def _fits(text: str, bits: float, inches_per_bit: float, size: float) -> bool:
    return len(text) * 0.6 * size / 72 <= bits * inches_per_bit * 0.92


def _clip(text: str, bits: float, inches_per_bit: float, size: float) -> str:
    room = int(bits * inches_per_bit * 0.92 / (0.6 * size / 72))
    return text if len(text) <= room else text[: max(room - 1, 1)] + "\u2026"


def _box_label(ax: Any, field_name: str, title: str, value: str | None, piece: tuple[int, int, int],
               inches_per_bit: float, height: int = 1, short: str | None = None) -> None:
    """The field's name (and value) centred in its box, shortened or turned upright when the box is narrow."""
    row, column, width = piece
    x, y = column + width / 2, row + height / 2
    size, rotation = _SIZE, 0
    if not _fits(title, width, inches_per_bit, size):
        # IHL, DSCP, ECN as RFC 791 says
        title = short if short is not None else field_name.upper() if len(field_name) <= 4 else field_name
    if not _fits(title, width, inches_per_bit, size):
        size = 6.5
        if not _fits(title, width, inches_per_bit, size):
            rotation = 90
    text = title
    if value is not None:
        text += "\n" + (value if rotation else _clip(value, width, inches_per_bit, size))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, rotation=rotation, zorder=5,
            gid=f"label:{field_name}", linespacing=1.2)


def bit_layout(layer_or_class: Layer | type[Layer], ax: Any = None) -> Any:
    """Draw a header as RFC diagrams do, 32 bits a row, every field a box at its bit offset from the layer's
    field table; given a layer value rather than a class, each box also shows that value."""
    if isinstance(layer_or_class, type) and issubclass(layer_or_class, Layer):
        cls, layer = layer_or_class, None
    elif isinstance(layer_or_class, Layer):
        cls, layer = type(layer_or_class), layer_or_class
    else:
        hint = " (pick one layer: packet[IPv4])" if isinstance(layer_or_class, Packet) else ""
        raise LayersimError(f"bit_layout() draws a Layer or a Layer class, not {type(layer_or_class).__name__}{hint}")
    spec: HeaderSpec = cls.spec
    values = layer.fields() if layer is not None else {}
    fixed_bits = spec.fixed_length * 8
    variable = [f for f in spec.fields if not f.fixed]
    data = _encoded(layer) if layer is not None and variable else None
    var_bytes = len(data) - spec.fixed_length if data is not None else None
    parts = _variable_parts(layer, data) if layer is not None and data is not None and spec.fixed_fields else []
    if parts:  # options one by one, at their byte offsets
        var_rows = row_pieces(fixed_bits, (parts[-1].end - spec.fixed_length) * 8)
    elif var_bytes is not None and var_bytes > 0:
        var_rows = row_pieces(fixed_bits, var_bytes * 8)
        if len(var_rows) > _MAX_VARIABLE_ROWS:
            var_rows = row_pieces(fixed_bits, _MAX_VARIABLE_ROWS * ROW_BITS - fixed_bits % ROW_BITS)
    elif variable and var_bytes is None:  # a class, or a value that will not encode alone: its size is unknown
        var_rows = row_pieces(fixed_bits, ROW_BITS - fixed_bits % ROW_BITS)
    else:  # no variable part, or an empty one (IHL 5, a TCP header without options): no row for it
        var_rows = []
    carries_payload = bool(cls.next_layers) or hasattr(cls, "ip_protocol")
    rows = max([r for r, _, _ in var_rows] + [(fixed_bits - 1) // ROW_BITS if fixed_bits else -1]) + 1
    total_rows = rows + (1 if carries_payload else 0)
    ax = axes_for(ax, 10, 0.55 * total_rows + 1.2)
    from matplotlib.patches import Rectangle

    inches_per_bit = ax.get_position().width * ax.figure.get_figwidth() / (ROW_BITS + 2)
    colour = layer_colour(spec.name)
    for field in spec.fixed_fields:
        pieces = row_pieces(spec.bit_offsets[field.name], field.bits or 0)
        for row, column, width in pieces:
            ax.add_patch(Rectangle((column, row), width, 1, facecolor=colour, edgecolor="#222222", linewidth=1.0,
                                   gid=f"field:{field.name}"))
        main = max(pieces, key=lambda p: p[2])
        value = _value_text(field, values[field.name]) if layer is not None else None
        _box_label(ax, field.name, label(spec.name, field.name), value, main, inches_per_bit)
        for piece in pieces:
            if piece is not main and _fits(field.name, piece[2], inches_per_bit, 6.5):
                ax.text(piece[1] + piece[2] / 2, piece[0] + 0.5, f"({field.name})", ha="center", va="center",
                        fontsize=6.5, color="#555555", style="italic")
    for part in parts:  # each option field (kind, length, value) in its own box, labelled at its own bytes
        boxes = _merge_full_rows(row_pieces(part.start * 8, (part.end - part.start) * 8))
        for row, column, width, height in boxes:
            ax.add_patch(Rectangle((column, row), width, height, facecolor=colour, edgecolor="#222222",
                                   linewidth=1.0, linestyle="--", alpha=0.6, gid="field:" + variable[0].name))
        main = max(boxes, key=lambda b: b[2] * b[3])
        _box_label(ax, part.name, part.title, part.value, main[:3], inches_per_bit, main[3], short=part.title)
        for row, column, width, _ in boxes:
            if (row, column, width) != main[:3] and _fits(f"({part.title})", width, inches_per_bit, 6.5):
                ax.text(column + width / 2, row + 0.5, f"({part.title})", ha="center", va="center", fontsize=6.5,
                        color="#555555", style="italic", gid=f"label-more:{part.name}")
    if var_rows and not parts:
        names = ", ".join(f.name for f in variable)
        if var_bytes is None:
            text = f"{names} (variable length)"
        elif spec.fixed_fields:
            shown = "; ".join(brief(values[f.name], f, 60) for f in variable if values[f.name] not in ((), b"", ""))
            text = f"{names}: {var_bytes} bytes" + (f"\n{shown}" if shown else "")
        else:  # a text message (HTTP): its bytes in rows say little, its start line says a lot
            assert layer is not None
            text = f"{names}: {var_bytes} bytes\n" + "\n".join(key_fields(layer))
        _dashed(ax, var_rows, "field:" + variable[0].name, text, colour)
    if carries_payload:
        _dashed(ax, [(rows, 0, ROW_BITS)], "payload", "payload: the next layer's bytes", "#f4f4f4")
    for bit in range(ROW_BITS):
        ax.text(bit + 0.5, -0.25, str(bit), ha="center", va="center", fontsize=6.5, color="#444444")
    open_size = variable and var_bytes is None and spec.fixed_fields  # where the payload starts is not known
    for row in range(total_rows):
        where = f"byte {spec.fixed_length} +\n{variable[0].name}" if open_size and row == rows else f"byte {row * 4}"
        ax.text(-0.3, row + 0.5, where, ha="right", va="center", fontsize=7, color="#444444", gid=f"row:{row}")
    ax.set_xlim(-2.2, ROW_BITS + 0.1)
    ax.set_ylim(total_rows + 0.05, -0.55)
    ax.set_axis_off()
    if spec.fixed_fields:
        more = "" if not variable else f", no {variable[0].name}" if var_bytes == 0 and not parts else \
            " + variable part"
        ax.set_title(f"{spec.name} header: {spec.fixed_length}-byte fixed part{more}, 32 bits a row", fontsize=10)
    else:
        ax.set_title(f"{spec.name}: variable length, no fixed fields", fontsize=10)
    return ax


def _variable_parts(layer: Layer, data: bytes) -> list[OptionPart]:
    """Each element of the variable part at its bytes: every field of each TCP option (kind, length, values),
    the padding, or an element as the layer's `field_spans` gives it."""
    fixed = layer.spec.fixed_length
    parts: list[OptionPart] = []
    for name, start, end in layer.field_spans(0, len(data)):
        if start < fixed or end <= start:
            continue
        match = _INDEXED.match(name)
        values = layer.fields().get(match.group(1)) if match else None
        element = values[int(match.group(2))] if match and isinstance(values, tuple) else None
        if is_option(element):
            parts += option_parts(element, int(match.group(2)), start, end)  # type: ignore[union-attr]
        else:
            title = "padding" if name.endswith("padding") else name
            parts.append(OptionPart(name, title, span_value(layer, name, data, start, end), start, end))
    return parts


def _value_text(field: Field, value: Any) -> str:
    return "(computed)" if value is None else brief(value, field, 40)


def _merge_full_rows(pieces: list[tuple[int, int, int]]) -> list[tuple[int, int, int, int]]:
    """(row, column, width, height) boxes: consecutive whole rows become one taller box."""
    boxes: list[tuple[int, int, int, int]] = []
    for row, column, width in pieces:
        if boxes and column == 0 and width == ROW_BITS and boxes[-1][1] == 0 and boxes[-1][2] == ROW_BITS:
            first, _, _, height = boxes[-1]
            boxes[-1] = (first, 0, ROW_BITS, height + 1)
        else:
            boxes.append((row, column, width, 1))
    return boxes


def _dashed(ax: Any, pieces: list[tuple[int, int, int]], gid: str, text: str, colour: str) -> None:
    """A variable-length part: dashed boxes over `pieces`, labelled once in the middle."""
    from matplotlib.patches import Rectangle

    for row, column, width, height in _merge_full_rows(pieces):
        ax.add_patch(Rectangle((column, row), width, height, facecolor=colour, edgecolor="#222222", linewidth=1.0,
                               linestyle="--", alpha=0.6, gid=gid))
    first, last = pieces[0][0], pieces[-1][0]
    ax.text(ROW_BITS / 2, (first + last + 1) / 2, text, ha="center", va="center", fontsize=_SIZE, style="italic",
            gid=f"label:{gid.removeprefix('field:')}")
