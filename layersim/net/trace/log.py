"""The trace: every decision a node makes, with simulated time, node, interface, packet id and typed details.

Events are kept as plain tuples of plain values while the simulation runs (CPython's garbage collector stops
tracking an exact tuple of untracked values, never a tuple subclass or a dataclass), and become `TraceEvent`
views, with their typed details, when read. A level decides what is kept: "all" (every event with its bytes),
"events" (every event, no bytes), "drops" (only drops, with bytes) or "none"; `limit` keeps only the newest N.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from layersim.errors import LayersimError
from layersim.net.trace.details import (
    DropReason,
    EventKind,
    Send,
    build_details,
    details_dict,
    note_text,
)

__all__ = ["LEVELS", "DropReason", "EventKind", "Hop", "Trace", "TraceEvent", "hops"]

LEVELS = ("all", "events", "drops", "none")
_KIND_BY_VALUE = MappingProxyType({kind.value: kind for kind in EventKind})
_DROP = EventKind.DROP.value
_FORWARD = EventKind.FORWARD.value


class TraceEvent(tuple):
    """One thing that happened: when, where, what, which packet (`packet_id`), the bytes involved (an Ethernet
    frame for SEND and RECEIVE, an IPv4 packet for DELIVER and most DROPs) and typed `info`."""

    __slots__ = ()

    time_ns: int = property(itemgetter(0), doc="Simulated time in nanoseconds.")  # type: ignore[assignment]
    node: str = property(itemgetter(1), doc="The node's name.")  # type: ignore[assignment]
    interface: str | None = property(itemgetter(2), doc="The interface's name, if any.")  # type: ignore[assignment]
    frame: bytes | None = property(itemgetter(4), doc="The bytes involved, if kept.")  # type: ignore[assignment]
    packet_id: int | None = property(itemgetter(5), doc="The packet this is about, across hops.")  # type: ignore[assignment]

    @property
    def kind(self) -> EventKind:
        """What happened."""
        return _KIND_BY_VALUE[self[3]]

    @property
    def info(self) -> Any:
        """The typed details: one small dataclass per kind (see layersim.net.trace.details)."""
        return build_details(self[3], self[6])

    @property
    def details(self) -> dict[str, Any]:
        """The details as a flat dict (without empty entries)."""
        return details_dict(self.info)

    @property
    def reason(self) -> DropReason | None:
        """The DropReason of a DROP event."""
        return self.info.reason if self[3] == _DROP else None

    @property
    def comment(self) -> str | None:
        """The capture comment of a SEND event."""
        info = self.info
        return note_text(self.node, info.note) if isinstance(info, Send) else None

    def __repr__(self) -> str:
        return (f"TraceEvent(time_ns={self.time_ns}, node={self.node!r}, interface={self.interface!r}, "
                f"kind={self.kind}, packet_id={self.packet_id}, details={self.details!r})")

    def __str__(self) -> str:
        where = f"{self.node}:{self.interface}" if self.interface else self.node
        extra = ", ".join(f"{k}={v.value if isinstance(v, DropReason) else v}" for k, v in self.details.items())
        return f"{self.time_ns / 1e6:12.6f} ms  {where:<14} {self[3]:<12} {extra}"


class Trace:
    """The network's record of events, in the order they happened, at a chosen level."""

    def __init__(self, level: str = "all", limit: int | None = None) -> None:
        if level not in LEVELS:
            raise LayersimError(f"trace level {level!r} is not one of {', '.join(LEVELS)}")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise LayersimError(f"trace limit {limit!r} must be a positive number of events")
        self.level = level
        self.limit = limit
        self.keep_events = level in ("all", "events")  # anything but drops is recorded
        self.keep_drops = level != "none"
        self.keep_frames = level in ("all", "drops")
        self._rows: list[tuple[Any, ...]] | deque[tuple[Any, ...]] = [] if limit is None else deque(maxlen=limit)
        self._events: list[TraceEvent] = []
        self.recorded = 0  # every event recorded, including those a limit has since let go
        self._next_packet = 0

    def new_packet_id(self) -> int:
        """A fresh id for a packet a node creates; it follows the packet across every hop."""
        self._next_packet += 1
        return self._next_packet

    def add(self, time_ns: int, node: str, interface: str | None, kind: EventKind, frame: bytes | None,
            packet_id: int | None, values: tuple[Any, ...] = ()) -> None:
        """Record one event: `values` are the plain values of the kind's details dataclass, in field order."""
        kind_value = kind._value_  # the plain attribute: Enum.value is a descriptor, slow on the per-frame path
        if kind_value == _DROP:
            if not self.keep_drops:
                return
        elif not self.keep_events:
            return
        if not self.keep_frames:
            frame = None
        self.recorded += 1
        self._rows.append((time_ns, node, interface, kind_value, frame, packet_id, values))

    @property
    def events(self) -> list[TraceEvent]:
        """The events kept, in order."""
        if self.limit is not None:
            return [tuple.__new__(TraceEvent, row) for row in self._rows]
        if len(self._events) < len(self._rows):
            self._events.extend(tuple.__new__(TraceEvent, row) for row in self._rows[len(self._events):])
        return self._events

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self._rows)

    def select(self, kind: EventKind | None = None, node: str | None = None,
               interface: str | None = None, packet_id: int | None = None) -> list[TraceEvent]:
        """The events matching every given filter."""
        value = kind.value if kind is not None else None
        return [e for e in self.events if (value is None or e[3] == value) and (node is None or e[1] == node)
                and (interface is None or e[2] == interface) and (packet_id is None or e[5] == packet_id)]

    def drops(self, reason: DropReason | None = None) -> list[TraceEvent]:
        """DROP events, optionally only those with one reason."""
        return [e for e in self.events if e[3] == _DROP and (reason is None or e.reason is reason)]

    def packet_id_of(self, packet: Any) -> int | None:
        """The id of the packet whose bytes (a frame or an IPv4 packet, or a Packet) first appear in the trace."""
        if isinstance(packet, int):
            return packet
        data = bytes(packet if isinstance(packet, bytes | bytearray) else packet.encode())
        for row in self._rows:
            frame = row[4]
            if frame is not None and row[5] is not None and (frame == data or frame[14:] == data
                                                              or frame == data[14:]):
                return row[5]
        return None

    def hops(self, packet: Any) -> list[Hop]:
        """Each node one packet crossed, with the fields that changed there (see `hops`)."""
        return hops(self, packet)

    def _repr_html_(self) -> str:
        """The trace as an HTML table in Jupyter (the first 200 events)."""
        from layersim.net.trace.html import trace_html

        return trace_html(self)


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
    packet_id: int | None = None

    def __str__(self) -> str:
        where = " -> ".join(x for x in (self.in_interface, self.out_interface) if x)
        changed = ", ".join(str(c) for c in self.changes) or "nothing changed"
        return f"{self.node} ({where}): {self.outcome}; {changed}"


