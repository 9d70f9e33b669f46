"""Sans-IO TCP (RFC 9293): sequence arithmetic, the state table, options, timers, congestion control.

Nothing here reads a clock or touches a socket: time comes in as `now` (ns), segments come in decoded and go
out as `Segment` values for the host runtime to wrap in IPv4.
"""

from layersim.tcp.connection import Connection
from layersim.tcp.listener import Listener
from layersim.tcp.profile import LINUX, PROFILES, RFC, Profile
from layersim.tcp.reset import reset_for
from layersim.tcp.segment import EVENT_KINDS, Segment, TCPEvent
from layersim.tcp.states import TRANSITIONS, Event, IllegalTransition, State

__all__ = ["EVENT_KINDS", "LINUX", "PROFILES", "RFC", "TRANSITIONS", "Connection", "Event", "IllegalTransition",
           "Listener", "Profile", "Segment", "State", "TCPEvent", "reset_for"]
