"""The page's data: a network's topology, trace, frames, TCP ladders and process output as the documented JSON.

Everything comes from the trace and the field tables: each distinct frame is decoded once, its layer tree and
byte map come from `layer_titles` and `field_map` (the hexdump's colour groups), and what a node changed is the
field diff between the frame it received and the frame it sent (as `Trace.hops` shows it). The schema is in the
README ("Step through it in a browser"). Networks are read duck-typed (nodes, links, trace, processes), so this
package sits below `layersim.net`, which offers `Network.to_html`.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from layersim.errors import DecodeError, LayersimError
from layersim.net.trace.details import EventKind, details_dict
from layersim.wire.fielddiff import diff
from layersim.wire.hexdump import PALETTE, field_map
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode
from layersim.wire.show import layer_titles
from layersim.wire.valuefmt import brief

__all__ = ["EVENT_COLUMNS", "FRAME_COLUMNS", "MAX_DETAILED", "MAX_EVENTS", "SCHEMA", "view_data"]

SCHEMA = "layersim-view/1"
# Positions in each row of "events" (see the README's schema).
EVENT_COLUMNS = ("t", "node", "iface", "kind", "packet", "frame", "text", "reason", "arrive")
FRAME_COLUMNS = ("proto", "flow", "summary", "size", "detail")  # flow: an index into "flows"
MAX_EVENTS = 100_000  # events kept on the page; a longer run keeps its first MAX_EVENTS and says so
MAX_DETAILED = 1_000  # frames with their layer tree and bytes; later frames keep protocol, flow and summary
_SEND, _RECEIVE = EventKind.SEND.value, EventKind.RECEIVE.value
_PROCESS, _APP = EventKind.PROCESS.value, EventKind.APP.value
_ETHERNET_KINDS = frozenset({_SEND, _RECEIVE})


def _protocol(packet: Packet) -> str:
    """The innermost named protocol of a frame: "HTTP", "DNS", "TCP", "UDP", "ICMP", "ARP", ..."""
    for layer in reversed(packet.layers):
        name = layer.name
        if name in ("Raw", "Padding"):
            continue
        for prefix in ("HTTP", "DNS"):
            if name.startswith(prefix):
                return prefix
        return name
    return "?"


def _flow(packet: Packet) -> str | None:
    """"TCP 10.0.0.2:49152 <-> 93.184.216.34:80": the same text for both directions, None without ports."""
    ip = packet.get(IPv4)
    if ip is None or len(packet.layers) < 3:
        return None
    for layer in packet.layers:
        if layer.name in ("TCP", "UDP"):
            ends = sorted([(int(ip.src), layer.sport, str(ip.src)), (int(ip.dst), layer.dport, str(ip.dst))])
            return f"{layer.name} {ends[0][2]}:{ends[0][1]} <-> {ends[1][2]}:{ends[1][1]}"
    return None


def _decode(data: bytes, kind: str) -> Packet | None:
    """The frame (SEND, RECEIVE) or IPv4 packet (DELIVER, most DROPs) of an event, or None when it will not decode."""
    order: tuple[Any, ...] = (None, IPv4) if kind in _ETHERNET_KINDS or data[0] >> 4 != 4 else (IPv4, None)
    for first in order:
        try:
            return decode(data, first)
        except DecodeError:
            continue
    return None


def _detail(packet: Packet) -> dict[str, Any]:
    """A frame's layer tree and byte map, from its field tables (the hexdump's groups and colours)."""
    rows = field_map(packet)
    layers = [{"title": title, "fields": []} for title in layer_titles(packet)]
    for row in rows:
        if row.layer_index < len(layers):
            layers[row.layer_index]["fields"].append([row.field, row.value, row.group])
    return {"layers": layers, "hex": packet.data.hex(),
            "spans": [[row.group, row.start, row.end, row.title] for row in rows]}


def _topology(network: Any) -> dict[str, Any]:
    """Nodes (with interfaces and a layered layout) and links (by node index and interface name)."""
    names = list(network.nodes)
    index = {name: i for i, name in enumerate(names)}
    links = []
    neighbours: dict[str, list[str]] = {name: [] for name in names}
    for link in network.links:
        a, b = link.a, link.b
        links.append({"a": index[a.node.name], "a_iface": a.name, "b": index[b.node.name], "b_iface": b.name,
                      "delay_ns": link.delay_ns, "bandwidth_bps": link.bandwidth_bps})
        neighbours[a.node.name].append(b.node.name)
        neighbours[b.node.name].append(a.node.name)
    depth: dict[str, int] = {}
    for root in names:  # breadth first from the first node of each connected part: columns by distance
        if root in depth:
            continue
        depth[root] = 0
        queue = deque([root])
        while queue:
            here = queue.popleft()
            for there in neighbours[here]:
                if there not in depth:
                    depth[there] = depth[here] + 1
                    queue.append(there)
    rows: dict[int, int] = {}
    nodes = []
    for name in names:
        node = network.nodes[name]
        column = depth[name]
        row = rows.get(column, 0)
        rows[column] = row + 1
        interfaces = [{"name": iface.name, "mac": str(iface.mac) if iface.mac is not None else None,
                       "address": str(iface.address) if getattr(iface, "address", None) is not None else None}
                      for iface in node.interfaces.values()]
        nodes.append({"name": name, "kind": node.kind, "interfaces": interfaces, "x": column, "y": row})
    return {"nodes": nodes, "links": links}


def _ladders(events: list[list[Any]], frames: list[list[Any]], packets: dict[int, Packet],
             node_kinds: list[str]) -> list[dict[str, Any]]:
    """TCP ladders as each host saw them: its sends and receives of one connection, linked to the events."""
    flows: dict[tuple[int, str], dict[str, Any]] = {}
    for i, row in enumerate(events):
        kind, frame = row[3], row[5]
        if kind not in _ETHERNET_KINDS or frame is None or node_kinds[row[1]] != "host":
            continue
        packet = packets.get(frame)
        if packet is None:
            continue
        tcp = next((layer for layer in packet.layers if layer.name == "TCP"), None)
        ip = packet.get(IPv4)
        if tcp is None or ip is None:
            continue
        flow = frames[frame][1]
        key = (row[1], flow)
        ladder = flows.get(key)
        if ladder is None:
            local = (str(ip.src), tcp.sport) if kind == _SEND else (str(ip.dst), tcp.dport)
            remote = (str(ip.dst), tcp.dport) if kind == _SEND else (str(ip.src), tcp.sport)
            ladder = flows[key] = {"node": row[1], "flow": flow, "local": f"{local[0]}:{local[1]}",
                                   "remote": f"{remote[0]}:{remote[1]}", "rows": []}
        payload = len(packet.payload_of(type(tcp)))
        label = f"{brief(tcp.flags)} seq={tcp.seq} ack={tcp.ack} len={payload}"
        ladder["rows"].append([i, "out" if kind == _SEND else "in", label])
    return list(flows.values())


def _outputs(network: Any, events: list[list[Any]], names: dict[str, int]) -> list[list[Any]]:
    """The side panel's lines, in time order: what processes printed (when they printed it), their start, end or
    failure, and applications' own events (a ping reply, a datagram received)."""
    lines: list[list[Any]] = []
    for proc in network.processes:
        node = names[proc.host.name]
        for time_ns, text in getattr(proc, "stdout_pieces", ()):
            lines.append([time_ns, node, proc.name, text])
    for row in events:
        if row[3] == _PROCESS:
            lines.append([row[0], row[1], "process", row[6]])
        elif row[3] == _APP:
            lines.append([row[0], row[1], "app", row[6]])
    lines.sort(key=lambda line: line[0])
    return lines


