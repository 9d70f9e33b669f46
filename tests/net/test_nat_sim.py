"""NAT on a simulated network, compared with the real Linux MASQUERADE capture (tests/data/record_masquerade.sh).

The network copies the recording's: inside hosts 10.0.0.2 and 10.0.0.3 on a switch behind the NAT router (10.0.0.1,
outside 203.0.113.2), an ISP router (203.0.113.1 / 93.184.216.1) with no route back to 10.0.0.0/24, and the
server 93.184.216.34 (TCP 8080 answers one line and closes, UDP 9999 echoes). The same traffic runs in the same
order; both sides of the NAT router are captured and read by tshark, and the table is compared with Linux's
`conntrack -L`.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import time
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from layersim.app.traceroute import traceroute
from layersim.capture import read_capture
from layersim.net.network import Network
from layersim.net.trace.details import DropReason
from layersim.net.trace.log import EventKind
from tests.sim_tools import tshark_rows

DATA = Path(__file__).resolve().parent.parent / "data"
IN1, IN2, INSIDE_GW, OUTSIDE, ISP, SRV = "10.0.0.2", "10.0.0.3", "10.0.0.1", "203.0.113.2", "203.0.113.1", \
    "93.184.216.34"
SECOND = 1_000_000_000


def _tcp_server() -> None:
    """TCP 8080: each connection gets one line after the client's first bytes, then the server closes."""
    listener = socket.create_server(("", 8080))
    while True:
        conn, _ = listener.accept()
        conn.recv(100)
        conn.sendall(b"hello from srv\n")
        conn.close()


def _udp_echo(port: int = 9999) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", port))
    while True:
        data, peer = sock.recvfrom(2048)
        sock.sendto(data, peer)


def _delayed_echo(spawn: Any) -> None:
    """UDP 7777: answer each datagram after as many seconds as it says (each in a process of its own)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", 7777))
    while True:
        data, peer = sock.recvfrom(2048)
        spawn(_answer_later, sock, data, peer)


def _answer_later(sock: Any, data: bytes, peer: tuple[str, int]) -> None:
    time.sleep(float(data))
    sock.sendto(data, peer)


def _network(seed: int = 1, port_range: tuple[int, int] | None = None) -> Network:
    """The recording's network (see the module docstring)."""
    net = Network(seed=seed)
    in1, in2, nat = net.add_host("in1"), net.add_host("in2"), net.add_router("nat")
    isp, srv, br = net.add_router("isp"), net.add_host("srv"), net.add_switch("br0")
    net.link(nat, br, a_ip=f"{INSIDE_GW}/24")
    net.link(in1, br, a_ip=f"{IN1}/24")
    net.link(in2, br, a_ip=f"{IN2}/24")
    net.link(nat, isp, a_ip=f"{OUTSIDE}/24", b_ip=f"{ISP}/24", delay="1ms")
    net.link(isp, srv, a_ip="93.184.216.1/24", b_ip=f"{SRV}/24", delay="1ms")
    nat.routes.add("0.0.0.0/0", via=ISP)
    for host in (in1, in2):
        host.routes.add("0.0.0.0/0", via=INSIDE_GW, interface="eth0")
    nat.enable_nat("eth1", port_range=port_range)
    srv.spawn(_tcp_server, name="tcp8080")
    srv.spawn(_udp_echo, name="udp9999")
    srv.spawn(_delayed_echo, srv.spawn, name="udp7777")
    return net


def _run(net: Network, host: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) on `host`, to its end (re-raising what it raised)."""
    proc = net.hosts[host].spawn(fn, *args, **kwargs)
    net.run_until(lambda: proc.done, 600 * SECOND)
    assert proc.done
    if proc.exception is not None:
        raise proc.exception
    return proc.result


def _client(sport: int, kind: str, dport: int) -> bytes:
    """One exchange from a fixed source port, as the recording's client() does."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    sock.settimeout(3)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", sport))
    sock.connect((SRV, dport))
    sock.send(b"hi\n")
    data = sock.recv(100)
    if kind == "tcp":
        sock.shutdown(socket.SHUT_WR)
        sock.recv(100)
    sock.close()
    return data


