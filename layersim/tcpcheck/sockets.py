"""A small socket layer over layersim.tcp for scripts: file descriptors, listen/accept, blocking calls."""

from __future__ import annotations

import errno
import random
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from ipaddress import IPv4Address

from layersim.tcp import Connection, Listener, Profile, Segment, State, reset_for
from layersim.tcp.options import MAX_TCP_WINDOW, TCP_MIN_MSS
from layersim.tcpcheck.callargs import CONSTANTS, CallError, first_value, option_name, shown_value, value_of
from layersim.tcpcheck.model import Array, Expr, Field, Syscall
from layersim.wire.tcp import TCP

__all__ = ["BIND_PORT", "EPHEMERAL_PORT", "LOCAL_IP", "REMOTE_IP", "CallError", "CallResult", "Stack"]

LOCAL_IP = int(IPv4Address("192.168.0.1"))  # packetdrill's default local address
REMOTE_IP = int(IPv4Address("192.0.2.1"))  # packetdrill's default remote address
BIND_PORT = 8080  # packetdrill binds and connects to port 8080
EPHEMERAL_PORT = 49152  # our port on connect(), the remote's port on a passive open

Blocking = Generator[None, None, "CallResult"]


class _Errno(Exception):
    """A call that fails the way the kernel would: -1 with this errno."""

    def __init__(self, code: int) -> None:
        super().__init__(errno.errorcode[code])
        self.code = code


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a call returned: the value, the errno name when it is -1, and a mismatch found in an out-argument."""

    value: int
    errno: str | None = None
    mismatch: str | None = None


def _err(code: int) -> CallResult:
    """-1 with an errno."""
    return CallResult(-1, errno.errorcode[code])


@dataclass(slots=True)
class Sock:
    """One file descriptor's socket."""

    fd: int
    nonblocking: bool = False
    reuseaddr: int = 0
    nodelay: bool = False
    maxseg: int | None = None
    linger_zero: bool = False
    listener: Listener | None = None
    backlog: list[Connection] = field(default_factory=list)
    conn: Connection | None = None
    shut_wr: bool = False
    error_taken: bool = False


