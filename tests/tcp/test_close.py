"""Closing: the FIN handshake in every order, TIME-WAIT, half close, and the state table's illegal events."""

from __future__ import annotations

import errno
from dataclasses import replace

import pytest

from layersim.tcp import LINUX, RFC, TRANSITIONS, Connection, Event, IllegalTransition, State
from layersim.tcp.states import next_state
from tests.tcp.pair import CLIENT, MS, SERVER, TCPPair

S = 1_000_000_000


def track(p: TCPPair) -> dict[str, list[State]]:
    """Run the pair while recording each side's state after every step."""
    seen = {"c": [p.client.state], "s": [p.server.state]}
    while p.step():
        for side, conn in (("c", p.client), ("s", p.server)):
            if conn.state is not seen[side][-1]:
                seen[side].append(conn.state)
    return seen


def test_active_close_full_sequence_and_time_wait_expiry():
    """Client closes first: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT for 60 s (Linux); server CLOSE_WAIT, LAST_ACK."""
    p = TCPPair().open()
    p.call("c", "close")
    p.run_for(50 * MS)
    assert p.client.state is State.FIN_WAIT_2 and p.server.state is State.CLOSE_WAIT
    assert p.server.at_eof and p.recv("s") == b""
    p.call("s", "close")
    fin_acked_at = p.now + 10 * MS
    seen = track(p)
    assert seen["c"] == [State.FIN_WAIT_2, State.TIME_WAIT, State.CLOSED]
    assert seen["s"] == [State.LAST_ACK, State.CLOSED]
    assert [s.flags for s in p.log[3:]] == ["F.", ".", "F.", "."]
    tw = next(e for e in p.events if e.kind == "state" and e.details["new"] is State.TIME_WAIT)
    closed = next(e for e in p.events if e.kind == "state" and e.details["old"] is State.TIME_WAIT)
    assert closed.time_ns - tw.time_ns == 60 * S
    assert tw.time_ns == fin_acked_at - 5 * MS
    assert p.client.finished and p.server.finished and p.client.error is None


def test_time_wait_length_comes_from_the_profile():
    """2*MSL is a profile setting: 240 s in the RFC profile, anything in a custom one."""
    for profile, expected in ((RFC, 240 * S), (replace(LINUX, time_wait_ns=3 * S), 3 * S)):
        p = TCPPair(client_profile=profile, server_profile=profile).open()
        p.call("c", "close")
        p.run_for(50 * MS)
        p.call("s", "close")
        p.run_for(50 * MS)
        assert p.client.state is State.TIME_WAIT
        deadline = p.client.next_deadline()
        entered = next(e.time_ns for e in p.events if e.kind == "state" and e.details["new"] is State.TIME_WAIT)
        assert deadline - entered == expected
        p.run_for(deadline - p.now - 1)
        assert p.client.state is State.TIME_WAIT
        p.run_for(1)
        assert p.client.state is State.CLOSED


def test_simultaneous_close_goes_through_closing():
    """Both FINs cross: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides (RFC 9293 Figure 13)."""
    p = TCPPair().open()
    p.call("c", "close")
    p.call("s", "close")
    seen = track(p)
    for side in "cs":
        assert seen[side] == [State.FIN_WAIT_1, State.CLOSING, State.TIME_WAIT, State.CLOSED]


def test_fin_that_also_acks_our_fin_goes_straight_to_time_wait():
    """FIN_WAIT_1 receiving FIN + ACK of our FIN in one segment: TIME_WAIT at once (event RCV_FIN_ACK_OF_FIN)."""
    p = TCPPair(rules=[lambda d, i, s: "drop" if d == "s>c" and s.tcp.flags == 0x10 and i >= 1 else None])
    p.open()
    p.call("c", "close")
    p.run_for(7 * MS)           # the server has the FIN; its pure ACK is dropped
    assert p.server.state is State.CLOSE_WAIT
    p.call("s", "close")        # its FIN carries the ACK of ours
    p.run_for(50 * MS)
    events = [e.details["event"] for e in p.events if e.kind == "state" and e.details["old"] is State.FIN_WAIT_1]
    assert events == [Event.RCV_FIN_ACK_OF_FIN]
    assert p.client.state is State.TIME_WAIT


def test_fin_retransmitted_in_time_wait_is_acked_and_restarts_the_timer():
    """A FIN repeated into TIME-WAIT (our last ACK was lost) is acknowledged and the 2 MSL wait starts again."""
    last_ack = {"dropped": False}
    p = TCPPair()

    def drop_last_ack(d, i, seg):
        if d == "c>s" and seg.tcp.flags == 0x10 and p.client.state is State.TIME_WAIT and not last_ack["dropped"]:
            last_ack["dropped"] = True
            return "drop"
        return None
    p.rules.append(drop_last_ack)
    p.open()
    p.call("c", "close")
    p.run_for(50 * MS)
    p.call("s", "close")
    p.run_for(50 * MS)
    first_deadline = p.client.next_deadline()
    p.run(until=p.now + 2 * S)  # the server's RTO resends its FIN
    assert p.server.state is State.CLOSED
    assert p.client.next_deadline() > first_deadline
    fins = [s for s in p.sent("s>c") if s.flags == "F."]
    assert len(fins) == 2 and fins[1].segment.retransmission


