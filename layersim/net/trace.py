"""Trace events: every decision a node makes, with simulated time, node and interface, and queries over them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import Enum
from operator import itemgetter
from types import MappingProxyType
from typing import Any

__all__ = ["DropReason", "EventKind", "Hop", "Trace", "TraceEvent", "hops", "packet_identity"]


class EventKind(Enum):
    """What happened."""

    SEND = "send"  # a frame left an interface
    RECEIVE = "receive"  # a frame arrived on an interface
    DELIVER = "deliver"  # a packet reached its destination's protocol handler
    FORWARD = "forward"  # a router passed a packet on
    ROUTE = "route"  # a route was chosen
    ARP_MISS = "arp_miss"  # no MAC for the next hop yet: request sent, packet queued
    ARP_RESOLVED = "arp_resolved"  # a MAC learned; queued packets go out
    ICMP_ERROR = "icmp_error"  # an ICMP error was sent about a packet
    FRAGMENT = "fragment"  # a packet was split to fit the next link's MTU
    DROP = "drop"  # a frame or packet was discarded (details["reason"] is a DropReason)
    LINK = "link"  # a link fault (duplicate, reorder, corrupt) was applied
    APP = "app"  # an application's own event (ping reply, datagram received)


class DropReason(Enum):
    """Every way a frame or packet can be discarded."""

    TTL_EXCEEDED = "ttl_exceeded"
    NO_ROUTE = "no_route"
    ARP_FAILED = "arp_failed"
    BAD_CHECKSUM = "bad_checksum"
    NOT_FOR_ME = "not_for_me"
    MALFORMED = "malformed"
    QUEUE_FULL = "queue_full"
    LINK_LOSS = "link_loss"
    MTU_EXCEEDED = "mtu_exceeded"
    FRAGMENTATION_NEEDED = "fragmentation_needed"
    ARP_QUEUE_FULL = "arp_queue_full"
    NO_LISTENER = "no_listener"
    UNSUPPORTED = "unsupported"
    LINK_DOWN = "link_down"
    RATE_LIMITED = "rate_limited"
    REASSEMBLY_TIMEOUT = "reassembly_timeout"


_KIND_BY_VALUE = MappingProxyType({kind.value: kind for kind in EventKind})


class TraceEvent(tuple):
    """One thing that happened: when, where, what, and the bytes involved (an Ethernet frame for SEND and
    RECEIVE, an IPv4 packet for DELIVER and most DROPs) if any.

    Stored as a plain tuple of plain values (the kind as its string value, details as (key, value) pairs of
    strings and numbers on the per-hop events), which CPython's garbage collector stops tracking: a run keeps
    every event, and tracked events made each full collection walk the whole trace.
    """

    __slots__ = ()

    def __new__(cls, time_ns: int, node: str, interface: str | None, kind: EventKind,
                frame: bytes | None = None, details: dict[str, Any] | None = None) -> TraceEvent:
        return tuple.__new__(cls, (time_ns, node, interface, kind.value, frame, tuple(details.items()) if details
                                   else ()))

    time_ns: int = property(itemgetter(0), doc="Simulated time in nanoseconds.")  # type: ignore[assignment]
    node: str = property(itemgetter(1), doc="The node's name.")  # type: ignore[assignment]
    interface: str | None = property(itemgetter(2), doc="The interface's name, if any.")  # type: ignore[assignment]
    frame: bytes | None = property(itemgetter(4), doc="The bytes involved, if any.")  # type: ignore[assignment]

    @property
    def details(self) -> dict[str, Any]:
        """What else was decided (kept as (key, value) pairs, see the class docstring)."""
        return dict(self[5])

    @property
    def kind(self) -> EventKind:
        """What happened."""
        return _KIND_BY_VALUE[self[3]]

    @property
    def reason(self) -> DropReason | None:
        """The DropReason of a DROP event."""
        return next((value for key, value in self[5] if key == "reason"), None)

    def __repr__(self) -> str:
        return (f"TraceEvent(time_ns={self.time_ns}, node={self.node!r}, interface={self.interface!r}, "
                f"kind={self.kind}, details={self.details!r})")

    def __str__(self) -> str:
        where = f"{self.node}:{self.interface}" if self.interface else self.node
        extra = ", ".join(f"{k}={_short(v)}" for k, v in self.details.items())
        return f"{self.time_ns / 1e6:12.6f} ms  {where:<14} {self[3]:<12} {extra}"


def _short(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)


class Trace:
    """The network's record of events, in the order they happened.

    Events are kept as plain tuples while the simulation runs: CPython's garbage collector stops tracking an
    exact tuple of untracked values, but never a tuple subclass, so a long trace of TraceEvent objects made every
    full collection walk the whole run. They become TraceEvent views when read.
    """

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self._events: list[TraceEvent] = []

    def add(self, time_ns: int, node: str, interface: str | None, kind: EventKind, frame: bytes | None,
            details: dict[str, Any]) -> None:
        """Record one event (the per-hop path: only tuples are kept)."""
        self._rows.append((time_ns, node, interface, kind.value, frame, tuple(details.items()) if details else ()))

    @property
    def events(self) -> list[TraceEvent]:
        """Every event so far, in order."""
        if len(self._events) < len(self._rows):
            self._events.extend(tuple.__new__(TraceEvent, row) for row in self._rows[len(self._events):])
        return self._events

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self._rows)

    def select(self, kind: EventKind | None = None, node: str | None = None,
               interface: str | None = None) -> list[TraceEvent]:
        """The events matching every given filter."""
        return [e for e in self.events if (kind is None or e.kind is kind) and (node is None or e.node == node)
                and (interface is None or e.interface == interface)]

    def drops(self, reason: DropReason | None = None) -> list[TraceEvent]:
        """DROP events, optionally only those with one reason."""
        return [e for e in self.events if e.kind is EventKind.DROP and (reason is None or e.reason is reason)]

    def hops(self, packet: Any) -> list[Hop]:
        """Each node one packet crossed, with the fields that changed there (see `hops`)."""
        return hops(self, packet)


@dataclass(frozen=True, slots=True)
class Hop:
    """One node a packet crossed: where it came in and went out, and which fields that node changed."""

    node: str
    in_interface: str | None
    out_interface: str | None
    arrived_ns: int | None
    left_ns: int | None
    changes: tuple[Any, ...]  # FieldChange values from layersim.wire.fielddiff
    outcome: str  # "sent", "forwarded", "switched", "delivered", or "dropped: <reason>"

    def __str__(self) -> str:
        where = " -> ".join(x for x in (self.in_interface, self.out_interface) if x)
        changed = ", ".join(str(c) for c in self.changes) or "nothing changed"
        return f"{self.node} ({where}): {self.outcome}; {changed}"


def packet_identity(data: bytes) -> tuple[Any, ...] | None:
    """What stays the same for one IPv4 packet along its path: addresses, id, protocol and its payload bytes."""
    from layersim.errors import DecodeError
    from layersim.wire.ipv4 import IPv4
    from layersim.wire.packet import decode

    try:
        ip = decode(data, None if _is_frame(data) else IPv4, until=IPv4, truncated=True)[IPv4]
        is_frame = _is_frame(data)
    except (DecodeError, KeyError):
        return None
    start = (14 if is_frame else 0) + ip.header_length
    return (ip.src, ip.dst, ip.identification, int(ip.protocol or 0), ip.fragment_offset,
            data[start:start + ip.total_length - ip.header_length])


def _is_frame(data: bytes) -> bool:
    """Whether trace bytes are an Ethernet frame rather than a bare IPv4 packet (events hold either)."""
    from layersim.wire.checksum import internet_checksum

    if len(data) >= 20 and data[0] >> 4 == 4 and int.from_bytes(data[2:4], "big") == len(data):
        header_length = (data[0] & 0xF) * 4
        if header_length >= 20 and not internet_checksum(data[:header_length]):
            return False  # a whole IPv4 packet with a valid header
    return len(data) >= 14 and data[12:14] == b"\x08\x00"


def hops(trace: Trace, packet: Any) -> list[Hop]:
    """The nodes one packet crossed, in order, with the fields each changed (`packet`: bytes or a Packet)."""
    from layersim.wire.fielddiff import diff
    from layersim.wire.packet import decode

    data = packet if isinstance(packet, bytes | bytearray) else packet.encode()
    identity = packet_identity(bytes(data))
    if identity is None:
        return []
    result: list[Hop] = []
    arrival: dict[str, TraceEvent] = {}
    for event in trace.events:
        if event.frame is None or event.kind not in (EventKind.SEND, EventKind.RECEIVE, EventKind.DELIVER,
                                                     EventKind.DROP):
            continue
        if packet_identity(event.frame) != identity:
            continue
        came = arrival.get(event.node)
        if event.kind is EventKind.RECEIVE:
            arrival[event.node] = event
        elif event.kind is EventKind.SEND:
            changes = tuple(diff(decode(came.frame), decode(event.frame))) if came is not None else ()
            outcome = "sent" if came is None else ("switched" if not changes else "forwarded")
            result.append(Hop(event.node, came.interface if came else None, event.interface,
                              came.time_ns if came else None, event.time_ns, changes, outcome))
            # The arrival stays: a switch flooding the frame sends it on several ports, each a hop of its own.
        elif came is not None:
            outcome = "delivered" if event.kind is EventKind.DELIVER else f"dropped: {_short(event.reason)}"
            result.append(Hop(event.node, came.interface, None, came.time_ns, None, (), outcome))
            arrival.pop(event.node, None)
        elif event.kind is EventKind.DROP:
            outcome = f"dropped: {_short(event.reason)}"
            last = result[-1] if result else None
            if last is not None and last.node == event.node and last.outcome == "delivered":
                result[-1] = replace(last, outcome=outcome)  # reached the transport, which had no taker
            else:  # lost after it was sent: on the link, in a queue, waiting for ARP
                result.append(Hop(event.node, None, event.interface, None, None, (), outcome))
    return result
