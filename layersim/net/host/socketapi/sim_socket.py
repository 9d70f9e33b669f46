"""`socket.socket` on a simulated host: the stdlib subset that tutorials, http.client and urllib3 use.

A `SimSocket` behaves as CPython's socket object does on Linux: blocking, non-blocking and timeout modes, the
same exceptions with the same errno values (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
TimeoutError, OSError EINVAL for accept() before listen(), EADDRINUSE), `makefile`, and the context manager.
Blocking calls park the calling simulated process; nothing here reads a real clock or opens a real socket.
"""

from __future__ import annotations

import errno
import io
import operator
import os
import socket as _std
import struct
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from layersim.net.engine.process import current_process, wait_until
from layersim.net.host.datagram_sockets import address_int
from layersim.net.host.socketapi.arguments import c_int, socket_arguments
from layersim.net.host.socketapi.pytime import socket_timeout
from layersim.net.host.socketapi.sim_socket_ops import TCP_USER_TIMEOUT, SocketOps, os_error
from layersim.net.host.socketapi.sockopts import check_getsockopt, check_setsockopt, int_value
from layersim.tcp import State
from layersim.tcp.options import MAX_TCP_WINDOW, TCP_MIN_MSS

if TYPE_CHECKING:
    from layersim.net.host.datagram_sockets import DatagramSocket
    from layersim.net.host.socketapi.socket_host import SocketHost
    from layersim.net.host.tcp_stack import Endpoint, ListenEndpoint

__all__ = ["SimSocket", "os_error"]

_DEFAULT = object()
# What getsockopt reports for a SO_RCVBUF/SO_SNDBUF set tiny: Linux's SOCK_MIN_RCVBUF and SOCK_MIN_SNDBUF.
TCP_MSS_DEFAULT = 536  # Linux: what TCP_MAXSEG reads before a connection has an MSS (RFC 1122 §4.2.2.6)
_BUFFER_MINIMUM = {(_std.SOL_SOCKET, _std.SO_RCVBUF): 2304, (_std.SOL_SOCKET, _std.SO_SNDBUF): 4608}


def _open_socket(host: SocketHost, fileno: Any) -> SimSocket:
    """The socket behind descriptor `fileno` of this host: EBADF if there is none, as the kernel says."""
    number = operator.index(fileno)
    if number < 0:
        raise ValueError("negative file descriptor")
    source = host.fd_table.get(number)
    if source is None:
        raise os_error(errno.EBADF)
    return source