def _ping(net: Network, host: str, identifier: int) -> None:
    sock = net.hosts[host].ping_socket(identifier)
    net.hosts[host].send_echo(sock, IPv4Address(SRV), 1, bytes(56))
    net.run(until=net.now + SECOND // 10)
    sock.close()


def _closed_port() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 6000))
    sock.sendto(b"anyone?", (SRV, 9))
    sock.settimeout(2)
    with contextlib.suppress(OSError):
        sock.recv(100)
    sock.close()


def _recording(net: Network) -> dict[str, Any]:
    """The recording's traffic after its curl, in its order; what each exchange returned."""
    out = {"tcp1": _run(net, "in1", _client, 40000, "tcp", 8080), "tcp2": _run(net, "in2", _client, 40000, "tcp", 8080),
           "udp1": _run(net, "in1", _client, 5353, "udp", 9999), "udp2": _run(net, "in2", _client, 5353, "udp", 9999)}
    _ping(net, "in1", 4660)
    _ping(net, "in2", 4660)
    # traceroute -q 1 -N 1: one probe per hop, one at a time
    out["traceroute"] = _run(net, "in1", traceroute, net.hosts["in1"], IPv4Address(SRV), max_hops=5, probes=1,
                             sim_queries=1)
    _run(net, "in2", _closed_port)
    net.run(until=net.now + SECOND)
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Network, dict[str, Any], Path, Path]:
    """The recording's traffic on our network, with both sides of the NAT router captured."""
    folder = tmp_path_factory.mktemp("nat")
    net = _network()
    inside, outside = folder / "inside.pcapng", folder / "outside.pcapng"
    net.capture(inside, ["nat:eth0"])
    net.capture(outside, ["nat:eth1"])
    results = _recording(net)
    net.close()
    return net, results, inside, outside


# Reading frames -----------------------------------------------------------------------------------------------

def _flow(frame: bytes) -> tuple[str, str, int, int, int] | None:
    """(src, dst, protocol, source port or echo id, destination port or ICMP type) of an IPv4 frame; for an ICMP
    error, of the datagram it quotes (protocol as negative)."""
    if frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    src, dst, proto, l4 = str(IPv4Address(frame[26:30])), str(IPv4Address(frame[30:34])), frame[23], 14 + ihl
    if proto in (6, 17):
        return (src, dst, proto, *struct.unpack_from("!HH", frame, l4))
    if proto == 1 and frame[l4] in (0, 8):
        return src, dst, 1, struct.unpack_from("!H", frame, l4 + 4)[0], frame[l4]
    if proto == 1:
        inner = _flow(frame[:14] + frame[l4 + 8:])
        return None if inner is None else (inner[0], inner[1], -inner[2], inner[3], inner[4])
    return None


def _clash_pattern(inside: list[bytes], outside: list[bytes], proto: int, dport: int) -> list[tuple[str, bool, bool]]:
    """For each inside host sending to `dport` (echo id for ICMP): (host, kept its port, new port in its class),
    in order. Inside and outside frames of one flow are paired by order of first appearance."""
    firsts_in = list(dict.fromkeys((f[0], f[3]) for f in map(_flow, inside)
                                   if f and f[2] == proto and f[4] == dport and f[0] != SRV))
    firsts_out = list(dict.fromkeys(f[3] for f in map(_flow, outside)
                                    if f and f[2] == proto and f[4] == dport and f[0] == OUTSIDE))
    assert len(firsts_in) == len(firsts_out), (firsts_in, firsts_out)
    return [(host, port == out, (out >= 1024) == (port >= 1024) or proto == 1)
            for (host, port), out in zip(firsts_in, firsts_out, strict=True)]


def _linux_frames(name: str) -> list[bytes]:
    return [r.data for r in read_capture(DATA / f"linux_masquerade_{name}.pcap")]


def _ours(net: Network, where: str) -> list[bytes]:
    node, _, iface = where.partition(":")
    return [e.frame for e in net.trace.events if e.node == node and e.interface == iface and e.frame is not None
            and e.kind in (EventKind.SEND, EventKind.RECEIVE) and e.frame[12:14] == b"\x08\x00"]


# The tests ---------------------------------------------------------------------------------------------------

