"""Hook points (netfilter's five): a filter dropping telnet in FORWARD, what each point sees, rewriting hooks, and
the router's fast path giving the same bytes as the hooked path (checked against scapy's recomputation)."""

from __future__ import annotations

import filecmp
import struct
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet import UDP as ScapyUDP

from layersim.app import ping
from layersim.capture import read_capture
from layersim.errors import LayersimError
from layersim.net.ip.hooks import ACCEPT, REWRITTEN, Drop, HookPacket, HookPoint
from layersim.net.ipv4.node import IPNode
from layersim.net.trace.details import HookVerdict
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire.tcp import TCP
from tests.net.conftest import (
    CLIENT_IP,
    R1_LEFT,
    R1_RIGHT,
    SERVER_IP,
    Chain,
    build_chain,
    events,
    header_checksum_ok,
    ipv4_frames,
)

MS = 1_000_000


def syn(chain: Chain, dport: int, sport: int = 40000) -> None:
    """A raw TCP SYN from the client to the server's `dport`."""
    assert chain.client.send_ip(SERVER_IP, TCP(sport=sport, dport=dport, flags="S", seq=1000) / b"")


def tcp_ports_at_server(chain: Chain) -> list[int]:
    """Destination ports of the TCP segments that reached the server."""
    return [struct.unpack_from("!H", f, 36)[0] for f in ipv4_frames(chain.net, EventKind.RECEIVE, "server:eth0")
            if f[23] == 6]


# --- a filter ----------------------------------------------------------------------------------------------------

def no_telnet(packet: HookPacket) -> Drop | None:
    """Drop TCP to port 23."""
    if packet.protocol == 6 and packet.ports is not None and packet.ports[1] == 23:
        return Drop(DropReason.FILTERED, "telnet is not allowed")
    return None


def test_forward_filter_drops_telnet_found_by_reason() -> None:
    chain = build_chain()
    chain.r1.hooks.add(HookPoint.FORWARD, no_telnet)
    syn(chain, 23)
    syn(chain, 22, sport=40001)
    syn(chain, 2323, sport=40002)
    chain.net.run()
    dropped = chain.net.trace.drops(DropReason.FILTERED)
    assert len(dropped) == 1
    drop = dropped[0]
    assert (drop.node, drop.interface) == ("r1", "eth1")
    assert drop.details["hook"] == "no_telnet" and drop.details["point"] == "forward"
    assert drop.details["detail"] == "telnet is not allowed"
    ip = IP(drop.frame)
    assert ip.dport == 23 and ip.ttl == 63  # FORWARD runs after the TTL decrement
    assert tcp_ports_at_server(chain) == [22, 2323]
    assert drop.packet_id is not None


@pytest.mark.own_hooks
def test_filter_by_name_and_removal() -> None:
    chain = build_chain()
    chain.r1.hooks.add("forward", no_telnet, name="firewall")
    syn(chain, 23)
    chain.net.run()
    assert chain.net.trace.drops(DropReason.FILTERED)[0].details["hook"] == "firewall"
    chain.r1.hooks.remove(HookPoint.FORWARD, no_telnet)
    assert not chain.r1.hooks
    syn(chain, 23, sport=40005)
    chain.net.run()
    assert tcp_ports_at_server(chain) == [23]
    with pytest.raises(LayersimError, match="no such hook"):
        chain.r1.hooks.remove(HookPoint.FORWARD, no_telnet)
    with pytest.raises(LayersimError, match="'sideways' is not one of prerouting"):
        chain.r1.hooks.add("sideways", no_telnet)


def test_drop_in_output_stops_a_local_packet_before_the_wire() -> None:
    chain = build_chain()
    chain.client.hooks.add(HookPoint.OUTPUT, lambda p: Drop(DropReason.FILTERED) if p.protocol == 6 else ACCEPT)
    syn(chain, 80)
    chain.net.run()
    assert not any(f[23] == 6 for f in ipv4_frames(chain.net, EventKind.SEND, "client:eth0"))
    assert chain.net.trace.drops(DropReason.FILTERED)[0].node == "client"


# --- what each point sees ------------------------------------------------------------------------------------------

Seen = tuple[str, str, str, int, str | None, str | None]  # src, dst, kind, ttl, in, out


