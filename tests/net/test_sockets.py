"""Sockets keyed as the kernel keys them, and ICMP errors delivered to the socket that sent the quoted datagram:
ECONNREFUSED on a connected UDP socket, IP_RECVERR reports, traceroute's probes, ping identifiers."""

from __future__ import annotations

import errno
from ipaddress import IPv4Address
from typing import Any

import pytest

from layersim.app import ping, traceroute
from layersim.errors import LayersimError
from layersim.net.engine.process import sleep
from layersim.net.host.datagram_sockets import DatagramSocket, IcmpReport, hard_error
from layersim.net.host.host import Host
from layersim.net.network import Network
from layersim.net.trace.log import EventKind
from tests.net.conftest import R1_LEFT, R2_LEFT, SERVER_IP, Chain, build_chain

MS = 1_000_000


@pytest.fixture
def multi() -> tuple[Network, Host, Host, Host]:
    """Host m with 10.1.0.1 (towards x) and 10.2.0.1 (towards y); x and y reach both of m's addresses."""
    net = Network(seed=4)
    m, x, y = net.add_host("m"), net.add_host("x"), net.add_host("y")
    net.link(m, x, a_ip="10.1.0.1/24", b_ip="10.1.0.2/24")
    net.link(m, y, a_ip="10.2.0.1/24", b_ip="10.2.0.2/24")
    x.routes.add("10.2.0.0/24", via="10.1.0.1", interface="eth0")
    y.routes.add("10.1.0.0/24", via="10.2.0.1", interface="eth0")
    return net, m, x, y


def run_process(net: Network, host: Host, fn: Any, *args: Any) -> Any:
    """Spawn `fn` on `host`, run the network, return its result (re-raising its exception)."""
    proc = host.spawn(fn, *args)
    net.run()
    if proc.exception is not None:
        raise proc.exception
    return proc.result


# --- keys --------------------------------------------------------------------------------------------------------

def test_same_port_on_two_local_addresses(multi) -> None:
    net, m, x, y = multi
    one, two = m.udp_socket(53, "10.1.0.1"), m.udp_socket(53, "10.2.0.1")
    x.udp_socket(1111).sendto(b"to-one", ("10.1.0.1", 53))
    x.udp_socket(1112).sendto(b"x-to-two", ("10.2.0.1", 53))  # arrives on m's eth0, for its other address
    y.udp_socket(2222).sendto(b"y-to-two", ("10.2.0.1", 53))
    net.run()
    assert [d.data for d in one.received] == [b"to-one"]
    assert sorted(d.data for d in two.received) == [b"x-to-two", b"y-to-two"]
    assert {d.source for d in two.received} == {(IPv4Address("10.1.0.2"), 1112), (IPv4Address("10.2.0.2"), 2222)}


def test_address_in_use_and_not_available(multi) -> None:
    _, m, _, _ = multi
    m.udp_socket(53, "10.1.0.1")
    with pytest.raises(OSError) as caught:
        m.sockets.bind_udp("10.1.0.1", 53)
    assert caught.value.errno == errno.EADDRINUSE
    with pytest.raises(OSError) as caught:
        m.sockets.bind_udp("0.0.0.0", 53)  # the wildcard would overlap 10.1.0.1:53 (no SO_REUSEADDR)
    assert caught.value.errno == errno.EADDRINUSE
    with pytest.raises(LayersimError, match="port 53 is already in use"):
        m.udp_socket(53)
    m.udp_socket(54)
    with pytest.raises(OSError) as caught:
        m.sockets.bind_udp("10.2.0.1", 54)  # a specific address under an existing wildcard
    assert caught.value.errno == errno.EADDRINUSE
    with pytest.raises(OSError) as caught:
        m.sockets.bind_udp("10.3.0.1", 55)
    assert caught.value.errno == errno.EADDRNOTAVAIL
    with pytest.raises(LayersimError, match=r"10\.3\.0\.1 is not an address of this host"):
        m.udp_socket(55, "10.3.0.1")
    with pytest.raises(LayersimError, match="not an IPv4 address"):
        m.udp_socket(55, "10.2.0")


def test_closing_frees_the_port_and_ephemeral_ports_are_linux_range(multi) -> None:
    _, m, _, _ = multi
    sock = m.udp_socket(53)
    sock.close()
    assert m.udp_socket(53).port == 53
    ports = {m.udp_socket().port for _ in range(50)}
    assert len(ports) == 50 and all(32768 <= p <= 60999 for p in ports)


