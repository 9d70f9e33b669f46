"""A host's TCP: the sans-IO connections of layersim.tcp wired to the host's IPv4, clock, trace and sockets.

The stack demultiplexes arriving segments by (local address, local port, remote address, remote port), answers
a segment for no connection with an RST (RFC 9293 §3.10.7.1, never for an RST), turns the connections'
segments into IPv4 packets (DF and IP id as the profile says), keeps one clock timer per connection at its next
deadline, records their events in the trace, and wakes the processes waiting on a socket when it changes.
"""

from __future__ import annotations

import errno
import random
from collections.abc import Callable
from enum import Enum
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol

from layersim.net.engine.process import notify
from layersim.net.host.datagram_sockets import IcmpReport
from layersim.net.host.packers import PackerHost, tcp_send
from layersim.net.host.ports import EPHEMERAL_PORTS, PortTable
from layersim.net.ip.actions import EVENT, Action
from layersim.net.trace.details import DropReason, EventKind, NoteAddress, NoteFlags
from layersim.tcp import LINUX, Connection, Listener, Profile, Segment, State, reset_for
from layersim.wire.ipv4 import IPv4
from layersim.wire.tcp import TCP

if TYPE_CHECKING:
    from layersim.net.engine.clock import Timer
    from layersim.net.engine.interface import Interface
    from layersim.net.engine.process import Wait
    from layersim.net.ipv4.output import Plan
    from layersim.wire.fields import Layer
    from layersim.wire.packet import Packet

__all__ = ["Endpoint", "ListenEndpoint", "TcpHost", "TcpStack"]

# netstat's spelling of the states that differ from RFC 9293's names.
_NETSTAT_STATE = {"SYN_RECEIVED": "SYN_RECV", "FIN_WAIT_1": "FIN_WAIT1", "FIN_WAIT_2": "FIN_WAIT2", "CLOSED": "CLOSE"}
_FIN_UNACKED = frozenset({State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK})
_BIND, _CONN = 0, 1  # what holds a port in the stack's PortTable: a bound socket, or a connection
MIN_ADV_MSS = 256  # Linux net.ipv4.route.min_adv_mss: a route never advertises less (ipv4_default_advmss)


class TcpHost(PackerHost, Protocol):
    """What a TCP stack uses of its host (a Host is one): the fast path's view, plus its random generator, trace
    events, path MTUs, the output policy and the general send path."""

    rng: random.Random

    def event(self, kind: EventKind, iface: Interface | None, frame: bytes | None = None,
              packet_id: int | None = None, values: tuple[Any, ...] = ()) -> None: ...

    def path_mtu(self, dst: IPv4Address | str) -> int | None: ...

    def plan_output(self, dst: int, *, df: bool | None, src: int | None = None,
                    ip_id: int | None = None) -> Plan | None: ...

    def register_protocol(self, number: int, handler: Callable[..., list[Action]],
                          on_error: Callable[[Any], None] | None = None) -> None: ...

    def send_ip(self, dst: IPv4Address | str, upper: Layer | Packet | bytes, *, ttl: int = 64,
                df: bool | None = True, dscp: int = 0, src: IPv4Address | None = None, note: Any = None,
                protocol: int | None = None, packet_id: int | None = None, ip_id: int | None = None,
                plan: Plan | None = None, ecn: int = 0) -> bool: ...


class Endpoint:
    """One connection on a host, and the processes waiting on it."""

    __slots__ = ("conn", "eof_read", "error_reported", "ip_id", "key", "label", "listener", "stack", "timer",
                 "timer_at", "waits")

    def __init__(self, stack: TcpStack, conn: Connection, listener: ListenEndpoint | None = None) -> None:
        self.stack = stack
        self.conn = conn
        local, remote = conn.local, conn.remote
        self.key = (local[0], local[1], remote[0], remote[1])
        self.label = f"{IPv4Address(local[0])}:{local[1]}-{IPv4Address(remote[0])}:{remote[1]}"
        self.listener = listener  # until accept() takes it
        self.timer: Timer | None = None
        self.timer_at: int | None = None
        self.waits: list[Wait] = []
        self.ip_id = stack.host.rng.randrange(0x10000)  # Linux numbers a connected socket's packets itself
        self.error_reported = False
        self.eof_read = False  # a recv() returned b"" after the peer's FIN (netstat's Recv-Q counts the FIN until)

    def wake(self) -> None:
        """Resume the processes waiting on this connection whose condition now holds."""
        notify(self.waits)


