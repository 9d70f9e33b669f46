"""How the narrators word what the trace holds, in one place: field labels, hops, drops and lost frames.

The run narrator (`layersim.app.narrative`) and the demo's story (`layersim.demo_story`) both tell packets with
these, so a field, a hop or a drop reads the same in either; each adds only its own layout and text.
"""

from __future__ import annotations

from typing import Any

from layersim.net.network import Network
from layersim.net.trace.log import DropReason, TraceEvent

__all__ = ["DROP_MEANINGS", "FIELD_LABELS", "change_text", "hop_rows", "hop_where", "link_name", "loss_text"]

# What a field that changed at a hop is called in a story ("IPv4.ttl: 64 -> 63" reads "TTL 64 -> 63").
# Only NAT rewrites addresses and ports on the way (routers never do: RFC 1812 §5.3), hence "(NAT)".
FIELD_LABELS = {"Ethernet.dst": "dst MAC", "Ethernet.src": "src MAC", "IPv4.ttl": "TTL",
                "IPv4.header_checksum": "IP checksum", "IPv4.src": "src address (NAT)",
                "IPv4.dst": "dst address (NAT)", "TCP.sport": "src port (NAT)", "TCP.dport": "dst port (NAT)",
                "TCP.checksum": "TCP checksum", "IPv6.hop_limit": "hop limit"}  # IPv6 has no header checksum

# Why a packet was dropped, in words, for each DropReason a story explains.
DROP_MEANINGS = {
    DropReason.TTL_EXCEEDED: "TTL would reach 0 (traceroute's probes do this on purpose)",
    DropReason.NO_ROUTE: "no route to the destination",
    DropReason.ARP_FAILED: "nobody answered ARP for the next hop",
    DropReason.BAD_CHECKSUM: "a header checksum was wrong (a corrupted frame that passed the FCS, or one built wrong)",
    DropReason.BAD_FCS: "the Ethernet FCS (CRC-32) did not match: the NIC discarded a frame the link corrupted",
    DropReason.NOT_FOR_ME: "not addressed to this node (e.g. an ARP request for another address)",
    DropReason.NO_LISTENER: "no socket on the port (the run narrator tells it per protocol)",
    DropReason.QUEUE_FULL: "the link's queue was full",
    DropReason.LINK_LOSS: "lost on the link (the loss fault)",
}


def change_text(change: str) -> str:
    """One field change ("IPv4.ttl: 64 -> 63") in words ("TTL 64 -> 63"); a field without a label stays as it is."""
    name, _, rest = change.partition(": ")
    return f"{FIELD_LABELS[name]} {rest}" if name in FIELD_LABELS else change


def link_name(net: Network, node: str, interface: str | None) -> str | None:
    """The name of the link on `node:interface` ("home-isp1", its two ends' nodes as the link was made)."""
    if interface is None or node not in net.nodes or interface not in net.nodes[node].interfaces:
        return None
    link = net.nodes[node].interfaces[interface].link
    return None if link is None else f"{link.a.node.name}-{link.b.node.name}"


def _peer(net: Network, node: str, interface: str | None) -> str | None:
    if interface is None:
        return None
    link = net.nodes[node].interfaces[interface].link
    return link.peer(net.nodes[node].interfaces[interface]).node.name if link else None


def hop_rows(net: Network, packet_id: int) -> list[dict[str, Any]]:
    """One packet's path as data, from the public `trace.hops` query, which also tells where it was dropped or
    lost: node, in, out, next (the node at the far end of `out`), arrived_ns, left_ns, changes, outcome."""
    return [{"node": h.node, "in": h.in_interface, "out": h.out_interface, "next": _peer(net, h.node, h.out_interface),
             "arrived_ns": h.arrived_ns, "left_ns": h.left_ns, "changes": [str(c) for c in h.changes],
             "outcome": h.outcome} for h in net.trace.hops(packet_id)]


def hop_where(hop: dict[str, Any]) -> str:
    """Where a hop went through its node: "eth0 -> eth1", or one interface for the first and last hop."""
    return " -> ".join(x for x in (hop["in"], hop["out"]) if x)


def loss_text(net: Network, drop: TraceEvent) -> str:
    """Where a packet ended, for a line about it: "LOST on isp1-isp2", or "DROPPED at isp1 (queue_full)"."""
    reason = drop.reason
    if reason is DropReason.LINK_LOSS:
        return f"LOST on {link_name(net, drop.node, drop.interface) or drop.node}"
    return f"DROPPED at {drop.node} ({reason.value if reason is not None else 'dropped'})"
