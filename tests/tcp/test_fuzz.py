"""Arbitrary segments never crash a connection or a listener, and never make one answer an RST with an RST."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.tcp import Listener, State
from layersim.wire import TCP
from layersim.wire.tcp_options import MSS, NOP, SACK, SACKPermitted, Timestamps, WindowScale
from tests.tcp.pair import CLIENT, MS, SERVER, TCPPair

u32 = st.integers(0, 2**32 - 1)
option = st.one_of(
    st.builds(MSS, st.integers(0, 65535)), st.just(NOP()), st.builds(WindowScale, st.integers(0, 255)),
    st.just(SACKPermitted()), st.builds(Timestamps, u32, u32),
    st.builds(SACK, st.lists(st.tuples(u32, u32), min_size=1, max_size=3).map(tuple)))
segment = st.tuples(st.integers(0, 255), u32, u32, st.integers(0, 65535), st.lists(option, max_size=4),
                    st.binary(max_size=64), st.booleans())
SETUPS = ["syn_sent", "syn_received", "established", "fin_wait_1", "close_wait", "time_wait", "closed"]


def setup(name: str) -> TCPPair:
    p = TCPPair()
    if name == "syn_sent":
        return p.open(establish=False)
    if name == "syn_received":
        p.open(establish=False)
        p.run_for(6 * MS)
        return p
    p.open()
    p.send("c", b"x" * 3000)
    p.send("s", b"y" * 3000)
    p.run_for(3 * MS)
    if name == "fin_wait_1":
        p.call("c", "close")
    elif name == "close_wait":
        p.call("s", "shutdown")
        p.run_for(20 * MS)
    elif name == "time_wait":
        p.call("c", "shutdown")
        p.call("s", "shutdown")
        p.run_for(20 * MS)
    elif name == "closed":
        p.call("c", "abort")
    return p


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SETUPS), st.lists(segment, min_size=1, max_size=6))
def test_random_segments_never_crash(name, segments):
    p = setup(name)
    conn = p.client if name != "syn_received" else p.server
    for flags, seq_off, ack_off, window, options, payload, relative in segments:
        seq = (conn.rcv_nxt + seq_off % 70_000) % 2**32 if relative else seq_off
        ack = (conn.snd_una + ack_off % 70_000 - 2000) % 2**32 if relative else ack_off
        tcp = TCP(sport=conn.remote[1], dport=conn.local[1], seq=seq, ack=ack, flags=flags, window=window,
                  options=tuple(options))
        out = conn.receive(tcp, payload, p.now)
        if flags & 0x04:
            assert not any(int(s.tcp.flags) & 0x04 for s in out), "an RST answered an RST"
        p.now += 1 * MS
        p.transmit("c>s" if conn is p.client else "s>c", out)
        p.run_for(1 * MS)
        assert isinstance(conn.state, State)
        deadline = conn.next_deadline()
        assert deadline is None or deadline >= 0
    p.run_for(300 * 10**9)  # every timer eventually settles; nothing loops forever
    assert conn.readable >= 0 and conn.unacked >= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(segment, min_size=1, max_size=5))
def test_random_segments_at_a_listener(segments):
    listener = Listener(SERVER, mss=1460)
    for flags, seq, ack, window, options, payload, _ in segments:
        tcp = TCP(sport=CLIENT[1], dport=80, seq=seq, ack=ack, flags=flags, window=window, options=tuple(options))
        conn, out = listener.receive(tcp, payload, CLIENT, 0, iss=77)
        if flags & 0x04:
            assert conn is None and out == []
        elif flags & 0x10:
            assert conn is None and [s.tcp.seq for s in out] == [ack]
        elif flags & 0x02:
            assert conn is not None and conn.state is State.SYN_RECEIVED and int(out[0].tcp.flags) & 0x12 == 0x12
        else:
            assert (conn, out) == (None, [])
