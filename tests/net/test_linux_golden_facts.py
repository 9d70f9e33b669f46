"""The Linux facts of tests/data/LINUX_FACTS.md, checked against the real captures they were read from.

The captures are real traffic of a Linux 6.18 kernel between network namespaces (tests/data/
record_linux_facts.sh); layersim decodes them. A simulated Linux host should reproduce what these tests assert.
"""

import itertools
import struct
from ipaddress import IPv4Address

import pytest

from layersim import ICMP, TCP, UDP, Ethernet, IPv4
from tests.data import linux_facts as lf
from tests.data.linux_facts import CLIENT_IF, MIDDLE_IF, SERVER_IF, Segment
from tests.tools import run_tshark

C, S = "client", "server"
MSS_DATA = 1448  # MSS 1460 minus the 12 bytes of NOP, NOP, Timestamps on every segment


# --- TCP: handshake ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("iface", [CLIENT_IF, SERVER_IF])
def test_syn_and_syn_ack_options_in_linux_order(iface):
    hs = lf.handshake(lf.TCP_HTTP, iface)
    for side in ("syn", "syn_ack"):
        facts = hs[side]
        assert facts["option_kinds"] == [2, 4, 8, 1, 3]  # MSS, SACK-permitted, Timestamps, NOP, Window scale
        assert (facts["mss"], facts["wscale"], facts["sack_permitted"]) == (1460, 10, True)
        assert facts["header_length"] == 40 and facts["df"] and facts["tos"] == 0
    assert hs["syn"]["tsecr"] == 0 and hs["syn"]["tsval"] != 0
    assert hs["syn_ack"]["tsecr"] == hs["syn"]["tsval"]  # echoes the SYN's TSval
    assert hs["ack"]["option_kinds"] == [1, 1, 8] and hs["ack"]["tsecr"] == hs["syn_ack"]["tsval"]


def test_handshake_windows_ip_ids_and_ttls():
    hs = lf.handshake(lf.TCP_HTTP, CLIENT_IF)
    assert hs["syn"]["window"] == 64240 and hs["syn_ack"]["window"] == 65160  # unscaled on SYNs
    assert hs["ack"]["window"] == 63  # 63 << 10 = 64512
    assert hs["syn_ack"]["ip_id"] == 0  # SYN-ACK from the listener: id 0, DF
    assert hs["ack"]["ip_id"] == hs["syn"]["ip_id"] + 1  # the connection's own counter, +1 per packet
    assert hs["syn"]["ttl"] == 64 and hs["syn_ack"]["ttl"] == 62  # seen at the client: 2 routers on the way
    server_side = lf.handshake(lf.TCP_HTTP, SERVER_IF)
    assert server_side["syn_ack"]["ttl"] == 64 and server_side["syn"]["ttl"] == 62


def test_ip_ids_count_up_per_connection_and_every_segment_has_df():
    conn = lf.tcp_frames(lf.TCP_HTTP, CLIENT_IF, 80)
    for sender in (C, S):
        ids = [f.ip.identification for f in conn if (f.packet[TCP].sport == 80) == (sender == S)
               and not f.packet[TCP].flags & 0x02]  # the SYN-ACK (id 0) aside
        assert ids == [(ids[0] + n) % 65536 for n in range(len(ids))]
    assert all(lf.df(f) for f in conn)


# --- TCP: the whole exchange ---------------------------------------------------------------------------------

HTTP_AT_CLIENT = [
    Segment(C, "S", 0, 0, 0), Segment(S, "SA", 0, 1, 0), Segment(C, "A", 1, 1, 0),
    Segment(C, "PA", 1, 1, 73),                      # the request, PSH
    Segment(S, "A", 1, 74, 0),                       # the server ACKs the request at once (quick-ack mode)
    Segment(S, "A", 1, 74, MSS_DATA), Segment(C, "A", 74, 1449, 0),
    Segment(S, "A", 1449, 74, MSS_DATA), Segment(C, "A", 74, 2897, 0),
    Segment(S, "A", 2897, 74, MSS_DATA), Segment(C, "A", 74, 4345, 0),
    Segment(S, "A", 4345, 74, MSS_DATA), Segment(C, "A", 74, 5793, 0),
    Segment(S, "PA", 5793, 74, MSS_DATA), Segment(C, "A", 74, 7241, 0),
    Segment(S, "A", 7241, 74, MSS_DATA), Segment(C, "A", 74, 8689, 0),
    Segment(S, "A", 8689, 74, MSS_DATA), Segment(C, "A", 74, 10137, 0),
    Segment(S, "PA", 10137, 74, 128), Segment(C, "A", 74, 10265, 0),
    Segment(S, "FA", 10265, 74, 0),                  # the server closes first
    Segment(C, "FA", 74, 10266, 0),                  # the client's FIN carries the ACK of the server's FIN
    Segment(S, "A", 10266, 75, 0),
]