def test_half_close_peer_keeps_sending():
    """shutdown(SHUT_WR): our FIN goes, the peer's data still arrives until it closes."""
    p = TCPPair().open()
    p.call("c", "shutdown")
    p.run_for(50 * MS)
    assert p.client.state is State.FIN_WAIT_2
    p.send("s", b"late data" * 500)
    p.call("s", "shutdown")
    p.run_for(100 * MS)
    assert p.recv("c") == b"late data" * 500
    assert p.client.at_eof and p.client.state is State.TIME_WAIT
    with pytest.raises(IllegalTransition):
        p.client.send(b"x", p.now)


def test_close_sends_queued_data_before_the_fin():
    """close() right after send(): the FIN rides on (or follows) the last data segment."""
    p = TCPPair().open()
    p.send("c", b"a" * 3000)
    p.call("c", "close")
    p.run_for(50 * MS)
    data = [s for s in p.sent("c>s") if s.segment.payload or s.flags.startswith("F")]
    assert "F" in data[-1].flags and data[-1].segment.tcp.seq + len(data[-1].segment.payload) == 1001 + 3000
    assert sum(len(s.segment.payload) for s in data) == 3000
    assert p.recv("s") == b"a" * 3000 and p.server.at_eof


def test_lost_fin_is_retransmitted():
    """The FIN is in the sequence space: a lost FIN is sent again by the retransmission timer."""
    p = TCPPair(rules=[lambda d, i, s: "drop" if s.tcp.flags & 1 and not s.retransmission else None]).open()
    p.call("c", "close")
    p.run_for(2 * S)
    fins = [s for s in p.sent("c>s") if "F" in s.flags]
    assert [f.segment.retransmission for f in fins] == [False, True]
    assert p.server.state is State.CLOSE_WAIT and p.client.state is State.FIN_WAIT_2


def test_close_with_unread_data_sends_rst():
    """RFC 9293 §3.10.4 / Linux: close() with unread received data resets the connection."""
    p = TCPPair().open()
    p.send("s", b"unread")
    p.run_for(50 * MS)
    assert p.client.readable == 6
    p.call("c", "close")
    assert p.log[-1].flags == "R." and p.client.state is State.CLOSED
    p.run_for(50 * MS)
    assert p.server.state is State.CLOSED and p.server.error == errno.ECONNRESET


def test_abort_sends_rst_and_peer_gets_econnreset():
    """abort() (SO_LINGER 0): RST now; the peer's next read sees ECONNRESET."""
    p = TCPPair().open()
    p.send("c", b"x" * 10)
    p.run_for(50 * MS)
    p.call("c", "abort")
    rst = p.log[-1].segment.tcp
    assert p.log[-1].flags == "R." and rst.seq == p.client.snd_max
    p.run_for(50 * MS)
    assert p.server.error == errno.ECONNRESET and p.server.finished


def test_close_in_syn_sent_sends_nothing():
    """close() before the SYN-ACK: straight to CLOSED, no FIN, no RST."""
    conn, _ = Connection.connect(CLIENT, SERVER, iss=1, mss=1460, now=0)
    assert conn.close(5) == [] and conn.state is State.CLOSED and conn.next_deadline() is None


def test_close_twice_and_after_reset_is_harmless():
    """A second close() or a close() after a reset sends nothing and changes nothing."""
    p = TCPPair().open()
    p.call("c", "close")
    before = len(p.log)
    p.call("c", "close")
    p.call("c", "shutdown")
    assert len(p.log) == before and p.client.state is State.FIN_WAIT_1


def test_state_table_has_all_eleven_states():
    """The table is data: every RFC 9293 state is in it, and every target is a state."""
    assert set(TRANSITIONS) == set(State) and len(State) == 11
    for events in TRANSITIONS.values():
        assert all(isinstance(e, Event) and isinstance(s, State) for e, s in events.items())
    with pytest.raises(TypeError):
        TRANSITIONS[State.CLOSED][Event.RCV_FIN] = State.CLOSED  # read-only


