"""The adapter between a script and a simulated host: its socket calls go to the host's SimSocket API and TCP
stack, its inbound segments arrive as frames on the host's interface, and what the host sends is captured.

There is no TCP or socket logic here: descriptors, listen/accept, blocking and errno values are the host's. The
script's calls run in one simulated process (packetdrill's program); a call that blocks parks that process on the
host's clock until the stack wakes it, while the runner moves time on.
"""

from __future__ import annotations

import errno
import socket as _std
import struct
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from ipaddress import IPv4Address
from types import MappingProxyType

from layersim.net.engine.interface import Interface
from layersim.net.engine.process import Process, Wait, notify, wait_until
from layersim.net.host.host import FIRST_SIMULATED_FD
from layersim.net.host.socketapi.sim_socket import SimSocket
from layersim.net.network import Network
from layersim.tcp import Profile
from layersim.tcp.info import NOT_KEPT, tcp_info
from layersim.tcp.seq import seq_add, seq_lt
from layersim.tcpcheck.callargs import (
    CONSTANTS,
    CallError,
    check_buffer,
    first_value,
    iov_total,
    is_null,
    option_name,
    shown_value,
    value_of,
)
from layersim.tcpcheck.model import Array, Expr, Field, IPFields, Syscall
from layersim.tcpcheck.polling import poll_sockets, queue_ioctl
from layersim.wire.addresses import MAC
from layersim.wire.ethernet import Ethernet, EtherType
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import decode
from layersim.wire.payload import Raw
from layersim.wire.tcp import TCP, TCPFlags

__all__ = ["BIND_PORT", "LOCAL_IP", "REMOTE_IP", "CallError", "CallResult", "ScriptHost", "Sent", "Wire"]

LOCAL_IP = int(IPv4Address("192.168.0.1"))  # packetdrill's default local address
REMOTE_IP = int(IPv4Address("192.0.2.1"))  # packetdrill's default remote address
GATEWAY_IP = IPv4Address("192.168.0.2")  # packetdrill's default gateway: the remote is reached through it
GATEWAY_MAC = MAC("02:00:00:00:00:02")
BIND_PORT = 8080  # packetdrill binds and connects to port 8080
REMOTE_PORT = 49152  # the remote's port when it opens a connection to the script's listener
FIRST_SCRIPT_FD = 3  # a script's first socket is fd 3, after stdin, stdout and stderr
_FOREVER = 1 << 62  # an ARP entry that never expires (`ip neigh add ... nud permanent`)
_ETH_IPV4 = EtherType.IPv4.to_bytes(2, "big")
_EVENTS_PER_STEP = 100_000  # clock events at one instant before the run calls it a timer that fires without end

Blocking = Generator[None, None, "CallResult"]

# The socket options a script names: (level, option) for the host's setsockopt/getsockopt.
_OPTIONS = {"SO_REUSEADDR": (_std.SOL_SOCKET, _std.SO_REUSEADDR), "SO_ERROR": (_std.SOL_SOCKET, _std.SO_ERROR),
            "SO_LINGER": (_std.SOL_SOCKET, _std.SO_LINGER), "SO_KEEPALIVE": (_std.SOL_SOCKET, _std.SO_KEEPALIVE),
            "SO_SNDBUF": (_std.SOL_SOCKET, _std.SO_SNDBUF), "SO_RCVBUF": (_std.SOL_SOCKET, _std.SO_RCVBUF),
            "TCP_NODELAY": (_std.IPPROTO_TCP, _std.TCP_NODELAY), "TCP_MAXSEG": (_std.IPPROTO_TCP, _std.TCP_MAXSEG),
            "TCP_CORK": (_std.IPPROTO_TCP, 3), "TCP_USER_TIMEOUT": (_std.IPPROTO_TCP, 18),
            "TCP_INFO": (_std.IPPROTO_TCP, 11), "TCP_CONGESTION": (_std.IPPROTO_TCP, 13),
            "IP_TOS": (_std.IPPROTO_IP, _std.IP_TOS), "IP_TTL": (_std.IPPROTO_IP, _std.IP_TTL),
            "IP_MTU_DISCOVER": (_std.IPPROTO_IP, 10)}
