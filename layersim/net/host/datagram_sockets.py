"""The host side of sockets: datagram (UDP) and ping (ICMP echo) sockets, keyed as the kernel keys them.

A UDP socket is found by (local address, local port), and once connected by (local address, local port, remote
address, remote port); 0.0.0.0 binds every address. A socket queues what arrives; `recvfrom` in a simulated
process parks until something does or the timeout passes. ICMP errors go to the socket that sent the quoted
datagram, as Linux reports them: a connected UDP socket gets ECONNREFUSED for a port unreachable, and a socket
with `recverr` set reads every error with `recv_error` (traceroute's IP_RECVERR).
"""

from __future__ import annotations

import errno
import random
from collections import deque
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from layersim.errors import LayersimError
from layersim.net.engine.process import Wait, notify, wait_until
from layersim.net.host.ports import EPHEMERAL_PORTS, PortTable
from layersim.net.ipv4.icmp_reports import EchoReply, IcmpReport, hard_error

if TYPE_CHECKING:
    from layersim.net.engine.clock import Clock
    from layersim.net.ipv4.output import Output

__all__ = ["Datagram", "DatagramHost", "DatagramSocket", "EchoReply", "IcmpReport", "PingSocket", "SocketTable",
           "address_int"]

PMTU_MODES = ("want", "do", "dont")  # IP_MTU_DISCOVER: IP_PMTUDISC_WANT (Linux's default), DO, DONT


def address_int(value: IPv4Address | str | int) -> int:
    """An IPv4 address as an int ("" and "0.0.0.0" mean any)."""
    if isinstance(value, int):
        return value
    if value == "":
        return 0
    try:
        return int(IPv4Address(value))
    except ValueError:
        raise LayersimError(f"{value!r} is not an IPv4 address") from None


class DatagramHost(Protocol):
    """What datagram and ping sockets use of their host (a Host is one): name, clock, addresses, sending."""

    name: str
    rng: random.Random
    clock: Clock
    own_ints: frozenset[int]  # the host's own addresses
    output: Output  # the one output policy (routes, for a connected socket's source address)
    sockets: SocketTable

    def send_udp(self, sock: DatagramSocket, dst: IPv4Address, port: int, data: bytes) -> bool: ...

    def send_echo(self, sock: PingSocket, dst: IPv4Address, sequence: int, data: bytes) -> bool: ...


class Datagram(NamedTuple):
    """A UDP datagram as an application receives it (a named tuple: made once per datagram, cheaply)."""

    data: bytes
    source: tuple[IPv4Address, int]
    time_ns: int
    ttl: int = 64


class _Endpoint:
    """What datagram and ping sockets share: a queue, an error queue, waiting processes, blocking reads."""

    def __init__(self, host: DatagramHost) -> None:
        self.host = host
        self.queue: deque[Any] = deque()
        self.errors: deque[IcmpReport] = deque()
        self.recverr = False
        self.pending_error = 0
        self.closed = False
        self.ttl = 64
        self.tos = 0
        self.pmtu = "want"
        self.queue_limit = 1024
        self._waits: list[Wait] = []  # processes parked on this socket
        self._wait_queues = [self._waits]  # what a blocking call parks on (made once: a read is per datagram)
        self._ip_id = host.rng.randrange(0x10000)  # a connected socket's own IP id counter (inet_id)

    def take_ip_id(self) -> int:
        """The next IP id of this socket's own counter."""
        ident = self._ip_id
        self._ip_id = (ident + 1) & 0xFFFF
        return ident

    def _wake(self) -> None:
        notify(self._waits)

    def _check_open(self, what: str) -> None:
        if self.closed:
            raise OSError(errno.EBADF, f"{self.host.name}: {what} on a closed socket")

    def _wait_for(self, ready: Any, timeout_ns: int | None) -> bool:
        """Park the calling process until `ready()` or the timeout; False on timeout (or outside a process)."""
        return wait_until(self.host.clock, self._wait_queues, ready, timeout_ns)

    def set_pmtu(self, mode: str) -> None:
        """Path MTU discovery mode: "want" (DF when it fits, else fragment), "do" (always DF), "dont"."""
        if mode not in PMTU_MODES:
            raise LayersimError(f"path MTU discovery mode {mode!r} is not one of {', '.join(PMTU_MODES)}")
        self.pmtu = mode

    @property
    def df(self) -> bool | None:
        """The `df` argument for the host's output: True, False, or None (decide by the path MTU)."""
        return {"want": None, "do": True, "dont": False}[self.pmtu]

    def deliver_error(self, report: IcmpReport) -> None:
        """An ICMP error about something this socket sent."""
        if self.recverr:
            self.errors.append(report)
        self._wake()

    def recv_error(self, timeout_ns: int | None = None) -> IcmpReport | None:
        """The next queued ICMP error (needs `recverr`), blocking in a process up to `timeout_ns`."""
        self._wait_for(lambda: bool(self.errors), timeout_ns)
        return self.errors.popleft() if self.errors else None