@pytest.mark.parametrize(("state", "event"), [
    (State.CLOSED, Event.RCV_FIN), (State.LISTEN, Event.RCV_ACK_OF_FIN), (State.TIME_WAIT, Event.CLOSE),
    (State.LAST_ACK, Event.RCV_FIN), (State.FIN_WAIT_2, Event.CLOSE), (State.SYN_SENT, Event.RCV_ACK_OF_FIN),
])
def test_illegal_events_raise(state, event):
    with pytest.raises(IllegalTransition, match=f"{event.name} is not allowed in state {state.name}"):
        next_state(state, event)


def test_illegal_event_leaves_the_connection_unchanged():
    """send() after shutdown raises IllegalTransition and the connection is exactly as before."""
    p = TCPPair().open()
    p.call("c", "shutdown")
    before = (p.client.state, p.client.snd_nxt, p.client.unacked, len(p.log))
    with pytest.raises(IllegalTransition):
        p.client.send(b"more", p.now)
    assert (p.client.state, p.client.snd_nxt, p.client.unacked, len(p.log)) == before
    with pytest.raises(IllegalTransition):
        p.client._transition(Event.TIMEOUT_2MSL)
    assert p.client.state is State.FIN_WAIT_1


def test_fin_ahead_of_missing_data_waits_for_it(tcp_pair):
    """Data then FIN, the data lost: the FIN is held until the retransmitted data fills the gap."""
    p = tcp_pair(rules=[lambda d, i, s: "drop" if d == "c>s" and s.payload and not s.retransmission else None])
    p.open()
    p.send("c", b"last words")
    p.call("c", "shutdown")
    p.run_for(10 * MS)
    assert p.server.state is State.ESTABLISHED and p.server._peer_fin is not None and not p.server.at_eof
    p.run_for(1 * S)
    assert p.recv("s") == b"last words" and p.server.at_eof and p.server.state is State.CLOSE_WAIT


def test_orphaned_fin_wait_2_times_out_after_60s():
    """Linux tcp_fin_timeout: after close() (not shutdown()), FIN_WAIT_2 waits 60 s for the peer's FIN."""
    p = TCPPair().open()
    p.call("c", "close")
    p.run_for(50 * MS)
    assert p.client.state is State.FIN_WAIT_2
    entered = next(e.time_ns for e in p.events if e.kind == "state" and e.details["new"] is State.FIN_WAIT_2)
    p.run(until=p.now + 61 * S)
    assert p.client.state is State.CLOSED and p.client.error is None
    closed = next(e for e in p.events if e.kind == "state" and e.details["old"] is State.FIN_WAIT_2)
    assert closed.details["event"] is Event.TIMEOUT and closed.time_ns == entered + 60 * S
    q = TCPPair().open()  # after shutdown() the application may still read: no timeout
    q.call("c", "shutdown")
    q.run(until=q.now + 100 * S)
    assert q.client.state is State.FIN_WAIT_2


def test_data_arriving_after_close_is_answered_with_rst():
    """RFC 1122 §4.2.2.13 (and Linux): nobody will read it, so the connection is reset."""
    p = TCPPair().open()
    p.call("c", "close")
    p.run_for(50 * MS)
    p.send("s", b"too late")
    p.run_for(50 * MS)
    rst = p.sent("c>s")[-1]
    # Linux answers from the offending segment (tcp_v4_send_reset): a bare RST whose SEQ is that segment's ACK
    assert rst.flags == "R" and rst.segment.tcp.seq == p.server.rcv_nxt and rst.segment.tcp.ack == 0
    assert p.client.state is State.CLOSED and p.server.state is State.CLOSED
    assert p.server.error == errno.EPIPE  # Linux tcp_reset: an RST in CLOSE_WAIT reports EPIPE


def test_new_syn_may_reuse_a_time_wait_connection():
    """RFC 6191 / Linux: a SYN with a newer timestamp (or a higher sequence number) may reopen the ports."""
    from layersim.wire import TCP
    from layersim.wire.tcp_options import MSS, Timestamps

    p = TCPPair().open()
    p.call("c", "close")
    p.run_for(50 * MS)
    p.call("s", "close")
    p.run_for(50 * MS)
    assert p.client.state is State.TIME_WAIT
    conn = p.client
    newer = TCP(sport=80, dport=40000, seq=1, flags="S", options=(MSS(1460), Timestamps(conn.ts_recent + 5, 0)))
    older = TCP(sport=80, dport=40000, seq=1, flags="S", options=(MSS(1460), Timestamps(conn.ts_recent - 5, 0)))
    assert conn.time_wait_allows(newer) and not conn.time_wait_allows(older)
    assert not conn.time_wait_allows(newer.replace(flags="SA"))
    conn.ts_ok = False
    assert conn.time_wait_allows(newer.replace(seq=conn.rcv_nxt + 10))
    assert not conn.time_wait_allows(newer.replace(seq=conn.rcv_nxt - 10))
    assert not p.server.time_wait_allows(newer)  # CLOSED, not TIME-WAIT