def recorder(log: dict[HookPoint, list[Seen]], point: HookPoint) -> Any:
    """A hook that notes (src, dst, ICMP type, TTL, in, out) of every packet at `point` and accepts it."""

    def hook(packet: HookPacket) -> None:
        data = packet.data
        ip = IP(bytes(data))
        kind = {0: "reply", 8: "request", 11: "time-exceeded"}.get(ip.payload.type, "?") if ip.proto == 1 else "udp"
        log[point].append((ip.src, ip.dst, kind, ip.ttl, packet.in_iface and packet.in_iface.name,
                           packet.out_iface and packet.out_iface.name))
        assert packet.point is point

    return hook


def record_all(node: IPNode) -> dict[HookPoint, list[Seen]]:
    log: dict[HookPoint, list[Seen]] = {point: [] for point in HookPoint}
    for point in HookPoint:
        node.hooks.add(point, recorder(log, point))
    return log


def test_each_point_sees_what_it_should_on_a_router() -> None:
    chain = build_chain()
    log = record_all(chain.r1)
    ping(chain.client, R1_LEFT, count=1)  # local to r1
    ping(chain.client, SERVER_IP, count=1)  # forwarded by r1
    ping(chain.client, SERVER_IP, count=1, ttl=1)  # expires at r1: r1 makes a Time Exceeded
    request_to_r1 = (CLIENT_IP, R1_LEFT, "request", 64, "eth0", None)
    reply_from_r1 = (R1_LEFT, CLIENT_IP, "reply", 64, None, "eth0")
    assert log[HookPoint.PREROUTING] == [request_to_r1,
                                         (CLIENT_IP, SERVER_IP, "request", 64, "eth0", None),
                                         (SERVER_IP, CLIENT_IP, "reply", 63, "eth1", None),
                                         (CLIENT_IP, SERVER_IP, "request", 1, "eth0", None)]
    assert log[HookPoint.INPUT] == [request_to_r1]
    assert log[HookPoint.FORWARD] == [(CLIENT_IP, SERVER_IP, "request", 63, "eth0", "eth1"),
                                      (SERVER_IP, CLIENT_IP, "reply", 62, "eth1", "eth0")]
    time_exceeded = (R1_LEFT, CLIENT_IP, "time-exceeded", 64, None, "eth0")
    assert log[HookPoint.OUTPUT] == [reply_from_r1, time_exceeded]
    assert log[HookPoint.POSTROUTING] == [reply_from_r1, *log[HookPoint.FORWARD], time_exceeded]


def test_each_point_sees_what_it_should_on_a_host() -> None:
    chain = build_chain()
    log = record_all(chain.client)
    ping(chain.client, SERVER_IP, count=1)
    assert log[HookPoint.OUTPUT] == log[HookPoint.POSTROUTING] == [
        (CLIENT_IP, SERVER_IP, "request", 64, None, "eth0")]
    assert log[HookPoint.PREROUTING] == log[HookPoint.INPUT] == [(SERVER_IP, CLIENT_IP, "reply", 62, "eth0", None)]
    assert log[HookPoint.FORWARD] == []


def test_hook_sees_the_packet_decoded() -> None:
    chain = build_chain()
    seen: list[Any] = []
    chain.r1.hooks.add(HookPoint.PREROUTING, lambda p: seen.append((p.ip.src, p.ip.ttl, p.protocol, p.ports)))
    syn(chain, 23)
    chain.net.run()
    src, ttl, protocol, ports = seen[0]  # then the server's answer (a RST) comes back
    assert (str(src), ttl, protocol, ports) == (CLIENT_IP, 64, 6, (40000, 23))
    assert [str(s) for s, _, _, _ in seen[1:]] == [SERVER_IP]


# --- rewriting ------------------------------------------------------------------------------------------------------

def upper_payload(packet: HookPacket) -> bytes | None:
    """Return new bytes: a UDP datagram's payload upper-cased, lengths and checksums recomputed by scapy."""
    ip = IP(bytes(packet.data))
    if ip.proto != 17:
        return None
    ip.payload.remove_payload()
    old = bytes(IP(bytes(packet.data)).payload.payload)
    new = ip / (old.upper() + b"!")
    del new.len, new.chksum, new.payload.len, new.payload.chksum
    return bytes(new)


def set_tos_in_place(packet: HookPacket) -> Any:
    """Set TOS 0x20 in place, fixing the header checksum by hand, and say so."""
    data = packet.data
    if data[9] != 17:
        return ACCEPT
    data[1] = 0x20
    data[10:12] = b"\x00\x00"
    total = sum(struct.unpack(f"!{(data[0] & 15) * 2}H", bytes(data[:(data[0] & 15) * 4])))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    data[10:12] = struct.pack("!H", ~total & 0xFFFF)
    return REWRITTEN