def test_every_exchange_went_through(recorded) -> None:
    _, results, _, _ = recorded
    assert results["tcp1"] == results["tcp2"] == b"hello from srv\n"
    assert results["udp1"] == results["udp2"] == b"hi\n"
    assert [str(a) for a in results["traceroute"].path] == [INSIDE_GW, ISP, SRV]


@pytest.mark.parametrize(("proto", "dport"), [(6, 8080), (17, 9999), (1, 8)])
def test_port_clash_as_linux(recorded, proto: int, dport: int) -> None:
    net, _, _, _ = recorded
    ours = _clash_pattern(_ours(net, "nat:eth0"), _ours(net, "nat:eth1"), proto, dport)
    linux = _clash_pattern(_linux_frames("inside"), _linux_frames("outside"), proto, dport)
    assert ours == linux == [(IN1, True, True), (IN2, False, True)]


@pytest.mark.tshark
def test_both_sides_in_tshark_addresses_ports_checksums(recorded) -> None:
    net, _, inside, outside = recorded
    fields = ("ip.src", "ip.dst", "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
              "icmp.checksum.status", "tcp.srcport", "udp.srcport", "icmp.ident")
    rows_in = tshark_rows(inside, *fields, display_filter="ip")
    rows_out = tshark_rows(outside, *fields, display_filter="ip")
    for row in rows_in + rows_out:
        statuses = [s for s in row[2:6] if s]
        assert statuses and set(statuses) == {"1"}, row
    # Inside only inside addresses and the remote ones; outside only the outside address, never 10.0.0.x.
    assert {r[0] for r in rows_in} <= {IN1, IN2, INSIDE_GW, ISP, SRV}
    assert not any(r[0].startswith("10.") or r[1].startswith("10.") for r in rows_out)
    assert {r[0] for r in rows_out if r[1] != OUTSIDE} == {OUTSIDE}
    # Each translated packet: tshark's view of both sides matches our flow reading of the trace.
    assert len(rows_in) == len(_ours(net, "nat:eth0")) and len(rows_out) == len(_ours(net, "nat:eth1"))
    # ICMP errors: the outer and the quoted IP header checksums, and the quoted UDP checksum, all good.
    for path in (inside, outside):
        errors = tshark_rows(path, "ip.src", "ip.checksum.status", "udp.checksum.status", "udp.srcport",
                             display_filter="icmp.type == 3 || icmp.type == 11", occurrence="a")
        assert errors
        for _, ip_status, udp_status, _ in errors:
            assert ip_status.split("|") == ["1", "1"] and udp_status == "1", errors


def _icmp_errors(frames: list[bytes]) -> list[tuple[str, str, int, int, str, int]]:
    """(outer src, outer dst, type, code, quoted src, quoted protocol) of each ICMP error frame."""
    out = []
    for frame in frames:
        if frame[23] == 1 and frame[34] in (3, 11):
            quoted = frame[42:]
            out.append((str(IPv4Address(frame[26:30])), str(IPv4Address(frame[30:34])), frame[34], frame[35],
                        str(IPv4Address(quoted[12:16])), quoted[9]))
    return out


def test_icmp_errors_come_back_to_the_inside_host_as_linux_sends_them(recorded) -> None:
    net, _, _, _ = recorded
    ours = [e for e in _icmp_errors(_ours(net, "nat:eth0")) if e[1] in (IN1, IN2)]
    linux = [e for e in _icmp_errors(_linux_frames("inside")) if e[1] in (IN1, IN2)]
    expected = [(INSIDE_GW, IN1, 11, 0, IN1, 17), (ISP, IN1, 11, 0, IN1, 17), (SRV, IN1, 3, 3, IN1, 17),
                (SRV, IN2, 3, 3, IN2, 17)]
    assert ours == linux == expected