class DatagramSocket(_Endpoint):
    """A UDP socket on a host: `sendto`, `recvfrom`, `connect`; received datagrams are also kept in `received`."""

    def __init__(self, host: DatagramHost, local: tuple[int, int]) -> None:
        super().__init__(host)
        self.local = local
        self.remote: tuple[int, int] | None = None
        self.received: list[Datagram] = []  # every datagram, for scripts that look afterwards
        self.keep_received = True
        self._last_destination: tuple[Any, IPv4Address] | None = None  # sendto's last address, parsed
        self.last_source: tuple[int, IPv4Address] = (-1, IPv4Address(0))  # the last sender's address, as an object

    @property
    def port(self) -> int:
        """The local port."""
        return self.local[1]

    def connect(self, address: tuple[IPv4Address | str, int]) -> None:
        """Fix the remote end: only its datagrams arrive, and ICMP errors become ECONNREFUSED and the like."""
        self._check_open("connect")
        self.host.sockets.connect_udp(self, (address_int(address[0]), address[1]))

    def sendto(self, data: bytes, address: tuple[IPv4Address | str, int] | None = None) -> bool:
        """Send one datagram (to the connected peer when `address` is None); False when there is no route."""
        self._check_open("sendto")
        if self.pending_error:
            code, self.pending_error = self.pending_error, 0
            raise OSError(code, f"{self.host.name}: {errno.errorcode.get(code, code)} from an earlier datagram")
        if address is None:
            if self.remote is None:
                raise OSError(errno.EDESTADDRREQ, f"{self.host.name}: sendto without an address on an unconnected "
                                                  "socket")
            ip, port = IPv4Address(self.remote[0]), self.remote[1]
        else:
            ip, port = address
            if not isinstance(ip, IPv4Address):
                cached = self._last_destination
                if cached is not None and cached[0] == ip:
                    ip = cached[1]
                else:
                    parsed = IPv4Address(ip)
                    self._last_destination = (ip, parsed)
                    ip = parsed
        if not 0 < port < 0x10000:
            raise LayersimError(f"{self.host.name}: UDP destination port {port} is not between 1 and 65535")
        return self.host.send_udp(self, ip, port, data)

    def send(self, data: bytes) -> bool:
        """Send to the connected peer."""
        return self.sendto(data)

    def _datagram_or_error(self) -> bool:
        """What a blocked recvfrom waits for."""
        return bool(self.queue) or bool(self.pending_error)

    def deliver(self, datagram: Datagram) -> None:
        """Queue a datagram that arrived for this socket."""
        self.queue.append(datagram)
        if self.keep_received:
            self.received.append(datagram)
        self._wake()

    def recvfrom(self, timeout_ns: int | None = None) -> Datagram | None:
        """The next datagram, blocking in a process up to `timeout_ns`; None on timeout or when nothing waits."""
        queue = self.queue
        if queue and not self.pending_error:
            return queue.popleft()
        self._wait_for(self._datagram_or_error, timeout_ns)
        if self.pending_error and not self.queue:
            code, self.pending_error = self.pending_error, 0
            raise OSError(code, f"{self.host.name}: {errno.errorcode.get(code, code)}")
        return self.queue.popleft() if self.queue else None

    def deliver_error(self, report: IcmpReport) -> None:
        """Linux reports a hard ICMP error (see `hard_error`) to a connected socket as its next call's error, and
        any error when `recverr` is set."""
        if self.remote is not None and (self.recverr or hard_error(report.type, report.code, self.pmtu)):
            self.pending_error = report.errno
        super().deliver_error(report)

    def close(self) -> None:
        """Release the port."""
        if not self.closed:
            self.closed = True
            self.host.sockets.unbind_udp(self)
            self._wake()


class PingSocket(_Endpoint):
    """A Linux ping socket (SOCK_DGRAM, IPPROTO_ICMP): echo requests out, replies with its identifier in."""

    def __init__(self, host: DatagramHost, identifier: int) -> None:
        super().__init__(host)
        self.identifier = identifier
        self.recverr = True

    def send_echo(self, dst: IPv4Address, sequence: int, data: bytes) -> bool:
        """Send one echo request; False without a route."""
        self._check_open("send")
        return self.host.send_echo(self, dst, sequence, data)

    def deliver(self, reply: EchoReply) -> None:
        """Queue an echo reply."""
        self.queue.append(reply)
        self._wake()

    def receive(self, timeout_ns: int | None = None) -> EchoReply | IcmpReport | None:
        """The next reply or error, blocking in a process up to `timeout_ns`."""
        self._wait_for(lambda: bool(self.queue) or bool(self.errors), timeout_ns)
        if self.errors:
            return self.errors.popleft()
        return self.queue.popleft() if self.queue else None

    def close(self) -> None:
        """Release the identifier."""
        if not self.closed:
            self.closed = True
            self.host.sockets.ping.pop(self.identifier, None)
            self._wake()