class SimSocket(SocketOps):
    """A socket of a simulated host (AF_INET; SOCK_STREAM is TCP, SOCK_DGRAM is UDP)."""

    def __init__(self, host: SocketHost, family: int = _std.AF_INET, type: int = _std.SOCK_STREAM, proto: int = 0,
                 fileno: int | None = None, *, timeout: float | object | None = _DEFAULT) -> None:
        source = None if fileno is None else _open_socket(host, fileno)
        if source is not None:  # socket(fileno=n): what the descriptor is, for what the caller left at -1
            family = int(source.family) if family == -1 else family
            type = int(source.type) if type == -1 else type
            proto = (6 if source.type == _std.SOCK_STREAM else 17) if proto == -1 else proto
        family, type, proto = socket_arguments(family, type, proto, fileno)
        base_type = type & ~(_std.SOCK_NONBLOCK | _std.SOCK_CLOEXEC)
        self.host = host
        self.family = _std.AddressFamily.AF_INET
        self.type = _std.SocketKind(base_type)
        self.proto = proto  # what the program passed (0 unless it named one), as CPython keeps it
        self._fd = host.new_fd(self) if fileno is None else fileno
        self._timeout: float | None = None if timeout is _DEFAULT else timeout  # type: ignore[assignment]
        if type & _std.SOCK_NONBLOCK:
            self._timeout = 0.0
        self._closed = False  # close() was called
        self._released = False  # ... and no makefile() object keeps the connection: it is really closed
        self._io_refs = 0
        self._local: tuple[int, int] | None = None  # bound address
        self._endpoint: Endpoint | None = None  # a TCP connection
        self._listening: ListenEndpoint | None = None
        self._udp: DatagramSocket | None = None
        self._options: dict[tuple[int, int], int] = {}
        self._shut_write = False
        self._shut_read = False  # shutdown(SHUT_RD): reads return 0 once nothing is queued
        self._connect_started = False
        self._connect_in_progress = False  # a non-blocking connect() whose outcome no connect() has reported yet
        self._owner = current_process()
        if self._owner is not None:  # when the process ends its sockets close, as the kernel closes an exiting
            self._owner.on_exit.append(self._release)  # process's files
        if source is not None:
            self._take_over(source)

    def _take_over(self, source: SimSocket) -> None:
        """Become the socket object of `source`'s descriptor (socket(fileno=old.detach()), as ssl and asyncio
        do): its connection, listener or datagram socket, bound address and options."""
        for name in ("_local", "_endpoint", "_listening", "_udp", "_shut_write", "_shut_read", "_connect_started",
                     "_connect_in_progress"):
            setattr(self, name, getattr(source, name))
        self._options = dict(source._options)
        if source._local is not None:
            bound = self.host.tcp.bound.get(source._local, [])
            bound[:] = [self if sock is source else sock for sock in bound]
        self.host.fd_table[self._fd] = self

    def _new_stream_socket(self) -> SimSocket:
        """A new TCP socket of the same host and class (what accept() returns)."""
        return SimSocket(self.host, _std.AF_INET, _std.SOCK_STREAM)

    @property
    def owner(self) -> Any:
        """The process that opened this socket (None when made outside any process), as `ss -p` names it."""
        return self._owner

    # stdlib plumbing --------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<layersim socket fd={self._fd} {self.type.name} on {self.host.name}>"

    def __enter__(self) -> SimSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fileno(self) -> int:
        """A file descriptor number of this host (-1 once closed)."""
        return -1 if self._released else self._fd

    def settimeout(self, value: float | None) -> None:
        """None blocks, 0 never blocks, a positive number of seconds raises TimeoutError when it passes."""
        self._timeout = socket_timeout(value)  # CPython's errors for NaN, inf, a str... (pytime.py)
        self._check()  # CPython sets the value, then fcntl() on a closed socket's -1 fails: EBADF

    def gettimeout(self) -> float | None:
        """The timeout in seconds (None: blocking)."""
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        """Blocking (True) or non-blocking (False) mode."""
        block = c_int(flag)  # TypeError for a str, a float, None
        self._timeout = None if block else 0.0
        self._check()

    def getblocking(self) -> bool:
        """Whether calls block."""
        return self._timeout != 0.0

    @property
    def timeout(self) -> float | None:
        """The timeout, as the stdlib attribute."""
        return self._timeout

    def _check(self) -> None:
        if self._released:
            raise os_error(errno.EBADF)

    def _wait(self, queues: list[list[Any]], ready: Any, what: str) -> None:
        """Block as the timeout says: BlockingIOError when non-blocking, TimeoutError when it passes."""
        if ready():
            return
        if self._timeout == 0.0:
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        timeout_ns = None if self._timeout is None else round(self._timeout * 1e9)
        if not wait_until(self.host.clock, queues, ready, timeout_ns):
            if self._timeout is None:  # outside a process nothing can ever change: say so instead of hanging
                from layersim.net.engine.process import ProcessError

                raise ProcessError(f"{self.host.name}: {what} would block: call it from a simulated process "
                                   "(host.spawn or host.run_script)")
            raise TimeoutError("timed out")

    # Readiness, for select and selectors -------------------------------------------------------------------
    def _readable(self) -> bool:
        """Whether recv()/accept() would not block."""
        if self._released:
            return True
        if self._listening is not None:
            return bool(self._listening.ready) or self._listening.closed
        if self._endpoint is not None:
            conn = self._endpoint.conn
            return conn.readable > 0 or conn.at_eof or bool(conn.error) or conn.state is State.CLOSED or \
                self._shut_read  # Linux tcp_poll: RCV_SHUTDOWN makes a socket readable
        if self._udp is not None:
            return bool(self._udp.queue) or bool(self._udp.pending_error)
        return False

    def _writable(self) -> bool:
        """Whether send() would not block (a connect() in progress has finished, one way or the other)."""
        if self._released:
            return True
        if self._listening is not None:
            return False
        if self._endpoint is not None:
            conn = self._endpoint.conn
            if conn.state in (State.SYN_SENT, State.SYN_RECEIVED) and not conn.error:
                return False
            # Linux's sk_stream_is_writeable: free space at least half of what is queued, not a single byte
            return conn.send_space >= (conn.sndq.capacity - conn.send_space) // 2 or bool(conn.error) or \
                conn.state not in (State.ESTABLISHED, State.CLOSE_WAIT)
        return True

    def _queues(self) -> list[list[Any]]:
        """The wait queues a change of this socket's readiness is announced on."""
        if self._listening is not None:
            return [self._listening.waits]
        if self._endpoint is not None:
            return [self._endpoint.waits]
        if self._udp is not None:
            return [self._udp._waits]
        return []

    # Names ------------------------------------------------------------------------------------------------
    def getsockname(self) -> tuple[str, int]:
        """(address, port) of this end ("0.0.0.0", 0 before bind or connect)."""
        self._check()
        if self._endpoint is not None:
            local = self._endpoint.conn.local
        elif self._udp is not None:
            local = self._udp.local
        else:
            local = self._local or (0, 0)
        return str(IPv4Address(local[0])), local[1]

    def getpeername(self) -> tuple[str, int]:
        """(address, port) of the other end; OSError ENOTCONN when not connected."""
        self._check()
        if self._endpoint is not None:
            remote = self._endpoint.conn.remote
        elif self._udp is not None and self._udp.remote is not None:
            remote = self._udp.remote
        else:
            raise os_error(errno.ENOTCONN)
        return str(IPv4Address(remote[0])), remote[1]

    def _address(self, address: Any, call: str) -> tuple[int, int]:
        """(ip as int, port) from ("10.0.0.1" | "" | name, port): names resolve as getaddrinfo does. Checked in
        CPython's order and words (socketmodule.c getsockaddrarg: a tuple, a pair, the host, the port)."""
        if not isinstance(address, tuple):
            raise TypeError(f"{call}(): AF_INET address must be tuple, not {type(address).__name__}")
        if len(address) != 2:
            raise TypeError("AF_INET address must be a pair (host, port)")
        name, port = address
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode("idna")
        elif not isinstance(name, str):
            raise TypeError(f"str, bytes or bytearray expected, not {type(name).__name__}")
        port = operator.index(port)
        if not -2**31 <= port < 2**31 or name in ("", "0.0.0.0"):
            ip = 0
        else:
            try:
                ip = address_int(name)
            except Exception:
                ip = int(self.host.resolve(name))
        if not 0 <= port <= 0xFFFF:
            raise OverflowError(f"{call}(): port must be 0-65535.")
        return ip, port

    # Options ----------------------------------------------------------------------------------------------
    def setsockopt(self, level: int, optname: int, value: int | bytes, optlen: int | None = None) -> None:
        """SO_REUSEADDR, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, TCP_NODELAY, TCP_MAXSEG, IP_TTL, IP_TOS (other options
        Linux knows are kept; one it does not know is ENOPROTOOPT, see sockopts.py)."""
        value = int_value(value)
        self._check()
        check_setsockopt(self.type, level, optname, value)
        if (level, optname) == (_std.IPPROTO_IP, _std.IP_TTL) and value == -1:
            self._options.pop((level, optname), None)  # Linux: -1 is the default TTL again
            if self._udp is not None:
                self._apply_udp_options()
            return
        if (level, optname) == (_std.SOL_SOCKET, _std.SO_LINGER):
            assert isinstance(value, bytes)  # Linux: SO_LINGER takes a struct linger (checked: 8 bytes)
            onoff, seconds = struct.unpack("ii", value[:8])
            self._options[(level, optname)] = seconds if onoff else -1  # -1: off (close() as usual)
            return
        number = int.from_bytes(value[:4], "little", signed=True) if isinstance(value, bytes) else int(value)
        if (level, optname) == TCP_USER_TIMEOUT and number < 0:
            raise os_error(errno.EINVAL)  # Linux: a negative user timeout is EINVAL
        if (level, optname) == (_std.IPPROTO_TCP, _std.TCP_MAXSEG) and number and not (
                TCP_MIN_MSS <= number <= MAX_TCP_WINDOW):
            raise os_error(errno.EINVAL)  # Linux do_tcp_setsockopt: 0 unsets, else 88-32767
        self._options[(level, optname)] = number
        if (level, optname) == (_std.IPPROTO_TCP, _std.TCP_MAXSEG) and self._listening is not None:
            self._listening.user_mss = number or None  # Linux: tp->rx_opt.user_mss, read by each SYN-ACK after
        if (level, optname) == (_std.IPPROTO_TCP, _std.TCP_NODELAY) and self._endpoint is not None:
            self._endpoint.conn.nodelay = bool(number)
        if (level, optname) == (_std.SOL_SOCKET, _std.SO_KEEPALIVE) and self._endpoint is not None:
            self._endpoint.conn.set_keepalive(bool(number), self.host.clock.now)
        if (level, optname) == TCP_USER_TIMEOUT and self._endpoint is not None:
            self._endpoint.conn.user_timeout_ns = number * 1_000_000  # ms (Linux do_tcp_setsockopt)
        if self._udp is not None:
            self._apply_udp_options()

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        """What setsockopt set, SO_ERROR (and clears it), SO_TYPE, or Linux's defaults."""
        if buflen is not None and not 0 <= buflen <= 1024:  # CPython's own limit (sock_getsockopt)
            raise OSError("getsockopt buflen out of range")
        self._check()
        check_getsockopt(self.type, level, optname)
        if (level, optname) == (_std.SOL_SOCKET, _std.SO_ERROR):
            code = self._pending_error(consume=True)
            return code or 0
        read_only = {_std.SO_TYPE: int(self.type), _std.SO_DOMAIN: int(self.family),
                     _std.SO_PROTOCOL: 6 if self.type == _std.SOCK_STREAM else 17,
                     _std.SO_ACCEPTCONN: int(self._listening is not None)}  # sk_getsockopt's answers
        if level == _std.SOL_SOCKET and optname in read_only:
            value = read_only[optname]
            return value.to_bytes(4, "little")[:buflen] if buflen else value
        if (level, optname) == (_std.SOL_SOCKET, _std.SO_LINGER):
            seconds = self._options.get((level, optname), -1)
            packed = struct.pack("ii", int(seconds >= 0), max(seconds, 0))
            return packed[:buflen] if buflen else int(seconds >= 0)
        if (level, optname) == (_std.IPPROTO_TCP, _std.TCP_MAXSEG):  # Linux do_tcp_getsockopt: mss_cache
            if self._endpoint is not None and self._endpoint.conn.state is not State.CLOSED:
                return self._endpoint.conn.send_mss
            return self._options.get((level, optname)) or TCP_MSS_DEFAULT
        if (level, optname) == (_std.IPPROTO_TCP, _std.TCP_INFO):  # Linux do_tcp_getsockopt -> tcp_get_info
            return self._tcp_info(buflen)
        defaults = {(_std.SOL_SOCKET, _std.SO_RCVBUF): 131072, (_std.SOL_SOCKET, _std.SO_SNDBUF): 16384,
                    (_std.IPPROTO_IP, _std.IP_TTL): 64}
        value = self._options.get((level, optname), defaults.get((level, optname), 0))
        if (level, optname) in _BUFFER_MINIMUM and (level, optname) in self._options:
            value = max(2 * value, _BUFFER_MINIMUM[(level, optname)])  # Linux doubles it (bookkeeping room)
        return value.to_bytes(4, "little", signed=True)[:buflen] if buflen else value  # an int: 4 bytes at most

    def _tcp_info(self, buflen: int | None) -> int | bytes:
        """struct tcp_info of the connection (a socket without one: zeros in state TCP_CLOSE or TCP_LISTEN)."""
        from layersim.tcp.info import pack_tcp_info, tcp_info  # kept out of the module's import block (see #17)

        if self._endpoint is not None:
            packed = pack_tcp_info(tcp_info(self._endpoint.conn, self.host.clock.now))
        else:
            packed = bytes([10 if self._listening is not None else 7]) + bytes(103)
        return packed[:buflen] if buflen else int.from_bytes(packed[:4], "little", signed=True)

    def _apply_udp_options(self) -> None:
        udp = self._udp
        assert udp is not None
        udp.ttl = self._options.get((_std.IPPROTO_IP, _std.IP_TTL), 64)
        udp.tos = self._options.get((_std.IPPROTO_IP, _std.IP_TOS), 0)
        mode = self._options.get((_std.IPPROTO_IP, getattr(_std, "IP_MTU_DISCOVER", 10)))
        if mode is not None:
            udp.set_pmtu({0: "dont", 1: "want", 2: "do"}.get(mode, "want"))

    def _pending_error(self, *, consume: bool) -> int | None:
        endpoint = self._endpoint
        if endpoint is not None and endpoint.conn.error and not endpoint.error_reported:
            if consume:
                endpoint.error_reported = True
            return endpoint.conn.error
        if self._udp is not None and self._udp.pending_error:
            code = self._udp.pending_error
            if consume:
                self._udp.pending_error = 0
            return code
        return None

    # Closing ----------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the socket: a TCP connection sends FIN (RST when unread data remains), as close(2) does.

        While makefile() objects are open the connection lives on, until the last of them closes (as in CPython).
        """
        self._closed = True
        if self._io_refs <= 0:
            self._release()

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        self.host.free_fd(self._fd, self)
        if self._owner is not None and not self._owner.done and self._release in self._owner.on_exit:
            self._owner.on_exit.remove(self._release)
        stack = self.host.tcp
        if self._endpoint is not None:
            endpoint = self._endpoint
            if endpoint.conn.state not in (State.CLOSED, State.TIME_WAIT):
                linger = self._options.get((_std.SOL_SOCKET, _std.SO_LINGER))
                now = self.host.clock.now
                segments = endpoint.conn.abort(now) if linger == 0 else endpoint.conn.close(now)
                stack.settle(endpoint, segments)
        if self._listening is not None:
            self._stop_listening()
        self._unbind()
        if self._udp is not None:
            self._udp.close()

    def _stop_listening(self) -> None:
        """Stop listening (at close, or shutdown(SHUT_RD)): connections nobody accepted are reset, accept() wakes
        to EINVAL, and the socket keeps its port, as after Linux's inet_csk_listen_stop."""
        listening = self._listening
        assert listening is not None
        stack = self.host.tcp
        self._listening = None
        listening.closed = True
        stack.listeners.pop(listening.local, None)
        for child in listening.pending + listening.ready:  # connections nobody accepted are reset
            stack.settle(child, child.conn.abort(self.host.clock.now))
        listening.wake()

    def _decref_socketios(self) -> None:
        """A makefile() object closed (the stdlib's SocketIO calls this)."""
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    def detach(self) -> int:
        """Forget the socket without closing the connection (returns the fd, -1 if it was closed)."""
        fd = self.fileno()
        self._closed = self._released = True
        return fd

    def makefile(self, mode: str = "r", buffering: int | None = None, *, encoding: str | None = None,
                 errors: str | None = None, newline: str | None = None) -> Any:
        """A file object reading and writing this socket, as the stdlib's makefile() gives."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b)")
        reading, writing, binary = "r" in mode, "w" in mode, "b" in mode
        raw = _std.SocketIO(self, ("r" if reading else "") + ("w" if writing else ""))  # type: ignore[arg-type]
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        if reading and writing:
            buffer: Any = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffer = io.BufferedReader(raw, buffering)
        else:
            buffer = io.BufferedWriter(raw, buffering)
        if binary:
            return buffer
        text = io.TextIOWrapper(buffer, encoding, errors, newline)
        text.mode = mode  # type: ignore[misc]
        return text