def test_http_exchange_segment_by_segment_at_the_client():
    assert lf.segment_sequence(lf.TCP_HTTP, CLIENT_IF, 80) == HTTP_AT_CLIENT


def test_server_sends_five_segments_then_waits_for_acks():
    at_server = lf.segment_sequence(lf.TCP_HTTP, SERVER_IF, 80)
    data = [i for i, seg in enumerate(at_server) if seg.sender == S and seg.length]
    assert data[:5] == list(range(data[0], data[0] + 5))  # a burst of 5 full segments, PSH on the 5th
    assert all(seg.sender == C for seg in at_server[data[4] + 1:data[5]])  # then only ACKs until the rest
    assert [at_server[i].flags for i in data] == ["A", "A", "A", "A", "PA", "A", "A", "PA"]
    assert sum(at_server[i].length for i in data) == len(_RESPONSE_HEAD) + 10200


_RESPONSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"


def test_payload_is_the_http_exchange():
    conn = lf.tcp_frames(lf.TCP_HTTP, SERVER_IF, 80)
    request = b"".join(f.packet.payload_of(TCP) for f in conn if f.packet[TCP].dport == 80)
    response = b"".join(f.packet.payload_of(TCP) for f in conn if f.packet[TCP].sport == 80)
    assert request.startswith(b"GET / HTTP/1.1\r\nHost: 10.0.2.20\r\n") and len(request) == 73
    assert response == _RESPONSE_HEAD + b"Hello World\n" * 850


def test_receiver_acks_every_data_segment_at_connection_start():
    assert lf.ack_pattern(lf.segment_sequence(lf.TCP_HTTP, CLIENT_IF, 80)) == [1] * 8


def test_client_window_grows_as_it_reads():
    conn = lf.tcp_frames(lf.TCP_HTTP, CLIENT_IF, 80)
    client = [f.packet[TCP].window for f in conn if f.packet[TCP].dport == 80][1:]  # after the SYN
    assert client == [63, 63, 66, 69, 72, 75, 77, 76, 75, 75, 77]
    server = {f.packet[TCP].window for f in conn if f.packet[TCP].sport == 80 and not f.packet[TCP].flags & 2}
    assert server == {64}  # 64 << 10 = 65536


def test_rst_for_a_closed_port_bytes():
    conn = lf.tcp_frames(lf.TCP_HTTP, SERVER_IF, 81)
    assert lf.segment_sequence(lf.TCP_HTTP, SERVER_IF, 81) == [Segment(C, "S", 0, 0, 0), Segment(S, "RA", 0, 1, 0)]
    syn, rst = conn[0].packet[TCP], conn[1]
    built = (Ethernet(dst="02:00:00:00:02:01", src="02:00:00:00:02:20")
             / IPv4(identification=0, flags="DF", ttl=64, src="10.0.2.20", dst="10.0.1.10")
             / TCP(sport=81, dport=syn.sport, seq=0, ack=syn.seq + 1, flags="RA", window=0))
    assert built.encode() == rst.data  # 54 bytes: no options, window 0, seq 0, no padding on the veth


# --- ICMP echo and traceroute --------------------------------------------------------------------------------

