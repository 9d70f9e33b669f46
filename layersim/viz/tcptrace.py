"""A TCP connection's segments read back from a trace: who sent what when, where it arrived or was lost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layersim.errors import LayersimError
from layersim.net.trace.log import DropReason, EventKind, Trace
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP, TCPFlags

__all__ = ["Connection", "SegmentSeen", "connection_labels", "find_connection", "flag_names", "segments"]

_FLAG_ORDER = (TCPFlags.SYN, TCPFlags.FIN, TCPFlags.RST, TCPFlags.PSH, TCPFlags.ACK, TCPFlags.URG, TCPFlags.ECE,
               TCPFlags.CWR)
Endpoint = tuple[str, int]


def flag_names(flags: int) -> str:
    """Wireshark's way of writing TCP flags: "SYN, ACK"."""
    return ", ".join(str(f.name) for f in _FLAG_ORDER if flags & f) or "none"


@dataclass(frozen=True)
class Connection:
    """One TCP connection as both ends see it (a NAT between them changes the client's address and port)."""

    client_node: str
    server_node: str
    client_label: str  # the TcpNote connection label at each end ("local-remote"), "" when unknown
    server_label: str
    client_view: tuple[Endpoint, Endpoint]  # (local, remote) at the client
    server_view: tuple[Endpoint, Endpoint]  # (local, remote) at the server


@dataclass(frozen=True)
class SegmentSeen:
    """One segment of a connection: sent at `send_ns`, received at `receive_ns` or dropped at `drop_ns`."""

    packet_id: int
    from_client: bool
    send_ns: int
    receive_ns: int | None
    drop_ns: int | None
    drop_reason: DropReason | None
    drop_node: str | None  # where the trace recorded the drop: a link loss is recorded at the sending interface
    drop_interface: str | None
    flags: int
    seq: int  # absolute sequence and acknowledgment numbers, as in the frame
    ack: int
    length: int
    retransmission: bool


def _trace(trace_or_network: Any) -> Trace:
    trace = getattr(trace_or_network, "trace", trace_or_network)
    if not isinstance(trace, Trace):
        raise LayersimError(f"expected a Trace or a Network, not {type(trace_or_network).__name__}")
    if not trace.keep_frames:
        raise LayersimError(f"the trace (level {trace.level!r}) keeps no frames: TCP pictures need level 'all'")
    return trace


def _tcp(frame: bytes | None) -> tuple[Any, Any, int] | None:
    """(IPv4, TCP, payload length) of an Ethernet frame carrying TCP, else None."""
    if frame is None:
        return None
    try:
        pkt = decode(frame)
    except LayersimError:
        return None
    if TCP not in pkt or IPv4 not in pkt:
        return None
    ip, tcp = pkt[IPv4], pkt[TCP]
    return ip, tcp, ip.total_length - ip.ihl * 4 - tcp.data_offset * 4


def _label_endpoints(label: str) -> tuple[Endpoint, Endpoint]:
    try:
        local, remote = label.split("-")
        (lip, lport), (rip, rport) = local.rsplit(":", 1), remote.rsplit(":", 1)
        return (lip, int(lport)), (rip, int(rport))
    except ValueError:
        raise LayersimError(f"connection {label!r} is not 'address:port-address:port'") from None


def connection_labels(trace_or_network: Any) -> list[tuple[str, str]]:
    """(node, connection label) of every TCP connection the trace saw, in the order they first appear."""
    trace = getattr(trace_or_network, "trace", trace_or_network)
    return list(dict.fromkeys((e.node, e.info.connection) for e in trace.select(EventKind.TCP)))


