"""The operations of a simulated socket: bind, listen, accept, connect, send and receive, for TCP and UDP."""

from __future__ import annotations

import errno
import operator
import os
import socket as _std
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Protocol

from layersim.errors import LayersimError
from layersim.net.host.socketapi.arguments import (
    bytes_view,
    int_argument,
    into_size,
    os_error,
    size_argument,
    writable_view,
)
from layersim.tcp import State

if TYPE_CHECKING:
    from layersim.net.host.datagram_sockets import DatagramSocket
    from layersim.net.host.socketapi.socket_host import SocketHost
    from layersim.net.host.tcp_stack import Endpoint, ListenEndpoint

__all__ = ["OpsSocket", "SocketOps", "os_error"]

LOOPBACK = 0x7F000001
TCP_USER_TIMEOUT = (_std.IPPROTO_TCP, 18)  # RFC 5482, in ms (socket.TCP_USER_TIMEOUT on Linux)
_CONNECTING = frozenset({State.SYN_SENT, State.SYN_RECEIVED})
_SENDABLE = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})
_MSG_DONTWAIT, _MSG_PEEK = int(_std.MSG_DONTWAIT), int(_std.MSG_PEEK)  # ints: enum.Flag's `&` runs in Python


class OpsSocket(Protocol):
    """The socket these operations act on (a OpsSocket is one): its state, its checks and waits, and the
    operations themselves, which call each other."""

    host: SocketHost
    type: _std.SocketKind
    _timeout: float | None
    _local: tuple[int, int] | None
    _endpoint: Endpoint | None
    _listening: ListenEndpoint | None
    _udp: DatagramSocket | None
    _options: dict[tuple[int, int], int]
    _shut_write: bool
    _connect_started: bool
    _connect_in_progress: bool

    def _check(self) -> None: ...

    def _wait(self, queues: list[list[Any]], ready: Any, what: str) -> None: ...

    def _address(self, address: Any, call: str) -> tuple[int, int]: ...

    def _apply_udp_options(self) -> None: ...

    def _pending_error(self, *, consume: bool) -> int | None: ...

    def _stop_listening(self) -> None: ...

    def _new_stream_socket(self) -> OpsSocket: ...

    def bind(self, address: Any) -> None: ...

    def _unbind(self) -> None: ...

    def _connect(self, target: tuple[int, int]) -> int: ...

    def _open(self, ip: int, port: int) -> Any: ...

    def _connected(self) -> Any: ...

    def send(self, data: bytes, flags: int = 0) -> int: ...

    def recv(self, bufsize: int, flags: int = 0) -> bytes: ...

    def _send_datagram(self, view: memoryview, target: tuple[int, int] | None) -> int: ...

    def _autobind_udp(self) -> None: ...

    def _recv_datagram(self, bufsize: int) -> tuple[bytes, tuple[str, int] | None]: ...

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]: ...