def test_echo_reply_has_no_df_and_its_own_ip_id():
    at_server = lf.icmp_frames(lf.HOST_BEHAVIOUR, SERVER_IF)
    request, reply = at_server[0], at_server[1]
    assert request.packet[ICMP].type == 8 and lf.df(request) and request.ip.ttl == 62
    assert request.ip.total_length == 84
    payload = request.packet.payload_of(ICMP)
    assert len(payload) == 56 and payload[16:] == bytes(range(0x10, 0x38))  # 16-byte timeval, then 0x10..0x37
    echo = request.packet[ICMP]
    built = (Ethernet(dst="02:00:00:00:02:01", src="02:00:00:00:02:20")
             / IPv4(identification=reply.ip.identification, ttl=64, src="10.0.2.20", dst="10.0.1.10")
             / ICMP(type="ECHO_REPLY", identifier=echo.identifier, sequence=echo.sequence) / payload)
    assert built.encode() == reply.data  # flags 0 (no DF), TOS 0, TTL 64, the request's data echoed
    assert reply.ip.identification != request.ip.identification


def test_traceroute_probes():
    probes = lf.udp_probes(lf.HOST_BEHAVIOUR, CLIENT_IF)
    assert [p["ttl"] for p in probes] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]  # 16 sent at once
    assert [p["dport"] for p in probes] == list(range(33434, 33450))  # one more per probe
    assert len({p["sport"] for p in probes}) == 16  # a new socket (source port) for every probe
    assert all(p["sport"] >= 32768 for p in probes)  # from the ephemeral range
    assert not any(p["df"] for p in probes)
    assert {p["total_length"] for p in probes} == {60}  # "60 byte packets": 20 + 8 + 32
    assert {p["payload"] for p in probes} == {bytes(range(0x40, 0x60))}  # "@ABC...^_"


def test_traceroute_answers_and_icmp_rate_limit():
    errors = [f for f in lf.icmp_frames(lf.HOST_BEHAVIOUR, CLIENT_IF) if f.packet[ICMP].type in (3, 11)]
    kinds = [(str(f.ip.src), f.packet[ICMP].type, f.packet[ICMP].code, lf.quoted(f).ttl) for f in errors]
    assert kinds == ([("10.0.1.1", 11, 0, 1)] * 3 + [("10.0.12.2", 11, 0, 1)] * 3
                     + [("10.0.2.20", 3, 3, 1)] * 3 + [("10.0.2.20", 3, 3, 2)] * 3)
    # 10 probes reached the server (TTL 3..6); it answered only the first 6: Linux's ICMP rate limit
    reached = [f for f in lf.ipv4_frames(lf.HOST_BEHAVIOUR, SERVER_IF) if isinstance(f.packet.layers[2], UDP)]
    assert len(reached) == 10
    for err in errors:
        assert err.ip.total_length == 88 and not lf.df(err) and err.ip.dscp == 48  # whole probe quoted, CS6
        assert len(err.packet.payload_of(UDP)) == 32 and err.packet[ICMP].checksum_ok
    at_server = [f for f in lf.icmp_frames(lf.HOST_BEHAVIOUR, SERVER_IF) if f.packet[ICMP].type == 3]
    assert {f.ip.ttl for f in at_server} == {64}
    ids = [f.ip.identification for f in at_server]
    assert ids == [ids[0] + n for n in range(6)]  # one counter for the destination, shared with the echo reply


# --- Path MTU discovery (r1-r2 has MTU 576) ------------------------------------------------------------------

def _phase(n):
    return lf.phases(lf.PMTU)[n]


def _ip(phase, iface):
    return [f for f in phase if f.interface == iface and IPv4 in f.packet]


def _frag_needed(frame, router):
    icmp = frame.packet[ICMP]
    assert (str(frame.ip.src), icmp.type, icmp.code, icmp.next_hop_mtu) == (router, 3, 4, 576)
    assert frame.ip.total_length == 576 and not lf.df(frame) and frame.ip.dscp == 48 and frame.ip.ttl == 64
    inner = lf.quoted(frame)
    assert inner.total_length in (1028, 1500) and inner.ttl == 64  # quoted before the TTL is decremented


def test_ping_m_do_one_frag_needed_then_local_errors():
    phase = _phase(0)
    client = _ip(phase, CLIENT_IF)
    assert [lf.ip_summary(f) for f in client] == [
        ("10.0.1.10", "10.0.2.20", 1028, True, False, 0), ("10.0.1.1", "10.0.1.10", 576, False, False, 0)]
    assert client[0].ip.identification == 0  # DF ping from an unconnected socket: IP id 0
    _frag_needed(client[1], "10.0.1.1")
    assert not _ip(phase, MIDDLE_IF)  # seq 2 and 3 never leave the client: "local error: message too long"