def send_word(chain: Chain) -> list[bytes]:
    """Send b"hello" from the client to a server socket; what the server received."""
    sock = chain.server.udp_socket(9000)
    chain.client.udp_socket(41000).sendto(b"hello", (SERVER_IP, 9000))
    chain.net.run()
    return [d.data for d in sock.received]


def test_rewrite_by_returning_bytes_changes_what_arrives() -> None:
    chain = build_chain()
    chain.r1.hooks.add(HookPoint.FORWARD, upper_payload)
    assert send_word(chain) == [b"HELLO!"]
    arrived = ipv4_frames(chain.net, EventKind.RECEIVE, "server:eth0")[0]
    assert IP(arrived[14:]).ttl == 62 and header_checksum_ok(arrived)
    scapy = IP(arrived[14:])
    del scapy.chksum, scapy.payload.chksum
    assert bytes(IP(bytes(scapy))) == arrived[14:14 + IP(arrived[14:]).len]  # checksums still right two hops on
    hooked = events(chain.net, EventKind.HOOK, "r1")
    assert [e.info for e in hooked] == [HookVerdict("forward", "upper_payload", "rewritten")]
    assert hooked[0].frame.endswith(b"HELLO!") and hooked[0].interface == "eth1"


def test_rewrite_in_place_changes_what_arrives() -> None:
    chain = build_chain()
    chain.r1.hooks.add(HookPoint.POSTROUTING, set_tos_in_place)
    assert send_word(chain) == [b"hello"]
    arrived = ipv4_frames(chain.net, EventKind.RECEIVE, "server:eth0")[0]
    assert arrived[15] == 0x20 and header_checksum_ok(arrived)
    sent_by_client = ipv4_frames(chain.net, EventKind.SEND, "client:eth0")[0]
    assert sent_by_client[15] == 0
    assert [e.info for e in events(chain.net, EventKind.HOOK, "r1")] == [
        HookVerdict("postrouting", "set_tos_in_place", "rewritten")]


def test_in_place_edit_with_accept_still_applies_but_is_not_traced() -> None:
    chain = build_chain()

    def quiet(packet: HookPacket) -> Any:
        set_tos_in_place(packet)
        return ACCEPT

    chain.r1.hooks.add(HookPoint.POSTROUTING, quiet)
    send_word(chain)
    assert ipv4_frames(chain.net, EventKind.RECEIVE, "server:eth0")[0][15] == 0x20
    assert not events(chain.net, EventKind.HOOK)


def test_hooks_run_in_order_each_seeing_the_last_ones_bytes() -> None:
    chain = build_chain()
    seen: list[bytes] = []
    chain.r1.hooks.add(HookPoint.FORWARD, upper_payload)
    chain.r1.hooks.add(HookPoint.FORWARD, lambda p: seen.append(bytes(p.data)))
    send_word(chain)
    assert seen[0].endswith(b"HELLO!")


# --- the fast path agrees with the hooked path --------------------------------------------------------------------

def accept_all(packet: HookPacket) -> Any:
    """Let everything through unchanged."""
    return ACCEPT


