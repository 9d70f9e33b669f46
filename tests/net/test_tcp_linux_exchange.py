"""Our TCP against real Linux's: the exchange of tests/data/tcp_http.pcapng (curl's GET to a Python server on
Linux 6.18, client - r1 - r2 - server with the same addresses) replayed with the same request and response bytes
on the simulated chain, captured on the client's interface, and compared segment by segment: the handshake's
options, windows and flags, and the whole sequence (flags, relative seq/ack, lengths), ignoring ISNs and
timestamps."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from layersim.net.trace.log import EventKind
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from tests.data import linux_facts as lf
from tests.net.conftest import SERVER_IP, build_chain


def linux_payloads() -> tuple[bytes, bytes]:
    """The request curl sent and the response the server sent, from the real capture."""
    conn = lf.tcp_frames(lf.TCP_HTTP, lf.CLIENT_IF, 80)
    request = b"".join(f.packet.payload_of(TCP) for f in conn if f.packet[TCP].dport == 80)
    response = b"".join(f.packet.payload_of(TCP) for f in conn if f.packet[TCP].sport == 80)
    return request, response


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same exchange on the simulated chain, captured on client:eth0 (a module-wide capture file)."""
    return replay(tmp_path_factory.mktemp("linux_exchange") / "ours.pcapng", *linux_payloads())


@pytest.fixture(scope="module")
def ours_bulk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tcp_bulk.pcapng's exchange (its capture keeps headers only: same lengths, other bytes)."""
    request = b"GET / HTTP/1.1\r\nHost: 10.0.2.20\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
    sizes = [seg.length for seg in lf.segment_sequence(lf.TCP_BULK, lf.CLIENT_IF, 80)]
    assert len(request) == sizes[3] == 73
    return replay(tmp_path_factory.mktemp("linux_bulk") / "ours.pcapng", request, b"b" * (sum(sizes) - 73))


VETH = {"delay": "5us", "bandwidth": "10Gbit"}  # the recording's veth pairs: RTTs of tens of microseconds


def replay(path: Path, request: bytes, response: bytes) -> Path:
    """Run the exchange on the chain as the recorder's programs did, captured on client:eth0 (links as fast as the
    recording's veth pairs: Linux sizes its GSO bursts by the RTT)."""
    chain = build_chain(link_a=VETH, link_b=VETH, link_c=VETH)
    chain.net.capture(path, interfaces=["client:eth0"])

    def server() -> None:  # as the recorder's Python server: read the request, one sendall, close
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("", 80))
        lst.listen(8)
        conn, _ = lst.accept()
        assert conn.recv(65536) == request
        conn.sendall(response)
        conn.close()

    def client() -> bytes:  # as curl: send the request, read until the server closes, close
        c = socket.create_connection((SERVER_IP, 80))
        c.sendall(request)
        got = b""
        while chunk := c.recv(102400):
            got += chunk
        c.close()
        return got

    srv = chain.server.spawn(server)
    cli = chain.client.spawn(client, at="100ms")
    chain.net.run_until(lambda: srv.done and cli.done, timeout_ns=10**10)
    chain.net.run(chain.net.now + 10**9)
    chain.net.close()
    assert srv.exception is None and cli.exception is None, (srv.traceback, cli.traceback)
    assert cli.result == response
    return path


def test_bulk_transfer_is_linuxs_through_the_first_16_quick_acks(ours_bulk: Path) -> None:
    mine, linux = lf.segment_sequence(ours_bulk, lf.CLIENT_IF, 80), lf.segment_sequence(lf.TCP_BULK, lf.CLIENT_IF, 80)
    assert _without_psh(mine[:38]) == _without_psh(linux[:38])
    assert lf.ack_pattern(mine)[:16] == [1] * 16


def test_bulk_receiver_quick_acks_the_first_21_segments_like_linux(ours_bulk: Path) -> None:
    """Linux's quick-ACK quota is 16 (TCP_MAX_QUICKACKS), but tcp_grow_window sets icsk_ack.quick |= 1 each time
    the window grows: the quota holds while the window grows (5 segments here), then runs down."""
    mine, linux = lf.segment_sequence(ours_bulk, lf.CLIENT_IF, 80), lf.segment_sequence(lf.TCP_BULK, lf.CLIENT_IF, 80)
    assert lf.ack_pattern(mine)[:21] == lf.ack_pattern(linux)[:21] == [1] * 21


