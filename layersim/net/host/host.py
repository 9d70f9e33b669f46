"""End hosts: an IPv4 stack that does not forward, with sockets, path MTU discovery and simulated processes."""

from __future__ import annotations

import errno
import heapq
import random
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layersim.errors import LayersimError
from layersim.net.engine.interface import Interface
from layersim.net.engine.process import Process, current_process
from layersim.net.host.datagram_sockets import Datagram, DatagramSocket, PingSocket, SocketTable
from layersim.net.host.packers import tcp_receive, udp_receive, udp_send
from layersim.net.host.tcp_stack import TcpStack
from layersim.net.ip.actions import DELIVER, EVENT, ICMP_ERROR, Action
from layersim.net.ipv4.node import IPNode, ProtocolHandler
from layersim.net.ipv4.pmtu import PathMtuCache
from layersim.net.trace.details import DropReason, EventKind
from layersim.tcp import LINUX, Profile
from layersim.wire.icmp import ICMP, ICMPType, UnreachableCode
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet
from layersim.wire.udp import UDP

if TYPE_CHECKING:
    from layersim.net.engine.runtime import Runtime

__all__ = ["FIRST_SIMULATED_FD", "Datagram", "Host", "UDPSocket"]

UDPSocket = DatagramSocket  # the name earlier versions used
# Simulated descriptors are numbered far above any real one, so code that hands a simulated socket's fileno() to
# the real kernel (ssl.SSLSocket, socket.fromfd, os.close) gets EBADF instead of acting on a real file of this
# program. A real fd is below RLIMIT_NOFILE's hard limit, itself at most fs.nr_open (1048576 by default, Linux's
# sysctl_nr_open); the number must stay a C int, as CPython passes a fileno to the kernel.
FIRST_SIMULATED_FD = 1 << 30


