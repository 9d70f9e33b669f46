"""Data transfer: segmentation, Nagle, delayed ACK, flow control with zero window and persist probes."""

from __future__ import annotations

import itertools
from dataclasses import replace

from layersim.tcp import LINUX, RFC, State
from tests.tcp.pair import MS, TCPPair

S = 1_000_000_000


def data_segments(p: TCPPair, direction: str = "c>s"):
    return [s for s in p.sent(direction) if s.segment.payload]


def pure_acks(p: TCPPair, direction: str):
    return [s for s in p.sent(direction) if not s.segment.payload and s.flags == "."]


def test_segmentation_to_peer_mss_minus_timestamps(tcp_pair):
    """A 10 kB write leaves as 1448-byte segments (1460 - 12 bytes of timestamps), PSH on the last (and at the end
    of each GSO burst before it, see the tests below)."""
    p = tcp_pair().open()
    p.send("c", bytes(10_000))
    segs = data_segments(p)
    assert [len(s.segment.payload) for s in segs] == [1448] * 6 + [10_000 - 6 * 1448]
    assert segs[-1].flags == "P."
    assert [s.segment.tcp.seq for s in segs] == [1001 + 1448 * i for i in range(7)]


def psh_ends(p: TCPPair) -> list[int]:
    """The 1-based positions of the data segments the client sent with PSH."""
    return [i for i, s in enumerate(data_segments(p), 1) if "P" in s.flags]


