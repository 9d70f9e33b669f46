"""The base of every simulated device: a name, interfaces, its own random generator, and trace helpers."""

from __future__ import annotations

import random
from ipaddress import IPv4Interface
from typing import TYPE_CHECKING, Any

from layersim.errors import LayersimError
from layersim.net.engine.interface import Interface
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.addresses import MAC

if TYPE_CHECKING:
    from layersim.net.engine.runtime import Runtime

__all__ = ["Node"]


class Node:
    """A device in a Network; subclasses decide what to do with each frame that arrives."""

    kind = "node"

    def __init__(self, runtime: Runtime, name: str, rng: random.Random) -> None:
        """`runtime`: the network's clock, trace and run loop, which the node is given rather than reaches for."""
        self.runtime = runtime
        self.clock = runtime.clock
        self.trace = runtime.trace
        self.name = name
        self.rng = rng
        self.interfaces: dict[str, Interface] = {}

    def add_interface(self, name: str, mac: MAC | str, address: IPv4Interface | str | None = None) -> Interface:
        """Give the node a NIC (its address as "10.0.1.1/24")."""
        if name in self.interfaces:
            raise LayersimError(f"{self.name} already has an interface {name!r}")
        iface = Interface(self, name, MAC(mac), IPv4Interface(address) if isinstance(address, str) else address)
        self.interfaces[name] = iface
        return iface

    def interface(self, name: str) -> Interface:
        """The interface called `name`, with an error listing the real ones otherwise."""
        try:
            return self.interfaces[name]
        except KeyError:
            have = ", ".join(self.interfaces) or "no interfaces"
            raise LayersimError(f"{self.name} has no interface {name!r} (it has {have})") from None

    def on_frame(self, iface: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None:
        """Handle a frame that arrived on `iface` (`packet_id`: the trace id of the packet it carries;
        `checksum_unnecessary`: its transport checksum is known good, see `Link`)."""
        raise NotImplementedError

    # Trace helpers ------------------------------------------------------------------------------------
    def event(self, kind: EventKind, iface: Interface | None, frame: bytes | None = None,
              packet_id: int | None = None, values: tuple[Any, ...] = ()) -> None:
        """Record a trace event at the current simulated time (`values`: the kind's details, in field order)."""
        self.trace.add(self.clock.now, self.name, iface.name if iface else None, kind, frame,
                               packet_id, values)

    def drop(self, iface: Interface | None, frame: bytes | None, reason: DropReason, packet_id: int | None = None,
             **facts: Any) -> None:
        """Record that a frame or packet was discarded, and why (facts: plain values the node saw)."""
        self.trace.add(self.clock.now, self.name, iface.name if iface else None, EventKind.DROP,
                               frame, packet_id, (reason.value, tuple(facts.items())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {', '.join(self.interfaces)})"
