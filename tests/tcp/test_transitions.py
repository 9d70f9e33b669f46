"""Every edge of the state table, driven through real segments between two connections."""

from __future__ import annotations

import pytest

from layersim.tcp import TRANSITIONS, Connection, Event, State
from layersim.wire import TCP
from tests.tcp.pair import MS, TCPPair

S = 1_000_000_000
# Edges of the Listener (a LISTEN socket is a Listener object, not a Connection) and RFC 9293's SEND-in-LISTEN,
# which the socket API does not offer.
NOT_CONNECTION_EDGES = {(State.CLOSED, Event.PASSIVE_OPEN), (State.LISTEN, Event.SEND),
                        (State.LISTEN, Event.CLOSE)}


def reach(state: State) -> tuple[TCPPair, str]:
    """A pair with one side (returned: 'c' or 's') in `state`."""
    p = TCPPair()
    if state in (State.CLOSED, State.SYN_SENT):
        if state is State.CLOSED:
            p.client = Connection((1, 1), (2, 2), iss=0, mss=1460, now=0, profile=p.client_profile, ts_offset=0,
                                  rcvbuf=None, sndbuf=None, nodelay=False)
            return p, "c"
        p.open(establish=False)
        return p, "c"
    if state is State.SYN_RECEIVED:
        p.open(establish=False)
        p.run_for(6 * MS)
        return p, "s"
    p.open()
    if state is State.ESTABLISHED:
        return p, "c"
    p.call("c", "close")
    if state is State.FIN_WAIT_1:
        return p, "c"
    if state is State.CLOSING:
        p.call("s", "close")
        p.run_for(7 * MS)
        return p, "c"
    p.run_for(50 * MS)
    if state in (State.FIN_WAIT_2, State.CLOSE_WAIT):
        return p, "c" if state is State.FIN_WAIT_2 else "s"
    p.call("s", "close")
    if state is State.LAST_ACK:
        return p, "s"
    p.run_for(50 * MS)
    assert state is State.TIME_WAIT
    return p, "c"


def fire(p: TCPPair, side: str, event: Event) -> None:
    """Make `event` happen to one side."""
    conn = p.client if side == "c" else p.server
    other = "s" if side == "c" else "c"
    if event is Event.ACTIVE_OPEN:
        p.client, _syn = Connection.connect((1, 1), (2, 2), iss=0, mss=1460, now=0)
    elif event in (Event.CLOSE, Event.ABORT):
        p.call(side, "close" if event is Event.CLOSE else "abort")
    elif event is Event.RCV_RST:
        flags = "RA" if conn.state is State.SYN_SENT else "R"
        rst = TCP(sport=conn.remote[1], dport=conn.local[1], seq=conn.rcv_nxt, ack=conn.snd_nxt, flags=flags)
        conn.receive(rst, b"", p.now)
    elif event is Event.TIMEOUT:
        p.rules.append(lambda d, i, s: "drop")
        p._queue.clear()  # what is already on the wire is lost too
        if conn.state in (State.ESTABLISHED, State.CLOSE_WAIT):
            p.send(side, b"lost")
        p.run()
    elif event is Event.TIMEOUT_2MSL:
        p.run()
    elif event is Event.RCV_SYN and conn.state is State.SYN_SENT:  # simultaneous open
        b, syn_b = Connection.connect(p.client.remote, p.client.local, iss=900, mss=1460, now=p.now)
        p.rules.append(lambda d, i, s: "drop" if d == "c>s" and i == 0 else None)
        p.server = b
        p.transmit("s>c", syn_b)
        p.run_for(6 * MS)
    elif event is Event.RCV_FIN_ACK_OF_FIN:  # drop the server's pure ACK of our FIN so its FIN carries it
        p.rules.append(lambda d, i, s: "drop" if d == "s>c" and s.tcp.flags == 0x10 else None)
        p.run_for(7 * MS)
        p.call("s", "close")
        p.run_for(50 * MS)
    elif event is Event.RCV_FIN and conn.state in (State.ESTABLISHED, State.FIN_WAIT_2):
        p.call(other, "close")
        p.run_for(50 * MS)
    elif event is Event.RCV_FIN and conn.state is State.FIN_WAIT_1:
        p.call(other, "close")
        p.run_for(7 * MS)
    else:  # the rest happen by letting the segments in flight arrive
        p.run_for(50 * MS)


EDGES = [(state, event) for state, events in TRANSITIONS.items() for event in events
         if (state, event) not in NOT_CONNECTION_EDGES]


@pytest.mark.parametrize(("state", "event"), EDGES, ids=[f"{s.name}-{e.name}" for s, e in EDGES])
def test_edge(state, event):
    """Reach `state`, make `event` happen, and see the connection take exactly the table's edge."""
    if state is State.LISTEN:  # a Listener's SYN makes a connection that starts from LISTEN
        p = TCPPair().open(establish=False)
        p.run_for(6 * MS)
        assert p.events[1].details == {"old": State.LISTEN, "new": State.SYN_RECEIVED, "event": Event.RCV_SYN}
        return
    p, side = reach(state)
    conn = p.client if side == "c" else p.server
    assert conn.state is state
    conn.drain_events()
    p.events.clear()
    fire(p, side, event)
    conn = p.client if side == "c" else p.server
    p._collect()
    taken = [(e.details["old"], e.details["event"], e.details["new"]) for e in p.events if e.kind == "state"]
    assert (state, event, TRANSITIONS[state][event]) in taken
