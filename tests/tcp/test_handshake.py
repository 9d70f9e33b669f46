"""Three-way handshake, option negotiation and layout, checked against a real Linux handshake."""

from __future__ import annotations

import itertools

import pytest

from layersim.capture import read_capture
from layersim.tcp import LINUX, RFC, Connection, Listener, State
from layersim.tcp.profile import Profile
from layersim.wire import TCP, IPv4, decode
from layersim.wire.tcp_options import MSS, NOP, SACK, SACKPermitted, Timestamps, WindowScale
from tests.tcp.pair import CLIENT, MS, SERVER, TCPPair
from tests.wire.golden import GOLDEN_PCAP

S = 1_000_000_000


def kinds(tcp: TCP) -> list[int]:
    return [o.kind for o in tcp.options]


def golden_handshake() -> tuple[tuple[IPv4, TCP], tuple[IPv4, TCP]]:
    """The SYN and SYN-ACK of the real Linux exchange in linux_golden.pcap (urllib against http.server)."""
    found = {}
    for record in read_capture(GOLDEN_PCAP):
        packet = decode(record.data)
        tcp = packet.get(TCP)
        if tcp is not None and int(tcp.flags) & 0x02:
            found[int(tcp.flags) & 0x12] = (packet[IPv4], tcp)
    return found[0x02], found[0x12]


def test_golden_linux_syn_and_synack_layout():
    """Our SYN and SYN-ACK have Linux's option kinds and order, window, scale and DF/IP-id habits."""
    (syn_ip, syn), (synack_ip, synack) = golden_handshake()
    mss = syn.options[0].value  # 1360: the client's route MTU was 1400 when it was recorded
    _, [ours] = Connection.connect(CLIENT, SERVER, iss=1, mss=mss, now=0, ts_offset=402141842)
    assert kinds(ours.tcp) == kinds(syn) == [2, 4, 8, 1, 3]
    assert ours.tcp.window == syn.window == 65280  # 48 * 1360: the largest multiple of the MSS below 65536
    assert ours.tcp.options[4] == syn.options[4] == WindowScale(10)
    assert ours.tcp.options[0] == syn.options[0]
    assert ours.tcp.flags == syn.flags
    assert ours.df == bool(int(syn_ip.flags) & 2) and not ours.ip_id_zero and syn_ip.identification != 0
    listener = Listener(SERVER, mss=synack.options[0].value)
    conn, [answer] = listener.receive(syn, b"", CLIENT, 0, iss=7)
    assert conn is not None and conn.state is State.SYN_RECEIVED
    assert kinds(answer.tcp) == kinds(synack) == [2, 4, 8, 1, 3]
    assert answer.tcp.window == synack.window == 64704  # 48 * (1360 - 12): timestamps take 12 bytes
    assert answer.tcp.options[4] == synack.options[4]
    assert answer.tcp.options[2].tsecr == syn.options[2].tsval == synack.options[2].tsecr
    assert answer.tcp.ack == synack.ack and answer.tcp.flags == synack.flags
    assert answer.ip_id_zero and synack_ip.identification == 0 and answer.df


def test_golden_third_ack_window():
    """The handshake's final ACK advertises 64 << 10, as the recorded Linux client did (window rounded up)."""
    (_, syn), (_, synack) = golden_handshake()
    conn, _ = Connection.connect(CLIENT, SERVER, iss=syn.seq, mss=1360, now=0)
    reply = conn.receive(synack.replace(dport=CLIENT[1], sport=SERVER[1]), b"", 1 * MS)
    assert conn.state is State.ESTABLISHED
    assert [s.tcp.window for s in reply] == [64]
    assert kinds(reply[0].tcp) == [1, 1, 8]


def test_linux_default_windows_for_mss_1460():
    """Linux 6.x on a 1500-byte MTU: SYN window 64240, SYN-ACK window 65160."""
    p = TCPPair().open()
    syn, synack = p.log[0].segment.tcp, p.log[1].segment.tcp
    assert (syn.window, synack.window) == (64240, 65160)
    assert syn.options == (MSS(1460), SACKPermitted(), Timestamps(0, 0), NOP(), WindowScale(10))
    assert p.client.state is State.ESTABLISHED and p.server.state is State.ESTABLISHED
    assert [s.flags for s in p.log] == ["S", "S.", "."]


