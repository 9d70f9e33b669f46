"""Header prediction: the fast path takes the common segment and gives exactly what the full RFC 9293 path gives;
its edges (receive window, duplicate pure ACKs, ACK range, PAWS, held FIN) are tested one by one."""

from __future__ import annotations

import copy
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.tcp import Connection
from layersim.tcp.seq import seq_add, seq_sub
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.tcp_options import Timestamps
from tests.tcp.pair import MS, TCPPair

A, P, F, S, R = TCPFlags.ACK, TCPFlags.PSH, TCPFlags.FIN, TCPFlags.SYN, TCPFlags.RST


class FullPathOnly(Connection):
    """The same connection with header prediction switched off: every segment takes the RFC 9293 path."""

    __slots__ = ()

    def _fast(self, tcp, payload, out) -> bool:
        return False


@cache
def _server_with_data_in_flight() -> Connection:
    """An ESTABLISHED server with 4000 bytes unacknowledged and a client timestamp recorded."""
    p = TCPPair().open()
    p.rules.append(lambda d, i, s: "drop" if d == "c>s" else None)
    p.send("s", bytes(4000))
    p.run_for(1 * MS)
    assert seq_sub(p.server.snd_max, p.server.snd_una) == 4000
    return p.server


@cache
def _server_with_a_hole_and_data_queued(recovering: bool) -> Connection:
    """An ESTABLISHED server with ten segments in flight, more queued behind the congestion window, three bytes
    missing before data it holds out of order, and, if `recovering`, in fast recovery after three duplicate ACKs."""
    p = TCPPair().open()
    p.rules.append(lambda d, i, s: "drop" if d == "c>s" else None)
    p.send("s", bytes(30000))
    p.run_for(1 * MS)
    conn = p.server
    conn.receive(segment(conn, dseq=3), b"def", 2 * MS)
    for _ in range(3 if recovering else 0):
        conn.receive(segment(conn, window=conn.snd_wnd >> conn.snd_scale), b"", 3 * MS)
    assert conn.cc.in_recovery is recovering and conn.rcvq.ooo
    # limited transmit (RFC 3042): one new segment on each of the first two duplicate ACKs (12 bytes shorter: our
    # own segments now carry a SACK block for the data held out of order)
    in_flight = 10 * 1448 + (2 * 1436 if recovering else 0)
    assert seq_sub(conn.snd_max, conn.snd_una) == in_flight and len(conn.sndq.data) == 30000
    conn.drain_events()
    return conn


STATES = {"in flight": _server_with_data_in_flight,
          "hole, data queued": lambda: _server_with_a_hole_and_data_queued(False),
          "hole, recovering": lambda: _server_with_a_hole_and_data_queued(True)}


def server(state: str = "in flight") -> Connection:
    """A fresh copy of one of the servers above."""
    return copy.deepcopy(STATES[state]())


def full_path_twin(conn: Connection) -> Connection:
    """A copy of `conn` that never takes the fast path."""
    twin = copy.deepcopy(conn)
    twin.__class__ = FullPathOnly
    return twin


def segment(conn: Connection, *, dseq: int = 0, dack: int = 0, flags: TCPFlags = A, dts: int | None = 1,
            window: int = 1000) -> TCP:
    """A segment from the peer: seq = RCV.NXT + dseq, ack = SND.UNA + dack, TSval = TS.Recent + dts."""
    options = () if dts is None else (Timestamps((conn.ts_recent + dts) & 0xFFFFFFFF, 0),)
    return TCP(sport=conn.remote[1], dport=conn.local[1], seq=seq_add(conn.rcv_nxt, dseq),
               ack=seq_add(conn.snd_una, dack), flags=flags, window=window, options=options)


def outcome(conn: Connection, tcp: TCP, payload: bytes, now: int = 50 * MS) -> tuple:
    """What a segment does: the replies, the variables it may move, what was received, and the trace."""
    out = conn.receive(tcp, payload, now)
    replies = [(s.tcp.seq, s.tcp.ack, int(s.tcp.flags), s.tcp.window, s.tcp.options, s.payload) for s in out]
    cc = conn.cc
    return (replies, conn.state, conn.rcv_nxt, conn.rcv_adv, conn.snd_una, conn.snd_nxt, conn.snd_wnd,
            conn.snd_wl1, conn.snd_wl2, conn.ts_recent, conn.last_ack_sent, bytes(conn.rcvq.data), cc.cwnd,
            cc.dupacks, conn.next_deadline(), [(e.kind, dict(e.details)) for e in conn.drain_events()])


def window(conn: Connection) -> int:
    """The receive window the connection last advertised, from RCV.NXT."""
    return seq_sub(conn.rcv_adv, conn.rcv_nxt)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(state=st.sampled_from(sorted(STATES)),
       dseq=st.sampled_from([0, -1, 1, -1000, 500]),
       dack=st.sampled_from([0, -1, 1, 1448, 2 * 1448, 3999, 4000, 4001, 10 * 1448, 2**31]),
       flags=st.sampled_from([A, A | P, A | F, A | S, A | R, TCPFlags(0), P]),
       plen=st.sampled_from(["0", "1", "w-1", "w", "w+1"]),
       dts=st.sampled_from([None, 0, 1, -1, 2**31 - 1, 2**31, 2**31 + 1]),
       peer_window=st.sampled_from([0, 1000, 65535]))
