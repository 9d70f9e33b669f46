"""Facts about the demo's GET taken from the trace itself, to check the page against."""

from __future__ import annotations

from layersim.net import EventKind
from layersim.wire.packet import decode


def get_packet_id(network) -> int:
    """The packet id of the first HTTP GET the laptop sent."""
    for event in network.trace.select(EventKind.SEND, node="laptop"):
        if event.frame is not None and b"GET / HTTP/1.1" in event.frame:
            layers = decode(event.frame).layer_names
            assert "HTTPRequest" in layers, layers
            return event.packet_id
    raise AssertionError("the demo's laptop sent no GET")


def sends_of(network, packet_id: int) -> list[int]:
    """The trace indices of every SEND of one packet, hop by hop."""
    return [i for i, e in enumerate(network.trace.events) if e.packet_id == packet_id and e.kind is EventKind.SEND]