class Host(IPNode):
    """An end system: answers ping, runs processes, and has UDP and ping sockets (TCP plugs in)."""

    kind = "host"
    forwarding = False

    def __init__(self, runtime: Runtime, name: str, rng: random.Random, tcp: Profile = LINUX) -> None:
        """`tcp`: the profile of the host's TCP (see layersim.tcp.choose_profile)."""
        super().__init__(runtime, name, rng)
        self.sockets = SocketTable(self)
        self.icmp.sockets = self.sockets  # echo replies and ICMP errors find their sockets here
        self.pmtu = PathMtuCache()
        self.output.pmtu = self.pmtu
        self.protocols[17] = self._udp_in
        self.processes: list[Process] = []
        self._next_pid = 1000
        self.tcp = TcpStack(self, tcp)
        self.fd_table: dict[int, Any] = {}  # file descriptor -> socket object of a program on this host
        self._fd_top = FIRST_SIMULATED_FD  # every fd from here up is free
        self._fd_freed: list[int] = []  # a heap of the fds below _fd_top given back since
        self.hosts: dict[str, IPv4Address] = {}  # /etc/hosts: name -> address (the host's own name is implied)
        self.resolver: Any = None  # a stub resolver (layersim.app.resolver) for names not in `hosts`
        self._socket_module: Any = None

    def _fast_local(self, iface: Interface, frame: bytes, packet_id: int | None, now: int,
                    checksum_unnecessary: bool) -> bool:
        """The host's fast path for a plain unicast TCP segment or UDP datagram (see layersim.net.host.packers)."""
        if frame[23:24] == b"\x06":  # a slice: a runt frame has no byte 23
            return tcp_receive(self, iface, frame, packet_id, now, checksum_unnecessary)
        return udp_receive(self, iface, frame, packet_id, now, checksum_unnecessary)

    def register_protocol(self, number: int, handler: ProtocolHandler,
                          on_error: Callable[[Any], None] | None = None) -> None:
        """Attach a transport protocol (TCP plugs in here) for IP protocol `number`, and its ICMP error handler."""
        if number in self.protocols and number not in (6,):
            raise LayersimError(f"{self.name}: IP protocol {number} already has a handler")
        self.protocols[number] = handler
        if on_error is not None:
            self.error_handlers[number] = on_error

    # Processes -----------------------------------------------------------------------------------------
    def next_pid(self) -> int:
        """A process id, counted per host."""
        self._next_pid += 1
        return self._next_pid

    def spawn(self, fn: Callable[..., Any], *args: Any, at: int | str | None = None, name: str | None = None,
              **kwargs: Any) -> Process:
        """Run `fn(*args, **kwargs)` as a simulated process on this host, now or at simulated time `at`.

        While it runs, the stdlib's socket, select, selectors and time functions act on this host (see
        layersim.net.host.socketapi.stdlib_patch), so unmodified networking code works inside it."""
        from layersim.net.engine.units import parse_duration

        start = None if at is None else parse_duration(at)
        now = self.clock.now
        if start is not None and start < now:
            what = name or getattr(fn, "__name__", "process")
            raise LayersimError(f"{self.name}: cannot start {what} at {start} ns, the clock is already at {now} ns")
        from layersim.net.host.socketapi.stdlib_patch import StdlibPatch

        proc = Process(self, fn, args, kwargs, name)
        self.runtime.add_run_guard(StdlibPatch())
        proc.start(start)
        self.processes.append(proc)
        return proc

    def run_script(self, path: str | Path, argv: Sequence[str] = (), *, at: int | str | None = None) -> Process:
        """Run a Python file as __main__ in a process on this host, with `sys.argv` = [path, *argv]."""
        from layersim.net.host.socketapi.scripts import run_file

        source = Path(path)
        try:
            code = compile(source.read_text(encoding="utf-8"), str(source), "exec")
        except OSError as exc:
            raise LayersimError(f"{self.name}: cannot read script {source}: {exc.strerror or exc}") from None
        except SyntaxError as exc:
            raise LayersimError(f"{source}:{exc.lineno}: {exc.msg}") from None
        return self.spawn(run_file, code, str(source), list(argv), at=at, name=source.name)

    @property
    def socket(self) -> Any:
        """This host's `socket` module (the stdlib's API): `host.socket.socket(AF_INET, SOCK_STREAM)`."""
        if self._socket_module is None:
            from layersim.net.host.socketapi.socket_module import SocketModule

            self._socket_module = SocketModule(self)
        return self._socket_module

    def new_fd(self, sock: Any) -> int:
        """A file descriptor number for a new socket of a program on this host: the lowest free one from
        FIRST_SIMULATED_FD, as Linux gives the lowest free one (the same numbers on every run)."""
        table, freed = self.fd_table, self._fd_freed
        while freed:  # Linux's __alloc_fd finds it from files->next_fd in a bitmap; a heap is the same in O(log n)
            fd = heapq.heappop(freed)
            if fd not in table:
                break
        else:
            fd = self._fd_top
            while fd in table:
                fd += 1
            self._fd_top = fd + 1
        table[fd] = sock
        return fd

    def free_fd(self, fd: int, sock: Any) -> None:
        """Give back `sock`'s file descriptor (a no-op when the number is another socket's by now)."""
        if self.fd_table.get(fd) is sock:
            del self.fd_table[fd]
            heapq.heappush(self._fd_freed, fd)

    def resolve_all(self, name: str) -> list[IPv4Address]:
        """The addresses of `name`: a literal address, "localhost", a `hosts` entry, the host's own name, or
        DNS through `resolver`; socket.gaierror (EAI_NONAME) when none knows it, as glibc says."""
        import socket as std_socket

        try:
            return [IPv4Address(name)]
        except ValueError:
            pass
        key = name.rstrip(".").lower()
        if key == "localhost":
            return [IPv4Address("127.0.0.1")]
        if key in self.hosts:
            return [self.hosts[key]]
        if key == self.name.lower() and self.addresses:
            return [next(iter(self.addresses))]
        if self.resolver is not None:
            return self.resolver.resolve_for(self, key)
        raise std_socket.gaierror(std_socket.EAI_NONAME, "Name or service not known")

    def resolve(self, name: str) -> IPv4Address:
        """The first address of `name` (see resolve_all)."""
        return self.resolve_all(name)[0]

    def netstat(self) -> str:
        """This host's TCP sockets like `netstat -tan`."""
        return self.tcp.netstat()

    def run_program(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)`'s result: called here when inside a process, else run as a process of this host
        while the network runs until it is done (how layersim.app's ping and traceroute run from outside)."""
        if current_process() is not None:
            return fn(*args, **kwargs)
        proc = self.spawn(fn, *args, **kwargs)
        self.runtime.run_until(lambda: proc.done)
        if proc.exception is not None:
            raise proc.exception
        if not proc.done:
            raise LayersimError(f"{self.name}: {proc.name} did not finish (the simulation went idle)")
        return proc.result

    # Sockets -------------------------------------------------------------------------------------------
    def udp_socket(self, port: int | None = None, address: IPv4Address | str | int = 0) -> DatagramSocket:
        """A UDP socket bound to `port` (a free ephemeral port, chosen with the host's random generator, if None)."""
        try:
            return self.sockets.bind_udp(address, port)
        except OSError as exc:
            raise LayersimError(exc.strerror or str(exc)) from None

    def ping_socket(self, identifier: int | None = None) -> PingSocket:
        """A ping socket (Linux's ICMP datagram socket) with its own echo identifier."""
        return self.sockets.open_ping(identifier)

    def path_mtu(self, dst: IPv4Address | str) -> int | None:
        """The MTU packets to `dst` are sized by (the first link's, or a smaller learned one); None without a route."""
        dst = IPv4Address(dst)
        found = self.output.route(dst)
        return None if found is None else self.output.path_mtu(dst, found[0], self.clock.now)

    def _socket_ip_id(self, sock: DatagramSocket | PingSocket, dst: IPv4Address, ip_size: int) -> int | None:
        """Linux's IP id for a socket's datagram, after refusing one that path MTU discovery "do" cannot send.

        With DF set by IP_PMTUDISC_DO, a connected socket numbers its packets itself and an unconnected one sends
        id 0 (ip_select_ident); otherwise the host's counter is used (None)."""
        if sock.pmtu != "do":
            return None
        mtu = self.path_mtu(dst)
        if mtu is not None and ip_size > mtu:
            raise OSError(errno.EMSGSIZE, f"message too long, mtu={mtu}")
        if getattr(sock, "remote", None) is None:
            return 0
        return sock.take_ip_id()  # type: ignore[union-attr]

    def send_udp(self, sock: DatagramSocket, dst: IPv4Address, port: int, data: bytes) -> bool:
        """Send one datagram from `sock`; False without a route (OSError EMSGSIZE when "do" cannot send it)."""
        ip_id = self._socket_ip_id(sock, dst, 28 + len(data)) if sock.pmtu == "do" else None
        dst_int = int(dst)
        plan = self.plan_output(dst_int, df=sock.df, src=sock.local[0] or None, ip_id=ip_id)
        if plan is not None and udp_send(self, plan, sock, dst_int, port, data):
            return True
        src = IPv4Address(sock.local[0]) if sock.local[0] else None
        return self.send_ip(dst, UDP(sport=sock.local[1], dport=port) / data, ttl=sock.ttl, dscp=sock.tos >> 2,
                            df=sock.df, src=src, note=("udp", sock.local[1], dst, port), ip_id=ip_id, plan=plan)

    def send_echo(self, sock: PingSocket, dst: IPv4Address, sequence: int, data: bytes) -> bool:
        """Send one echo request from a ping socket (OSError EMSGSIZE when "do" cannot send it)."""
        ip_id = self._socket_ip_id(sock, dst, 28 + len(data))
        return self.send_ip(dst, ICMP(type=ICMPType.ECHO_REQUEST, identifier=sock.identifier, sequence=sequence)
                            / data, ttl=sock.ttl, dscp=sock.tos >> 2, df=sock.df, note=("ping", dst, sequence),
                            ip_id=ip_id)

    def _udp_in(self, iface: Interface, packet: Packet, ip_bytes: bytes, packet_id: int | None,
                now: int) -> list[Action]:
        udp = packet[UDP]
        ip = packet[IPv4]
        sock = self.sockets.find_udp(int(ip.dst), udp.dport, int(ip.src), udp.sport)
        if sock is None:
            return [(EVENT, EventKind.DROP, iface, ip_bytes, packet_id,
                     (DropReason.NO_LISTENER.value, (("port", udp.dport),))),
                    (ICMP_ERROR, iface, ip_bytes, ICMPType.DEST_UNREACHABLE, UnreachableCode.PORT_UNREACHABLE, {},
                     packet_id)]
        if len(sock.queue) >= sock.queue_limit:
            return [(EVENT, EventKind.DROP, iface, ip_bytes, packet_id,
                     (DropReason.SOCKET_BUFFER_FULL.value, (("port", udp.dport),)))]
        datagram = Datagram(packet.payload_of(UDP), (ip.src, udp.sport), now, ip.ttl)
        return [(EVENT, EventKind.APP, iface, None, packet_id,
                 ("udp", (("port", udp.dport), ("size", len(datagram.data)),
                          ("source", f"{ip.src}:{udp.sport}")))),
                (DELIVER, sock, datagram)]