def test_fast_path_gives_what_the_full_path_gives(state, dseq, dack, flags, plen, dts, peer_window):
    """Any segment, taken or declined by the fast path, ends exactly as it would on the full path."""
    conn = server(state)
    w = window(conn)
    n = {"0": 0, "1": 1, "w-1": w - 1, "w": w, "w+1": w + 1}[plen]
    tcp = segment(conn, dseq=dseq, dack=dack, flags=flags, dts=dts, window=peer_window)
    payload = bytes(range(256)) * (n // 256) + bytes(n % 256)
    twin = full_path_twin(conn)
    assert outcome(conn, tcp, payload) == outcome(twin, tcp, payload)


def test_in_order_data_filling_the_window_exactly_is_fast():
    """Data that ends exactly at the advertised right edge is in-window (RFC 9293 §3.10.7.4): fast path; one byte
    more is not and goes to the full path, which trims it."""
    conn = server()
    w = window(conn)
    assert conn._fast(segment(conn), bytes(w), []) is True
    assert conn.rcvq.data == bytes(w)
    conn = server()
    assert conn._fast(segment(conn), bytes(w + 1), []) is False
    assert conn.rcvq.data == b""
    assert conn._fast(segment(conn, dseq=1), b"x", []) is False  # out of order


def test_fast_path_window_uses_the_advertised_edge_after_wrap():
    """RCV.NXT and the right edge on either side of 2**32: the window is still (RCV.ADV - RCV.NXT) mod 2**32."""
    conn = server()
    w = window(conn)
    conn.rcv_nxt = conn.last_ack_sent = 0xFFFFFF00
    conn.rcv_adv = (0xFFFFFF00 + w) & 0xFFFFFFFF
    assert conn._fast(segment(conn), bytes(w + 1), []) is False
    assert conn._fast(segment(conn), bytes(w), []) is True
    assert conn.rcv_nxt == (0xFFFFFF00 + w) & 0xFFFFFFFF


def test_duplicate_pure_ack_is_fast_and_counted():
    """A pure ACK of SND.UNA with data outstanding is a duplicate ACK (RFC 5681 §2): the fast path counts it, and the
    third starts fast retransmit exactly as the full path would."""
    conn = server()
    twin = full_path_twin(conn)
    for k in range(1, 4):
        out = []
        assert conn._fast(segment(conn, window=conn.snd_wnd >> conn.snd_scale), b"", out) is True
        assert conn.cc.dupacks == k
        twin_out = twin.receive(segment(twin, window=twin.snd_wnd >> twin.snd_scale), b"", 50 * MS)
        assert [(s.tcp.seq, len(s.payload)) for s in out] == [(s.tcp.seq, len(s.payload)) for s in twin_out]
    assert conn.cc.in_recovery and [s.tcp.seq for s in out] == [conn.snd_una]


def test_ack_range_on_the_fast_path():
    """An ACK of everything sent (SND.MAX) is fast; one beyond it, or an old one below SND.UNA, is for the full
    path (RFC 9293 §3.10.7.4: unsent data acked, or a duplicate)."""
    conn = server()
    assert conn._fast(segment(conn, dack=4000), b"", []) is True
    assert conn.snd_una == conn.snd_max
    conn = server()
    assert conn._fast(segment(conn, dack=4001), b"", []) is False
    assert conn._fast(segment(conn, dack=-1), b"", []) is False
    assert conn.snd_una == seq_sub(conn.snd_max, 4000)


def test_only_plain_acks_are_fast():
    """SYN, FIN or RST, or no ACK at all: the full path decides; PSH does not matter."""
    for flags in (A | S, A | F, A | R, TCPFlags(0), P):
        conn = server()
        assert conn._fast(segment(conn, flags=flags), b"", []) is False, flags
    conn = server()
    assert conn._fast(segment(conn, flags=A | P), b"data", []) is True


def test_paws_boundary_on_the_fast_path():
    """RFC 7323 §5.3: a TSval 2**31 or more behind TS.Recent is old (full path drops it); 2**31 - 1 ahead is new."""
    conn = server()
    assert conn._fast(segment(conn, dts=2**31), b"x", []) is False
    assert conn._fast(segment(conn, dts=2**31 - 1), b"x", []) is True
    assert conn.ts_recent == (_server_with_data_in_flight().ts_recent + 2**31 - 1) & 0xFFFFFFFF


def test_a_held_fin_sends_in_order_data_to_the_full_path():
    """With a FIN held beyond a hole, in-order data must go through the full path so the FIN is taken."""
    conn = server()
    conn.receive(segment(conn, dseq=3, flags=A | F), b"", 50 * MS)  # FIN after three missing bytes
    assert conn._fast(segment(conn), b"abc", []) is False
    conn = server()
    assert conn._fast(segment(conn), b"abc", []) is True


def test_fast_path_acks_data_at_once_when_asked():
    """Data that fills a hole is ACKed at once, by one ACK carrying the new RCV.NXT."""
    conn = server()
    conn.receive(segment(conn, dseq=3), b"def", 50 * MS)
    out = []
    assert conn._fast(segment(conn), b"abc", out) is True
    assert [(s.tcp.ack, s.payload) for s in out] == [(conn.rcv_nxt, b"")]
    assert conn.rcvq.data == b"abcdef"