UNSEEDED = ("tsval", "tsecr", "ip_id")  # random per connection on Linux too


def facts(frame_facts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in frame_facts.items() if k not in UNSEEDED}


@pytest.mark.parametrize("which", ["syn", "syn_ack", "ack"])
def test_handshake_segments_have_linux_options_windows_and_flags(ours: Path, which: str) -> None:
    assert facts(lf.handshake(ours)[which]) == facts(lf.handshake(lf.TCP_HTTP)[which])


def test_first_data_segment_is_linuxs(ours: Path) -> None:
    def first_data(path: Path) -> dict[str, Any]:
        return lf.tcp_facts(next(f for f in lf.tcp_frames(path, lf.CLIENT_IF, 80) if lf.tcp_length(f)))

    assert facts(first_data(ours)) == facts(first_data(lf.TCP_HTTP))


def test_servers_first_data_segment_is_linuxs(ours: Path) -> None:
    def first_data(path: Path) -> dict[str, Any]:
        return lf.tcp_facts(next(f for f in lf.tcp_frames(path, lf.CLIENT_IF, 80)
                                 if lf.tcp_length(f) and f.packet[TCP].sport == 80))

    assert facts(first_data(ours)) == facts(first_data(lf.TCP_HTTP))


def _windows(path: Path, server: bool) -> list[int]:
    return [f.packet[TCP].window for f in lf.tcp_frames(path, lf.CLIENT_IF, 80) if (f.packet[TCP].sport == 80)
            == server]


def test_client_window_grows_3_kib_per_ack_like_linux(ours: Path) -> None:
    """Receive-window growth while the data arrives: 63, 63, 66, 69, 72, 75 (x 1024), and never past Linux's 77:
    131072 bytes of buffer less the skb overhead (tcp_win_from_space). Values from there depend on when curl read
    (Linux's was 77 with its queue empty, then fell to 76, 75 as data waited)."""
    assert _windows(ours, server=False)[:7] == _windows(lf.TCP_HTTP, server=False)[:7] == \
        [64240, 63, 63, 66, 69, 72, 75]
    assert max(_windows(ours, server=False)[1:]) == max(_windows(lf.TCP_HTTP, server=False)[1:]) == 77


def test_client_window_stops_at_77_kib_in_a_bulk_transfer(ours_bulk: Path) -> None:
    """The same cap over 102000 bytes (the window used to grow to 127 KiB, the whole 131072-byte buffer)."""
    assert max(_windows(ours_bulk, server=False)[1:]) == max(_windows(lf.TCP_BULK, server=False)[1:]) == 77


def test_server_windows_are_linuxs(ours: Path) -> None:
    assert _windows(ours, server=True) == _windows(lf.TCP_HTTP, server=True) == [65160] + [64] * 11


def test_timestamps_echo_and_ip_ids_count_like_linux(ours: Path) -> None:
    hs = lf.handshake(ours)
    assert hs["syn_ack"]["tsecr"] == hs["syn"]["tsval"] and hs["ack"]["tsecr"] == hs["syn_ack"]["tsval"]
    assert hs["syn_ack"]["ip_id"] == 0 and hs["ack"]["ip_id"] == (hs["syn"]["ip_id"] + 1) % 65536


def _without_psh(segments: list[lf.Segment]) -> list[lf.Segment]:
    return [seg._replace(flags=seg.flags.replace("P", "")) for seg in segments]


def _through_servers_fin(segments: list[lf.Segment]) -> list[lf.Segment]:
    end = next(i for i, seg in enumerate(segments) if seg.sender == "server" and "F" in seg.flags)
    return segments[:end + 1]


def test_segment_sequence_is_linuxs_up_to_the_servers_fin_apart_from_psh(ours: Path) -> None:
    """Handshake, request, the server's immediate ACK, each data segment ACKed at once (quick-ack), the 128-byte
    tail and the server's FIN: the same segments in the same order with the same numbers and lengths."""
    mine, linux = lf.segment_sequence(ours, lf.CLIENT_IF, 80), lf.segment_sequence(lf.TCP_HTTP, lf.CLIENT_IF, 80)
    assert len(_through_servers_fin(linux)) == 22
    assert _without_psh(_through_servers_fin(mine)) == _without_psh(_through_servers_fin(linux))