class Stack:
    """The sockets of one script run and every segment they sent, stamped with the simulated time."""

    def __init__(self, profile: Profile, rng: random.Random, *, mss: int = 1460) -> None:
        self.profile = profile
        self.rng = rng
        self.mss = mss
        self.now = 0
        self.sent: deque[tuple[int, Segment]] = deque()
        self.socks: dict[int, Sock] = {}
        self.connections: list[Connection] = []
        self.listeners: list[Sock] = []
        self.active = False  # the socket under test connected (True) or listened (False)

    # --- the wire side -------------------------------------------------------------------------------
    def inbound_ports(self) -> tuple[int, int]:
        """(sport, dport) of a segment from the remote to the socket under test."""
        return (BIND_PORT, EPHEMERAL_PORT) if self.active else (EPHEMERAL_PORT, BIND_PORT)

    def _emit(self, segments: list[Segment]) -> None:
        """Queue what the TCP wants sent, stamped with the current time."""
        self.sent.extend((self.now, s) for s in segments)

    def receive(self, tcp: TCP, payload: bytes) -> None:
        """Deliver a segment from the remote: to its connection, else a listener, else answer as a closed port."""
        local, remote = (LOCAL_IP, tcp.dport), (REMOTE_IP, tcp.sport)
        for conn in self.connections:
            if conn.local == local and conn.remote == remote and not conn.finished:
                self._emit(conn.receive(tcp, payload, self.now))
                return
        for sock in self.listeners:
            if sock.listener is not None and tcp.dport == BIND_PORT:
                mss = min(self.mss, sock.maxseg) if sock.maxseg else None
                conn, segments = sock.listener.receive(tcp, payload, remote, self.now, iss=self.rng.getrandbits(32),
                                                       ts_offset=self.rng.getrandbits(32), mss=mss)
                if conn is not None:
                    conn.nodelay = sock.nodelay
                    self.connections.append(conn)
                    sock.backlog.append(conn)
                self._emit(segments)
                return
        reply = reset_for(tcp, len(payload))
        if reply is not None:
            self._emit([reply])

    def next_deadline(self) -> int | None:
        """The earliest timer of any connection."""
        deadlines = [d for c in self.connections if (d := c.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    def fire(self) -> None:
        """Run every timer that is due at `now`."""
        for conn in list(self.connections):
            deadline = conn.next_deadline()
            if deadline is not None and deadline <= self.now:
                self._emit(conn.on_timer(self.now))

    # --- the call side -------------------------------------------------------------------------------
    def call(self, syscall: Syscall) -> Blocking:
        """Run a call as a generator: it yields while blocked and returns its CallResult."""
        handler = getattr(self, f"_sys_{syscall.name}", None)
        if handler is None:
            raise CallError(f"system call {syscall.name}() is not supported")
        return self._errors_returned(handler(*syscall.args))

    @staticmethod
    def _errors_returned(call: Blocking) -> Blocking:
        """The call, with a kernel-style failure (bad fd, not connected) returned as -1 and its errno."""
        try:
            return (yield from call)
        except _Errno as exc:
            return _err(exc.code)

    def _sock(self, fd: Expr) -> Sock:
        """The socket of a descriptor (EBADF when none is open)."""
        number = value_of(fd)
        if number not in self.socks:
            raise _Errno(errno.EBADF)
        return self.socks[number]

    def _conn(self, sock: Sock) -> Connection:
        """The connection of a socket (ENOTCONN when it has none)."""
        if sock.conn is None:
            raise _Errno(errno.ENOTCONN)
        return sock.conn

    def _error(self, sock: Sock) -> int | None:
        """The connection's pending error, reported once (like SO_ERROR / a failing call)."""
        if sock.conn is None or sock.conn.error is None or sock.error_taken:
            return None
        sock.error_taken = True
        return sock.conn.error

    def _new_fd(self) -> int:
        """The lowest free descriptor from 3 up, as Linux hands them out after stdin/stdout/stderr."""
        fd = 3
        while fd in self.socks:
            fd += 1
        return fd

    def _sys_socket(self, *args: Expr) -> Blocking:
        """socket(): a new descriptor."""
        fd = self._new_fd()
        self.socks[fd] = Sock(fd)
        return CallResult(fd)
        yield

    def _sys_bind(self, fd: Expr, *args: Expr) -> Blocking:
        """bind(): always to port 8080 (packetdrill's), whatever the address argument says."""
        self._sock(fd)
        return CallResult(0)
        yield

    def _sys_listen(self, fd: Expr, *args: Expr) -> Blocking:
        """listen(): a Listener on 192.168.0.1:8080 advertising the MSS (clamped by TCP_MAXSEG)."""
        sock = self._sock(fd)
        mss = min(self.mss, sock.maxseg) if sock.maxseg else self.mss
        sock.listener = Listener((LOCAL_IP, BIND_PORT), profile=self.profile, mss=mss)
        self.listeners.append(sock)
        self.active = False
        return CallResult(0)
        yield

    def _sys_accept(self, fd: Expr, *args: Expr) -> Blocking:
        """accept(): the first connection past SYN-RECEIVED; blocks (or EAGAIN) until there is one."""
        sock = self._sock(fd)
        if sock.listener is None:
            return _err(errno.EINVAL)
        while True:
            sock.backlog = [c for c in sock.backlog if c.state not in (State.CLOSED, State.LISTEN)]
            ready = next((c for c in sock.backlog if c.state not in (State.SYN_RECEIVED,)), None)
            if ready is not None:
                sock.backlog.remove(ready)
                new_fd = self._new_fd()
                self.socks[new_fd] = Sock(new_fd, conn=ready, nodelay=sock.nodelay, maxseg=sock.maxseg)
                return CallResult(new_fd)
            if sock.nonblocking:
                return _err(errno.EAGAIN)
            yield

    def _sys_connect(self, fd: Expr, *args: Expr) -> Blocking:
        """connect(): SYN to 192.0.2.1:8080; blocks until established or failed (EINPROGRESS if non-blocking)."""
        sock = self._sock(fd)
        if sock.conn is not None:
            if sock.conn.state in (State.SYN_SENT, State.SYN_RECEIVED):
                return _err(errno.EALREADY)
            code = self._error(sock)
            return _err(code) if code is not None else _err(errno.EISCONN)
        mss = min(self.mss, sock.maxseg) if sock.maxseg else self.mss
        conn, segments = Connection.connect((LOCAL_IP, EPHEMERAL_PORT), (REMOTE_IP, BIND_PORT),
                                            iss=self.rng.getrandbits(32), mss=mss, now=self.now,
                                            profile=self.profile, ts_offset=self.rng.getrandbits(32),
                                            nodelay=sock.nodelay)
        sock.conn = conn
        self.connections.append(conn)
        self.active = True
        self._emit(segments)
        if sock.nonblocking:
            return _err(errno.EINPROGRESS)
        while conn.state in (State.SYN_SENT, State.SYN_RECEIVED):
            yield
        code = self._error(sock)
        return _err(code) if code is not None else CallResult(0)

    def _sys_write(self, fd: Expr, buf: Expr = ..., count: Expr = 0, *flags: Expr) -> Blocking:
        """write()/send(): `count` zero bytes into the send buffer, blocking while it is full."""
        sock = self._sock(fd)
        conn = self._conn(sock)
        want = value_of(count)
        done = 0
        while True:
            code = self._error(sock)
            if code is not None:
                return _err(code) if done == 0 else CallResult(done)
            if sock.shut_wr or conn.state not in (State.ESTABLISHED, State.CLOSE_WAIT):
                return _err(errno.EPIPE) if done == 0 else CallResult(done)
            accepted, segments = conn.send(bytes(want - done), self.now)
            self._emit(segments)
            done += accepted
            if done == want:
                return CallResult(done)
            if sock.nonblocking:
                return CallResult(done) if done else _err(errno.EAGAIN)
            yield

    _sys_send = _sys_write

    def _sys_read(self, fd: Expr, buf: Expr = ..., count: Expr = 0, *flags: Expr) -> Blocking:
        """read()/recv(): what is there (0 at end of file), blocking (or EAGAIN) while nothing is."""
        sock = self._sock(fd)
        conn = self._conn(sock)
        want = value_of(count)
        while True:
            if conn.readable:
                data, segments = conn.recv(want, self.now)
                self._emit(segments)
                return CallResult(len(data))
            code = self._error(sock)
            if code is not None:
                return _err(code)
            if conn.at_eof or conn.state is State.CLOSED:
                return CallResult(0)
            if sock.nonblocking:
                return _err(errno.EAGAIN)
            yield

    _sys_recv = _sys_read

    def _sys_close(self, fd: Expr) -> Blocking:
        """close(): FIN (or RST with unread data, or with SO_LINGER 0); unaccepted connections are reset."""
        sock = self._sock(fd)
        del self.socks[sock.fd]
        if sock.listener is not None:
            self.listeners.remove(sock)
            for conn in sock.backlog:  # connections nobody accepted are reset
                self._emit(conn.abort(self.now))
        if sock.conn is not None:
            self._emit(sock.conn.abort(self.now) if sock.linger_zero else sock.conn.close(self.now))
        return CallResult(0)
        yield

    def _sys_shutdown(self, fd: Expr, how: Expr = 1) -> Blocking:
        """shutdown(): SHUT_WR and SHUT_RDWR send FIN after queued data; SHUT_RD does nothing on the wire."""
        sock = self._sock(fd)
        if sock.conn is None:
            return _err(errno.ENOTCONN)
        if value_of(how) in (1, 2) and not sock.shut_wr:
            sock.shut_wr = True
            self._emit(sock.conn.shutdown(self.now))
        return CallResult(0)
        yield

    def _sys_fcntl(self, fd: Expr, cmd: Expr, arg: Expr = 0) -> Blocking:
        """fcntl(): F_SETFL sets or clears O_NONBLOCK; F_GETFL reports O_RDWR and it."""
        sock = self._sock(fd)
        command = value_of(cmd)
        if command == CONSTANTS["F_SETFL"]:
            sock.nonblocking = bool(value_of(arg) & CONSTANTS["O_NONBLOCK"])
            return CallResult(0)
        if command == CONSTANTS["F_GETFL"]:
            return CallResult(CONSTANTS["O_RDWR"] | (CONSTANTS["O_NONBLOCK"] if sock.nonblocking else 0))
        raise CallError(f"fcntl command {cmd!r} is not supported (F_GETFL, F_SETFL)")
        yield

    def _sys_setsockopt(self, fd: Expr, level: Expr, name: Expr, value: Expr = ..., *rest: Expr) -> Blocking:
        """setsockopt(): SO_REUSEADDR, TCP_NODELAY, TCP_MAXSEG, SO_LINGER."""
        sock = self._sock(fd)
        option = option_name(name)
        if option == "SO_LINGER":
            fields = {f.name: value_of(f.value) for f in value.items if isinstance(f, Field)} \
                if isinstance(value, Array) else {}
            sock.linger_zero = bool(fields.get("onoff")) and fields.get("linger") == 0
            return CallResult(0)
        number = first_value(value)
        if option == "SO_REUSEADDR":
            sock.reuseaddr = number
        elif option == "TCP_NODELAY":
            sock.nodelay = bool(number)
            if sock.conn is not None:
                sock.conn.nodelay = sock.nodelay
        elif option == "TCP_MAXSEG":
            if number and not TCP_MIN_MSS <= number <= MAX_TCP_WINDOW:
                return _err(errno.EINVAL)  # Linux do_tcp_setsockopt: 0 unsets, else 88-32767
            sock.maxseg = number
        return CallResult(0)
        yield

    def _sys_getsockopt(self, fd: Expr, level: Expr, name: Expr, value: Expr = ..., *rest: Expr) -> Blocking:
        """getsockopt(): the value is compared with the script's `[N]` (SO_ERROR reports and clears the error)."""
        sock = self._sock(fd)
        option = option_name(name)
        if option == "SO_ERROR":
            actual = self._error(sock) or 0
        elif option == "SO_REUSEADDR":
            actual = sock.reuseaddr
        elif option == "TCP_NODELAY":
            actual = int(sock.conn.nodelay if sock.conn is not None else sock.nodelay)
        elif option == "TCP_MAXSEG":
            actual = _send_mss(sock.conn) if sock.conn is not None else (sock.maxseg or self.mss)
        else:
            actual = int(sock.linger_zero)
        mismatch = None
        if value is not ... and option != "SO_LINGER":
            expected = first_value(value)
            if expected != actual:
                shown = errno.errorcode.get(actual, str(actual)) if option == "SO_ERROR" else str(actual)
                mismatch = f"{option} value: expected {shown_value(value)}, got {shown}"
        return CallResult(0, mismatch=mismatch)
        yield


def _send_mss(conn: Connection) -> int:
    """What Linux's TCP_MAXSEG reports on a connection: the segment size it sends, less 12 with timestamps."""
    # `ts_ok` is not in the layersim.tcp contract; without it the 12 bytes of timestamps are not subtracted.
    return min(conn.mss, conn.peer_mss) - (12 if getattr(conn, "ts_ok", False) else 0)