_CONGESTION_NAMES = MappingProxyType({"cubic": "cubic", "reno": "newreno"})  # Linux's names for layersim's algorithms


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a call returned: the value, the errno name when it is -1, and a mismatch found in an out-argument."""

    value: int
    errno: str | None = None
    mismatch: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """A TCP segment the host put on the wire: its header, payload and the IP header fields a script can check."""

    tcp: TCP
    payload: bytes
    tos: int = 0
    ttl: int = 64


class Wire:
    """The link of the host under test: it keeps every TCP segment the host sends, stamped with the clock."""

    def __init__(self, network: Network, mtu: int) -> None:
        self.network = network
        self.mtu = mtu
        self.sent: deque[tuple[int, Sent]] = deque()
        self.retransmits = 0  # segments that resend sequence space sent before (tcpi_total_retrans)
        self._high: dict[int, int] = {}  # source port -> end of the sequence space sent so far

    def transmit(self, sender: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None:
        """A frame the host sends: a TCP segment is kept for the matcher; anything else (ARP, ICMP) is not."""
        if frame[12:14] != _ETH_IPV4 or frame[23] != 6:
            return
        packet = decode(frame)
        tcp, ip = packet[TCP], packet[IPv4]
        payload = packet.payload_of(TCP)
        space = len(payload) + bool(tcp.flags & TCPFlags.SYN) + bool(tcp.flags & TCPFlags.FIN)
        if space:
            high = self._high.get(tcp.sport)
            end = seq_add(tcp.seq, space)
            if high is not None and seq_lt(tcp.seq, high):
                self.retransmits += 1
            if high is None or seq_lt(high, end):
                self._high[tcp.sport] = end
        self.sent.append((self.network.clock.now, Sent(tcp, payload, ip.dscp << 2 | ip.ecn, ip.ttl)))


class ScriptHost:
    """One simulated host at 192.168.0.1 whose only link is a Wire, and the process running a script's calls."""

    def __init__(self, profile: Profile, seed: int, *, mss: int = 1460) -> None:
        self.profile = profile
        self.network = network = Network(seed, trace="none", tcp=profile)
        self.host = host = network.add_host("local")
        self.iface = iface = host.add_interface("eth0", MAC("02:00:00:00:00:01"), f"{IPv4Address(LOCAL_IP)}/24")
        self.wire = Wire(network, mss + 40)
        iface.link = self.wire  # type: ignore[assignment]
        host.routes.add("0.0.0.0/0", via=GATEWAY_IP)
        host.arp.reachable_ns = _FOREVER
        host.arp.learn(GATEWAY_IP, GATEWAY_MAC, 0)
        self.sent = self.wire.sent
        # the socket that connected last (None after a listen()): inbound segments go to its port, kept once known
        # for after the socket is closed
        self.active: SimSocket | None = None
        self.fd_aliases: dict[int, int] = {}  # script descriptor -> live one
        self.current: SimSocket | None = None  # the connected socket a call used last: code blocks read its TCP_INFO
        self.active_port: int | None = None
        self._call: Callable[[], CallResult] | None = None
        self._waits: list[Wait] = []
        self._outcome: CallResult | BaseException | None = None
        process = Process(host, self._program, (), {}, "script")
        host.processes.append(process)
        process.start()
        self.run(0)

    # --- time ------------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """The host's simulated time."""
        return self.network.clock.now

    def next_deadline(self) -> int | None:
        """When the host's clock has something to do next (a TCP timer, a woken call)."""
        return self.network.clock.next_time()

    def run(self, until: int) -> None:
        """Run the host's clock up to `until` (never back)."""
        self.network.run(max(until, self.now), max_events=_EVENTS_PER_STEP)

    # --- the wire side ---------------------------------------------------------------------------------
    def inbound_ports(self) -> tuple[int, int]:
        """(sport, dport) of a segment from the remote to the socket under test."""
        if self.active is not None and self.active.fileno() != -1:
            self.active_port = self.active.getsockname()[1]
        return (BIND_PORT, self.active_port) if self.active_port is not None else (REMOTE_PORT, BIND_PORT)

    def inject(self, tcp: TCP, payload: bytes, ip: IPFields | None = None) -> None:
        """A segment from the remote arrives on the host's interface now, through its IP input and TCP demux; `ip`
        sets the IP header's ECN field, TOS byte and TTL as the script wrote them."""
        ip = ip or IPFields()
        tos = ip.tos if ip.tos is not None else 0
        if ip.ecn is not None:
            tos = (tos & ~3) | (ip.ecn if ip.ecn < 4 else 2)
        header = IPv4(src=REMOTE_IP, dst=LOCAL_IP, dscp=tos >> 2, ecn=tos & 3, ttl=64 if ip.ttl is None else ip.ttl)
        frame = Ethernet(src=GATEWAY_MAC, dst=self.iface.mac) / header / tcp / Raw(payload)
        self.iface.deliver(frame.encode())
        self.run(self.now)

    # --- the call side ---------------------------------------------------------------------------------
    def _program(self) -> None:
        """The script's process: take each call, run it (blocking as the host's sockets do), keep its outcome."""
        clock = self.network.clock
        while True:
            wait_until(clock, [self._waits], lambda: self._call is not None, None)
            call, self._call = self._call, None
            assert call is not None
            try:
                self._outcome = call()
            except OSError as exc:  # what the kernel would return: -1 and errno
                self._outcome = CallResult(-1, errno.errorcode[exc.errno]) if exc.errno in errno.errorcode else exc
            except Exception as exc:  # handed to the runner, which reports it on the line
                self._outcome = exc

    def call(self, syscall: Syscall) -> Blocking:
        """Run a call as a generator: it yields while the call blocks and returns its CallResult."""
        handler = getattr(self, f"_sys_{syscall.name}", None)
        if handler is None:
            raise CallError(f"system call {syscall.name}() is not supported")
        return self._await(lambda: handler(*syscall.args))

    def _await(self, call: Callable[[], CallResult]) -> Blocking:
        """Hand `call` to the script's process now; yield until it has returned."""
        self._outcome = None
        self._call = call
        notify(self._waits)
        self.run(self.now)
        while self._outcome is None:
            yield
        outcome, self._outcome = self._outcome, None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def alias(self, script_fd: int, live_fd: int) -> None:
        """The script calls live descriptor `live_fd` `script_fd` (packetdrill maps the numbers a script writes)."""
        self.fd_aliases[script_fd] = live_fd

    def _sock(self, fd: Expr) -> SimSocket:
        """The host's socket behind a script descriptor (EBADF when none is open)."""
        number = value_of(fd)
        number = self.fd_aliases.get(number, number)
        sock = self.host.fd_table.get(number - FIRST_SCRIPT_FD + FIRST_SIMULATED_FD) if number >= FIRST_SCRIPT_FD \
            else None
        if sock is None:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if sock._endpoint is not None:
            self.current = sock
        return sock

    def tcp_info(self) -> dict[str, int] | None:
        """TCP_INFO of the connection a call used last (retransmissions counted on the wire), or None."""
        sock = self.current
        endpoint = sock._endpoint if sock is not None else None
        if endpoint is None:
            return None
        info = tcp_info(endpoint.conn, self.now, total_retrans=self.wire.retransmits)
        return {name: value for name, value in info.items() if name not in NOT_KEPT}

    @staticmethod
    def _script_fd(sock: SimSocket) -> int:
        """A host socket's descriptor as the script numbers it (the host hands out the lowest free, as Linux)."""
        return int(sock.fileno()) - FIRST_SIMULATED_FD + FIRST_SCRIPT_FD

    def _sys_socket(self, *args: Expr) -> CallResult:
        """socket(): a TCP socket of the host."""
        return CallResult(self._script_fd(self.host.socket.socket(_std.AF_INET, _std.SOCK_STREAM)))

    def _sys_bind(self, fd: Expr, *args: Expr) -> CallResult:
        """bind(): to 192.168.0.1:8080 (packetdrill's), whatever the address argument says."""
        self._sock(fd).bind((str(IPv4Address(LOCAL_IP)), BIND_PORT))
        return CallResult(0)

    def _sys_listen(self, fd: Expr, backlog: Expr = 128, *args: Expr) -> CallResult:
        """listen(): inbound segments go to the listener's port from now on."""
        self._sock(fd).listen(value_of(backlog) if backlog is not ... else 128)
        self.active = self.active_port = None
        return CallResult(0)

    def _sys_accept(self, fd: Expr, *args: Expr) -> CallResult:
        """accept(): the new connection's descriptor."""
        conn, _address = self._sock(fd).accept()
        self.current = conn
        return CallResult(self._script_fd(conn))

    def _sys_connect(self, fd: Expr, *args: Expr) -> CallResult:
        """connect(): to 192.0.2.1:8080."""
        sock = self._sock(fd)
        self.active, self.active_port, self.current = sock, None, sock
        sock.connect((str(IPv4Address(REMOTE_IP)), BIND_PORT))
        return CallResult(0)

    def _sys_write(self, fd: Expr, buf: Expr = ..., count: Expr = 0, *flags: Expr) -> CallResult:
        """write()/send(): `count` zero bytes; a blocking socket returns once all are queued (tcp_sendmsg loops),
        and a failure after some were queued returns how many were. A NULL buffer is EFAULT."""
        sock = self._sock(fd)
        check_buffer(buf, count)
        want = value_of(count)
        done = 0
        while done < want or not want:
            try:
                done += sock.send(bytes(want - done))
            except OSError:
                if done:
                    break
                raise
            if not want:
                break
        return CallResult(done)

    _sys_send = _sys_write

    def _sys_sendto(self, fd: Expr, buf: Expr = ..., count: Expr = 0, flags: Expr = 0, *address: Expr) -> CallResult:
        """sendto() on a connected TCP socket: the address is ignored (Linux tcp_sendmsg), as write()."""
        return self._sys_write(fd, buf, count, flags)

    def _sys_sendmsg(self, fd: Expr, message: Expr = ..., flags: Expr = 0) -> CallResult:
        """sendmsg(fd, {msg_iov(n)=[{..., len}, ...], ...}, flags): the iovecs' bytes, as one write()."""
        self._sock(fd)
        total = iov_total(message)
        return self._sys_write(fd, ..., total) if total else CallResult(0)

    def _sys_read(self, fd: Expr, buf: Expr = ..., count: Expr = 0, *flags: Expr) -> CallResult:
        """read()/recv()/recvfrom(): what is there, up to `count` (0 at end of file); a NULL buffer is EFAULT
        once there is something to copy (Linux copies, then fails)."""
        sock = self._sock(fd)
        if is_null(buf):
            conn = sock._endpoint.conn if sock._endpoint is not None else None
            if conn is not None and conn.readable:
                raise OSError(errno.EFAULT, "Bad address")
        return CallResult(len(sock.recv(value_of(count))))

    _sys_recv = _sys_read
    _sys_recvfrom = _sys_read

    def _sys_close(self, fd: Expr) -> CallResult:
        """close()."""
        self._sock(fd).close()
        return CallResult(0)

    def _sys_shutdown(self, fd: Expr, how: Expr = 1) -> CallResult:
        """shutdown()."""
        self._sock(fd).shutdown(value_of(how))
        return CallResult(0)

    def _sys_ioctl(self, fd: Expr, request: Expr, value: Expr = ...) -> CallResult:
        """ioctl(): SIOCINQ and SIOCOUTQ (polling.py), the count compared with the script's `[N]`."""
        return CallResult(0, mismatch=queue_ioctl(self._sock(fd), request, value))

    def _sys_poll(self, fds: Expr, nfds: Expr = 1, timeout: Expr = 0) -> CallResult:
        """poll([{fd=N, events=..., revents=...}], n, timeout_ms): blocks until one is ready or the timeout
        passes (polling.py); the revents the script writes are compared."""
        entries = fds.items if isinstance(fds, Array) else ()
        polled = []
        for entry in entries:
            fields = {f.name: f.value for f in entry.items if isinstance(f, Field)} if isinstance(entry, Array) \
                else {}
            if "fd" not in fields or "events" not in fields:
                raise CallError("poll() needs [{fd=N, events=...}] entries")
            polled.append((self._sock(fields["fd"]), value_of(fields["events"]), fields.get("revents")))
        count, mismatch = poll_sockets(self.network.clock, polled, value_of(timeout))
        return CallResult(count, mismatch=mismatch)

    def _sys_fcntl(self, fd: Expr, cmd: Expr, arg: Expr = 0) -> CallResult:
        """fcntl(): F_SETFL sets or clears O_NONBLOCK (CPython's setblocking); F_GETFL reports O_RDWR and it."""
        sock = self._sock(fd)
        command = value_of(cmd)
        if command == CONSTANTS["F_SETFL"]:
            sock.setblocking(not value_of(arg) & CONSTANTS["O_NONBLOCK"])
            return CallResult(0)
        if command == CONSTANTS["F_GETFL"]:
            return CallResult(CONSTANTS["O_RDWR"] | (0 if sock.getblocking() else CONSTANTS["O_NONBLOCK"]))
        raise CallError(f"fcntl command {cmd!r} is not supported (F_GETFL, F_SETFL)")

    def _sys_setsockopt(self, fd: Expr, level: Expr, name: Expr, value: Expr = ..., *rest: Expr) -> CallResult:
        """setsockopt(): SO_REUSEADDR, TCP_NODELAY, TCP_MAXSEG, SO_LINGER (a `{onoff=..., linger=...}` struct)."""
        sock = self._sock(fd)
        option = option_name(name)
        if option == "TCP_CONGESTION":  # a string: the algorithm (tcp_set_congestion_control)
            algorithm = value if isinstance(value, str) else ""
            if _CONGESTION_NAMES.get(algorithm) != self.profile.congestion_control:
                raise CallError(f"TCP_CONGESTION {algorithm!r}: this run's congestion control is "
                                f"{self.profile.congestion_control} (set it with net.ipv4.tcp_congestion_control)")
            return CallResult(0)
        if option == "TCP_INFO":
            raise OSError(errno.ENOPROTOOPT, "Protocol not available")  # TCP_INFO is read-only
        if option == "SO_LINGER":
            fields = {f.name: value_of(f.value) for f in value.items if isinstance(f, Field)} \
                if isinstance(value, Array) else {}
            sock.setsockopt(*_OPTIONS[option], struct.pack("ii", fields.get("onoff", 0), fields.get("linger", 0)))
        else:
            sock.setsockopt(*_OPTIONS[option], first_value(value))
        return CallResult(0)

    def _sys_getsockopt(self, fd: Expr, level: Expr, name: Expr, value: Expr = ..., *rest: Expr) -> CallResult:
        """getsockopt(): the value is compared with the script's `[N]` (SO_ERROR reports and clears the error)."""
        sock = self._sock(fd)
        option = option_name(name)
        if option in ("TCP_INFO", "TCP_CONGESTION"):
            if option == "TCP_CONGESTION" and value is not ...:
                names = {v: k for k, v in _CONGESTION_NAMES.items()}
                actual_name = names[self.profile.congestion_control]
                wanted = value.items[0] if isinstance(value, Array) and value.items else value
                if wanted != actual_name:
                    return CallResult(0, mismatch=f"TCP_CONGESTION: expected {wanted!r}, got {actual_name!r}")
            return CallResult(0)  # TCP_INFO's struct is read with a %{ }% block, as packetdrill scripts do
        actual = sock.getsockopt(*_OPTIONS[option])
        mismatch = None
        if value is not ... and option != "SO_LINGER":
            expected = first_value(value)
            if expected != actual:
                shown = errno.errorcode.get(actual, str(actual)) if option == "SO_ERROR" else str(actual)
                mismatch = f"{option} value: expected {shown_value(value)}, got {shown}"
        return CallResult(0, mismatch=mismatch)