def test_ping_m_want_learns_then_fragments_locally():
    phase = _phase(1)
    client = _ip(phase, CLIENT_IF)
    summary = [lf.ip_summary(f) for f in client]
    assert summary[:2] == [("10.0.1.10", "10.0.2.20", 1028, True, False, 0),
                           ("10.0.1.1", "10.0.1.10", 576, False, False, 0)]
    assert client[0].ip.identification != 0  # WANT: DF but a real id
    _frag_needed(client[1], "10.0.1.1")
    request_frags = [("10.0.1.10", "10.0.2.20", 572, False, True, 0),
                     ("10.0.1.10", "10.0.2.20", 476, False, False, 552)]
    reply_frags = [("10.0.2.20", "10.0.1.10", 572, False, True, 0),
                   ("10.0.2.20", "10.0.1.10", 476, False, False, 552)]
    assert summary[2:] == (request_frags + reply_frags) * 2  # seq 2 and 3: fragmented by the client itself
    assert client[2].ip.identification == client[3].ip.identification
    server = _ip(phase, SERVER_IF)
    replies = [f for f in server if str(f.ip.src) == "10.0.2.20"]
    assert [lf.ip_summary(f) for f in replies] == [("10.0.2.20", "10.0.1.10", 1028, False, False, 0)] * 2
    assert [f.ip.ttl for f in _ip(phase, MIDDLE_IF) if str(f.ip.src) == "10.0.2.20"] == [63] * 4  # r2 split them


def test_udp_pmtudisc_do_sends_once():
    client = _ip(_phase(2), CLIENT_IF)
    assert [lf.ip_summary(f) for f in client] == [
        ("10.0.1.10", "10.0.2.20", 1028, True, False, 0), ("10.0.1.1", "10.0.1.10", 576, False, False, 0)]
    assert client[0].ip.identification != 0  # connected socket: its own counter
    _frag_needed(client[1], "10.0.1.1")
    assert lf.quoted(client[1]).identification == client[0].ip.identification


def test_udp_pmtudisc_want_error_then_fragments():
    client = _ip(_phase(3), CLIENT_IF)
    assert [lf.ip_summary(f) for f in client] == [
        ("10.0.1.10", "10.0.2.20", 1028, True, False, 0), ("10.0.1.1", "10.0.1.10", 576, False, False, 0),
        ("10.0.1.10", "10.0.2.20", 572, False, True, 0), ("10.0.1.10", "10.0.2.20", 476, False, False, 552)]
    # send 2 failed with EMSGSIZE (the ICMP error reported on the socket) and sent nothing; send 3 fragmented
    first, second = client[2].packet.payload_of(IPv4), client[3].packet.payload_of(IPv4)
    assert first[:8] == struct.pack("!HHH", 40000, 9999, 1008) + first[6:8]  # UDP header: length 8 + 1000
    assert first[8:] == bytes([3]) * 544 and second == bytes([3]) * 456  # the third datagram's bytes
    assert client[2].ip.identification == client[3].ip.identification == client[0].ip.identification + 1


def test_tcp_pmtu_server_learns_and_resegments_at_524():
    phase = _phase(4)
    server = [f for f in _ip(phase, SERVER_IF) if ICMP in f.packet]
    assert len(server) == 7  # one Frag Needed per full-size segment that reached r2: 5, then 2
    for err in server:
        _frag_needed(err, "10.0.2.1")
        assert lf.quoted(err).total_length == 1500
    segs = lf.segment_sequence(lf.PMTU, SERVER_IF)
    first = [s.length for s in segs if s.sender == S and s.length][:8]
    assert first == [MSS_DATA] * 7 + [128]  # all of the first flight, only the last (180 bytes) got through
    resent = [s for s in segs if s.sender == S and s.length][8:]
    assert resent[0].seq == 1 and {s.length for s in resent} <= {524, 428, 276}  # 576 - 20 - 20 - 12
    covered = sorted((s.seq, s.seq + s.length) for s in resent)
    assert covered[0][0] == 1 and covered[-1][1] == 10137  # everything but the 128 bytes that got through
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))  # each byte resent once
    hs = lf.handshake(lf.PMTU, SERVER_IF)
    assert hs["syn"]["mss"] == 1460 and hs["syn_ack"]["mss"] == 1460  # neither end knows the path at first


