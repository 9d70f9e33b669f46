"""Network interfaces: a name, a MAC, an IPv4 address with its prefix, IPv6 addresses, a link, and capture taps."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Interface, IPv6Interface
from typing import TYPE_CHECKING, Any, Protocol

from layersim.errors import LayersimError
from layersim.net.trace.details import DropReason
from layersim.wire.addresses import MAC

if TYPE_CHECKING:
    from layersim.net.engine.clock import Clock

__all__ = ["Interface", "Owner", "Tap", "Wire"]


class Owner(Protocol):
    """What an interface needs of the node it belongs to (engine.node.Node is one)."""

    name: str
    kind: str
    clock: Clock

    def on_frame(self, iface: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None: ...

    def drop(self, iface: Interface | None, frame: bytes | None, reason: DropReason, packet_id: int | None = None,
             **facts: Any) -> None: ...


class Wire(Protocol):
    """What an interface needs of the link it is attached to (engine.link.Link is one)."""

    mtu: int

    def transmit(self, sender: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None: ...


# A capture tap: (time_ns, interface, frame, outbound, note, packet_id) - the note (see trace_details) becomes the
# comment, the packet id (the trace's, the same at every hop; None for a frame without one) the pcapng epb_packetid.
Tap = Callable[[int, "Interface", bytes, bool, "tuple[Any, ...] | None", "int | None"], None]


class Interface:
    """One NIC of a node."""

    def __init__(self, node: Owner, name: str, mac: MAC, address: IPv4Interface | None = None) -> None:
        self.node = node
        self.name = name
        self.mac = mac
        self.address = address  # set when made, never changed (nodes cache what they derive from it)
        self.address_int = int(address.ip) if address is not None else None  # the address as the fast paths use it
        self.addresses6: list[IPv6Interface] = []  # link-local first, then global ones (net/ipv6 fills it)
        self.link: Wire | None = None
        self.taps: list[Tap] = []

    @property
    def full_name(self) -> str:
        """"node:interface", the name captures give it."""
        return f"{self.node.name}:{self.name}"

    @property
    def mtu(self) -> int:
        """The MTU of the attached link (1500 when unlinked)."""
        return self.link.mtu if self.link is not None else 1500

    def send(self, frame: bytes, packet_id: int | None = None, note: tuple[Any, ...] | None = None,
             checksum_unnecessary: bool = False) -> None:
        """Put a frame on the link (taps see it first, as tcpdump would); `checksum_unnecessary`: see `Link`."""
        link = self.link
        if link is None:
            raise LayersimError(f"interface {self.full_name} is not linked to anything")
        for tap in self.taps:
            tap(self.node.clock.now, self, frame, True, note, packet_id)
        link.transmit(self, frame, packet_id, checksum_unnecessary)

    def deliver(self, frame: bytes, packet_id: int | None = None, checksum_unnecessary: bool = False) -> None:
        """A frame arrives from the link: taps see it, then the node handles it."""
        for tap in self.taps:
            tap(self.node.clock.now, self, frame, False, None, packet_id)
        self.node.on_frame(self, frame, packet_id, checksum_unnecessary)

    def discard_bad_fcs(self, frame: bytes, packet_id: int | None = None, checksum_unnecessary: bool = False) -> None:
        """A frame the link corrupted arrives: its FCS does not match, so the NIC drops it (DropReason.BAD_FCS).

        Taps do not see it: a real NIC discards a bad-FCS frame before the host's capture does (unless told to keep
        it, e.g. Linux's ethtool rx-all), so this interface's capture shows nothing; the sender's shows the frame
        as sent. The node records the drop, with the damaged bytes, and never decodes them."""
        self.node.drop(self, frame, DropReason.BAD_FCS, packet_id)

    def __repr__(self) -> str:
        return f"Interface({self.full_name}, {self.mac}, {self.address})"