_HOP_KINDS = frozenset({EventKind.SEND.value, EventKind.RECEIVE.value, EventKind.DELIVER.value, _DROP})


def hops(trace: Trace, packet: Any) -> list[Hop]:
    """The nodes one packet crossed, in order, with the fields each changed.

    `packet` is a packet id, or the packet's bytes (frame or IPv4) or Packet as some node sent or received it;
    the packet is followed by its id, so nothing is decoded except to show what each node changed.
    """
    from layersim.wire.fielddiff import diff
    from layersim.wire.packet import decode

    packet_id = trace.packet_id_of(packet)
    if packet_id is None:
        return []
    result: list[Hop] = []
    arrival: dict[str, TraceEvent] = {}
    events = trace.select(packet_id=packet_id)
    forwarders = {e.node for e in events if e[3] == _FORWARD}
    for event in events:
        if event[3] not in _HOP_KINDS:
            continue
        kind = event.kind
        came = arrival.get(event.node)
        if kind is EventKind.RECEIVE:
            arrival[event.node] = event
        elif kind is EventKind.SEND:
            changes: tuple[Any, ...] = ()
            if came is not None and came.frame is not None and event.frame is not None:
                changes = tuple(diff(decode(came.frame), decode(event.frame)))
            outcome = "sent" if came is None else ("forwarded" if event.node in forwarders or changes else "switched")
            result.append(Hop(event.node, came.interface if came else None, event.interface,
                              came.time_ns if came else None, event.time_ns, changes, outcome, packet_id))
            # The arrival stays: a switch flooding the frame sends it on several ports, each a hop of its own.
        elif came is not None:
            outcome = "delivered" if kind is EventKind.DELIVER else f"dropped: {event.reason.value}"  # type: ignore[union-attr]
            result.append(Hop(event.node, came.interface, None, came.time_ns, None, (), outcome, packet_id))
            arrival.pop(event.node, None)
        elif kind is EventKind.DROP:
            outcome = f"dropped: {event.reason.value}"  # type: ignore[union-attr]
            last = result[-1] if result else None
            if last is not None and last.node == event.node and last.outcome == "delivered":
                result[-1] = Hop(last.node, last.in_interface, last.out_interface, last.arrived_ns, last.left_ns,
                                 last.changes, outcome, packet_id)  # reached the transport, which had no taker
            elif event.reason is DropReason.BAD_FCS:  # it arrived damaged, and the NIC discarded it on the way in
                result.append(Hop(event.node, event.interface, None, event.time_ns, None, (), outcome, packet_id))
            else:  # lost after it was sent: on the link, in a queue, waiting for ARP
                result.append(Hop(event.node, None, event.interface, None, None, (), outcome, packet_id))
    return result