def test_tcp_pmtu_client_dupack_carries_sack():
    conn = lf.tcp_frames(lf.PMTU, CLIENT_IF)
    dupack = next(f for f in conn if f.packet[TCP].dport == 80 and f.packet[TCP].flags == 0x10
                  and len(f.packet[TCP].options) > 3)
    kinds = [o.kind for o in dupack.packet[TCP].options]
    assert kinds == [1, 1, 8, 1, 1, 5]  # NOP NOP TS NOP NOP SACK
    isn = conn[1].packet[TCP].seq
    sack = dupack.packet[TCP].options[-1]
    assert [(a - isn, b - isn) for a, b in sack.blocks] == [(10137, 10265)]
    assert dupack.packet[TCP].ack == isn + 1


def test_captures_are_what_the_recorder_says():
    for path in (lf.TCP_HTTP, lf.PMTU, lf.HOST_BEHAVIOUR):
        assert path.stat().st_size < 100_000
        assert all(f.packet[IPv4].checksum_ok for f in lf.ipv4_frames(path))  # real checksums: offload off
    names = {f.interface for f in lf.frames(lf.PMTU)}
    assert names == {CLIENT_IF, MIDDLE_IF, SERVER_IF}
    assert {str(f.ip.src) for f in lf.ipv4_frames(lf.TCP_HTTP)} == {"10.0.1.10", "10.0.2.20"}
    assert IPv4Address("10.0.1.10") in {f.ip.dst for f in lf.ipv4_frames(lf.HOST_BEHAVIOUR)}


# --- TCP bulk (102000 bytes; frames cut at 128 bytes) ----------------------------------------------------------

def test_bulk_quick_acks_then_acks_only_when_the_reader_catches_up():
    segs = lf.segment_sequence(lf.TCP_BULK, CLIENT_IF)
    data = [s for s in segs if s.sender == S and s.length]
    assert [s.length for s in data] == [MSS_DATA] * 70 + [704]  # 64 header bytes + 102000 body bytes
    assert sum(s.flags == "PA" for s in data) == 6 and data[-1].flags == "PA"
    pattern = lf.ack_pattern(segs)
    assert pattern[:21] == [1] * 21  # quick-ack mode: every one of the first 21 segments ACKed at once
    assert pattern[21:] == [29, 21]  # then ACKs only when curl had read the queue (window back to 77)
    windows = [f.packet[TCP].window for f in lf.tcp_frames(lf.TCP_BULK, CLIENT_IF) if f.packet[TCP].dport == 80]
    assert windows[-3:] == [77, 77, 77] and min(windows[1:]) == 62  # shrinks by 1 (1 KiB) per unread segment
    assert segs[-3:] == [Segment(S, "FA", 102065, 74, 0), Segment(C, "FA", 74, 102066, 0),
                         Segment(S, "A", 102066, 75, 0)]


def test_bulk_capture_keeps_headers_and_original_lengths():
    records = lf.frames(lf.TCP_BULK, CLIENT_IF)
    full = [f for f in records if TCP in f.packet and lf.tcp_length(f) == MSS_DATA]
    assert full and all(len(f.data) == 128 for f in full)
    assert all(f.ip.total_length == 1500 for f in full)


# --- The helpers agree with tshark ---------------------------------------------------------------------------

@pytest.mark.tshark
@pytest.mark.parametrize(("path", "iface"), [(lf.TCP_HTTP, SERVER_IF), (lf.TCP_BULK, CLIENT_IF),
                                             (lf.PMTU, SERVER_IF)])
def test_segment_sequence_matches_tshark(path, iface):
    proc = run_tshark("-r", path, "-Y", f'frame.interface_name == "{iface}" && tcp.port == 80 && !icmp', "-T", "fields",
                      "-e", "tcp.srcport", "-e", "tcp.flags", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len")
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    theirs = [Segment(S if sport == "80" else C, lf.flag_letters(int(flags, 16)), int(seq), int(ack), int(length))
              for sport, flags, seq, ack, length in rows]
    assert theirs == lf.segment_sequence(path, iface, 80) and len(theirs) > 20
