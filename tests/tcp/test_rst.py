"""RST rules: closed ports, LISTEN, refused and reset connections, RFC 5961 checks, never an RST for an RST."""

from __future__ import annotations

import errno

import pytest

from layersim.tcp import LINUX, RFC, Connection, Listener, State, reset_for
from layersim.wire import TCP
from tests.tcp.pair import CLIENT, MS, SERVER, TCPPair


@pytest.mark.parametrize(("flags", "payload", "expected"), [
    ("S", b"", (0, 101, "RA")),           # SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>
    ("SF", b"", (0, 102, "RA")),          # SYN and FIN each take a sequence number
    ("PA", b"hello", (555, 0, "R")),      # ACK set: <SEQ=SEG.ACK><CTL=RST>
    ("F", b"abc", (0, 104, "RA")),
    ("", b"", (0, 100, "RA")),
])
def test_reset_for_closed_port(flags, payload, expected):
    """RFC 9293 §3.10.7.1, with Linux's DF and IP id 0."""
    seg = TCP(sport=40000, dport=81, seq=100, ack=555, flags=flags)
    rst = reset_for(seg, len(payload))
    seq, ack, rflags = expected
    assert (rst.tcp.seq, rst.tcp.ack, rst.tcp.flags) == (seq, ack, TCP(flags=rflags).flags)
    assert (rst.tcp.sport, rst.tcp.dport, rst.tcp.window, rst.payload) == (81, 40000, 0, b"")
    assert rst.df and rst.ip_id_zero and not rst.retransmission


@pytest.mark.parametrize("flags", ["R", "RA"])
def test_never_an_rst_for_an_rst(flags):
    assert reset_for(TCP(sport=1, dport=2, flags=flags), 0) is None
    listener = Listener(SERVER, mss=1460)
    assert listener.receive(TCP(sport=1, dport=80, flags=flags), b"", CLIENT, 0, iss=1) == (None, [])
    p = TCPPair().open()
    p.call("c", "abort")  # the client is CLOSED now; an RST reaching it gets no answer
    assert p.client.receive(TCP(sport=80, dport=40000, seq=p.client.rcv_nxt, flags=flags), b"", p.now) == []


def test_listen_socket_answers_an_ack_with_rst():
    """A stray ACK (or SYN-ACK) at a LISTEN socket: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2)."""
    listener = Listener(SERVER, mss=1460)
    conn, out = listener.receive(TCP(sport=40000, dport=80, seq=7, ack=4242, flags="A"), b"", CLIENT, 0, iss=1)
    assert conn is None and [(s.tcp.seq, s.tcp.flags) for s in out] == [(4242, TCP(flags="R").flags)]
    conn, out = listener.receive(TCP(sport=40000, dport=80, seq=7, ack=99, flags="SA"), b"", CLIENT, 0, iss=1)
    assert conn is None and out[0].tcp.seq == 99
    assert listener.receive(TCP(sport=40000, dport=80, seq=7, flags="F"), b"x", CLIENT, 0, iss=1) == (None, [])


def test_rst_to_syn_means_connection_refused():
    """The closed port's RST answering our SYN: ECONNREFUSED, CLOSED, no timers left."""
    conn, [syn] = Connection.connect(CLIENT, SERVER, iss=100, mss=1460, now=0)
    rst = reset_for(syn.tcp, 0)
    assert conn.receive(rst.tcp, b"", 1 * MS) == []
    assert conn.state is State.CLOSED and conn.error == errno.ECONNREFUSED and conn.next_deadline() is None
    assert conn.finished


def test_syn_sent_ignores_rst_with_wrong_ack_and_rst_without_ack():
    """RFC 9293 §3.10.7.3: an RST in SYN_SENT counts only if it acknowledges our SYN."""
    conn, _ = Connection.connect(CLIENT, SERVER, iss=100, mss=1460, now=0)
    assert conn.receive(TCP(sport=80, dport=40000, seq=0, ack=555, flags="RA"), b"", 1) == []
    assert conn.receive(TCP(sport=80, dport=40000, seq=0, flags="R"), b"", 1) == []
    assert conn.state is State.SYN_SENT and conn.error is None


def test_syn_sent_resets_an_unacceptable_ack():
    """A SYN-ACK acknowledging something we never sent: <SEQ=SEG.ACK><CTL=RST>, and we keep waiting."""
    conn, _ = Connection.connect(CLIENT, SERVER, iss=100, mss=1460, now=0)
    out = conn.receive(TCP(sport=80, dport=40000, seq=9, ack=5000, flags="SA"), b"", 1)
    assert [(s.tcp.seq, s.tcp.flags) for s in out] == [(5000, TCP(flags="R").flags)]
    assert conn.state is State.SYN_SENT


def test_syn_received_resets_an_unacceptable_ack():
    p = TCPPair().open(establish=False)
    p.run_for(6 * MS)
    server = p.server
    out = server.receive(TCP(sport=40000, dport=80, seq=1001, ack=12345, flags="A"), b"", p.now)
    assert [(s.tcp.seq, s.tcp.flags) for s in out] == [(12345, TCP(flags="R").flags)]
    assert server.state is State.SYN_RECEIVED


def exact_rst(conn: Connection, offset: int = 0, flags: str = "R") -> TCP:
    return TCP(sport=conn.remote[1], dport=conn.local[1], seq=(conn.rcv_nxt + offset) % 2**32, flags=flags)


