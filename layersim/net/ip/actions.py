"""What a node's protocol objects ask its runtime to do: plain tuples, the first item an operation code.

The protocol objects (ARP, IPv4 input, forwarding and output, ICMP, UDP) never touch the clock, an interface or the
trace; they return these, and `IPNode` (the runtime) carries them out in order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DELIVER", "DELIVER_ERROR", "EVENT", "ICMP_ERROR", "OUTPUT", "TIMER", "TRANSMIT", "Action"]

Action = tuple[Any, ...]

TRANSMIT = 0  # (TRANSMIT, interface, frame, packet_id, note): put a finished frame on an interface
OUTPUT = 1  # (OUTPUT, interface, next_hop, ip_bytes, packet_id, note, arrived_on, received): to ARP, then out
ICMP_ERROR = 2  # (ICMP_ERROR, arrived_on, offending ip bytes, type, code, extra header fields dict, packet_id)
TIMER = 3  # (TIMER, delay_ns, callback, args): call back later; the callback returns actions
EVENT = 4  # (EVENT, kind, interface, bytes, packet_id, values): record a trace event
DELIVER = 5  # (DELIVER, endpoint, item): hand something to a socket or other endpoint (`endpoint.deliver(item)`)
DELIVER_ERROR = 6  # (DELIVER_ERROR, endpoint, report): an ICMP error for a socket (`endpoint.deliver_error(report)`)