class ListenEndpoint:
    """A listening socket: its Listener, the connections being set up, and those ready for accept()."""

    def __init__(self, stack: TcpStack, local: tuple[int, int], backlog: int, listener: Listener,
                 user_mss: int | None = None) -> None:
        self.stack = stack
        self.user_mss = user_mss  # TCP_MAXSEG set before listen(): caps each connection's MSS
        self.local = local
        self.backlog = backlog
        self.listener = listener
        self.pending: list[Endpoint] = []  # SYN_RECEIVED
        self.ready: list[Endpoint] = []  # ESTABLISHED, not yet accepted
        self.waits: list[Wait] = []
        self.closed = False

    def wake(self) -> None:
        """Resume the processes waiting in accept() whose condition now holds."""
        notify(self.waits)


class TcpStack:
    """Every TCP connection and listening port of one host."""

    def __init__(self, host: TcpHost, profile: Profile = LINUX) -> None:
        self.host = host
        self.profile = profile
        self.connections: dict[tuple[int, int, int, int], Endpoint] = {}
        self.listeners: dict[tuple[int, int], ListenEndpoint] = {}
        # (address, port) -> the sockets bound to it: more than one only while they all set SO_REUSEADDR and none
        # listens; each has `shares_port()`, whether it lets another SO_REUSEADDR socket bind there now
        self.bound: dict[tuple[int, int], list[Any]] = {}
        # port -> (_BIND or _CONN, local address) -> how many: the table every port question reads
        self.ports = PortTable()
        host.register_protocol(6, self.receive, on_error=self.icmp_error)

    # Ports --------------------------------------------------------------------------------------------------
    def add_bound(self, local: tuple[int, int], sock: Any) -> None:
        """Record a socket bound to `local` (by bind(), or listen() on an unbound socket)."""
        self.bound.setdefault(local, []).append(sock)
        self.ports.hold(local[1], (_BIND, local[0]))

    def remove_bound(self, local: tuple[int, int], sock: Any) -> None:
        """Give back the port a socket bound (at close, or when connect() takes it into the connection)."""
        sockets = self.bound.get(local)
        if sockets is None or sock not in sockets:
            return
        sockets.remove(sock)
        if not sockets:
            del self.bound[local]
        self.ports.release(local[1], (_BIND, local[0]))

    def port_in_use(self, ip: int, port: int, *, reuse: bool = False, me: Any = None) -> bool:
        """Whether (ip, port) is taken for a socket (`me`, when it is bound already) that wants it.

        As Linux's inet_csk_bind_conflict: another socket bound to the port (on the same or a wildcard address)
        blocks it unless both set SO_REUSEADDR and the other does not listen; listen() asks again, so of two
        such sockets the second to listen fails. Without SO_REUSEADDR a connection using the port blocks it
        too, one in TIME_WAIT included (Linux's EADDRINUSE when a server restarts without SO_REUSEADDR)."""
        holders = self.ports.holders_of(port)
        if not holders:
            return False
        connected = False
        for kind, hip in holders:
            if kind == _CONN:
                connected = connected or hip == ip or not ip
            elif (hip == ip or not hip or not ip) and any(
                    other is not me and not (reuse and other.shares_port()) for other in self.bound[(hip, port)]):
                return True
        return connected and not reuse and me is None

    def ephemeral_port(self, ip: int, remote: tuple[int, int]) -> int:
        """A local port for connect() to `remote`, as Linux's __inet_hash_connect picks it.

        A port held by a bind() is skipped; one used only by connections is shared when the 4-tuple differs
        (__inet_check_established). None left is OSError(EADDRNOTAVAIL), Linux's "Cannot assign requested
        address"."""
        connections, holders_of = self.connections, self.ports.holders_of

        def acceptable(port: int) -> bool:
            return (ip, port, *remote) not in connections and not any(kind == _BIND for kind, _ in holders_of(port))

        port = self.ports.choose(self.host.rng, acceptable)
        if port is None:
            raise OSError(errno.EADDRNOTAVAIL, f"{self.host.name}: no free local port to reach "
                                               f"{IPv4Address(remote[0])}:{remote[1]}")
        return port

    def ephemeral_bind_port(self, ip: int) -> int:
        """A port for bind() to port 0 (or listen() unbound): one no socket or connection on an overlapping
        address holds, as Linux's inet_csk_find_open_port wants. None left is OSError(EADDRINUSE), inet_bind's
        error when get_port fails."""
        port = self.ports.choose(self.host.rng, lambda candidate: not self.port_in_use(ip, candidate))
        if port is None:
            low, high = EPHEMERAL_PORTS
            raise OSError(errno.EADDRINUSE, f"{self.host.name}: no free local TCP port in {low}-{high}")
        return port

    def _add_connection(self, endpoint: Endpoint) -> None:
        self.connections[endpoint.key] = endpoint
        self.ports.hold(endpoint.key[1], (_CONN, endpoint.key[0]))

    def mss_for(self, remote: int, user_mss: int | None = None) -> tuple[int, int]:
        """(MSS to advertise, largest segment the path takes): the outgoing interface's MTU (or the path MTU
        learned) less 40, advertised as at least MIN_ADV_MSS (Linux ipv4_default_advmss), both capped by
        TCP_MAXSEG (Linux tcp_mss_clamp). The connection raises a tiny path MSS to 48 and then sends without DF."""
        path = (self.host.path_mtu(IPv4Address(remote)) or 1500) - 40
        advertised = max(path, MIN_ADV_MSS)
        if user_mss:
            return min(advertised, user_mss), min(path, user_mss)
        return advertised, path

    def new_iss(self) -> int:
        """A seeded initial sequence number."""
        return self.host.rng.getrandbits(32)

    def new_ts_offset(self) -> int:
        """A seeded per-connection timestamp offset (Linux randomises it)."""
        return self.host.rng.getrandbits(32)

    # Opening ------------------------------------------------------------------------------------------------
    def listen(self, local: tuple[int, int], backlog: int, *, user_mss: int | None = None,
               **options: Any) -> ListenEndpoint:
        """Start listening on `local` (`user_mss`: TCP_MAXSEG)."""
        listener = Listener(local, profile=self.profile, mss=1460, **options)
        endpoint = ListenEndpoint(self, local, max(1, backlog), listener, user_mss)
        self.listeners[local] = endpoint
        return endpoint

    def connect(self, local: tuple[int, int], remote: tuple[int, int], *, user_mss: int | None = None,
                **options: Any) -> Endpoint:
        """Active open: the connection in SYN_SENT, its SYN on the way (`user_mss`: TCP_MAXSEG)."""
        now = self.host.clock.now
        mss, path_mss = self.mss_for(remote[0], user_mss)
        conn, segments = Connection.connect(local, remote, iss=self.new_iss(), mss=mss, path_mss=path_mss, now=now,
                                            profile=self.profile, ts_offset=self.new_ts_offset(), **options)
        endpoint = Endpoint(self, conn)
        self._add_connection(endpoint)
        self.settle(endpoint, segments)
        return endpoint

    # Segments in --------------------------------------------------------------------------------------------
    def receive(self, iface: Interface, packet: Packet, ip_bytes: bytes, packet_id: int | None,
                now: int) -> list[Action]:
        """A segment for this host (the general path): to its connection, to a listener, or answered with RST."""
        ip = packet[IPv4]
        return self.segment_in(iface, int(ip.src), int(ip.dst), packet[TCP], packet.payload_of(TCP), packet_id, now,
                               ip_bytes, ce=ip.ecn == 3)

    def segment_in(self, iface: Interface, src: int, dst: int, tcp: TCP, payload: bytes, packet_id: int | None,
                   now: int, ip_bytes: bytes | None = None, ce: bool = False) -> list[Action]:
        """One checked segment from src to dst: to its connection, to a listener, or answered with an RST. `ce`: the
        IP header's ECN field said Congestion Experienced."""
        endpoint = self.connections.get((dst, tcp.dport, src, tcp.sport))
        if endpoint is not None:
            conn = endpoint.conn
            self.settle(endpoint, conn.receive(tcp, payload, now, True) if ce else conn.receive(tcp, payload, now))
            return []
        listening = self.listeners.get((dst, tcp.dport)) or self.listeners.get((0, tcp.dport))
        if listening is not None and not listening.closed:
            return self._to_listener(listening, tcp, payload, (src, tcp.sport), dst, now)
        answer = reset_for(tcp, len(payload))
        self.host.event(EventKind.DROP, iface, ip_bytes, packet_id,
                        (DropReason.NO_LISTENER.value, (("port", tcp.dport), ("protocol", "TCP"))))
        if answer is not None:
            self.send_segment(answer, dst, src, None)
        return []

    def _to_listener(self, listening: ListenEndpoint, tcp: TCP, payload: bytes, remote: tuple[int, int],
                     local_ip: int, now: int) -> list[Action]:
        if int(tcp.flags) & 0x02 and len(listening.pending) + len(listening.ready) >= listening.backlog:
            return [(EVENT, EventKind.DROP, None, None, None,
                     (DropReason.QUEUE_FULL.value, (("reason", "listen backlog full"), ("port", tcp.dport))))]
        mss, path_mss = self.mss_for(remote[0], listening.user_mss)
        conn, segments = listening.listener.receive(tcp, payload, remote, now, iss=self.new_iss(),
                                                    ts_offset=self.new_ts_offset(), mss=mss, path_mss=path_mss)
        if conn is None:
            for segment in segments:
                self.send_segment(segment, local_ip, remote[0], None)
            return []
        conn.local = (local_ip, conn.local[1])
        endpoint = Endpoint(self, conn, listening)
        self._add_connection(endpoint)
        listening.pending.append(endpoint)
        self.settle(endpoint, segments)
        return []

    def icmp_error(self, report: IcmpReport) -> None:
        """An ICMP error about a segment we sent: Frag Needed resizes the connection's segments; a destination
        unreachable ends a connection that is still opening (Linux tcp_v4_err), other errors are noted only."""
        remote = (int(report.destination[0]), report.destination[1])
        now = self.host.clock.now
        for key, endpoint in list(self.connections.items()):
            if (key[1], key[2], key[3]) != (report.source_port, *remote):
                continue
            conn = endpoint.conn
            if (report.type, report.code) == (3, 4) and report.mtu:
                self.settle(endpoint, conn.mtu_reduced(report.mtu, now))
            elif report.type == 3:
                self.settle(endpoint, conn.hard_error(report.errno, now))
            else:
                endpoint.wake()

    # After every change -------------------------------------------------------------------------------------
    def settle(self, endpoint: Endpoint, segments: list[Segment]) -> None:
        """Send what the connection asked, record its events, move its timer, wake its waiters, forget it if done."""
        conn = endpoint.conn
        key = endpoint.key
        for segment in segments:
            self.send_segment(segment, key[0], key[2], endpoint)
        host = self.host
        now = host.clock.now
        trace = host.trace
        for event in conn.drain_events() if conn._events else ():
            if trace.keep_events:
                trace.add(now, host.name, None, EventKind.TCP, None, None,
                          (endpoint.label, event.kind, tuple((k, _plain(v)) for k, v in event.details.items())))
            if event.kind == "state":
                self._state_changed(endpoint, event.details["new"])  # type: ignore[arg-type]
        deadline = conn.next_deadline()
        scheduled = endpoint.timer_at
        if deadline is not None and (scheduled is None or deadline < scheduled):
            if endpoint.timer is not None:
                endpoint.timer.cancel()
            endpoint.timer = host.clock.at(max(deadline, now), self._fire, endpoint)
            endpoint.timer_at = deadline
        # A later deadline (the RTO pushed back by every ACK) keeps the event already scheduled: it fires early,
        # finds nothing due and schedules the next one, instead of a cancelled event and a new one per ACK.
        endpoint.wake()
        if conn.finished and self.connections.get(key) is endpoint:
            del self.connections[key]
            self.ports.release(key[1], (_CONN, key[0]))
            if endpoint.listener is not None:
                for queue in (endpoint.listener.pending, endpoint.listener.ready):
                    if endpoint in queue:
                        queue.remove(endpoint)

    def _state_changed(self, endpoint: Endpoint, new: State) -> None:
        listening = endpoint.listener
        if listening is not None and new is State.ESTABLISHED and endpoint in listening.pending:
            listening.pending.remove(endpoint)
            listening.ready.append(endpoint)
            listening.wake()

    def _fire(self, endpoint: Endpoint) -> None:
        endpoint.timer = None
        endpoint.timer_at = None
        now = self.host.clock.now
        deadline = endpoint.conn.next_deadline()
        due = deadline is not None and deadline <= now
        self.settle(endpoint, endpoint.conn.on_timer(now) if due else [])

    def send_segment(self, segment: Segment, src: int, dst: int, endpoint: Endpoint | None) -> None:
        """Wrap a segment in IPv4 and send it (IP id 0 where the profile says, else the connection's counter)."""
        tcp = segment.tcp
        if segment.ip_id_zero or endpoint is None:
            ip_id = 0
        else:
            ip_id = endpoint.ip_id
            endpoint.ip_id = (ip_id + 1) & 0xFFFF
        host = self.host
        note = ("tcp", tcp[0], NoteAddress(dst), tcp[1], NoteFlags(int(tcp[6])))
        # a segment that wants DF goes as Linux's IP_PMTUDISC_WANT (a TCP socket's default): DF unless the path MTU
        # is locked at its floor (ip_dont_fragment), where the routers then fragment it
        df = None if segment.df else False
        plan = host.plan_output(dst, df=df, src=src, ip_id=ip_id)
        ecn = 2 if segment.ect else 0  # ECT(0) (RFC 3168 §5)
        if plan is not None and tcp_send(host, plan, tcp, segment.payload, dst, note, ecn):
            return
        host.send_ip(IPv4Address(dst), tcp / segment.payload if segment.payload else tcp, df=df,
                     src=IPv4Address(src), ip_id=ip_id, note=note, plan=plan, ecn=ecn)

    # Looking --------------------------------------------------------------------------------------------------
    def netstat(self) -> str:
        """The host's TCP sockets like `netstat -tan`."""
        rows = [("Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address", "State")]
        for (ip, port), listening in sorted(self.listeners.items()):
            if not listening.closed:  # a listener's Recv-Q: the connections waiting for accept() (Linux)
                rows.append(("tcp", str(len(listening.ready)), "0", f"{IPv4Address(ip)}:{port}", "0.0.0.0:*",
                             "LISTEN"))
        for key, endpoint in sorted(self.connections.items()):
            conn = endpoint.conn
            fin_unread = conn.state is State.CLOSE_WAIT and not endpoint.eof_read  # Linux: rcv_nxt - copied_seq
            fin_unacked = conn.state in _FIN_UNACKED  # Linux: write_seq - snd_una, and the FIN takes a number
            rows.append(("tcp", str(conn.readable + fin_unread), str(conn.unacked + fin_unacked),
                         f"{IPv4Address(key[0])}:{key[1]}", f"{IPv4Address(key[2])}:{key[3]}",
                         _NETSTAT_STATE.get(conn.state.name, conn.state.name)))
        widths = [max(len(row[i]) for row in rows) for i in range(6)]
        return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


def _plain(value: Any) -> Any:
    """A trace-friendly value: enums by name."""
    return value.name if isinstance(value, Enum) else value
