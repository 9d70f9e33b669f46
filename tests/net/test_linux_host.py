"""Simulated hosts behave like the Linux 6.x hosts of tests/data/host_behaviour.pcapng: echo replies, ICMP errors,
traceroute's probes and the destination's ICMP rate limit, each fact read from both captures the same way."""

from __future__ import annotations

from typing import Any

import pytest

from layersim import ICMP, UDP, Ethernet, IPv4
from layersim.app import ping, traceroute
from layersim.net.trace.log import EventKind
from tests.data import linux_facts as lf
from tests.data.linux_facts import CLIENT_IF, SERVER_IF
from tests.net.conftest import CLIENT_IP, R1_LEFT, R2_LEFT, SERVER_IP, Chain, build_chain
from tests.net.linux_output import masked, printed
from tests.net.sim_frames import wire


@pytest.fixture(scope="module")
def pinged() -> Chain:
    chain = build_chain()
    ping(chain.client, SERVER_IP, count=1)
    return chain


@pytest.fixture(scope="module")
def traced() -> tuple[Chain, Any]:
    chain = build_chain()
    ping(chain.client, SERVER_IP, count=1)  # ARP settled first, as in the recording (it pinged before tracing)
    result = traceroute(chain.client, SERVER_IP)
    chain.net.run()  # the answers still in flight when traceroute printed its last hop (a capture shows them too)
    return chain, result


def echo_pair(frames: list[lf.Frame]) -> tuple[lf.Frame, lf.Frame]:
    """The first echo request and the echo reply after it."""
    icmp = [f for f in frames if len(f.packet.layers) > 2 and isinstance(f.packet.layers[2], ICMP)]
    request = next(f for f in icmp if f.packet[ICMP].type == 8)
    reply = next(f for f in icmp if f.packet[ICMP].type == 0)
    return request, reply


def echo_facts(frame: lf.Frame) -> tuple[Any, ...]:
    """What the sender chose: total length, DF, TTL, TOS."""
    return frame.ip.total_length, lf.df(frame), frame.ip.ttl, frame.ip.dscp << 2 | frame.ip.ecn


def test_echo_request_and_reply_as_linux(pinged: Chain) -> None:
    ours = echo_pair(wire(pinged.net, "server:eth0"))
    linux = echo_pair(lf.ipv4_frames(lf.HOST_BEHAVIOUR, SERVER_IF))
    assert [echo_facts(f) for f in ours] == [echo_facts(f) for f in linux] == [(84, True, 62, 0), (84, False, 64, 0)]
    request, reply = ours
    payload = request.packet.payload_of(ICMP)
    assert payload[16:] == linux[0].packet.payload_of(ICMP)[16:] == bytes(range(0x10, 0x38))
    assert reply.ip.identification != request.ip.identification
    echo = request.packet[ICMP]
    built = (Ethernet(dst=bytes(pinged.iface("r2:eth1").mac), src=bytes(pinged.iface("server:eth0").mac))
             / IPv4(identification=reply.ip.identification, ttl=64, src=SERVER_IP, dst=CLIENT_IP)
             / ICMP(type="ECHO_REPLY", identifier=echo.identifier, sequence=echo.sequence) / payload)
    assert built.encode() == reply.data  # no DF, TOS 0, TTL 64, the request's data echoed


def probes(frames: list[lf.Frame]) -> list[dict[str, Any]]:
    """The client's UDP datagrams, as linux_facts.udp_probes reads them."""
    out = []
    for frame in frames:
        layers = frame.packet.layers
        if str(frame.ip.src) == CLIENT_IP and len(layers) > 2 and isinstance(layers[2], UDP):
            out.append({"ttl": frame.ip.ttl, "df": lf.df(frame), "ip_id": frame.ip.identification,
                        "sport": layers[2].sport, "dport": layers[2].dport, "total_length": frame.ip.total_length,
                        "payload": frame.packet.payload_of(UDP), "time_ns": frame.time_ns,
                        "tos": frame.ip.dscp << 2 | frame.ip.ecn})
    return out


def test_traceroute_probes_as_linux(traced) -> None:
    chain, result = traced
    ours, linux = probes(wire(chain.net, CLIENT_IF)), lf.udp_probes(lf.HOST_BEHAVIOUR, CLIENT_IF)
    for key in ("ttl", "dport", "df", "total_length", "payload"):
        assert [p[key] for p in ours] == [p[key] for p in linux], key
    assert [p["ttl"] for p in ours] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]
    assert [p["dport"] for p in ours] == list(range(33434, 33450))
    assert {p["total_length"] for p in ours} == {60} and not any(p["df"] for p in ours)
    assert {p["payload"] for p in ours} == {bytes(range(0x40, 0x60))} and {p["tos"] for p in ours} == {0}
    assert len({p["sport"] for p in ours}) == 16 and all(32768 <= p["sport"] <= 60999 for p in ours)
    assert len({p["ip_id"] for p in ours}) == 16
    assert str(result).splitlines()[0] == "traceroute to 10.0.2.20 (10.0.2.20), 30 hops max, 60 byte packets"


