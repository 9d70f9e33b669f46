"""Connection's application and ICMP entry points at their edges: send after shutdown, recv of 0 and 1 bytes,
ICMP hard errors while opening and once synchronized, and the path MTU event."""

from __future__ import annotations

import errno

import pytest

from layersim.tcp import State
from layersim.tcp.states import IllegalTransition
from tests.tcp.pair import MS, TCPPair


def test_send_after_shutdown_names_the_shutdown():
    p = TCPPair().open()
    p.call("c", "shutdown")
    with pytest.raises(IllegalTransition) as err:
        p.send("c", b"late")
    assert "(send() on 40000->80 after shutdown/close)" in str(err.value)
    assert p.client.state is State.FIN_WAIT_1


def test_send_when_closed_says_only_where():
    p = TCPPair().open()
    p.call("c", "abort")
    with pytest.raises(IllegalTransition) as err:
        p.send("c", b"late")
    assert "(send() on 40000->80): event SEND" in str(err.value)


def test_shutdown_twice_sends_one_fin():
    p = TCPPair().open()
    p.call("c", "shutdown")
    assert p.client.shutdown(p.now) == []
    p.run_for(100 * MS)
    assert [s.flags for s in p.sent("c>s")].count("F.") == 1


def test_recv_zero_and_one_byte():
    p = TCPPair().open()
    p.send("c", b"ab")
    p.run_for(20 * MS)
    assert p.server.recv(0, p.now) == (b"", [])
    assert p.recv("s", 1) == b"a"
    assert p.recv("s") == b"b"


@pytest.mark.parametrize("code", [errno.EHOSTUNREACH, errno.ECONNREFUSED])
def test_hard_error_while_opening_ends_the_connection(code):
    """Linux tcp_v4_err: a connection in SYN-SENT fails at once with the ICMP error, and its timer stops."""
    p = TCPPair()
    p.rules.append(lambda d, i, s: "drop")
    p.open(establish=False)
    assert p.client.hard_error(code, 1 * MS) == []
    assert (p.client.state, p.client.error, p.client.next_deadline()) == (State.CLOSED, code, None)


def test_hard_error_when_established_is_only_noted():
    p = TCPPair().open()
    assert p.client.hard_error(errno.EHOSTUNREACH, p.now) == []
    assert (p.client.state, p.client.error) == (State.ESTABLISHED, None)


def test_mtu_reduced_event_and_its_boundary():
    """RFC 1191: an MTU that lowers the MSS is recorded (trace event "pmtu"); one that gives the same MSS is not."""
    p = TCPPair().open()
    p.client.drain_events()
    same = p.client.path_mss + 40
    assert p.client.mtu_reduced(same, p.now) == []
    assert p.client.drain_events() == []
    p.client.mtu_reduced(1000, p.now + 1)
    assert [(e.kind, e.time_ns, dict(e.details)) for e in p.client.drain_events()] == [
        ("pmtu", p.now + 1, {"mtu": 1000, "mss": 960})]
    assert p.client.path_mss == 960
