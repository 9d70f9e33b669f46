"""getsockopt(TCP_INFO) on simulated sockets: Linux's struct tcp_info bytes, in Linux's units."""

from __future__ import annotations

import socket
import struct
from typing import Any

from layersim import Network
from layersim.tcp.info import TCP_INFINITE_SSTHRESH, pack_tcp_info

# struct tcp_info (include/uapi/linux/tcp.h) up to tcpi_total_retrans: 8 u8 then 24 u32, 104 bytes
_LAYOUT = struct.Struct("=8B24I")


def _fields(raw: bytes) -> dict[str, int]:
    """The fields a test looks at, unpacked from the bytes as a C program would."""
    v = _LAYOUT.unpack(raw)
    return {"state": v[0], "ca_state": v[1], "options": v[5], "rto": v[8], "snd_mss": v[10], "unacked": v[12],
            "rtt": v[23], "ssthresh": v[25], "cwnd": v[26], "advmss": v[27], "reordering": v[28]}


def test_tcp_info_of_a_connection_and_of_a_socket_without_one() -> None:
    net = Network(seed=3)
    a, b = net.add_host("a"), net.add_host("b")
    net.link(a, b, a_ip="10.0.0.1/24", b_ip="10.0.0.2/24", delay="5ms")

    def server() -> None:
        listener = socket.socket()
        listener.bind(("10.0.0.2", 80))
        listener.listen()
        conn, _ = listener.accept()
        conn.recv(10)

    def client() -> Any:
        sock = socket.socket()
        before = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        sock.connect(("10.0.0.2", 80))
        after = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        short = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        sock.send(b"x")
        return before, after, short

    b.spawn(server)
    proc = a.spawn(client)
    net.run_until(lambda: proc.done, timeout_ns=10**10)
    assert proc.exception is None
    before, after, short = proc.result
    assert len(before) == len(after) == 104 and len(short) == 8
    assert _fields(before)["state"] == 7  # TCP_CLOSE
    info = _fields(after)
    assert info["state"] == 1 and info["ca_state"] == 0  # TCP_ESTABLISHED, TCP_CA_Open
    assert info["cwnd"] == 10 and info["ssthresh"] == TCP_INFINITE_SSTHRESH
    assert info["options"] == 1 | 2 | 4  # timestamps, SACK, window scale all agreed
    assert info["snd_mss"] == 1448 and info["advmss"] == 1460  # 12 bytes of timestamps per segment
    assert info["reordering"] == 3 and info["unacked"] == 0
    # the SYN's round trip (10 ms of link delay, and the ARP exchange it waited behind), in microseconds
    assert 10_000 <= info["rtt"] <= 25_000
    assert info["rto"] == 200_000 + info["rtt"]  # Linux tcp_set_rto: srtt + max(4 rttvar, 200 ms), in us
    assert short == after[:8]


def test_pack_tcp_info_masks_each_field_to_its_width() -> None:
    names = ["tcpi_state", "tcpi_ca_state", "tcpi_retransmits", "tcpi_probes", "tcpi_backoff", "tcpi_options",
             "tcpi_wscale", "tcpi_delivery_rate_app_limited", "tcpi_rto", "tcpi_ato", "tcpi_snd_mss",
             "tcpi_rcv_mss", "tcpi_unacked", "tcpi_sacked", "tcpi_lost", "tcpi_retrans", "tcpi_fackets",
             "tcpi_last_data_sent", "tcpi_last_ack_sent", "tcpi_last_data_recv", "tcpi_last_ack_recv", "tcpi_pmtu",
             "tcpi_rcv_ssthresh", "tcpi_rtt", "tcpi_rttvar", "tcpi_snd_ssthresh", "tcpi_snd_cwnd", "tcpi_advmss",
             "tcpi_reordering", "tcpi_rcv_rtt", "tcpi_rcv_space", "tcpi_total_retrans"]
    raw = pack_tcp_info({name: i + 0x100 if i < 8 else 2**32 + i for i, name in enumerate(names)})
    assert _LAYOUT.unpack(raw) == tuple(range(8)) + tuple(range(8, 32))
