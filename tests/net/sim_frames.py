"""The simulator's frames in the shape tests/data/linux_facts.py gives the real captures, so one helper reads both."""

from __future__ import annotations

from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from tests.data import linux_facts as lf


def wire(net: Network, iface: str) -> list[lf.Frame]:
    """The IPv4 frames a capture on `iface` would show (sent and received there), in time order."""
    node, _, name = iface.partition(":")
    out = []
    for event in net.trace.select(node=node, interface=name):
        if event.kind in (EventKind.SEND, EventKind.RECEIVE) and event.frame[12:14] == b"\x08\x00":
            out.append(lf.Frame(len(out), iface, event.time_ns, event.frame, decode(event.frame)))
    return out
