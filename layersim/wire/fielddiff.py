"""Field-by-field differences between two packets, e.g. what a router changed: MACs, TTL, header checksum."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layersim.wire.fields import Field
from layersim.wire.packet import Packet
from layersim.wire.valuefmt import brief, concrete

__all__ = ["FieldChange", "diff", "format_diff"]

LAYER = "(layer)"  # the `field` of a change where the layers themselves differ (type, or one is missing)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference: field `field` of layer number `index` (named `layer`) went from `old` to `new`.

    For a position where the layer types differ or only one packet has a layer, `field` is "(layer)" and
    old/new are the layer names (None where a packet has no layer there).
    """

    layer: str
    index: int
    field: str
    old: Any
    new: Any
    spec_field: Field | None = field(default=None, compare=False, repr=False)  # for display formatting only

    def __str__(self) -> str:
        if self.field == LAYER:
            return f"layer {self.index}: {self.old or '(none)'} -> {self.new or '(none)'}"
        old = brief(self.old, self.spec_field, 40)
        new = brief(self.new, self.spec_field, 40)
        return f"{self.layer}.{self.field}: {old} -> {new}"


def diff(a: Packet, b: Packet) -> list[FieldChange]:
    """The fields that differ between `a` and `b`, comparing layers position by position."""
    a_layers, b_layers = concrete(a).layers, concrete(b).layers
    changes: list[FieldChange] = []
    for index in range(max(len(a_layers), len(b_layers))):
        old = a_layers[index] if index < len(a_layers) else None
        new = b_layers[index] if index < len(b_layers) else None
        if old is None or new is None or type(old) is not type(new):
            name = (old if old is not None else new).name  # type: ignore[union-attr]
            changes.append(FieldChange(name, index, LAYER, old.name if old is not None else None,
                                       new.name if new is not None else None))
            continue
        for (spec_field, before), (_, after) in zip(old.items(), new.items(), strict=True):
            if before != after:
                changes.append(FieldChange(old.name, index, spec_field.name, before, after, spec_field))
    return changes


def format_diff(changes: list[FieldChange]) -> str:
    """One change per line, or "no differences"."""
    return "\n".join(str(change) for change in changes) if changes else "no differences"