@pytest.mark.parametrize(("offer", "expected"), [
    ((MSS(1460), SACKPermitted(), Timestamps(5, 0), NOP(), WindowScale(7)), [2, 4, 8, 1, 3]),
    ((MSS(1460), NOP(), NOP(), Timestamps(5, 0), NOP(), WindowScale(7)), [2, 1, 1, 8, 1, 3]),
    ((MSS(1460), NOP(), NOP(), SACKPermitted(), NOP(), WindowScale(7)), [2, 1, 1, 4, 1, 3]),
    ((MSS(1460), NOP(), WindowScale(7)), [2, 1, 3]),
    ((MSS(1460),), [2]),
    ((), [2]),
])
def test_synack_offers_only_what_the_syn_offered(offer, expected):
    """Linux's SYN-ACK layouts: TS beside SACKOK, NOP NOP TS, NOP NOP SACKOK, NOP WS."""
    syn = TCP(sport=CLIENT[1], dport=SERVER[1], seq=100, flags="S", window=65535, options=offer)
    conn, [synack] = Listener(SERVER, mss=1460).receive(syn, b"", CLIENT, 0, iss=9)
    assert kinds(synack.tcp) == expected
    assert conn.sack_ok == any(type(o) is SACKPermitted for o in offer)
    assert conn.ts_ok == any(type(o) is Timestamps for o in offer)
    assert conn.wscale_ok == any(type(o) is WindowScale for o in offer)
    assert conn.peer_mss == (1460 if offer else 536)  # RFC 9293 §3.7.1: 536 without the option
    size = sum(len(o.encode()) for o in synack.tcp.options)
    assert size % 4 == 0


def test_rfc_profile_layout_and_windows():
    """The RFC profile: 4-byte aligned options in RFC order, 65535 windows, no DF."""
    _, [syn] = Connection.connect(CLIENT, SERVER, iss=1, mss=1460, now=0, profile=RFC)
    assert kinds(syn.tcp) == [2, 1, 3, 1, 1, 4, 1, 1, 8]
    assert syn.tcp.window == 65535 and not syn.df


def test_forty_bytes_of_options_fit():
    """NOP NOP TS NOP NOP SACK with 3 blocks: 40 bytes exactly, the most a header holds."""
    from layersim.tcp.options import data_options, options_length

    blocks = [(1, 2), (3, 4), (5, 6), (7, 8)]
    with_ts = data_options(1, 2, blocks)
    assert options_length(with_ts) == 40 == sum(len(o.encode()) for o in with_ts)
    assert len(with_ts[-1].blocks) == 3
    without = data_options(None, 0, blocks)
    assert len(without[-1].blocks) == 4 and options_length(without) == 36
    tcp = TCP(sport=1, dport=2, options=with_ts)
    assert tcp.header_length == 60


def test_window_scale_capped_at_14():
    """RFC 7323 §2.3: a shift above 14 is used as 14; our own is capped too."""
    syn = TCP(sport=CLIENT[1], dport=SERVER[1], seq=100, flags="S", options=(MSS(1460), NOP(), WindowScale(20)))
    conn, _ = Listener(SERVER, mss=1460).receive(syn, b"", CLIENT, 0, iss=9)
    assert conn.snd_scale == 14
    big = Profile(**{**LINUX.__dict__, "window_scale": 15})
    _, [ours] = Connection.connect(CLIENT, SERVER, iss=1, mss=1460, now=0, profile=big)
    assert ours.tcp.options[-1] == WindowScale(14)


def test_scaled_window_is_used_after_the_handshake():
    """The SYN's window is never scaled; later windows are shifted by the peer's scale."""
    p = TCPPair().open()
    assert p.client.snd_wnd == 65160          # from the SYN-ACK, unscaled
    assert p.server.snd_wnd == 63 << 10       # from the ACK: 64240 rounded up to whole 1024-byte units
    no_scale = TCPPair(client_profile=Profile(**{**LINUX.__dict__, "window_scale": 0})).open()
    assert no_scale.server.snd_scale == 0 and no_scale.client.snd_scale == 10


@pytest.mark.parametrize(("peer_mss", "used"), [(88, 88), (40, 88), (536, 536)])
def test_small_peer_mss_raised_to_linux_minimum(peer_mss, used):
    """Linux never segments below 88 bytes of MSS whatever the peer says."""
    syn = TCP(sport=CLIENT[1], dport=SERVER[1], seq=100, flags="S", options=(MSS(peer_mss),))
    conn, _ = Listener(SERVER, mss=1460).receive(syn, b"", CLIENT, 0, iss=9)
    assert conn.peer_mss == used


