"""Hook points where Linux's netfilter has them: a filter or a NAT sees each packet and accepts, drops or rewrites.

A hook is a function of one `HookPacket`. It returns `ACCEPT` (or None) to let the packet go on as it is (edits made
in place to `packet.data` included), `REWRITTEN` to say it changed the bytes in place (the trace records it),
`Drop(reason)` to discard it, or new bytes to replace the packet. With no hook installed at a point, the node pays
one truth test of an empty list there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from layersim.errors import LayersimError
from layersim.net.trace.details import DropReason

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface
    from layersim.wire.ipv4 import IPv4

__all__ = ["ACCEPT", "REWRITTEN", "Drop", "Hook", "HookPacket", "HookPoint", "Hooks"]


class HookPoint(Enum):
    """Where in a node's IPv4 path a hook runs (netfilter's five points)."""

    PREROUTING = "prerouting"  # every IPv4 packet that arrives, before the routing decision
    INPUT = "input"  # packets for this node, before its protocols see them
    FORWARD = "forward"  # packets this router passes on, after the routing decision and the TTL decrement
    OUTPUT = "output"  # packets this node makes, after their routing decision
    POSTROUTING = "postrouting"  # every IPv4 packet about to leave, before fragmentation and ARP


class _Verdict(Enum):
    ACCEPT = "accept"
    REWRITTEN = "rewritten"


ACCEPT = _Verdict.ACCEPT
REWRITTEN = _Verdict.REWRITTEN


@dataclass(frozen=True, slots=True)
class Drop:
    """A hook's verdict: discard the packet, recorded with `reason` (FILTERED by default)."""

    reason: DropReason = DropReason.FILTERED
    detail: str | None = None


class HookPacket:
    """What a hook sees: the point, the IPv4 packet's bytes (editable in place), its interfaces and the time."""

    __slots__ = ("data", "in_iface", "now", "out_iface", "point")

    def __init__(self, point: HookPoint, data: bytearray, in_iface: Interface | None, out_iface: Interface | None,
                 now: int) -> None:
        self.point = point
        self.data = data
        self.in_iface = in_iface
        self.out_iface = out_iface
        self.now = now

    @property
    def ip(self) -> IPv4:
        """The IPv4 header, decoded."""
        from layersim.wire.ipv4 import IPv4
        from layersim.wire.packet import DecodeState

        return IPv4.decode_layer(bytes(self.data), 0, len(self.data), DecodeState())[0]  # type: ignore[return-value]

    @property
    def protocol(self) -> int:
        """The IPv4 protocol number."""
        return self.data[9]

    @property
    def ports(self) -> tuple[int, int] | None:
        """(source, destination) port of a TCP or UDP packet that is not a later fragment, else None."""
        data = self.data
        if data[9] not in (6, 17) or (int.from_bytes(data[6:8], "big") & 0x1FFF):
            return None
        start = (data[0] & 0xF) * 4
        if len(data) < start + 4:
            return None
        return int.from_bytes(data[start:start + 2], "big"), int.from_bytes(data[start + 2:start + 4], "big")


Hook = Callable[[HookPacket], Any]


class Hooks:
    """The hooks of one node, by point, in the order they were added."""

    def __init__(self) -> None:
        self.by_point: dict[HookPoint, list[tuple[str, Hook]]] = {point: [] for point in HookPoint}
        self.installed = 0  # hooks installed at any point: the per-frame paths test only this number

    def add(self, point: HookPoint | str, hook: Hook, name: str | None = None) -> None:
        """Run `hook` at `point` after the hooks already there."""
        self.by_point[_point(point)].append((name or getattr(hook, "__name__", "hook"), hook))
        self.installed += 1

    def remove(self, point: HookPoint | str, hook: Hook) -> None:
        """Stop running `hook` at `point`."""
        chain = self.by_point[_point(point)]
        for i, (_, fn) in enumerate(chain):
            if fn is hook:
                del chain[i]
                self.installed -= 1
                return
        raise LayersimError(f"no such hook at {_point(point).value}")

    def __bool__(self) -> bool:
        return self.installed > 0


def _point(point: HookPoint | str) -> HookPoint:
    if isinstance(point, HookPoint):
        return point
    try:
        return HookPoint(point.lower())
    except ValueError:
        raise LayersimError(f"hook point {point!r} is not one of "
                            f"{', '.join(p.value for p in HookPoint)}") from None
