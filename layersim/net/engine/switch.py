"""A learning Ethernet switch (IEEE 802.1D transparent bridging): MAC table with ageing, flooding of unknowns."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from layersim.net.engine.interface import Interface
from layersim.net.engine.node import Node
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire.addresses import MAC

if TYPE_CHECKING:
    from layersim.net.engine.runtime import Runtime

__all__ = ["Switch"]


class Switch(Node):
    """Forwards frames by destination MAC, unchanged, learning source MACs per port."""

    kind = "switch"

    def __init__(self, runtime: Runtime, name: str, rng: random.Random, *, ageing_ns: int = 300_000_000_000) -> None:
        super().__init__(runtime, name, rng)
        self.ageing_ns = ageing_ns
        self.table: dict[bytes, tuple[Interface, int]] = {}

    def on_frame(self, iface: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None:
        """Learn the source, then forward to the known port or flood to all others."""
        now = self.clock.now
        self.event(EventKind.RECEIVE, iface, frame, packet_id)
        if len(frame) < 14:
            self.drop(iface, frame, DropReason.MALFORMED, packet_id, error="shorter than an Ethernet header")
            return
        dst, src = frame[0:6], frame[6:12]
        if not src[0] & 1:
            self.table[src] = (iface, now + self.ageing_ns)
        entry = self.table.get(dst)
        if entry is not None and entry[1] <= now:
            del self.table[dst]
            entry = None
        if entry is not None:
            port = entry[0]
            if port is iface:
                self.drop(iface, frame, DropReason.NOT_FOR_ME, packet_id,
                          detail="destination is on the arrival port")
                return
            self._send(port, frame, packet_id, ("switched", port.name), checksum_unnecessary)
            return
        for port in self.interfaces.values():
            if port is not iface and port.link is not None:
                self._send(port, frame, packet_id, ("flooded", port.name, str(MAC(dst))), checksum_unnecessary)

    def _send(self, port: Interface, frame: bytes, packet_id: int | None, note: tuple[str, ...],
              checksum_unnecessary: bool) -> None:
        self.event(EventKind.SEND, port, frame, packet_id, (note,))
        port.send(frame, packet_id, note, checksum_unnecessary)  # a switch leaves the bytes as they are

    def mac_table(self) -> dict[str, str]:
        """Learned MAC -> port name, for display and tests."""
        now = self.clock.now
        return {str(MAC(mac)): port.name for mac, (port, expires) in self.table.items() if expires > now}
