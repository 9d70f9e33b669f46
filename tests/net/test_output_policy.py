"""One output policy for both of a host's paths: the fast path only packs what `Output.plan` decided.

Each scenario runs twice, once on the fast path (no hook) and once through the general path (a no-op hook at
every netfilter point of the sender), and the frames on the wire must be the same bytes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from layersim.net.engine.process import sleep
from layersim.net.host.host import Host
from layersim.net.ip.hooks import HookPoint
from layersim.net.trace.log import EventKind
from tests.net.conftest import SERVER_IP, Chain, build_chain

MS = 1_000_000


def _noop(packet: object) -> None:
    """A hook that accepts everything unchanged."""
    return None


def sent_ipv4(chain: Chain) -> list[bytes]:
    """Every IPv4 frame the client put on its link, in order."""
    return [e.frame for e in chain.net.trace.events if e.kind is EventKind.SEND and e.node == "client"
            and e.frame is not None and e.frame[12:14] == b"\x08\x00"]


def both_ways(build: Callable[[], Chain], program: Callable[[Host], None]) -> tuple[list[bytes], list[bytes]]:
    """The client's IPv4 frames with the fast path and with a no-op hook everywhere on the client."""
    runs = []
    for hooked in (False, True):
        chain = build()
        if hooked:
            for point in HookPoint:
                chain.client.hooks.add(point, _noop)
        proc = chain.client.spawn(program, chain.client)
        chain.net.run(until=5_000 * MS)
        assert proc.done and proc.exception is None, proc.traceback
        runs.append(sent_ipv4(chain))
    return runs[0], runs[1]


def df(frame: bytes) -> bool:
    """The Don't Fragment bit of an Ethernet/IPv4 frame."""
    return bool(frame[20] & 0x40)


def test_udp_after_locked_path_mtu_has_df_clear_on_both_paths() -> None:
    """A Frag Needed reporting MTU 500 clamps the path MTU to 552 and locks it (Linux's min_pmtu): from then on
    "want" datagrams go without DF (RFC 1191 §6.4: a locked MTU stops discovery), on the fast path too."""
    def program(host: Host) -> None:
        sock = host.udp_socket()
        sock.sendto(b"x" * 1000, (SERVER_IP, 9))
        sleep(100 * MS)  # the Frag Needed comes back
        sock.sendto(b"y" * 100, (SERVER_IP, 9))

    fast, general = both_ways(lambda: build_chain(link_c={"mtu": 500}), program)
    assert fast == general
    last = fast[-1]
    assert last.endswith(b"y" * 100) and not df(last)


@pytest.mark.parametrize("mtu", [500, 576, 1500])
def test_udp_sizes_around_the_path_mtu_are_the_same_bytes(mtu: int) -> None:
    """Datagrams just under, at and over the learned path MTU, before and after learning it."""
    def program(host: Host) -> None:
        sock = host.udp_socket()
        for size in (1472, 100, 547, 548, 549, 1472, 472, 473):
            sock.sendto(bytes([size & 0xFF]) * size, (SERVER_IP, 9))
            sleep(50 * MS)

    fast, general = both_ways(lambda: build_chain(link_c={"mtu": mtu}), program)
    assert fast == general


def test_tcp_transfer_is_the_same_bytes_on_both_paths() -> None:
    """A TCP exchange with a narrow link on the path: MSS, DF and IP ids agree."""
    def server(host: Host) -> None:
        sock = host.socket.socket()
        sock.bind(("", 80))
        sock.listen()
        conn, _ = sock.accept()
        while conn.recv(65536):
            pass
        conn.close()

    def program(host: Host) -> None:
        sock = host.socket.socket()
        sock.connect((SERVER_IP, 80))
        sock.sendall(bytes(range(256)) * 80)
        sock.close()

    def build() -> Chain:
        chain = build_chain(link_c={"mtu": 576})
        chain.server.spawn(server, chain.server)
        return chain

    fast, general = both_ways(build, program)
    assert len(fast) > 10 and fast == general


def test_tcp_to_a_host_behind_a_128_byte_link_goes_without_df_once_the_path_mtu_is_locked() -> None:
    """The server on an MTU-128 link advertises MSS 256 (Linux's min_adv_mss), so the client's first full
    segment draws a Frag Needed for MTU 128: the path MTU is clamped to 552 and locked, and from then on the
    client's segments leave without DF (Linux ip_dont_fragment: IP_PMTUDISC_WANT and a locked MTU), so that r2
    fragments them and the data arrives, on both paths."""
    def server(host: Host) -> None:
        sock = host.socket.socket()
        sock.bind(("", 80))
        sock.listen()
        conn, _ = sock.accept()
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        conn.sendall(received[-10:])
        conn.close()

    def program(host: Host) -> None:
        sock = host.socket.socket()
        sock.connect((SERVER_IP, 80))
        sock.sendall(bytes(range(256)) * 8)
        sock.shutdown(1)
        assert sock.recv(100) == (bytes(range(256)) * 8)[-10:]
        sock.close()

    def build() -> Chain:
        chain = build_chain(link_c={"mtu": 128})
        chain.server.spawn(server, chain.server)
        return chain

    fast, general = both_ways(build, program)
    assert fast == general
    data = [f for f in fast if f[23] == 6 and len(f) > 14 + 52]  # TCP segments with data
    assert df(data[0]) and not df(data[-1])  # DF until the Frag Needed locked the path MTU at 552