def test_linux_sends_a_write_in_gso_bursts_each_ending_in_psh():
    """Linux (tcp_write_xmit) sends at most half the cwnd per GSO skb and __tcp_transmit_skb forces PSH on every
    skb of more than one segment: with a fast path (1 ms RTT, so the TSO autosize allows more than half the
    initial window), a 10-segment write leaves as bursts of 5 and 5; at a 10 ms RTT the autosize (about 1 ms at
    the pacing rate, 2 at least) makes bursts of 2; a single-segment burst gets PSH only at the end of a write."""
    fast = TCPPair(delay_ns=MS // 2).open()
    fast.send("c", bytes(10 * 1448))
    assert psh_ends(fast) == [5, 10]
    slow = TCPPair(delay_ns=5 * MS).open()
    slow.send("c", bytes(7 * 1448 - 100))
    assert psh_ends(slow) == [2, 4, 6, 7]  # the 7th: one segment, PSH because the write ends there
    window = TCPPair(delay_ns=MS // 2).open()  # the peer's window ends a burst before its size does
    window.client.snd_wnd = 4 * 1448
    window.send("c", bytes(10 * 1448))
    assert psh_ends(window) == [4]  # the burst stopped by the window still ends in PSH; the write goes on later
    rfc = TCPPair(client_profile=RFC, server_profile=RFC, delay_ns=MS // 2).open()
    rfc.client.cc.cwnd = 10 * 1448
    rfc.send("c", bytes(10 * 1448))
    assert psh_ends(rfc) == [10]


def test_gso_burst_size_follows_the_pacing_rate():
    """The TSO autosize: pacing rate = mss * cwnd / srtt (x2 in slow start) for 2**-10 s, plus gso_max_size >>
    (min_rtt in us >> 9), at most 64 KiB, never below 2 segments; the burst is also at most half the cwnd."""
    p = TCPPair(delay_ns=5 * MS).open()
    c = p.client
    mss = 1448
    assert c.rtt.srtt_ns == 10 * MS and c._min_rtt_ns == 10 * MS
    rate = mss * 200 * 10 * 10_000_000 // (10 * MS)  # 2,896,000 bytes per second at cwnd 10 in slow start
    assert c._gso_burst(mss) == max((rate >> 10) // mss, 2) == 2
    c.cc.cwnd = 100 * mss  # rate 28.96 MB/s: 28,281 bytes per 2**-10 s, 19 segments; half the cwnd is 50
    assert c._gso_burst(mss) == 19
    c.cc.cwnd = 4 * mss  # half the cwnd is the smaller
    assert c._gso_burst(mss) == 2
    c.cc.ssthresh = 4 * mss  # congestion avoidance (cwnd not below half ssthresh): 120 % instead of 200 %
    c.cc.cwnd = 100 * mss
    assert c._gso_burst(mss) == (mss * 120 * 100 * 10_000_000 // (10 * MS) >> 10) // mss == 11
    c._min_rtt_ns = 100_000  # 100 us: the low-RTT bonus, 65536 >> (100 >> 9 = 0), caps the size at 64 KiB
    assert c._gso_burst(mss) == 65536 // mss == 45


def test_smaller_of_both_mss_and_initial_window_of_ten():
    """Segments follow the smaller MSS; the first flight is 10 segments (Linux initial cwnd)."""
    p = TCPPair(mss=1460, server_mss=1000).open()
    p.send("c", bytes(100_000))
    first = data_segments(p)
    assert len(first) == 10 and {len(s.segment.payload) for s in first} == {988}
    assert p.client.cwnd == 10 * 988
    rfc = TCPPair(client_profile=RFC, server_profile=RFC).open()
    rfc.send("c", bytes(100_000))
    assert len(data_segments(rfc)) == 3  # RFC 5681 IW: 3 segments of 1448


def test_classic_nagle_in_the_rfc_profile_holds_a_large_write_tail():
    """RFC 896 as written: the tail of a large write waits for all data to be acknowledged."""
    p = TCPPair(client_profile=RFC, server_profile=RFC).open()
    p.send("c", bytes(2000))
    assert [len(s.segment.payload) for s in data_segments(p)] == [1448]
    p.run_for(300 * MS)
    assert [len(s.segment.payload) for s in data_segments(p)] == [1448, 552]


def test_nagle_holds_small_writes_until_the_ack():
    """With Nagle, a second small write waits for the first one's ACK; with nodelay it goes at once."""
    p = TCPPair().open()
    p.send("c", b"a")
    p.send("c", b"b")
    p.send("c", b"c")
    assert [s.segment.payload for s in data_segments(p)] == [b"a"]
    p.run_for(20 * MS)
    assert [s.segment.payload for s in data_segments(p)] == [b"a", b"bc"]
    q = TCPPair(client_kwargs={"nodelay": True}).open()
    for ch in b"abc":
        q.send("c", bytes([ch]))
    assert [s.segment.payload for s in data_segments(q)] == [b"a", b"b", b"c"]
    r = TCPPair().open()
    r.client.nodelay = True  # settable after the connection exists (TCP_NODELAY)
    r.send("c", b"a")
    r.send("c", b"b")
    assert len(data_segments(r)) == 2


def test_quick_acks_then_delayed_ack_after_40ms():
    """Linux: the first segments are ACKed at once; later a lone segment waits 40 ms for its ACK."""
    p = TCPPair(client_kwargs={"nodelay": True}).open()
    for _ in range(LINUX.quickack_segments):
        p.send("c", b"q")
        p.run_for(20 * MS)
    assert all(a.time - d.time == 5 * MS for d, a in zip(data_segments(p), pure_acks(p, "s>c"), strict=True))
    p.send("c", b"late")
    sent_at = p.now
    p.run_for(100 * MS)
    ack = pure_acks(p, "s>c")[-1]
    assert ack.time - sent_at == 5 * MS + 40 * MS
    assert ack.segment.tcp.ack == p.client.snd_una


def test_every_second_full_segment_is_acked_at_once():
    """After the quick-ACK phase, two full-sized segments unacknowledged get an immediate ACK."""
    p = TCPPair(server_profile=replace(LINUX, quickack_segments=0)).open()
    p.send("c", bytes(1448 * 2))
    p.run_for(7 * MS)
    acks = pure_acks(p, "s>c")
    assert len(acks) == 1 and acks[0].segment.tcp.ack == 1001 + 2 * 1448 and acks[0].time == p.log[-1].time
    q = TCPPair(server_profile=replace(LINUX, quickack_segments=0)).open()
    q.send("c", bytes(1448))
    q.run_for(44 * MS)
    assert pure_acks(q, "s>c") == []
    q.run_for(2 * MS)
    assert len(pure_acks(q, "s>c")) == 1  # the delayed-ACK timer, 40 ms after the segment arrived


def test_rfc_profile_delays_acks_200ms_from_the_start():
    p = TCPPair(client_profile=RFC, server_profile=RFC).open()
    p.send("c", b"x")
    p.run_for(300 * MS)
    ack = pure_acks(p, "s>c")[-1]
    assert ack.time - data_segments(p)[0].time == 5 * MS + 200 * MS


def test_data_piggybacks_the_ack():
    """A reply written before the delayed ACK fires carries the ACK: no separate pure ACK."""
    p = TCPPair(server_profile=replace(LINUX, quickack_segments=0)).open()
    p.send("c", b"request")
    p.run_for(6 * MS)
    assert p.recv("s") == b"request"
    p.send("s", b"response")
    reply = p.log[-1]
    assert reply.segment.payload == b"response" and reply.segment.tcp.ack == 1001 + 7
    p.run_for(100 * MS)
    assert pure_acks(p, "s>c") == []


def test_zero_window_persist_probes_and_reopening():
    """A receiver that does not read fills its buffer: window 0, Linux probes with SEQ = SND.UNA - 1 on a
    doubling timer, and reading reopens the window with an update that restarts the transfer."""
    p = TCPPair(server_kwargs={"rcvbuf": 8192}).open()
    p.send("c", bytes(30_000))
    p.run_for(1 * S)
    # the window offers the buffer less its skb overhead (Linux tcp_win_from_space), rounded up to the window
    # scale, so up to 2**10 - 1 bytes beyond that may be let in
    room = 8192 * LINUX.rcv_scaling_ratio >> 8
    assert room - 1448 < p.server.readable < room + 1024 and p.client.snd_wnd == 0
    zero = [s for s in p.sent("s>c") if s.segment.tcp.window == 0]
    assert zero
    p.run_for(10 * S)
    probes = [e for e in p.events if e.kind == "persist"]
    assert len(probes) >= 4
    gaps = [b.time_ns - a.time_ns for a, b in itertools.pairwise(probes)]
    assert all(b == 2 * a for a, b in itertools.pairwise(gaps))
    probe_segs = [s for s in p.sent("c>s") if s.time == probes[0].time_ns]
    assert probe_segs[0].segment.tcp.seq == (p.client.snd_una - 1) and not probe_segs[0].segment.payload
    got = bytearray(p.recv("s"))
    assert len(p.sent("s>c")) and p.log[-1].segment.tcp.window > 0  # the window update
    for _ in range(20):
        p.run_for(200 * MS)
        got += p.recv("s")
    assert bytes(got) == bytes(30_000)
    assert p.client.state is State.ESTABLISHED and p.client.error is None


def test_rfc_zero_window_probe_sends_one_byte():
    p = TCPPair(client_profile=RFC, server_profile=RFC, server_kwargs={"rcvbuf": 4096}).open()
    p.send("c", bytes(20_000))
    p.run_for(20 * S)
    probes = [e.time_ns for e in p.events if e.kind == "persist"]
    assert probes
    probe = next(s for s in p.sent("c>s") if s.time == probes[0])
    last_ack = [s.segment.tcp.ack for s in p.sent("s>c") if s.time < probes[0]][-1]
    assert len(probe.segment.payload) == 1 and probe.segment.tcp.seq == last_ack


def test_window_advertised_never_shrinks_and_is_scaled():
    """The right edge of the advertised window never moves left (RFC 9293 §3.8.6.2.2) by a whole scale unit
    (RFC 7323 §2.4: scaling can make it look up to 2**S - 1 bytes left), and the edge we accept at never does."""
    p = TCPPair(server_kwargs={"rcvbuf": 50_000}).open()
    p.send("c", bytes(200_000))
    edges: list[int] = []
    accepted: list[int] = []
    for _ in range(200):
        if not p.step():
            break
        for s in p.sent("s>c")[1 + len(edges):]:  # after the SYN-ACK, whose window is not scaled
            edges.append((s.segment.tcp.ack + (s.segment.tcp.window << 10)) % 2**32)
            accepted.append(p.server.rcv_adv)
        if len(edges) > 40:
            break
    assert all(b > a - 1024 for a, b in itertools.pairwise(edges))
    assert all(b >= a for a, b in itertools.pairwise(accepted))
    assert len(set(edges)) > 5


def test_send_buffer_limit_and_counters():
    """send() takes at most send_space bytes; unacked counts sent-and-queued bytes until ACKed."""
    p = TCPPair(client_kwargs={"sndbuf": 10_000}).open()
    assert p.send("c", bytes(25_000)) == 10_000
    assert p.client.send_space == 0 and p.client.unacked == 10_000
    p.run_for(30 * MS)
    assert p.client.unacked == 0 and p.client.send_space == 10_000
    assert p.server.readable == 10_000 and p.recv("s", 4000) == bytes(4000) and p.server.readable == 6000


def test_keepalive_probes_an_idle_connection_and_gives_up():
    """SO_KEEPALIVE: after 2 h idle, probes every 75 s with SEQ = SND.UNA - 1; 9 unanswered probes: ETIMEDOUT."""
    import errno

    p = TCPPair().open()
    p.client.set_keepalive(True, p.now)
    start = p.now
    p.run_for(7200 * S + 10 * MS)
    probe = [s for s in p.sent("c>s") if s.time >= start + 7200 * S]
    assert probe and probe[0].segment.tcp.seq == p.client.snd_una - 1 and probe[0].time == start + 7200 * S
    assert p.client.state is State.ESTABLISHED  # the peer answered
    p.rules.append(lambda d, i, s: "drop")
    p.run_for(7200 * S + 10 * 75 * S)
    assert p.client.state is State.CLOSED and p.client.error == errno.ETIMEDOUT
    assert len([e for e in p.events if e.kind == "keepalive"]) >= 10


def test_receiver_silly_window_avoidance():
    """RFC 1122 §4.2.3.3: a receiver with less than one MSS free advertises 0, not a silly small window.
    (Unscaled windows here: with scaling Linux rounds a kept window up to the next unit, as we do.)"""
    unscaled = replace(LINUX, window_scale=0)
    p = TCPPair(client_profile=unscaled, server_profile=unscaled, server_kwargs={"rcvbuf": 20_000}).open()
    p.send("c", bytes(60_000))
    p.run_for(3 * S)
    assert p.client.snd_wnd == 0
    overshoot = max(p.server.readable - 20_000, 0)  # the rounded-up scaled window may let in a little more
    p.recv("s", overshoot + 1300)  # 1300 bytes free, less than one MSS: still a zero window
    assert p.server.rcvq.free() == 1300
    p.run_for(2 * S)  # persist probes are answered
    answers = [s for s in p.sent("s>c") if s.time > p.now - 2 * S]
    assert answers and all(s.segment.tcp.window == 0 for s in answers)
    assert p.client.snd_wnd == 0
    before = len(p.log)
    p.recv("s", 5000)  # now well over one MSS: a window update reopens it at once
    assert p.log[-1].direction == "s>c" and p.log[-1].segment.tcp.window >= 5000
    assert len(p.log) == before + 1


def test_path_mtu_discovery_resends_in_smaller_segments():
    """DF is set on every segment: a 1400-byte hop drops the big ones; after ICMP fragmentation-needed
    (mtu_reduced) everything in flight goes again at MSS 1360 - 12 and the stream completes."""
    def too_big(direction, index, seg):
        size = 20 + 20 + sum(len(o.encode()) for o in seg.tcp.options) + len(seg.payload)
        if direction == "c>s" and size > 1400:
            dropped.append(size)
            return "drop"
        return None
    dropped: list[int] = []
    p = TCPPair(rules=[too_big]).open()
    p.send("c", bytes(range(256)) * 100)
    p.run_for(1 * MS)
    assert dropped and p.client.path_mss == 1460
    out = p.client.mtu_reduced(1400, p.now)
    assert p.client.path_mss == 1360 and {len(s.payload) for s in out} <= {1348, 25600 % 1348}
    assert all(s.retransmission for s in out[:len(dropped)])
    p.transmit("c>s", out)
    p.run_for(100 * MS)
    assert p.recv("s") == bytes(range(256)) * 100
    assert not [e for e in p.events if e.kind == "rto"]
    assert p.client.cwnd >= 10 * 1348  # no congestion response
    assert p.client.mtu_reduced(1500, p.now) == [] and p.client.path_mss == 1360  # never raised by ICMP
    assert p.client.mtu_reduced(100, p.now) == [] and p.client.path_mss == 512  # Linux's 552-byte floor