def test_connected_socket_preferred_over_wildcard(multi) -> None:
    net, m, x, y = multi
    connected = m.udp_socket(53)
    connected.connect(("10.1.0.2", 1111))
    assert connected.local == (int(IPv4Address("10.1.0.1")), 53)  # the route's source address, as the kernel picks
    wildcard = DatagramSocket(m, (0, 53))  # what SO_REUSEADDR would allow beside it
    m.sockets.udp[(0, 53)] = wildcard
    x.udp_socket(1111).sendto(b"from-peer", ("10.1.0.1", 53))
    x.udp_socket(1113).sendto(b"other-port", ("10.1.0.1", 53))
    y.udp_socket(1111).sendto(b"other-host", ("10.2.0.1", 53))
    net.run()
    assert [d.data for d in connected.received] == [b"from-peer"]
    assert sorted(d.data for d in wildcard.received) == [b"other-host", b"other-port"]


def test_connected_socket_alone_refuses_other_peers(multi) -> None:
    net, m, x, _ = multi
    connected = m.udp_socket(53)
    connected.connect(("10.1.0.2", 1111))
    stranger = x.udp_socket(1113)
    stranger.recverr = True
    stranger.sendto(b"hi", ("10.1.0.1", 53))
    net.run()
    assert not connected.received
    report = stranger.recv_error()
    assert (report.type, report.code, str(report.offender)) == (3, 3, "10.1.0.1")


# --- ICMP errors to the sending socket ----------------------------------------------------------------------------

def test_connected_socket_gets_econnrefused_on_its_next_call() -> None:
    chain = build_chain()

    def client() -> list[Any]:
        sock = chain.client.udp_socket()
        sock.connect((SERVER_IP, 9))
        sock.send(b"anyone?")
        out: list[Any] = []
        try:
            sock.recvfrom(timeout_ns=1_000 * MS)
        except ConnectionRefusedError as exc:
            out.append(("recv", exc.errno, chain.net.now))
        sock.send(b"again")  # the error was reported once and cleared
        sleep(100 * MS)
        try:
            sock.send(b"third")
        except OSError as exc:
            out.append(("send", exc.errno))
        return out

    out = run_process(chain.net, chain.client, client)
    assert out[0][:2] == ("recv", errno.ECONNREFUSED) and out[0][2] < 20 * MS  # woken by the error, not the timeout
    assert out[1:] == [("send", errno.ECONNREFUSED)]  # the second datagram's error, reported on the next send
    assert len(chain.net.trace.select(EventKind.ICMP_ERROR, node="server")) == 2


def test_unconnected_socket_without_recverr_sees_nothing() -> None:
    chain = build_chain()

    def client() -> tuple[Any, int, int]:
        sock = chain.client.udp_socket()
        sock.sendto(b"anyone?", (SERVER_IP, 9))
        got = sock.recvfrom(timeout_ns=500 * MS)
        sock.sendto(b"again", (SERVER_IP, 9))  # no pending error either
        return got, len(sock.errors), chain.net.now

    got, errors, now = run_process(chain.net, chain.client, client)
    assert got is None and errors == 0 and now == 500 * MS
    assert len(chain.net.trace.select(EventKind.ICMP_ERROR, node="server")) >= 1  # the error did come back


def test_recverr_reads_a_report_naming_the_offender() -> None:
    chain = build_chain()

    def client() -> tuple[IcmpReport, int]:
        sock = chain.client.udp_socket(40000)
        sock.recverr = True
        sock.sendto(b"anyone?", (SERVER_IP, 9))
        return sock.recv_error(timeout_ns=1_000 * MS), sock.port

    report, port = run_process(chain.net, chain.client, client)
    assert report.offender == IPv4Address(SERVER_IP) and (report.type, report.code) == (3, 3)
    assert report.destination == (IPv4Address(SERVER_IP), 9) and report.source_port == port == 40000
    assert report.protocol == 17 and report.errno == errno.ECONNREFUSED and report.mtu is None


def test_time_exceeded_reaches_only_the_sending_socket() -> None:
    chain = build_chain()
    chain.server.udp_socket(9)

    def client() -> tuple[IcmpReport | None, IcmpReport | None, list[Any]]:
        expiring, bystander = chain.client.udp_socket(40001), chain.client.udp_socket(40002)
        expiring.recverr = bystander.recverr = True
        expiring.ttl = 2
        expiring.sendto(b"short-lived", (SERVER_IP, 9))
        bystander.sendto(b"fine", (SERVER_IP, 9))
        return expiring.recv_error(1_000 * MS), bystander.recv_error(100 * MS), list(bystander.queue)

    mine, theirs, queue = run_process(chain.net, chain.client, client)
    assert mine is not None and mine.offender == IPv4Address(R2_LEFT) and (mine.type, mine.code) == (11, 0)
    assert mine.source_port == 40001
    assert theirs is None and queue == []