def view_data(network: Any, *, title: str | None = None, max_events: int = MAX_EVENTS,
              max_detailed: int = MAX_DETAILED) -> dict[str, Any]:
    """The page's JSON for a network that has run (its trace at level "all" gives every frame's bytes)."""
    if max_events < 1 or max_detailed < 0:
        raise LayersimError(f"view: max_events ({max_events}) must be >= 1 and max_detailed ({max_detailed}) >= 0")
    topology = _topology(network)
    node_index = {node["name"]: i for i, node in enumerate(topology["nodes"])}
    node_kinds = [node["kind"] for node in topology["nodes"]]
    peer = {}  # "node:iface" -> the node at the link's other end
    for link in topology["links"]:
        peer[(link["a"], link["a_iface"])] = link["b"]
        peer[(link["b"], link["b_iface"])] = link["a"]
    trace = network.trace
    all_events = trace.events
    kept = all_events[:max_events]
    frame_index: dict[bytes, int] = {}
    frames: list[list[Any]] = []
    flow_index: dict[str, int] = {}
    packets: dict[int, Packet] = {}
    events: list[list[Any]] = []
    changes: dict[str, list[list[str]]] = {}
    frames_bytes: list[bytes] = []
    arrived: dict[tuple[int, int], int] = {}  # (node, packet id) -> the frame it came in as
    in_flight: dict[tuple[int, int], int] = {}  # (receiving node, packet id) -> the SEND event's row
    for event in kept:
        kind, data, packet_id = event[3], event[4], event[5]
        node = node_index[event[1]]
        frame = None
        if data is not None:
            frame = frame_index.get(data)
            came = arrived.get((node, packet_id)) if kind not in _ETHERNET_KINDS else None
            if frame is None and came is not None and frames_bytes[came][14:] == data:
                frame = came  # a packet delivered or dropped inside the node: the frame it came in holds it
            if frame is None:
                packet = _decode(data, kind)
                frame = frame_index[data] = len(frames)
                frames_bytes.append(data)
                record: list[Any] = ["?", None, f"{len(data)} bytes", len(data), None]
                if packet is not None:
                    packets[frame] = packet
                    flow = _flow(packet)
                    if flow is not None:
                        flow = flow_index.setdefault(flow, len(flow_index))
                    record[:3] = [_protocol(packet), flow, packet.summary()]
                    if frame < max_detailed:
                        record[4] = _detail(packet)
                frames.append(record)
        details = details_dict(event.info)
        reason = details.pop("reason", None)
        if kind == _SEND:
            details.pop("note", None)  # the capture comment's facts: the frame and the node's changes tell them
        text = ", ".join(f"{k}={getattr(v, 'value', v)}" for k, v in details.items())
        row = [event[0], node, event[2], kind, packet_id, frame, text, getattr(reason, "value", None), None]
        here = len(events)
        if packet_id is not None and frame is not None:
            if kind == _RECEIVE:
                came = in_flight.pop((node, packet_id), None)
                if came is not None:
                    events[came][8] = here
                arrived[(node, packet_id)] = frame
            elif kind == _SEND:
                before = arrived.get((node, packet_id))
                if before is not None and before in packets and frame in packets and frame < max_detailed:
                    changes[str(here)] = [[c.layer, c.field, brief(c.old, c.spec_field, 40),
                                           brief(c.new, c.spec_field, 40)]
                                          for c in diff(packets[before], packets[frame])]
                other = peer.get((node, event[2]))
                if other is not None:
                    in_flight[(other, packet_id)] = here
        events.append(row)
    notes = []
    if len(all_events) > len(kept):
        notes.append(f"This run has {len(all_events)} events; the page keeps the first {len(kept)}.")
    if trace.limit is not None and trace.recorded > len(all_events):
        notes.append(f"The trace kept only its newest {len(all_events)} of {trace.recorded} events.")
    if len(frames) > max_detailed:
        notes.append(f"Layer trees and bytes are shown for the first {max_detailed} of {len(frames)} frames.")
    if trace.level not in ("all",):
        notes.append(f"The trace level is {trace.level!r}: frames' bytes were not kept.")
    return {"schema": SCHEMA, "title": title or "layersim run", "seed": getattr(network, "seed", None),
            "end_ns": network.now, "topology": topology, "event_columns": list(EVENT_COLUMNS), "events": events,
            "frame_columns": list(FRAME_COLUMNS), "frames": frames, "flows": list(flow_index), "changes": changes,
            "ladders": _ladders(events, frames, packets, node_kinds),
            "output": _outputs(network, events, node_index), "palette": list(PALETTE),
            "sampling": {"events_total": len(all_events), "events_kept": len(kept), "frames": len(frames),
                         "frames_detailed": min(len(frames), max_detailed), "notes": notes}}
