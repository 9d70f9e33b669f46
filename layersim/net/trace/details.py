"""Typed details of trace events (one small dataclass per kind) and the notes that become capture comments.

On the per-frame path a node records plain tuples of plain values; the dataclasses are built only when someone
reads an event, so a long run keeps no per-event objects that the garbage collector must walk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum
from ipaddress import IPv4Address
from typing import Any

__all__ = [
    "DETAILS",
    "AppNote",
    "ArpMiss",
    "ArpResolved",
    "Deliver",
    "DropReason",
    "Dropped",
    "EventKind",
    "Forward",
    "Fragmented",
    "HookVerdict",
    "IcmpErrorSent",
    "LinkFault",
    "Note",
    "NoteAddress",
    "NoteFlags",
    "PathMtu",
    "ProcessNote",
    "Receive",
    "Send",
    "TcpNote",
    "flag_text",
    "note_text",
]


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
    HOOK = "hook"  # a hook rewrote a packet (a drop by a hook is a DROP)
    PROCESS = "process"  # a simulated process started, ended or failed
    PMTU = "pmtu"  # a host learned a smaller path MTU (RFC 1191)
    TCP = "tcp"  # a TCP connection's state change, retransmission, cwnd/RTT sample
    NAT = "nat"  # a NAT mapping was created, expired or reset


class DropReason(Enum):
    """Every way a frame or packet can be discarded."""

    TTL_EXCEEDED = "ttl_exceeded"
    NO_ROUTE = "no_route"
    ARP_FAILED = "arp_failed"
    BAD_CHECKSUM = "bad_checksum"
    BAD_FCS = "bad_fcs"  # the Ethernet FCS (CRC-32) did not match: a link corrupted the frame
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
    FILTERED = "filtered"  # a hook (a firewall rule) refused the packet
    NAT_NO_MAPPING = "nat_no_mapping"  # unsolicited inbound traffic at a NAT
    NAT_EXHAUSTED = "nat_exhausted"  # no free port left for a new NAT mapping
    SOCKET_BUFFER_FULL = "socket_buffer_full"  # a socket's receive queue was full


_REASONS = {reason.value: reason for reason in DropReason}

# Capture comments, formatted only when a capture or a reader asks: (template, *values) -> "node: text".
_TEMPLATES = {
    "sent": "sent via {0}",
    "forward": "forwarded via {0}, TTL {1}->{2}",
    "forward_fragment": "forwarded via {0}, TTL {1}->{2}, fragment",
    "fragment": "{0}, fragment",
    "arp_request": "who has {0}? (attempt {1})",
    "arp_reply": "{0} is at {1}",
    "icmp_error": "ICMP type {0} code {1} to {2}",
    "echo_reply": "echo reply to {0}",
    "ping": "ping {0} seq {1}",
    "udp": "UDP {0} -> {1}:{2}",
    "tcp": "TCP {0} -> {1}:{2} [{3}]",
    "switched": "switched to {0}",
    "flooded": "flooded to {0} ({1} unknown)",
    "text": "{0}",
}

Note = tuple  # (template name, *values): see _TEMPLATES; values of fixed types per template (captures cache texts)
_LETTERS = ((0x02, "S"), (0x10, "."), (0x01, "F"), (0x04, "R"), (0x08, "P"))


def flag_text(flags: int) -> str:
    """tcpdump's flag letters: S, S., P., F., R, ..."""
    text = "".join(letter for bit, letter in _LETTERS if flags & bit and letter != ".")
    return (text + "." if flags & 0x10 else text) or "none"


