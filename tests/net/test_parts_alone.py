"""The host's protocol objects work without a Network: a TCP stack and ICMP given only a clock, a trace and a
small object that stands for their host (what their Protocols name), as the architecture promises."""

from __future__ import annotations

import random
from ipaddress import IPv4Address
from typing import Any

from layersim.net.engine.clock import Clock
from layersim.net.host.tcp_stack import TcpStack
from layersim.net.ipv4.icmp import IcmpProtocol
from layersim.net.trace.log import Trace
from layersim.tcp import State
from layersim.wire import ICMP, TCP, IPv4, TCPFlags
from layersim.wire.icmp import ICMPType

A, B = int(IPv4Address("10.0.0.1")), int(IPv4Address("10.0.0.2"))


class FakeHost:
    """Just what a TcpStack uses of a host; what it sends is kept in `sent`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rng = random.Random(7)
        self.clock = Clock()
        self.trace = Trace()
        self.own_ints = frozenset({A})
        self.sent: list[tuple[IPv4Address, Any]] = []
        self.handlers: dict[int, Any] = {}
        self.events: list[Any] = []

    def register_protocol(self, number: int, handler: Any, on_error: Any = None) -> None:
        self.handlers[number] = handler

    def path_mtu(self, dst: Any) -> int | None:
        return None

    def plan_output(self, dst: int, **_: Any) -> None:
        return None  # no fast path: every segment goes through send_ip

    def send_ip(self, dst: Any, upper: Any, **_: Any) -> bool:
        self.sent.append((IPv4Address(dst), upper))
        return True

    def event(self, kind: Any, iface: Any, frame: Any = None, packet_id: Any = None, values: Any = ()) -> None:
        self.events.append(kind)


def first_tcp(upper: Any) -> TCP:
    return upper if isinstance(upper, TCP) else upper[TCP]


def test_a_tcp_stack_opens_a_connection_with_no_network() -> None:
    host = FakeHost("a")
    stack = TcpStack(host)
    assert 6 in host.handlers  # it plugged itself in as IP protocol 6
    endpoint = stack.connect((A, 40000), (B, 80))
    (dst, upper), = host.sent
    syn = first_tcp(upper)
    assert dst == IPv4Address(B) and syn.dport == 80 and syn.flags == TCPFlags.SYN
    answer = TCP(sport=80, dport=40000, seq=5000, ack=syn.seq + 1, flags=TCPFlags.SYN | TCPFlags.ACK, window=65535,
                 options=[("MSS", 1460)])
    stack.segment_in(None, B, A, answer, b"", None, host.clock.now)  # type: ignore[arg-type]
    assert endpoint.conn.state is State.ESTABLISHED
    ack = first_tcp(host.sent[-1][1])
    assert ack.flags == TCPFlags.ACK and ack.ack == 5001 and ack.seq == syn.seq + 1


def test_a_segment_for_no_connection_is_answered_with_a_reset() -> None:
    host = FakeHost("a")
    stack = TcpStack(host)
    stray = TCP(sport=1234, dport=81, seq=10, flags=TCPFlags.SYN, window=1000)
    stack.segment_in(None, B, A, stray, b"", None, 0)  # type: ignore[arg-type]
    rst = first_tcp(host.sent[-1][1])
    assert rst.flags == TCPFlags.RST | TCPFlags.ACK and rst.ack == 11 and rst.sport == 81


class FakeNode:
    """Just what ICMP reads of its node."""

    def __init__(self) -> None:
        self.own_ints = frozenset({A})
        self.pmtu = None
        self.error_handlers: dict[int, Any] = {}
        self.trace = Trace()
        self.sent: list[tuple[Any, ...]] = []
        self.output = self

    def is_broadcast(self, address: Any) -> bool:
        return int(address) == 0xFFFFFFFF

    def is_local(self, dst: Any) -> bool:
        return int(dst) in self.own_ints

    def send(self, dst: Any, message: Any, packet_id: Any, now: int, **kw: Any) -> list[tuple[Any, ...]]:
        self.sent.append((dst, message, kw))
        return [("output", dst)]


def test_icmp_answers_an_echo_request_with_no_network() -> None:
    node = FakeNode()
    icmp = IcmpProtocol(node)
    request = IPv4(src=IPv4Address(B), dst=IPv4Address(A), protocol=1) / ICMP(type=ICMPType.ECHO_REQUEST,
                                                                               identifier=7, sequence=3) / b"ping"
    actions = icmp.receive(None, request, request.encode(), None, 0)  # type: ignore[arg-type]
    assert actions == [("output", IPv4Address(B))]
    (dst, reply, options), = node.sent
    assert dst == IPv4Address(B) and options["df"] is False and options["src"] == IPv4Address(A)
    assert reply[ICMP].type == ICMPType.ECHO_REPLY and reply[ICMP].identifier == 7 and reply.payload_of(ICMP) == b"ping"