def test_quoted_datagram_is_translated_back_exactly(recorded) -> None:
    """The ISP's Time Exceeded: outside it quotes 203.0.113.2 and the outside port, inside 10.0.0.2 and the probe's
    own port; everything else in the quote is the same bytes, and all its checksums are right."""
    net, _, _, _ = recorded
    pairs = []
    outside = [f for f in _ours(net, "nat:eth1") if f[23] == 1 and f[34] == 11]
    inside = [f for f in _ours(net, "nat:eth0") if f[23] == 1 and f[34] == 11 and f[26:30] == IPv4Address(ISP).packed]
    assert len(outside) == len(inside) == 1
    pairs.append((outside[0], inside[0]))
    for out_frame, in_frame in pairs:
        q_out, q_in = out_frame[42:], in_frame[42:]
        assert q_out[12:16] == IPv4Address(OUTSIDE).packed and q_in[12:16] == IPv4Address(IN1).packed
        probe = next(f for f in _ours(net, "nat:eth0") if f[23] == 17 and f[22] == 2 and f[26:30] == q_in[12:16])
        assert q_in[20:22] == probe[34:36], "the quoted source port is the probe's own"
        assert q_in[16:20] == q_out[16:20] and q_in[22:24] == q_out[22:24] and q_in[28:] == q_out[28:]
        assert _ones_sum(q_in[:20]) == 0xFFFF, "quoted IP header checksum"
        assert _ones_sum(in_frame[34:]) == 0xFFFF, "ICMP checksum over the rewritten quote"
        assert _ones_sum(_pseudo(q_in) + q_in[20:]) == 0xFFFF, "quoted UDP checksum (the whole probe is quoted)"


def _ones_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _pseudo(ip: bytes) -> bytes:
    ihl = (ip[0] & 0x0F) * 4
    return ip[12:20] + bytes([0, ip[9]]) + struct.pack("!H", len(ip) - ihl)


def _normalize(line: str) -> str:
    """A conntrack -L line without Linux's family column, mark/zone/use, and the seconds left."""
    line = re.sub(r"^ipv4\s+2\s+", "", line)
    line = re.sub(r" mark=\d+ zone=\d+ use=\d+$", "", line)
    return re.sub(r"^(\w+)\s+(\d+) \d+ ", r"\1 \2 N ", line)


def test_table_lines_match_linux_conntrack(recorded) -> None:
    net, _, _, _ = recorded
    ours = {_normalize(line) for line in net.routers["nat"].nat.table().splitlines()}
    linux = {_normalize(line) for line in (DATA / "linux_masquerade_conntrack.txt").read_text().splitlines()}
    fixed = [f"src={IN1} dst={SRV} sport=40000 dport=8080", f"src={IN1} dst={SRV} sport=5353 dport=9999",
             f"src={IN1} dst={SRV} type=8 code=0 id=4660", f"src={IN2} dst={SRV} sport=6000 dport=9"]
    for what in fixed:
        (theirs,) = [line for line in linux if what in line]
        (mine,) = [line for line in ours if what in line]
        assert mine == theirs
    # The traceroute: no entry for the probe that died at the router itself (Linux drops the unconfirmed one), an
    # [UNREPLIED] entry for each probe that left, whatever ICMP error came back.
    probes = [[line for line in table if " dport=3343" in line and "[UNREPLIED]" in line] for table in (ours, linux)]
    assert len(probes[0]) == len(probes[1]) == 2
    # The remapped ones differ only in the port Linux and we drew at random.
    for what in (f"src={IN2} dst={SRV} sport=40000", f"src={IN2} dst={SRV} sport=5353", f"src={IN2} dst={SRV} type=8"):
        (theirs,) = [line for line in linux if what in line]
        (mine,) = [line for line in ours if what in line]
        assert re.sub(r"(dport|id)=\d+( \[ASSURED\])?$", "", mine) == re.sub(r"(dport|id)=\d+( \[ASSURED\])?$", "",
                                                                            theirs)


def test_range_mode_keeps_ports_in_the_range_and_runs_out() -> None:
    net = _network(port_range=(40000, 40010))

    def many(count: int) -> list[int]:
        sockets = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.sendto(b"hi\n", (SRV, 9999))
            sockets.append(sock)
        time.sleep(0.5)
        return [s.getsockname()[1] for s in sockets]

    _run(net, "in1", _client, 40005, "udp", 9999)  # a port already in the range, and free: kept
    inside_ports = _run(net, "in1", many, 11)
    outside = [f[3] for f in map(_flow, _ours(net, "nat:eth1")) if f and f[2] == 17 and f[0] == OUTSIDE]
    assert outside[0] == 40005
    assert sorted(outside) == list(range(40000, 40011)), "every port of the range, once"
    assert len(set(inside_ports)) == 11
    drops = net.trace.drops(DropReason.NAT_EXHAUSTED)
    assert len(drops) == 1, "the twelfth flow to the same server finds no free port"