def test_segments_honour_peer_mss_536():
    """A peer without the MSS option gets 536-byte segments (RFC 9293 §3.7.1)."""
    p = TCPPair(server_mss=536).open()
    p.send("c", bytes(5000))
    p.run_for(200 * MS)
    sizes = [len(s.segment.payload) for s in p.sent("c>s") if s.segment.payload]
    assert max(sizes) == 536 - 12 and sum(sizes) == 5000


def test_syn_retransmission_backoff_and_etimedout():
    """An unanswered SYN goes again after 1, 2, 4, ... s; after 6 retries (Linux) connect fails with ETIMEDOUT."""
    import errno

    p = TCPPair(rules=[lambda d, i, s: "drop"])
    p.open(establish=False)
    p.run()
    times = [s.time for s in p.sent("c>s")]
    assert [(b - a) // S for a, b in itertools.pairwise(times)] == [1, 2, 4, 8, 16, 32]
    assert all(s.flags == "S" for s in p.log)
    assert p.client.state is State.CLOSED and p.client.error == errno.ETIMEDOUT
    assert p.now == times[-1] + 64 * S


def test_lost_synack_is_sent_again():
    """The server answers a retransmitted SYN with its SYN-ACK, and its own timer resends it too."""
    p = TCPPair(rules=[lambda d, i, s: "drop" if d == "s>c" and i == 0 else None])
    p.open()
    flags = [(s.direction, s.flags, s.segment.retransmission) for s in p.log]
    assert flags[:2] == [("c>s", "S", False), ("s>c", "S.", False)]
    assert ("s>c", "S.", True) in flags
    assert p.client.state is State.ESTABLISHED and p.server.state is State.ESTABLISHED


def test_simultaneous_open():
    """Both ends send a SYN: each answers with a SYN-ACK and both reach ESTABLISHED (RFC 9293 Figure 7)."""
    p = TCPPair()
    a, syn_a = Connection.connect(CLIENT, SERVER, iss=100, mss=1460, now=0)
    b, syn_b = Connection.connect(SERVER, CLIENT, iss=900, mss=1460, now=0)
    p.client, p.server = a, b
    p.transmit("c>s", syn_a)
    p.transmit("s>c", syn_b)
    p.run(until=50 * MS)
    assert a.state is State.ESTABLISHED and b.state is State.ESTABLISHED
    states = [(e.details["old"], e.details["new"]) for e in p.events if e.kind == "state"]
    assert (State.SYN_SENT, State.SYN_RECEIVED) in states
    assert (State.SYN_RECEIVED, State.ESTABLISHED) in states
    assert [s.flags for s in p.log] == ["S", "S", "S.", "S."]
    assert p.transfer(b"ping", b"pong") == (b"ping", b"pong")


def test_handshake_through_real_bytes_with_iss_near_wrap():
    """ISS just below 2**32: the handshake and a transfer cross the wrap, and every segment decodes back."""
    p = TCPPair(client_iss=2**32 - 3, server_iss=2**32 - 1, wire=True).open()
    assert p.client.snd_una == 2**32 - 2 and p.server.snd_una == 0
    data = bytes(range(256)) * 40
    assert p.transfer(data, data[::-1]) == (data, data[::-1])
    p.run_for(100 * MS)
    assert p.client.snd_una == (2**32 - 2 + len(data)) % 2**32


def test_rtt_measured_from_the_handshake():
    """The SYN's round trip is the first RTT sample: 2 x 5 ms link delay."""
    p = TCPPair().open()
    assert p.client.srtt_ns == 10 * MS
    assert any(e.kind == "rtt" and e.details["sample_ns"] == 10 * MS for e in p.events)
    assert p.client.rto_ns == 10 * MS + max(4 * 5 * MS, 200 * MS)  # Linux: srtt + max(4 rttvar, 200 ms)
    rfc = TCPPair(client_profile=RFC, server_profile=RFC).open()
    assert rfc.client.rto_ns == 1 * S  # RFC 6298 §2.4: at least 1 s


def test_sack_and_timestamps_off_when_profile_disables_them():
    """A profile without SACK or timestamps neither offers nor accepts them."""
    bare = Profile(**{**LINUX.__dict__, "sack": False, "timestamps": False})
    p = TCPPair(client_profile=bare).open()
    assert kinds(p.log[0].segment.tcp) == [2, 1, 3]
    assert kinds(p.log[1].segment.tcp) == [2, 1, 3]
    assert not p.server.sack_ok and not p.server.ts_ok
    p.send("c", b"x" * 100)
    p.run_for(50 * MS)
    assert all(not any(type(o) in (Timestamps, SACK) for o in s.segment.tcp.options) for s in p.log[2:])
