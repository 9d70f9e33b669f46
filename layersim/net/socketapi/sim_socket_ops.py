"""The operations of a simulated socket: bind, listen, accept, connect, send and receive, for TCP and UDP."""

from __future__ import annotations

import errno
import os
import socket as _std
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from layersim.errors import LayersimError
from layersim.tcp import State

if TYPE_CHECKING:
    from layersim.net.socketapi.sim_socket import SimSocket

__all__ = ["SocketOps", "os_error"]

LOOPBACK = 0x7F000001
_CONNECTING = frozenset({State.SYN_SENT, State.SYN_RECEIVED})
_SENDABLE = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})
_MSG_DONTWAIT, _MSG_PEEK = int(_std.MSG_DONTWAIT), int(_std.MSG_PEEK)  # ints: enum.Flag's `&` runs in Python


def os_error(code: int, detail: str | None = None) -> OSError:
    """OSError with Linux's text for `code` (Python turns it into ConnectionRefusedError and the like)."""
    return OSError(code, detail or os.strerror(code))


class SocketOps:
    """bind/listen/accept/connect/send/recv of SimSocket (kept apart to keep each module small)."""

    # Addresses --------------------------------------------------------------------------------------------
    def bind(self: SimSocket, address: Any) -> None:
        """Bind to (address, port): "" or "0.0.0.0" is every address, port 0 a free ephemeral one."""
        self._check()
        if self._local is not None or self._udp is not None or self._endpoint is not None:
            raise os_error(errno.EINVAL)
        ip, port = self._address(address)
        if ip and ip not in self.host.own_ints and ip >> 24 != 127:
            raise os_error(errno.EADDRNOTAVAIL, "Cannot assign requested address")
        if self.type == _std.SOCK_DGRAM:
            try:
                self._udp = self.host.sockets.bind_udp(ip, port or None)
            except OSError as exc:  # Linux's text, not the table's
                raise os_error(exc.errno or errno.EADDRINUSE) from None
            self._apply_udp_options()
            return
        stack = self.host.tcp
        reuse = bool(self._options.get((_std.SOL_SOCKET, _std.SO_REUSEADDR)))
        if not port:
            port = stack.ephemeral_port(ip, (0, 0))
        elif stack.port_in_use(ip, port, reuse=reuse):
            raise os_error(errno.EADDRINUSE)
        self._local = (ip, port)
        stack.bound.setdefault(self._local, []).append(self)

    def shares_port(self: SimSocket) -> bool:
        """Whether another SO_REUSEADDR socket may bind this one's port now: it set SO_REUSEADDR and does not
        listen (Linux's inet_csk_bind_conflict)."""
        return bool(self._options.get((_std.SOL_SOCKET, _std.SO_REUSEADDR))) and self._listening is None

    def _unbind(self: SimSocket) -> None:
        """Give the bound port back (at close, or when connect() takes it into the connection)."""
        if self._local is not None:
            sockets = self.host.tcp.bound.get(self._local, [])
            if self in sockets:
                sockets.remove(self)
            if not sockets:
                self.host.tcp.bound.pop(self._local, None)

    def listen(self: SimSocket, backlog: int = 128) -> None:
        """Accept connections on the bound port (a free one if unbound), at most `backlog` waiting."""
        self._check()
        if self.type != _std.SOCK_STREAM:
            raise os_error(errno.EOPNOTSUPP)
        if self._endpoint is not None:
            raise os_error(errno.EINVAL)
        if self._listening is not None:
            self._listening.backlog = max(1, backlog)
            return
        if self._local is None:
            self.bind(("", 0))
        assert self._local is not None
        reuse = bool(self._options.get((_std.SOL_SOCKET, _std.SO_REUSEADDR)))
        if self.host.tcp.port_in_use(*self._local, reuse=reuse, me=self):  # another listens there since bind()
            raise os_error(errno.EADDRINUSE)
        nodelay = bool(self._options.get((_std.IPPROTO_TCP, _std.TCP_NODELAY)))
        self._listening = self.host.tcp.listen(self._local, min(max(backlog, 0), 4096) + 1, nodelay=nodelay,
                                               user_mss=self._options.get((_std.IPPROTO_TCP, _std.TCP_MAXSEG)))

    def accept(self: SimSocket) -> tuple[SimSocket, tuple[str, int]]:
        """The next established connection: (a new socket, the peer's address)."""
        self._check()
        listening = self._listening
        if listening is None:
            raise os_error(errno.EINVAL)  # Linux: accept() on a socket that is not listening
        self._wait([listening.waits], lambda: bool(listening.ready) or listening.closed, "accept()")
        if not listening.ready:
            raise os_error(errno.EINVAL)
        endpoint = listening.ready.pop(0)
        endpoint.listener = None
        sock = self._new_stream_socket()
        sock._endpoint = endpoint
        if self._options.get((_std.IPPROTO_TCP, _std.TCP_NODELAY)):
            endpoint.conn.nodelay = True
        remote = endpoint.conn.remote
        return sock, (str(IPv4Address(remote[0])), remote[1])

    def connect(self: SimSocket, address: Any) -> None:
        """Connect to (address, port); ("", port) is this host, as on Linux."""
        code = self._connect(address, raising=True)
        if code:
            raise os_error(code)

    def connect_ex(self: SimSocket, address: Any) -> int:
        """connect() returning the errno instead of raising (0 on success)."""
        try:
            return self._connect(address, raising=False)
        except BlockingIOError as exc:
            return exc.errno or errno.EINPROGRESS

    def _connect(self: SimSocket, address: Any, *, raising: bool) -> int:
        self._check()
        ip, port = self._address(address)
        if not ip:
            ip = LOOPBACK
        if self.type == _std.SOCK_DGRAM:
            if self._udp is None:
                self._udp = self.host.sockets.bind_udp(0, None)
                self._apply_udp_options()
            self._udp.connect((IPv4Address(ip), port))
            return 0
        if self._listening is not None:
            raise os_error(errno.EINVAL)
        endpoint = self._endpoint
        if endpoint is None:
            if self._connect_started:
                return self._pending_error(consume=True) or errno.ECONNABORTED
            endpoint = self._open(ip, port)
        elif endpoint.conn.state not in _CONNECTING:
            error = self._pending_error(consume=True)
            if self._connect_in_progress:  # Linux: the first connect() after a non-blocking one completed is 0
                self._connect_in_progress = False
                return error or 0
            return error or errno.EISCONN
        elif self._timeout == 0.0:
            return errno.EALREADY
        conn = endpoint.conn
        if self._timeout == 0.0 and conn.state in _CONNECTING:
            self._connect_in_progress = True
            raise BlockingIOError(errno.EINPROGRESS, os.strerror(errno.EINPROGRESS))
        self._wait([endpoint.waits], lambda: conn.state not in _CONNECTING or bool(conn.error), "connect()")
        return self._pending_error(consume=True) or 0

    def _open(self: SimSocket, ip: int, port: int) -> Any:
        host = self.host
        stack = host.tcp
        if self._local is not None and self._local[0]:
            src = self._local[0]
        elif ip >> 24 == 127 or ip in host.own_ints:
            src = ip
        else:
            found = host.output.route(IPv4Address(ip))
            if found is None or found[0].address is None:
                raise os_error(errno.ENETUNREACH)
            src = int(found[0].address.ip)
        if self._local is not None:
            local = (src, self._local[1])
            self._unbind()
            self._local = None
        else:
            local = (src, stack.ephemeral_port(src, (ip, port)))
        if (local[0], local[1], ip, port) in stack.connections:
            raise os_error(errno.EADDRNOTAVAIL)
        options: dict[str, Any] = {"nodelay": bool(self._options.get((_std.IPPROTO_TCP, _std.TCP_NODELAY))),
                                   "user_mss": self._options.get((_std.IPPROTO_TCP, _std.TCP_MAXSEG))}
        rcvbuf = self._options.get((_std.SOL_SOCKET, _std.SO_RCVBUF))
        sndbuf = self._options.get((_std.SOL_SOCKET, _std.SO_SNDBUF))
        if rcvbuf:
            options["rcvbuf"] = rcvbuf * 2  # Linux doubles what setsockopt asks for
        if sndbuf:
            options["sndbuf"] = sndbuf * 2
        self._connect_started = True
        self._endpoint = stack.connect(local, (ip, port), **options)
        if self._options.get((_std.SOL_SOCKET, _std.SO_KEEPALIVE)):
            self._endpoint.conn.set_keepalive(True, host.network.clock.now)
        return self._endpoint

    # Stream data ------------------------------------------------------------------------------------------
    def _connected(self: SimSocket) -> Any:
        self._check()
        endpoint = self._endpoint
        if endpoint is None:
            raise os_error(errno.ENOTCONN)
        return endpoint

    def send(self: SimSocket, data: bytes, flags: int = 0) -> int:
        """Queue as much of `data` as the send buffer takes (blocking until some fits); the count queued."""
        if self.type == _std.SOCK_DGRAM:
            return self.sendto(data, None)
        self._check()
        endpoint = self._endpoint
        if endpoint is None:  # Linux: sending on a stream socket that is not connected (or listens) is EPIPE
            raise os_error(errno.EPIPE)
        conn = endpoint.conn
        view = memoryview(data).cast("B")
        if not view:
            return 0

        # Linux wakes a writer blocked on a full send buffer only once a third of it is free again
        # (sk_stream_write_space: free >= queued / 2), so it sends in large pieces, not one per ACK.
        wanted = min(len(view), conn.sndq.capacity // 3) or 1

        def ready() -> bool:
            return conn.send_space >= wanted or bool(conn.error) or conn.state not in _SENDABLE

        if not (conn.send_space > 0 and not conn.error and conn.state in _SENDABLE):  # else room now: no wait
            self._wait([endpoint.waits], ready, "send()")
        error = self._pending_error(consume=True)
        if error:
            raise os_error(error)
        if self._shut_write or conn.state not in _SENDABLE:
            raise os_error(errno.EPIPE)
        count, segments = conn.send(bytes(view[:conn.send_space]), self.host.network.clock.now)
        self.host.tcp.settle(endpoint, segments)
        return count

    def sendall(self: SimSocket, data: bytes, flags: int = 0) -> None:
        """Send every byte (blocking as needed)."""
        view = memoryview(data).cast("B")
        while view:
            sent = self.send(view, flags)
            view = view[sent:]

    def recv(self: SimSocket, bufsize: int, flags: int = 0) -> bytes:
        """Up to `bufsize` bytes as soon as any are there; b"" once the peer has closed and all is read."""
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if self.type == _std.SOCK_DGRAM:
            return self._recv_datagram(bufsize)[0]
        endpoint = self._connected()
        if bufsize == 0:  # Linux returns at once: nothing asked, nothing to wait for
            return b""
        conn = endpoint.conn
        if conn.readable and not flags:  # the common case: bytes are waiting
            data, segments = conn.recv(bufsize, self.host.network.clock.now)
            if segments or conn._events:
                self.host.tcp.settle(endpoint, segments)
            return data
        if conn.state in _CONNECTING:
            self._wait([endpoint.waits], lambda: conn.state not in _CONNECTING or bool(conn.error), "recv()")

        def ready() -> bool:
            return conn.readable > 0 or conn.at_eof or bool(conn.error) or conn.state is State.CLOSED

        if flags & _MSG_DONTWAIT and not ready():
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        self._wait([endpoint.waits], ready, "recv()")
        if conn.readable and flags & _MSG_PEEK:  # look without taking
            return bytes(conn.rcvq.data[:bufsize])
        if conn.readable:
            data, segments = conn.recv(bufsize, self.host.network.clock.now)
            self.host.tcp.settle(endpoint, segments)
            return data
        if conn.fin_received:  # Linux: after the peer's FIN, EOF comes first (SOCK_DONE); a later RST's error
            endpoint.eof_read = True  # waits for the next send
            return b""
        error = self._pending_error(consume=True)
        if error:
            raise os_error(error)
        return b""

    def recv_into(self: SimSocket, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """recv() into a buffer; the count written."""
        view = memoryview(buffer).cast("B")
        data = self.recv(nbytes or len(view), flags)
        view[:len(data)] = data
        return len(data)

    def shutdown(self: SimSocket, how: int) -> None:
        """SHUT_WR sends FIN after what is queued; SHUT_RD stops reading; SHUT_RDWR both."""
        if how not in (_std.SHUT_RD, _std.SHUT_WR, _std.SHUT_RDWR):
            raise os_error(errno.EINVAL)
        if self.type == _std.SOCK_DGRAM:
            return
        endpoint = self._connected()
        if how in (_std.SHUT_WR, _std.SHUT_RDWR) and not self._shut_write:
            self._shut_write = True
            self.host.tcp.settle(endpoint, endpoint.conn.shutdown(self.host.network.clock.now))

    # Datagrams --------------------------------------------------------------------------------------------
    def sendto(self: SimSocket, data: bytes, flags_or_address: Any, address: Any = None) -> int:
        """Send one datagram to `address` (or the connected peer when it is None)."""
        self._check()
        target = flags_or_address if address is None else address
        if self.type == _std.SOCK_STREAM:  # Linux ignores the address of a stream socket
            return self.send(data)
        if len(data) > 65507:  # 65535 less the IPv4 and UDP headers
            raise os_error(errno.EMSGSIZE)
        if self._udp is None:
            self._udp = self.host.sockets.bind_udp(0, None)
            self._apply_udp_options()
        try:
            ok = self._udp.sendto(bytes(data), None if target is None else
                                  (IPv4Address(self._address(target)[0] or LOOPBACK), target[1]))
        except LayersimError as exc:
            raise os_error(errno.EINVAL, str(exc)) from None
        if not ok:
            raise os_error(errno.ENETUNREACH)
        return len(data)

    def _recv_datagram(self: SimSocket, bufsize: int) -> tuple[bytes, tuple[str, int] | None]:
        self._check()
        udp = self._udp
        if udp is None:
            self._wait([], lambda: False, "recvfrom()")  # never bound: nothing can arrive
            raise AssertionError("unreachable")
        self._wait([udp._waits], lambda: bool(udp.queue) or bool(udp.pending_error), "recvfrom()")
        if not udp.queue:
            code, udp.pending_error = udp.pending_error, 0
            raise os_error(code)
        datagram = udp.queue.popleft()
        return datagram.data[:bufsize], (str(datagram.source[0]), datagram.source[1])

    def recvfrom(self: SimSocket, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        """One datagram (cut to `bufsize`) and its sender; for TCP, recv() and None."""
        if self.type == _std.SOCK_STREAM:
            return self.recv(bufsize, flags), None
        return self._recv_datagram(bufsize)

    def recvfrom_into(self: SimSocket, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, Any]:
        """recvfrom() into a buffer."""
        view = memoryview(buffer).cast("B")
        data, source = self.recvfrom(nbytes or len(view), flags)
        view[:len(data)] = data
        return len(data), source