def test_udp_mapping_times_out_after_30_seconds() -> None:
    net = _network()

    def ask(delay: str) -> bytes | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(40)
        sock.sendto(delay.encode(), (SRV, 7777))
        try:
            return sock.recv(100)
        except TimeoutError:
            return None

    start = net.now
    early = net.hosts["in1"].spawn(ask, "29.9")
    late = net.hosts["in2"].spawn(ask, "30.1")
    net.run_until(lambda: early.done and late.done, 120 * SECOND)
    assert early.result == b"29.9" and late.result is None
    (drop,) = net.trace.drops(DropReason.NAT_NO_MAPPING)
    assert (drop.node, drop.interface) == ("nat", "eth1")
    assert 30 * SECOND < drop.time_ns - start < 31 * SECOND
    late_port = next(f[3] for f in map(_flow, _ours(net, "in2:eth0")) if f and f[2] == 17)
    reply = next(f for f in map(_flow, _ours(net, "nat:eth1")) if f and f[0] == SRV and f[4] == late_port)
    assert reply == (SRV, OUTSIDE, 17, 7777, late_port), "the late reply reached the router, and no further"
    assert not [f for f in map(_flow, _ours(net, "in2:eth0")) if f and f[0] == SRV]
    expired = [e for e in net.trace.select(EventKind.NAT, node="nat") if "expired" in str(e.details)]
    assert expired, "the mapping's expiry is in the trace"


def test_unsolicited_inbound_syn_is_dropped() -> None:
    net = _network()

    def knock() -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(4)
        try:
            sock.connect((OUTSIDE, 22))
        except OSError as exc:
            return type(exc).__name__
        return "connected"

    assert _run(net, "srv", knock) == "TimeoutError"
    drops = net.trace.drops(DropReason.NAT_NO_MAPPING)
    assert len(drops) >= 2 and {d.node for d in drops} == {"nat"}, "the SYN and its retransmissions"
    assert not [f for f in _ours(net, "nat:eth1") if f[23] == 6 and f[26:30] == IPv4Address(OUTSIDE).packed]
    assert not _ours(net, "nat:eth0"), "nothing reached the inside"


def _refused(sport: int) -> str:
    """A connected UDP socket from `sport` to the server's closed port 9: the port unreachable surfaces."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", sport))
    sock.connect((SRV, 9))
    sock.settimeout(2)
    sock.send(b"anyone?")
    try:
        sock.recv(100)
    except OSError as exc:
        return type(exc).__name__
    finally:
        sock.close()
    return "answered"


def test_icmp_error_about_a_remapped_port_quotes_the_inside_port() -> None:
    net = _network()
    assert _run(net, "in1", _refused, 6001) == "ConnectionRefusedError"
    assert _run(net, "in2", _refused, 6001) == "ConnectionRefusedError", "the error found its way to in2's socket"
    to_router = IPv4Address(OUTSIDE).packed
    outside = [f for f in _ours(net, "nat:eth1") if f[23] == 1 and f[34] == 3 and f[30:34] == to_router]
    inside = [f for f in _ours(net, "in2:eth0") if f[23] == 1 and f[34] == 3]
    assert len(outside) == 2 and len(inside) == 1
    remapped = struct.unpack_from("!H", outside[1], 42 + 20)[0]
    assert remapped != 6001, "in2's datagram left from another port"
    quote = inside[0][42:]
    assert quote[12:16] == IPv4Address(IN2).packed and struct.unpack_from("!H", quote, 20)[0] == 6001
    assert _ones_sum(quote[:20]) == 0xFFFF and _ones_sum(inside[0][34:]) == 0xFFFF
    assert _ones_sum(_pseudo(quote) + quote[20:]) == 0xFFFF, "quoted UDP checksum after the port went back"