def test_sixteen_probes_in_flight_before_any_answer(traced) -> None:
    chain, _ = traced
    frames = wire(chain.net, CLIENT_IF)
    sent = [p["time_ns"] for p in probes(frames)]
    first_answer = next(f.time_ns for f in frames if str(f.ip.dst) == CLIENT_IP
                        and f.packet.layers[2].name == "ICMP" and f.packet[ICMP].type in (3, 11))
    assert len(sent) == 16 and max(sent) < first_answer


def icmp_errors(frames: list[lf.Frame]) -> list[lf.Frame]:
    """Time Exceeded and Destination Unreachable frames."""
    return [f for f in frames if len(f.packet.layers) > 2 and isinstance(f.packet.layers[2], ICMP)
            and f.packet[ICMP].type in (3, 11)]


def test_traceroute_answers_and_rate_limit_as_linux(traced) -> None:
    chain, result = traced
    ours, linux = icmp_errors(wire(chain.net, CLIENT_IF)), icmp_errors(lf.ipv4_frames(lf.HOST_BEHAVIOUR, CLIENT_IF))

    def kinds(frames: list[lf.Frame]) -> list[tuple[str, int, int, int]]:
        return [(str(f.ip.src), f.packet[ICMP].type, f.packet[ICMP].code, lf.quoted(f).ttl) for f in frames]

    assert kinds(ours) == kinds(linux) == ([(R1_LEFT, 11, 0, 1)] * 3 + [(R2_LEFT, 11, 0, 1)] * 3
                                           + [(SERVER_IP, 3, 3, 1)] * 3 + [(SERVER_IP, 3, 3, 2)] * 3)
    reached = [f for f in wire(chain.net, SERVER_IF) if str(f.ip.src) == CLIENT_IP
               and isinstance(f.packet.layers[2], UDP)]
    linux_reached = [f for f in lf.ipv4_frames(lf.HOST_BEHAVIOUR, SERVER_IF) if isinstance(f.packet.layers[2], UDP)]
    assert len(reached) == len(linux_reached) == 10
    suppressed = [e for e in chain.net.trace.select(EventKind.ICMP_ERROR, node="server") if e.info.suppressed]
    assert len(suppressed) == 4
    assert [hop.ttl for hop in result.hops] == [1, 2, 3] and result.reached


def test_icmp_errors_tos_c0_no_df_whole_probe_quoted_as_linux(traced) -> None:
    chain, _ = traced
    for frames in (icmp_errors(wire(chain.net, CLIENT_IF)), icmp_errors(lf.ipv4_frames(lf.HOST_BEHAVIOUR, CLIENT_IF))):
        assert {(f.ip.total_length, lf.df(f), f.ip.dscp, f.ip.ecn) for f in frames} == {(88, False, 48, 0)}
        assert all(f.packet[ICMP].checksum_ok for f in frames)
        assert {len(f.packet.payload_of(UDP)) for f in frames} == {32}
    server_sent = [f for f in icmp_errors(wire(chain.net, SERVER_IF)) if str(f.ip.src) == SERVER_IP]
    linux_server = [f for f in icmp_errors(lf.ipv4_frames(lf.HOST_BEHAVIOUR, SERVER_IF))]
    assert {f.ip.ttl for f in server_sent} == {f.ip.ttl for f in linux_server} == {64}


def test_port_unreachables_have_consecutive_ip_ids_as_linux(traced) -> None:
    chain, _ = traced
    for frames in (wire(chain.net, SERVER_IF), lf.ipv4_frames(lf.HOST_BEHAVIOUR, SERVER_IF)):
        ids = [f.ip.identification for f in icmp_errors(frames) if f.packet[ICMP].type == 3]
        assert len(ids) == 6 and ids == [(ids[0] + n) & 0xFFFF for n in range(6)]


# --- what the tools print -------------------------------------------------------------------------------------------

def test_traceroute_prints_as_linux(traced) -> None:
    _, result = traced
    assert masked(str(result)) == printed("traceroute -n 10.0.2.20")


def test_ping_prints_as_iputils() -> None:
    chain = build_chain()
    result = ping(chain.client, SERVER_IP, count=1)
    assert masked(str(result)) == printed("ping -n -c 1 -W 1 10.0.2.20")