def test_port_unreachable_reaches_only_one_of_two_sockets_sending_to_the_same_place() -> None:
    chain = build_chain()
    reports: list[tuple[int, int]] = []
    original = DatagramSocket.deliver_error

    def spy(self: DatagramSocket, report: IcmpReport) -> None:
        reports.append((self.port, report.source_port))
        original(self, report)

    def client() -> tuple[int, int]:
        a, b = chain.client.udp_socket(40001), chain.client.udp_socket(40002)
        a.recverr = b.recverr = True
        a.sendto(b"a", (SERVER_IP, 9))
        sleep(50 * MS)
        return (a.recv_error(0) is not None) + (b.recv_error(0) is not None) * 10, len(reports)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DatagramSocket, "deliver_error", spy)
        assert run_process(chain.net, chain.client, client) == (1, 1)
    assert reports == [(40001, 40001)]


def test_traceroute_errors_go_to_the_right_probe_socket() -> None:
    chain = build_chain()
    deliveries: list[tuple[int, int, int]] = []
    original = DatagramSocket.deliver_error

    def spy(self: DatagramSocket, report: IcmpReport) -> None:
        deliveries.append((self.port, report.source_port, report.destination[1]))
        original(self, report)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DatagramSocket, "deliver_error", spy)
        result = traceroute(chain.client, SERVER_IP)
    assert result.reached and result.path == [IPv4Address(R1_LEFT), IPv4Address(R2_LEFT), IPv4Address(SERVER_IP)]
    assert deliveries and all(sock == sport for sock, sport, _ in deliveries)
    assert len({sport for sport, _, _ in deliveries}) == len(deliveries)  # one socket per probe
    # each probe's answer came from the hop its TTL reaches (destination port 33434 + n, three per TTL)
    for hop in result.hops:
        assert {addr for addr, _ in hop.probes} == {result.path[hop.ttl - 1]}
    rtts = [[rtt for _, rtt in hop.probes] for hop in result.hops]
    assert max(rtts[0]) < min(rtts[1]) < max(rtts[1]) < min(rtts[2])


# --- ping sockets -------------------------------------------------------------------------------------------------

def test_two_pings_at_once_each_get_their_own_replies_and_errors() -> None:
    chain = build_chain()
    near = chain.client.spawn(lambda: ping(chain.client, SERVER_IP, count=3, ttl=1))
    far = chain.client.spawn(lambda: ping(chain.client, SERVER_IP, count=3))
    chain.net.run()
    assert near.result.identifier != far.result.identifier
    assert near.result.received == 0 and near.result.errors == {n: f"From {R1_LEFT} Time to live exceeded"
                                                                 for n in (1, 2, 3)}
    assert far.result.received == 3 and far.result.errors == {}


def test_ping_identifier_in_use() -> None:
    chain: Chain = build_chain()
    chain.client.ping_socket(7)
    with pytest.raises(OSError) as caught:
        chain.client.ping_socket(7)
    assert caught.value.errno == errno.EADDRINUSE


def test_connected_socket_without_recverr_ignores_time_exceeded() -> None:
    chain = build_chain()
    chain.server.udp_socket(9)

    def client() -> list[str]:
        sock = chain.client.udp_socket()
        sock.connect((SERVER_IP, 9))
        sock.ttl = 1
        out = []
        for _ in range(2):
            try:
                sock.send(b"short-lived")
                out.append("sent")
            except OSError as exc:
                out.append(errno.errorcode[exc.errno])
            sleep(100 * MS)
        return out

    assert run_process(chain.net, chain.client, client) == ["sent", "sent"]
    assert len(chain.net.trace.select(EventKind.ICMP_ERROR, node="r1")) == 2  # the errors did come back


def test_connected_socket_with_recverr_gets_soft_errors_too() -> None:
    chain = build_chain()
    chain.server.udp_socket(9)

    def client() -> tuple[str, IcmpReport | None]:
        sock = chain.client.udp_socket()
        sock.connect((SERVER_IP, 9))
        sock.ttl, sock.recverr = 1, True
        sock.send(b"short-lived")
        sleep(100 * MS)
        report = sock.recv_error(0)
        try:
            sock.send(b"again")
        except OSError as exc:
            return errno.errorcode[exc.errno], report
        return "sent", report

    outcome, report = run_process(chain.net, chain.client, client)
    assert outcome == "EHOSTUNREACH" and report is not None and (report.type, report.offender) == (
        11, IPv4Address(R1_LEFT))


@pytest.mark.parametrize(("icmp_type", "code", "pmtu", "hard"), [
    (3, 3, "want", True), (3, 2, "want", True), (3, 13, "want", True), (12, 0, "want", True),
    (3, 4, "want", True), (3, 4, "do", True), (3, 4, "dont", False),
    (3, 0, "want", False), (3, 1, "want", False), (11, 0, "want", False), (11, 1, "want", False),
])
def test_hard_errors_as_linux_icmp_err_convert(icmp_type: int, code: int, pmtu: str, hard: bool) -> None:
    assert hard_error(icmp_type, code, pmtu) is hard