def _psh(path: Path) -> list[int]:
    return [seg.seq for seg in lf.segment_sequence(path, lf.CLIENT_IF, 80) if seg.sender == "server" and
            "P" in seg.flags]


def test_psh_on_the_last_segment_of_the_write(ours: Path) -> None:
    assert _psh(ours)[-1] == _psh(lf.TCP_HTTP)[-1] == 10137


def test_psh_on_each_gso_burst_like_linux(ours: Path) -> None:
    """Linux sent the write in GSO bursts of 5 (half the initial cwnd) and 3 segments, each with PSH forced on its
    last segment (__tcp_transmit_skb); the end of the write is the second burst's end."""
    assert _psh(ours) == _psh(lf.TCP_HTTP) == [5793, 10137]


def _close(path: Path) -> list[tuple[str, str, int, int, int]]:
    segments = lf.segment_sequence(path, lf.CLIENT_IF, 80)
    return [tuple(seg) for seg in segments[len(_through_servers_fin(segments)) - 1:]]  # type: ignore[misc]


def test_close_like_linux(ours: Path) -> None:
    """Linux does not ACK a FIN at once (tcp_fin enters delayed-ACK ping-pong mode): the client's FIN carries it."""
    assert _close(ours) == _close(lf.TCP_HTTP) == [("server", "FA", 10265, 74, 0), ("client", "FA", 74, 10266, 0),
                                                   ("server", "A", 10266, 75, 0)]


def test_segment_sequence_is_linuxs(ours: Path) -> None:
    assert lf.segment_sequence(ours, lf.CLIENT_IF, 80) == lf.segment_sequence(lf.TCP_HTTP, lf.CLIENT_IF, 80)


def test_fin_received_out_of_order_is_kept_until_the_hole_fills(tmp_path: Path) -> None:
    from layersim.wire.tcp_options import SACK
    from tests.net.test_tcp_tshark import transfer

    chain = transfer(tmp_path / "ofo_fin.pcapng", seed=5, loss=0.03)  # the last segment, with FIN, beats a resend
    server_segments, client_acks = [], []
    for event in chain.net.trace.select(EventKind.RECEIVE, node="client", interface="eth0"):
        packet = decode(event.frame)
        if TCP in packet and packet[TCP].flags & 0x01:
            server_segments.append(packet[TCP].seq + len(packet.payload_of(TCP)))
    for event in chain.net.trace.select(EventKind.SEND, node="client", interface="eth0"):
        packet = decode(event.frame)
        if TCP in packet:
            edges = [right for o in packet[TCP].options if isinstance(o, SACK) for _, right in o.blocks]
            client_acks.append((packet[TCP].ack, edges))
    fin_seq = server_segments[0]
    assert any(fin_seq in edges for _, edges in client_acks), "the FIN's segment did not arrive out of order"
    first_full = next(ack for ack, _ in client_acks if (ack - fin_seq) % 2**32 < 2**31)
    assert first_full == (fin_seq + 1) % 2**32


def test_rst_for_a_closed_port_is_linuxs(tmp_path: Path) -> None:
    """A SYN to server:81, where nothing listens: Linux's answer, bytes field by field (IP id 0, DF, RST|ACK,
    seq 0, ack SYN+1, window 0, no options), and connect()'s ECONNREFUSED."""
    chain = build_chain()
    path = tmp_path / "rst.pcapng"
    chain.net.capture(path, interfaces=["server:eth0"])

    def client() -> int:
        return socket.socket().connect_ex((SERVER_IP, 81))

    proc = chain.client.spawn(client)
    chain.net.run_until(lambda: proc.done, timeout_ns=10**10)
    chain.net.close()
    assert proc.result == 111  # ECONNREFUSED
    mine, linux = (lf.tcp_frames(p, lf.SERVER_IF, 81) for p in (path, lf.TCP_HTTP))
    assert lf.segment_sequence(path, lf.SERVER_IF, 81) == lf.segment_sequence(lf.TCP_HTTP, lf.SERVER_IF, 81)
    rst_mine, rst_linux = lf.tcp_facts(mine[1]), lf.tcp_facts(linux[1])
    assert rst_mine == rst_linux and rst_mine["ip_id"] == 0 and rst_mine["flags"] == "RA"
    assert len(mine[1].data) == len(linux[1].data) == 54