def find_connection(trace_or_network: Any, connection: str | None = None) -> Connection:
    """The connection with this label (either end's), or the first connection that was actively opened."""
    trace = _trace(trace_or_network)
    labels = connection_labels(trace)
    if connection is None:
        opened = [(e.node, e.info.connection) for e in trace.select(EventKind.TCP)
                  if e.info.what == "state" and dict(e.info.facts).get("event") == "ACTIVE_OPEN"]
        if not opened:
            raise LayersimError("the trace holds no actively opened TCP connection")
        node, label = opened[0]
    else:
        nodes = [n for n, lab in labels if lab == connection]
        if not nodes:
            known = ", ".join(f"{lab} ({n})" for n, lab in labels) or "none"
            raise LayersimError(f"no TCP connection {connection!r} in the trace (connections: {known})")
        node, label = nodes[0], connection
    local, remote = _label_endpoints(label)
    for event in trace.select(EventKind.SEND, node=node):  # follow our first segment to the other end
        seen = _tcp(event.frame)
        if seen is None or (str(seen[0].src), seen[1].sport, str(seen[0].dst), seen[1].dport) != (*local, *remote):
            continue
        arrived = [e for e in trace.select(EventKind.DELIVER, packet_id=event.packet_id) if e.node != node]
        received = [e for e in trace.select(EventKind.RECEIVE, packet_id=event.packet_id)
                    if arrived and e.node == arrived[-1].node]
        there = _tcp(received[-1].frame) if received else None
        if there is None:
            continue
        ip, tcp, _ = there
        peer_view = ((str(ip.dst), tcp.dport), (str(ip.src), tcp.sport))
        peer = arrived[-1].node
        peer_label = f"{peer_view[0][0]}:{peer_view[0][1]}-{peer_view[1][0]}:{peer_view[1][1]}"
        if not any(n == peer and lab == peer_label for n, lab in labels):
            peer_label = ""
        first = seen[1].flags & (TCPFlags.SYN | TCPFlags.ACK) == TCPFlags.SYN  # we sent the first SYN: client
        if first:
            return Connection(node, peer, label, peer_label, (local, remote), peer_view)
        return Connection(peer, node, peer_label, label, peer_view, (local, remote))
    raise LayersimError(f"connection {label!r} at {node}: none of its segments reached the other end")


def _matches(seen: tuple[Any, Any, int], view: tuple[Endpoint, Endpoint]) -> bool:
    ip, tcp, _ = seen
    (lip, lport), (rip, rport) = view
    return (str(ip.src), tcp.sport, str(ip.dst), tcp.dport) == (lip, lport, rip, rport)


def segments(trace_or_network: Any, connection: str | Connection | None = None) -> tuple[Connection, list[SegmentSeen]]:
    """Every segment either end of the connection put on the wire, in sending order, with its fate."""
    trace = _trace(trace_or_network)
    conn = connection if isinstance(connection, Connection) else find_connection(trace, connection)
    retransmits = {(e.node, e.time_ns, dict(e.info.facts).get("seq")) for e in trace.select(EventKind.TCP)
                   if e.info.what == "retransmit"}
    out: list[SegmentSeen] = []
    sent: set[tuple[bool, int, int, int]] = set()
    fates: dict[int, list[Any]] = {}  # packet id -> its RECEIVE and DROP events, in one pass over the trace
    for event in trace.events:
        if event.packet_id is not None and event.kind in (EventKind.RECEIVE, EventKind.DROP):
            fates.setdefault(event.packet_id, []).append(event)
    for event in trace.events:
        if event.kind is not EventKind.SEND or event.node not in (conn.client_node, conn.server_node):
            continue
        from_client = event.node == conn.client_node
        seen = _tcp(event.frame)
        if seen is None or not _matches(seen, conn.client_view if from_client else conn.server_view):
            continue
        _, tcp, length = seen
        peer = conn.server_node if from_client else conn.client_node
        fate = fates.get(event.packet_id, []) if event.packet_id is not None else []
        received = [e.time_ns for e in fate if e.kind is EventKind.RECEIVE and e.node == peer]
        drops = [e for e in fate if e.kind is EventKind.DROP]
        drop = drops[0] if drops and not received else None
        key = (from_client, tcp.seq, length, int(tcp.flags & (TCPFlags.SYN | TCPFlags.FIN)))
        again = (length > 0 or key[3] != 0) and key in sent
        sent.add(key)
        out.append(SegmentSeen(event.packet_id, from_client, event.time_ns, received[0] if received else None,
                               drop.time_ns if drop else None, drop.reason if drop else None,
                               drop.node if drop else None, drop.interface if drop else None, int(tcp.flags),
                               tcp.seq, tcp.ack, length,
                               again or (event.node, event.time_ns, tcp.seq) in retransmits))
    return conn, out