class SocketTable:
    """A host's sockets by protocol and addresses."""

    def __init__(self, host: DatagramHost) -> None:
        self.host = host
        self.udp: dict[tuple[int, ...], DatagramSocket] = {}
        self.udp_ports = PortTable()  # UDP port -> the local addresses bound to it (0: every address)
        self.ping: dict[int, PingSocket] = {}

    def bind_udp(self, address: IPv4Address | str | int = 0, port: int | None = None) -> DatagramSocket:
        """A new UDP socket bound to (address, port); port None or 0 picks a free ephemeral port.

        No free ephemeral port left is OSError(EADDRINUSE), what Linux's bind() returns (inet_bind when
        udp_lib_get_port fails)."""
        ip = address_int(address)
        if ip and ip not in self.host.own_ints:
            raise OSError(errno.EADDRNOTAVAIL, f"{self.host.name}: {IPv4Address(ip)} is not an address of this host")
        if not port:
            port = self.udp_ports.choose(self.host.rng, lambda candidate: not self._port_taken(ip, candidate))
            if port is None:
                raise OSError(errno.EADDRINUSE, f"{self.host.name}: no free ephemeral UDP port (all of "
                                                f"{EPHEMERAL_PORTS[0]}-{EPHEMERAL_PORTS[1]} are bound)")
        if not 0 < port < 0x10000:
            raise LayersimError(f"{self.host.name}: UDP port {port} is not between 1 and 65535")
        if self._port_taken(ip, port):
            raise OSError(errno.EADDRINUSE, f"{self.host.name}: UDP port {port} is already in use")
        sock = DatagramSocket(self.host, (ip, port))
        self._key(sock, (ip, port))
        return sock

    def _port_taken(self, ip: int, port: int) -> bool:
        """Whether binding (ip, port) overlaps a socket there: the same address, or either is the wildcard."""
        holders = self.udp_ports.holders_of(port)
        return bool(holders) and (not ip or ip in holders or 0 in holders)

    def _key(self, sock: DatagramSocket, key: tuple[int, ...]) -> None:
        self.udp[key] = sock
        self.udp_ports.hold(key[1], key[0])

    def connect_udp(self, sock: DatagramSocket, remote: tuple[int, int]) -> None:
        """Re-key a socket by its remote end too."""
        self.unbind_udp(sock)
        ip = sock.local[0]
        if not ip:  # the kernel picks the source address of the route
            found = self.host.output.route(IPv4Address(remote[0]))
            if found is not None and found[0].address is not None:
                ip = int(found[0].address.ip)
        sock.local = (ip, sock.local[1])
        sock.remote = remote
        self._key(sock, (ip, sock.local[1], *remote))

    def unbind_udp(self, sock: DatagramSocket) -> None:
        """Forget a socket's key (the one its addresses give, so no scan over the table)."""
        key = sock.local if sock.remote is None else (*sock.local, *sock.remote)
        if self.udp.get(key) is sock:
            del self.udp[key]
            self.udp_ports.release(key[1], key[0])

    def find_udp(self, dst: int, dport: int, src: int, sport: int) -> DatagramSocket | None:
        """The socket a datagram to dst:dport from src:sport goes to (connected first, then bound, then any)."""
        udp = self.udp
        return udp.get((dst, dport, src, sport)) or udp.get((dst, dport)) or udp.get((0, dport))

    def find_udp_sender(self, src: int, sport: int, dst: int, dport: int) -> DatagramSocket | None:
        """The socket that sent a datagram src:sport -> dst:dport (for an ICMP error quoting it)."""
        udp = self.udp
        return udp.get((src, sport, dst, dport)) or udp.get((src, sport)) or udp.get((0, sport))

    def open_ping(self, identifier: int | None = None) -> PingSocket:
        """A ping socket with a free identifier (chosen with the host's random generator when None)."""
        if identifier is None:
            identifier = self.host.rng.randrange(0x10000)
            while identifier in self.ping:
                identifier = (identifier + 1) & 0xFFFF
        if identifier in self.ping:
            raise OSError(errno.EADDRINUSE, f"{self.host.name}: ICMP identifier {identifier} is in use")
        sock = self.ping[identifier] = PingSocket(self.host, identifier)
        return sock