class SocketOps:
    """bind/listen/accept/connect/send/recv of SimSocket (kept apart to keep each module small)."""

    # Addresses --------------------------------------------------------------------------------------------
    def bind(self: OpsSocket, address: Any) -> None:
        """Bind to (address, port): "" or "0.0.0.0" is every address, port 0 a free ephemeral one."""
        ip, port = self._address(address, "bind")
        self._check()
        if self._local is not None or self._udp is not None or self._endpoint is not None or \
                self._listening is not None:
            raise os_error(errno.EINVAL)
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
            try:
                port = stack.ephemeral_bind_port(ip)
            except OSError as exc:  # Linux's text, not the stack's
                raise os_error(exc.errno or errno.EADDRINUSE) from None
        elif stack.port_in_use(ip, port, reuse=reuse):
            raise os_error(errno.EADDRINUSE)
        self._local = (ip, port)
        stack.add_bound(self._local, self)

    def shares_port(self: OpsSocket) -> bool:
        """Whether another SO_REUSEADDR socket may bind this one's port now: it set SO_REUSEADDR and does not
        listen (Linux's inet_csk_bind_conflict)."""
        return bool(self._options.get((_std.SOL_SOCKET, _std.SO_REUSEADDR))) and self._listening is None

    def _unbind(self: OpsSocket) -> None:
        """Give the bound port back (at close, or when connect() takes it into the connection)."""
        if self._local is not None:
            self.host.tcp.remove_bound(self._local, self)

    def listen(self: OpsSocket, backlog: int = 128) -> None:
        """Accept connections on the bound port (a free one if unbound), at most `backlog` waiting."""
        backlog = int_argument(backlog)
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

    def accept(self: OpsSocket) -> tuple[OpsSocket, tuple[str, int]]:
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
        # The connection's socket is a clone of the listener (Linux sk_clone_lock): it has the listener's options
        # (SO_REUSEADDR, SO_KEEPALIVE, SO_LINGER, TCP_NODELAY, buffers, ...); tcp_create_openreq_child starts the
        # keepalive timer of a child whose listener set SO_KEEPALIVE.
        sock._options = dict(self._options)
        if self._options.get((_std.IPPROTO_TCP, _std.TCP_NODELAY)):
            endpoint.conn.nodelay = True
        if self._options.get((_std.SOL_SOCKET, _std.SO_KEEPALIVE)):
            endpoint.conn.set_keepalive(True, self.host.clock.now)
        endpoint.conn.user_timeout_ns = self._options.get(TCP_USER_TIMEOUT, 0) * 1_000_000  # ms, inherited too
        remote = endpoint.conn.remote
        return sock, (str(IPv4Address(remote[0])), remote[1])

    def connect(self: OpsSocket, address: Any) -> None:
        """Connect to (address, port); ("", port) is this host, as on Linux."""
        code = self._connect(self._address(address, "connect"))
        if code:
            raise os_error(code)

    def connect_ex(self: OpsSocket, address: Any) -> int:
        """connect() returning the errno instead of raising (0 on success); a bad address still raises."""
        target = self._address(address, "connect_ex")
        try:
            return self._connect(target)
        except TimeoutError:  # socketmodule.c sock_call_ex: a timeout is SOCK_TIMEOUT_ERR when asked for an errno
            return errno.EAGAIN
        except OSError as exc:  # what connect(2) says, as an errno (EBADF, ENETUNREACH, EINPROGRESS...)
            return exc.errno or errno.EINVAL

    def _connect(self: OpsSocket, target: tuple[int, int]) -> int:
        self._check()
        ip, port = target
        if not ip:
            ip = LOOPBACK
        if self.type == _std.SOCK_DGRAM:
            if self._udp is None:
                self._autobind_udp()
            self._udp.connect((IPv4Address(ip), port))
            return 0
        if self._listening is not None:
            raise os_error(errno.EISCONN)  # inet_stream_connect: a listener is not TCP_CLOSE
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

    def _open(self: OpsSocket, ip: int, port: int) -> Any:
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
            try:
                local = (src, stack.ephemeral_port(src, (ip, port)))
            except OSError as exc:  # Linux's text, not the stack's
                raise os_error(exc.errno or errno.EADDRNOTAVAIL) from None
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
        self._endpoint.conn.user_timeout_ns = self._options.get(TCP_USER_TIMEOUT, 0) * 1_000_000  # SYNs count too
        if self._options.get((_std.SOL_SOCKET, _std.SO_KEEPALIVE)):
            self._endpoint.conn.set_keepalive(True, host.clock.now)
        return self._endpoint

    # Stream data ------------------------------------------------------------------------------------------
    def _connected(self: OpsSocket) -> Any:
        self._check()
        endpoint = self._endpoint
        if endpoint is None:
            raise os_error(errno.ENOTCONN)
        return endpoint

    def send(self: OpsSocket, data: bytes, flags: int = 0) -> int:
        """Queue as much of `data` as the send buffer takes (blocking until some fits); the count queued."""
        view = bytes_view(data)
        if self.type == _std.SOCK_DGRAM:
            return self._send_datagram(view, None)
        self._check()
        endpoint = self._endpoint
        if endpoint is None:  # Linux: sending on a stream socket that is not connected (or listens) is EPIPE
            raise os_error(errno.EPIPE)
        conn = endpoint.conn
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
        count, segments = conn.send(bytes(view[:conn.send_space]), self.host.clock.now)
        self.host.tcp.settle(endpoint, segments)
        return count

    def sendall(self: OpsSocket, data: bytes, flags: int = 0) -> None:
        """Send every byte (blocking as needed)."""
        view = bytes_view(data)
        while view:
            sent = self.send(view, flags)
            view = view[sent:]

    def recv(self: OpsSocket, bufsize: int, flags: int = 0) -> bytes:
        """Up to `bufsize` bytes as soon as any are there; b"" once the peer has closed and all is read."""
        bufsize = size_argument(bufsize)
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if bufsize == 0:  # CPython's sock_recv returns at once, without a recv(2): nothing asked, nothing to wait for
            return b""
        if self.type == _std.SOCK_DGRAM:
            return self._recv_datagram(bufsize)[0]
        endpoint = self._connected()
        conn = endpoint.conn
        if conn.readable and not flags:  # the common case: bytes are waiting
            data, segments = conn.recv(bufsize, self.host.clock.now)
            if segments or conn._events:
                self.host.tcp.settle(endpoint, segments)
            return data
        if conn.state in _CONNECTING:
            self._wait([endpoint.waits], lambda: conn.state not in _CONNECTING or bool(conn.error), "recv()")

        def ready() -> bool:
            return conn.readable > 0 or conn.at_eof or bool(conn.error) or conn.state is State.CLOSED or \
                self._shut_read

        if flags & _MSG_DONTWAIT and not ready():
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        self._wait([endpoint.waits], ready, "recv()")
        if conn.readable and flags & _MSG_PEEK:  # look without taking
            return bytes(conn.rcvq.data[:bufsize])
        if conn.readable:
            data, segments = conn.recv(bufsize, self.host.clock.now)
            self.host.tcp.settle(endpoint, segments)
            return data
        if conn.fin_received:  # Linux: after the peer's FIN, EOF comes first (SOCK_DONE); a later RST's error
            endpoint.eof_read = True  # waits for the next send
            return b""
        if self._shut_read:  # Linux tcp_recvmsg: nothing queued and RCV_SHUTDOWN set returns 0 at once
            return b""
        error = self._pending_error(consume=True)
        if error:
            raise os_error(error)
        return b""

    def recv_into(self: OpsSocket, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """recv() into a buffer; the count written."""
        view = writable_view(buffer, "recv_into")
        nbytes = into_size(nbytes, len(view), "recv_into", "buffer too small for requested bytes")
        data = self.recv(nbytes, flags)
        view[:len(data)] = data
        return len(data)

    def shutdown(self: OpsSocket, how: int) -> None:
        """SHUT_WR sends FIN after what is queued; SHUT_RD stops reading; SHUT_RDWR both."""
        how = int_argument(how)
        self._check()  # Linux looks the descriptor up first (EBADF), then checks `how` (inet_shutdown: EINVAL)
        if how not in (_std.SHUT_RD, _std.SHUT_WR, _std.SHUT_RDWR):
            raise os_error(errno.EINVAL)
        if self.type == _std.SOCK_DGRAM:
            return
        if self._listening is not None:  # inet_shutdown: a listener is not ENOTCONN; SHUT_RD (and SHUT_RDWR)
            if how != _std.SHUT_WR:  # disconnect it (tcp_disconnect -> inet_csk_listen_stop), SHUT_WR does nothing
                self._stop_listening()
            return
        endpoint = self._connected()
        if how in (_std.SHUT_RD, _std.SHUT_RDWR) and not self._shut_read:
            # Linux tcp_shutdown sets RCV_SHUTDOWN: a read with nothing queued returns 0 at once, and a blocked
            # one wakes (sk_state_change); data that still arrives is queued and can be read
            self._shut_read = True
            endpoint.wake()
        if how in (_std.SHUT_WR, _std.SHUT_RDWR) and not self._shut_write:
            self._shut_write = True
            self.host.tcp.settle(endpoint, endpoint.conn.shutdown(self.host.clock.now))

    # Datagrams --------------------------------------------------------------------------------------------
    def sendto(self: OpsSocket, data: bytes, flags_or_address: Any, address: Any = None) -> int:
        """Send one datagram to `address` (or the connected peer when it is None)."""
        view = bytes_view(data)
        target = self._address(flags_or_address if address is None else address, "sendto")
        if self.type == _std.SOCK_STREAM:  # Linux ignores the address of a stream socket
            return self.send(view)
        return self._send_datagram(view, target)

    def _send_datagram(self: OpsSocket, view: memoryview, target: tuple[int, int] | None) -> int:
        """Send `view` as one datagram to (ip, port), or to the connected peer when `target` is None."""
        self._check()
        if target is None and (self._udp is None or self._udp.remote is None):
            raise os_error(errno.EDESTADDRREQ)  # udp_sendmsg: no address and not connected (before any autobind)
        if len(view) > 65507:  # 65535 less the IPv4 and UDP headers
            raise os_error(errno.EMSGSIZE)
        if self._udp is None:
            self._autobind_udp()
        try:
            ok = self._udp.sendto(bytes(view), None if target is None else
                                  (IPv4Address(target[0] or LOOPBACK), target[1]))
        except LayersimError as exc:
            raise os_error(errno.EINVAL, str(exc)) from None
        except OSError as exc:  # an error an earlier datagram brought back (ICMP): Linux's text, not the table's
            raise os_error(exc.errno or errno.EIO) from None
        if not ok:
            raise os_error(errno.ENETUNREACH)
        return len(view)

    def _autobind_udp(self: OpsSocket) -> None:
        """Bind an unbound UDP socket to a free port before connect() or sendto(); none free is EAGAIN, as Linux's
        inet_autobind returns it (not bind()'s EADDRINUSE)."""
        try:
            self._udp = self.host.sockets.bind_udp(0, None)
        except OSError:
            raise os_error(errno.EAGAIN) from None
        self._apply_udp_options()

    def _recv_datagram(self: OpsSocket, bufsize: int) -> tuple[bytes, tuple[str, int] | None]:
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

    def recvfrom(self: OpsSocket, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        """One datagram (cut to `bufsize`) and its sender; for TCP, recv() and None."""
        if operator.index(bufsize) < 0:
            raise ValueError("negative buffersize in recvfrom")
        if self.type == _std.SOCK_STREAM:
            return self.recv(bufsize, flags), None
        return self._recv_datagram(bufsize)

    def recvfrom_into(self: OpsSocket, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, Any]:
        """recvfrom() into a buffer."""
        view = writable_view(buffer, "recvfrom_into")
        nbytes = into_size(nbytes, len(view), "recvfrom_into", "nbytes is greater than the length of the buffer")
        data, source = self.recvfrom(nbytes, flags)
        view[:len(data)] = data
        return len(data), source