def traffic(tmp: Path, hooked: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """Pings and UDP datagrams over the chain, captured; with ACCEPT-all hooks at every point of both routers
    when `hooked`. Returns the capture and how many frames the fast path forwarded."""
    fast = [0]
    original = IPNode._fast_forward

    def counting(self: IPNode, *args: Any) -> bool:
        done = original(self, *args)
        fast[0] += done
        return done

    monkeypatch.setattr(IPNode, "_fast_forward", counting)
    chain = build_chain(seed=11)
    if hooked:
        for router in (chain.r1, chain.r2):
            for point in HookPoint:
                router.hooks.add(point, accept_all)
    path = tmp / f"{'hooked' if hooked else 'fast'}.pcapng"
    chain.net.capture(path)
    chain.server.udp_socket(9000)
    sock = chain.client.udp_socket(41000)
    for n in range(5):
        sock.sendto(bytes([n]) * (100 + n), (SERVER_IP, 9000))
    ping(chain.client, SERVER_IP, count=3, size=200)
    chain.net.close()
    return path, fast[0]


@pytest.mark.own_hooks
def test_fast_path_and_hooked_path_give_identical_captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_path, fast_count = traffic(tmp_path, False, monkeypatch)
    hooked_path, hooked_count = traffic(tmp_path, True, monkeypatch)
    assert fast_count >= 10 and hooked_count == 0  # the fast path really ran without hooks, never with them
    assert filecmp.cmp(fast_path, hooked_path, shallow=False)


def test_fast_path_hop_bytes_match_scapy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = traffic(tmp_path, False, monkeypatch)
    records = list(read_capture(path))
    by_iface: dict[str, list[bytes]] = {}
    for record in records:
        if record.data[12:14] == b"\x08\x00":
            by_iface.setdefault(record.interface or "", []).append(record.data)
    chain = build_chain()  # same MAC plan: interfaces numbered in creation order
    r1_out, r2_in = chain.iface("r1:eth1"), chain.iface("r2:eth0")
    sent = [f for f in by_iface["client:eth0"] if f[26:30] == bytes(map(int, CLIENT_IP.split(".")))]
    middle = [f for f in by_iface["r1:eth1"] if f[26:30] == bytes(map(int, CLIENT_IP.split(".")))]
    assert len(sent) == len(middle) == 8
    for before, after in zip(sent, middle, strict=True):
        assert after[0:6] == bytes(r2_in.mac) and after[6:12] == bytes(r1_out.mac)
        assert after[22] == before[22] - 1
        expected = IP(before[14:])
        expected.ttl -= 1
        del expected.chksum
        assert after[14:] == bytes(expected)  # only TTL and the checksum changed, and scapy agrees on it


# --- a NAT as a hook pair ---------------------------------------------------------------------------------------------

def test_a_nat_hook_pair_on_r1() -> None:
    """Source NAT in POSTROUTING (client -> r1's middle address) and the reverse in PREROUTING, as NAT will plug in;
    scapy recomputes the checksums, and the receivers' own checks accept them."""
    chain = build_chain()

    def rewrite(packet: HookPacket, **fields: str) -> bytes:
        ip = IP(bytes(packet.data))
        for name, value in fields.items():
            setattr(ip, name, value)
        del ip.chksum, ip[ScapyUDP].chksum
        return bytes(ip)

    def snat(packet: HookPacket) -> bytes | None:
        if packet.protocol == 17 and packet.out_iface.name == "eth1" and bytes(packet.data[12:15]) == bytes(
                [10, 0, 1]):
            return rewrite(packet, src=R1_RIGHT)
        return None

    def unnat(packet: HookPacket) -> bytes | None:
        if packet.protocol == 17 and IP(bytes(packet.data)).dst == R1_RIGHT and packet.ports[1] == 41000:
            return rewrite(packet, dst=CLIENT_IP)
        return None

    chain.r1.hooks.add(HookPoint.POSTROUTING, snat)
    chain.r1.hooks.add(HookPoint.PREROUTING, unnat)

    def server() -> None:
        sock = chain.server.udp_socket(9000)
        datagram = sock.recvfrom()
        sock.sendto(datagram.data + b" back", datagram.source)

    def client() -> Any:
        sock = chain.client.udp_socket(41000)
        sock.sendto(b"there", (SERVER_IP, 9000))
        return sock.recvfrom(timeout_ns=1_000 * MS)

    chain.server.spawn(server)
    proc = chain.client.spawn(client)
    chain.net.run()
    answer = proc.result
    assert answer is not None and answer.data == b"there back" and str(answer.source[0]) == SERVER_IP
    at_server = [IP(f[14:]) for f in ipv4_frames(chain.net, EventKind.RECEIVE, "server:eth0")]
    assert [(p.src, p.dst) for p in at_server] == [(R1_RIGHT, SERVER_IP)]
    assert not chain.net.trace.drops()
    assert [e.info.point for e in events(chain.net, EventKind.HOOK, "r1")] == ["postrouting", "prerouting"]


# --- fragments ------------------------------------------------------------------------------------------------------

def test_input_sees_the_reassembled_datagram_as_linux() -> None:
    """Linux defragments in ip_local_deliver before the LOCAL_IN hook: INPUT sees one whole datagram (with its
    ports), not the fragments r1 made; PREROUTING (without conntrack) sees the fragments."""
    chain = build_chain(link_b={"mtu": 576})
    seen: dict[str, list[tuple[int, int]]] = {"input": [], "prerouting": []}
    chain.server.hooks.add(HookPoint.INPUT, lambda p: seen["input"].append((len(p.data), p.data[9])))
    chain.server.hooks.add(HookPoint.PREROUTING, lambda p: seen["prerouting"].append((len(p.data), p.data[9])))
    sock = chain.server.udp_socket(9000)
    sender = chain.client.udp_socket()
    sender.set_pmtu("dont")
    sender.sendto(bytes(1000), (SERVER_IP, 9000))
    chain.net.run()
    assert len(sock.received) == 1
    assert seen["prerouting"] == [(572, 17), (476, 17)]
    assert seen["input"] == [(1028, 17)]
