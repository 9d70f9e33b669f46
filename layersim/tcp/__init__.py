"""Sans-IO TCP (RFC 9293): sequence arithmetic, the state table, options, timers, congestion control.

Nothing here reads a clock or touches a socket: time comes in as `now` (ns), segments come in decoded and go
out as `Segment` values for the host runtime to wrap in IPv4.
"""

from layersim.tcp.connection import Connection
from layersim.tcp.listener import Listener
from layersim.tcp.profile import CONGESTION_CONTROLS, LINUX, PROFILES, RFC, Profile, choose_profile
from layersim.tcp.reset import reset_for
from layersim.tcp.segment import EVENT_KINDS, Segment, TCPEvent
from layersim.tcp.states import TRANSITIONS, Event, IllegalTransition, State

__all__ = ["CONGESTION_CONTROLS", "EVENT_KINDS", "LINUX", "PROFILES", "RFC", "TRANSITIONS", "Connection", "Event",
           "IllegalTransition", "Listener", "Profile", "Segment", "State", "TCPEvent", "choose_profile", "reset_for"]