@pytest.mark.parametrize(("state_setup", "expected_errno"), [
    ("established", errno.ECONNRESET), ("close_wait", errno.EPIPE), ("fin_wait_2", errno.ECONNRESET),
    ("time_wait", None),
])
def test_exact_rst_resets_with_linux_errno(state_setup, expected_errno):
    """An RST at exactly RCV.NXT ends the connection; the errno is Linux's for the state (tcp_reset)."""
    p = TCPPair().open()
    conn = p.client
    if state_setup == "close_wait":
        p.call("s", "close")
        p.run_for(50 * MS)
    elif state_setup == "fin_wait_2":
        p.call("c", "close")
        p.run_for(50 * MS)
    elif state_setup == "time_wait":
        p.call("c", "close")
        p.run_for(50 * MS)
        p.call("s", "close")
        p.run_for(50 * MS)
        assert conn.state is State.TIME_WAIT
    assert conn.receive(exact_rst(conn), b"", p.now) == []
    assert conn.state is State.CLOSED and conn.error == expected_errno


@pytest.mark.parametrize("profile", [LINUX, RFC])
def test_in_window_rst_gets_a_challenge_ack(profile):
    """RFC 5961 §3.2: an RST inside the window but not at RCV.NXT is answered with an ACK, not obeyed."""
    p = TCPPair(client_profile=profile, server_profile=profile).open()
    out = p.client.receive(exact_rst(p.client, 1000), b"", p.now)
    assert p.client.state is State.ESTABLISHED
    assert len(out) == 1 and out[0].tcp.flags == TCP(flags="A").flags and out[0].tcp.ack == p.client.rcv_nxt
    assert [e.kind for e in p.client.drain_events()][-1] == "challenge_ack"


def test_out_of_window_rst_is_dropped_silently():
    p = TCPPair().open()
    for offset in (-1, 10_000_000):
        assert p.client.receive(exact_rst(p.client, offset), b"", p.now) == []
    assert p.client.state is State.ESTABLISHED


def test_syn_in_window_gets_a_challenge_ack():
    """RFC 5961 §4.2: a SYN on an established connection is answered with an ACK; the connection stays."""
    p = TCPPair().open()
    syn = TCP(sport=80, dport=40000, seq=p.client.rcv_nxt + 5, flags="S")
    out = p.client.receive(syn, b"", p.now)
    assert p.client.state is State.ESTABLISHED and out[0].tcp.ack == p.client.rcv_nxt
    assert int(out[0].tcp.flags) == 0x10


def test_rst_from_peer_abort_reaches_the_other_side():
    """abort() on one side: its RST at SND.MAX is exactly the peer's RCV.NXT, so the peer resets."""
    p = TCPPair().open()
    p.send("s", b"x" * 5000)
    p.run_for(3 * MS)  # data in flight
    p.call("c", "abort")
    p.run_for(50 * MS)
    assert p.server.state is State.CLOSED and p.server.error == errno.ECONNRESET
    # the data still arriving at the closed client is answered with RSTs; the server never sends one back
    assert [s.direction for s in p.log if "R" in s.flags] == ["c>s"] * len([s for s in p.log if "R" in s.flags])
    assert any(s.direction == "c>s" and s.flags == "R" for s in p.log)


def test_segment_for_a_closed_connection_gets_reset():
    p = TCPPair().open()
    p.call("c", "abort")
    out = p.client.receive(TCP(sport=80, dport=40000, seq=5001, ack=1001, flags="PA"), b"late", p.now)
    assert [(s.tcp.seq, s.tcp.flags) for s in out] == [(1001, TCP(flags="R").flags)]


def test_ack_of_unsent_data_linux_drops_rfc_acks():
    """An ACK beyond SND.MAX: RFC 9293 answers with an ACK; Linux drops it silently."""
    for profile, answers in ((LINUX, 0), (RFC, 1)):
        p = TCPPair(client_profile=profile, server_profile=profile).open()
        bogus = TCP(sport=80, dport=40000, seq=p.client.rcv_nxt, ack=p.client.snd_max + 5000, flags="A",
                    window=100)
        assert len(p.client.receive(bogus, b"", p.now)) == answers
        assert p.client.snd_una == 1001


def test_paws_drops_an_old_timestamp():
    """RFC 7323 §5: a segment whose TSval is older than TS.Recent is dropped with an ACK."""
    from layersim.wire.tcp_options import NOP, Timestamps

    p = TCPPair().open()
    p.send("s", b"new")
    p.run_for(50 * MS)
    assert p.recv("c") == b"new"
    old = TCP(sport=80, dport=40000, seq=p.client.rcv_nxt, ack=p.client.snd_max, flags="PA",
              options=(NOP(), NOP(), Timestamps(p.client.ts_recent - 1, 0)))
    out = p.client.receive(old, b"stale", p.now)
    assert p.client.readable == 0 and len(out) == 1 and out[0].tcp.ack == p.client.rcv_nxt


def test_ack_too_old_gets_a_challenge_ack():
    """RFC 5961 §5.2: an ACK more than a window below SND.UNA is challenged, not used."""
    p = TCPPair().open()
    p.send("c", bytes(300_000))
    p.run_for(500 * MS)
    una = p.client.snd_una
    old = TCP(sport=80, dport=40000, seq=p.client.rcv_nxt, ack=(una - p.client.max_snd_wnd - 10) % 2**32,
              flags="PA")
    out = p.client.receive(old, b"data", p.now)
    assert len(out) == 1 and out[0].tcp.ack == p.client.rcv_nxt and p.client.readable == 0
    assert [e.details for e in p.client.drain_events() if e.kind == "challenge_ack"] == [{"reason": "ack too old"}]