class NoteAddress(int):
    """An IPv4 address in a note: an int (cheap to make and to hash), dotted only when the note is formatted."""

    __slots__ = ()

    def __str__(self) -> str:
        return str(IPv4Address(int(self)))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class NoteFlags(int):
    """TCP flags in a note, as tcpdump's letters when formatted."""

    __slots__ = ()

    def __str__(self) -> str:
        return flag_text(int(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def note_body(note: Note) -> str:
    """What a note says happened, without the node's name."""
    return _TEMPLATES[note[0]].format(*note[1:])


def note_text(node: str, note: Note | None) -> str | None:
    """The capture comment for a note, "node: what happened"."""
    if note is None:
        return None
    return f"{node}: {note_body(note)}"


@dataclass(frozen=True, slots=True)
class Send:
    """A frame left an interface; `note` says why (it becomes the capture comment)."""

    note: Note | None = None


@dataclass(frozen=True, slots=True)
class Receive:
    """A frame arrived on an interface."""


@dataclass(frozen=True, slots=True)
class Deliver:
    """A packet reached a protocol of its destination."""

    protocol: str


@dataclass(frozen=True, slots=True)
class Forward:
    """A router passed a packet on."""

    ttl_in: int
    ttl_out: int
    next_hop: str
    in_interface: str
    fragment: bool | None = None


@dataclass(frozen=True, slots=True)
class ArpMiss:
    """No MAC known for the next hop: the packet waits for an ARP reply."""

    next_hop: str


@dataclass(frozen=True, slots=True)
class ArpResolved:
    """A MAC was learned (or refreshed by a gratuitous ARP) and the packets waiting for it went out."""

    ip: str
    mac: str | None = None
    released: int | None = None
    gratuitous: bool | None = None


@dataclass(frozen=True, slots=True)
class IcmpErrorSent:
    """An ICMP error about packet `about` (its packet id) was sent to `to`, or suppressed by the rate limit."""

    type: int
    code: int
    to: str
    about: int | None = None
    suppressed: str | None = None


@dataclass(frozen=True, slots=True)
class Fragmented:
    """A packet was split into `fragments` pieces for a link of `mtu` bytes."""

    fragments: int
    mtu: int


@dataclass(frozen=True, slots=True)
class Dropped:
    """A frame or packet was discarded for `reason`; `facts` say what the node saw."""

    reason: DropReason
    facts: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class LinkFault:
    """A link fault applied to a frame."""

    fault: str
    bit: int | None = None
    arrive_ns: int | None = None


@dataclass(frozen=True, slots=True)
class AppNote:
    """An application's own event (a ping reply, a datagram received)."""

    app: str
    facts: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class HookVerdict:
    """A hook at `point` rewrote a packet."""

    point: str
    hook: str
    verdict: str


@dataclass(frozen=True, slots=True)
class ProcessNote:
    """A simulated process started, ended or failed."""

    process: str
    what: str
    info: str | None = None


@dataclass(frozen=True, slots=True)
class PathMtu:
    """A host lowered its path MTU to `destination`."""

    destination: str
    mtu: int


@dataclass(frozen=True, slots=True)
class TcpNote:
    """A TCP connection's event: a state change, a retransmission, a cwnd or RTT sample."""

    connection: str
    what: str
    facts: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class NatNote:
    """A NAT mapping created, expired or reset: inside, outside and remote endpoints."""

    what: str
    protocol: int
    inside: str
    outside: str
    remote: str


DETAILS: dict[str, type] = {
    EventKind.SEND.value: Send, EventKind.RECEIVE.value: Receive, EventKind.DELIVER.value: Deliver,
    EventKind.FORWARD.value: Forward, EventKind.ARP_MISS.value: ArpMiss, EventKind.ARP_RESOLVED.value: ArpResolved,
    EventKind.ICMP_ERROR.value: IcmpErrorSent, EventKind.FRAGMENT.value: Fragmented, EventKind.DROP.value: Dropped,
    EventKind.LINK.value: LinkFault, EventKind.APP.value: AppNote, EventKind.HOOK.value: HookVerdict,
    EventKind.PROCESS.value: ProcessNote, EventKind.PMTU.value: PathMtu, EventKind.TCP.value: TcpNote,
    EventKind.NAT.value: NatNote,
}
_FLAT = (Dropped, AppNote, TcpNote)  # their `facts` pairs are spread into the details dict


def build_details(kind_value: str, values: tuple[Any, ...]) -> Any:
    """The dataclass of an event from the plain values stored for it.

    The per-frame path stores addresses as ints (formatting them there would cost more than the hop): a FORWARD's
    next hop, and an APP event's "source" as (address, port); they become text here, when someone reads."""
    cls = DETAILS[kind_value]
    if cls is Dropped:
        return Dropped(_REASONS[values[0]], values[1])
    if cls is Forward and isinstance(values[2], int):
        return Forward(values[0], values[1], str(IPv4Address(values[2])), *values[3:])
    if cls is AppNote and values[1] and any(isinstance(v, tuple) for _, v in values[1]):
        return AppNote(values[0], tuple((k, f"{IPv4Address(v[0])}:{v[1]}" if isinstance(v, tuple) else v)
                                        for k, v in values[1]))
    return cls(*values)


def details_dict(info: Any) -> dict[str, Any]:
    """The details as a flat dict without empty (None) entries: facts pairs spread, the drop reason an enum."""
    result: dict[str, Any] = {}
    for f in fields(info):
        value = getattr(info, f.name)
        if f.name == "facts" and isinstance(info, _FLAT):
            result.update(value)
        elif value is not None:
            result[f.name] = value
    return result
