"""The RFC 9293 §3.3.2 connection state machine as a table: the code follows it and `viz` can draw it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from layersim.errors import LayersimError

__all__ = ["SYNCHRONIZED", "TRANSITIONS", "Event", "IllegalTransition", "State", "next_state"]


class State(Enum):
    """The eleven TCP connection states of RFC 9293 §3.3.2."""

    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN_SENT"
    SYN_RECEIVED = "SYN_RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN_WAIT_1"
    FIN_WAIT_2 = "FIN_WAIT_2"
    CLOSE_WAIT = "CLOSE_WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"


class Event(Enum):
    """What moves a connection from one state to another (user calls, arriving segments, timers)."""

    PASSIVE_OPEN = "passive open"           # listen()
    ACTIVE_OPEN = "active open"             # connect(): send SYN
    SEND = "send"                           # send on a LISTEN socket: send SYN (RFC 9293, not offered by sockets)
    RCV_SYN = "rcv SYN"                     # SYN without ACK (passive open, or simultaneous open)
    RCV_SYN_ACK = "rcv SYN,ACK"             # SYN-ACK answering our SYN
    RCV_ACK_OF_SYN = "rcv ACK of SYN"
    CLOSE = "close"                         # close() / shutdown(SHUT_WR): send FIN after queued data
    RCV_FIN = "rcv FIN"
    RCV_ACK_OF_FIN = "rcv ACK of FIN"
    RCV_FIN_ACK_OF_FIN = "rcv FIN + ACK of FIN"  # FIN-WAIT-1 receiving the peer's FIN that also acks ours
    TIMEOUT_2MSL = "timeout 2MSL"
    RCV_RST = "rcv RST"
    ABORT = "abort"                         # send RST (SO_LINGER 0, close with unread data)
    TIMEOUT = "timeout"                     # retransmissions exhausted (ETIMEDOUT)


S, E = State, Event
_SYNC_CLOSE = {E.RCV_RST: S.CLOSED, E.ABORT: S.CLOSED, E.TIMEOUT: S.CLOSED}
_TABLE: dict[State, dict[Event, State]] = {
    S.CLOSED: {E.PASSIVE_OPEN: S.LISTEN, E.ACTIVE_OPEN: S.SYN_SENT},
    S.LISTEN: {E.RCV_SYN: S.SYN_RECEIVED, E.SEND: S.SYN_SENT, E.CLOSE: S.CLOSED},
    S.SYN_SENT: {E.RCV_SYN_ACK: S.ESTABLISHED, E.RCV_SYN: S.SYN_RECEIVED, E.CLOSE: S.CLOSED, **_SYNC_CLOSE},
    S.SYN_RECEIVED: {E.RCV_ACK_OF_SYN: S.ESTABLISHED, E.CLOSE: S.FIN_WAIT_1, **_SYNC_CLOSE},
    S.ESTABLISHED: {E.CLOSE: S.FIN_WAIT_1, E.RCV_FIN: S.CLOSE_WAIT, **_SYNC_CLOSE},
    S.FIN_WAIT_1: {E.RCV_ACK_OF_FIN: S.FIN_WAIT_2, E.RCV_FIN: S.CLOSING, E.RCV_FIN_ACK_OF_FIN: S.TIME_WAIT,
                   **_SYNC_CLOSE},
    S.FIN_WAIT_2: {E.RCV_FIN: S.TIME_WAIT, **_SYNC_CLOSE},  # TIMEOUT: Linux's tcp_fin_timeout after close()
    S.CLOSE_WAIT: {E.CLOSE: S.LAST_ACK, **_SYNC_CLOSE},
    S.CLOSING: {E.RCV_ACK_OF_FIN: S.TIME_WAIT, **_SYNC_CLOSE},
    S.LAST_ACK: {E.RCV_ACK_OF_FIN: S.CLOSED, **_SYNC_CLOSE},
    S.TIME_WAIT: {E.TIMEOUT_2MSL: S.CLOSED, E.RCV_RST: S.CLOSED, E.ABORT: S.CLOSED},
}
TRANSITIONS: Mapping[State, Mapping[Event, State]] = MappingProxyType(
    {state: MappingProxyType(events) for state, events in _TABLE.items()})
del S, E

# States in which both sides' sequence numbers are known (RFC 9293 §3.10.7.4 applies).
SYNCHRONIZED = frozenset({State.SYN_RECEIVED, State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2,
                          State.CLOSE_WAIT, State.CLOSING, State.LAST_ACK, State.TIME_WAIT})


class IllegalTransition(LayersimError):
    """An event that the state machine does not allow in the current state; the state is left unchanged."""

    def __init__(self, state: State, event: Event, where: str = "") -> None:
        allowed = ", ".join(e.name for e in TRANSITIONS[state]) or "nothing"
        at = f" ({where})" if where else ""
        super().__init__(f"TCP{at}: event {event.name} is not allowed in state {state.name} (allowed: {allowed})")
        self.state = state
        self.event = event


def next_state(state: State, event: Event, where: str = "") -> State:
    """The state `event` leads to from `state`, or IllegalTransition."""
    new = TRANSITIONS[state].get(event)
    if new is None:
        raise IllegalTransition(state, event, where)
    return new
