"""An ssl.SSLSocket over a simulated TCP socket: the real ssl module's SSLObject fed through two MemoryBIOs.

`SimSSLSocket` derives from ssl.SSLSocket (so urllib3's, httpcore's and http.client's isinstance checks hold and
`sock._sslobj` is the SSLObject, as httpcore's "ssl_object" expects) but never opens a real descriptor: every
method works on the simulated socket it took over, as CPython's SSLSocket works on its fd (Modules/_ssl.c
PySSL_SSLSocket: handshake, read, write, shutdown retried while OpenSSL wants to read).
"""

from __future__ import annotations

import _socket
import contextlib
import ssl
from typing import Any

__all__ = ["SimSSLSocket", "wrap"]

RECV_BYTES = 65536
MAX_UNSENT = 1 << 20  # a non-blocking socket refuses more writes (SSLWantWriteError) while this much is unsent


class SimSSLSocket(ssl.SSLSocket):
    """TLS on a simulated socket, behaving as the SSLSocket `SSLContext.wrap_socket` gives."""

    _raw: Any
    _world: Any

    @classmethod
    def _make(cls, raw: Any, context: ssl.SSLContext, used: ssl.SSLContext, world: Any, *, server_side: bool,
              server_hostname: str | None, do_handshake_on_connect: bool, suppress_ragged_eofs: bool,
              session: ssl.SSLSession | None) -> SimSSLSocket:
        self: SimSSLSocket = _socket.socket.__new__(cls)  # no descriptor: fd -1, never used
        self._io_refs = 0
        self._closed = False
        self._raw = raw
        self._world = world
        self._context = context  # what the program passed (the `context` property)
        self._used = used  # the copy that trusts the simulated CA (clients) or `context` (servers)
        self.server_side = server_side
        self.server_hostname = server_hostname
        self.do_handshake_on_connect = do_handshake_on_connect
        self.suppress_ragged_eofs = suppress_ragged_eofs
        self._session = session
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._unsent = b""
        self._sslobj: ssl.SSLObject | None = None
        self._connected = raw._endpoint is not None
        if self._connected:
            self._start()
            if do_handshake_on_connect:
                self.do_handshake()
        return self

    def _start(self) -> None:
        self._sslobj = self._used.wrap_bio(self._incoming, self._outgoing, server_side=self.server_side,
                                          server_hostname=self.server_hostname, session=self._session)

    # The BIO pump ------------------------------------------------------------------------------------------
    def _flush(self) -> None:
        """Send what OpenSSL wrote: first hand any new secrets to the captures, so they precede the bytes."""
        self._world.collect()
        self._unsent += self._outgoing.read()
        while self._unsent:
            try:
                sent = self._raw.send(self._unsent)
            except BlockingIOError:
                return
            self._unsent = self._unsent[sent:]

    def _pump(self, op: Any, *args: Any) -> Any:
        """Run an SSLObject call, sending its output and feeding it input until it is done."""
        if self._sslobj is None:
            raise OSError(0, "The SSL socket is not connected") if not self._closed else ValueError(
                "I/O operation on closed SSL socket")
        while True:
            try:
                result = op(*args)
            except ssl.SSLWantReadError:
                self._flush()
                try:
                    data = self._raw.recv(RECV_BYTES)
                except BlockingIOError:
                    raise ssl.SSLWantReadError("The operation did not complete (read)") from None
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    # The SSLSocket API ---------------------------------------------------------------------------------------
    def do_handshake(self, block: bool = False) -> None:
        """The TLS handshake (certificate verification and hostname check included on a client)."""
        self._pump(self._sslobj.do_handshake if self._sslobj else None)  # type: ignore[arg-type]

    def connect(self, address: Any) -> None:
        """Connect the TCP socket, then shake hands (if do_handshake_on_connect)."""
        if self.server_side:
            raise ValueError("can't connect in server-side mode")
        if self._connected:
            raise ValueError("attempt to connect already-connected SSLSocket!")
        self._raw.connect(address)
        self._connected = True
        self._start()
        if self.do_handshake_on_connect:
            self.do_handshake()

    def connect_ex(self, address: Any) -> int:
        """connect(), returning an errno instead of raising it."""
        try:
            self.connect(address)
        except OSError as exc:
            return exc.errno or 0
        return 0

    def accept(self) -> tuple[SimSSLSocket, Any]:
        """Accept a connection and wrap it server-side, as SSLSocket.accept does."""
        conn, address = self._raw.accept()
        return wrap(self._world, self._context, conn, server_side=True,
                    do_handshake_on_connect=self.do_handshake_on_connect,
                    suppress_ragged_eofs=self.suppress_ragged_eofs), address

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        """Decrypted bytes (into `buffer` when given); b"" at close_notify or a ragged EOF when suppressed."""
        try:
            if buffer is not None:
                return self._pump(self._sslobj.read, len, buffer)  # type: ignore[union-attr]
            return self._pump(self._sslobj.read, len)  # type: ignore[union-attr]
        except ssl.SSLEOFError:
            if self.suppress_ragged_eofs:
                return 0 if buffer is not None else b""
            raise

    def write(self, data: Any) -> int:
        """Encrypt and send `data`; the number of bytes taken."""
        if self._raw.gettimeout() == 0.0 and len(self._unsent) > MAX_UNSENT:
            self._flush()
            if len(self._unsent) > MAX_UNSENT:
                raise ssl.SSLWantWriteError("The operation did not complete (write)")
        return self._pump(self._sslobj.write, data)  # type: ignore[union-attr]

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        """read() of a stream socket (flags must be 0, as for SSLSocket)."""
        if flags:
            raise ValueError(f"non-zero flags not allowed in calls to recv() on {self.__class__}")
        return self.read(buflen)  # type: ignore[no-any-return]

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """read() into a buffer."""
        if flags:
            raise ValueError(f"non-zero flags not allowed in calls to recv_into() on {self.__class__}")
        return self.read(nbytes or len(buffer), buffer)  # type: ignore[no-any-return]

    def send(self, data: Any, flags: int = 0) -> int:
        """write() of a stream socket."""
        if flags:
            raise ValueError(f"non-zero flags not allowed in calls to send() on {self.__class__}")
        return self.write(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """write() until every byte is taken."""
        view = memoryview(data).cast("B")
        while view:
            view = view[self.send(view, flags):]

    def pending(self) -> int:
        """Decrypted bytes ready to read without a network read."""
        return self._sslobj.pending() if self._sslobj else 0

    def unwrap(self) -> Any:
        """Send close_notify, wait for the peer's, and give back the plain TCP socket."""
        if self._sslobj is None:
            raise ValueError(f"No SSL wrapper around {self}")
        with contextlib.suppress(ssl.SSLEOFError):
            self._pump(self._sslobj.unwrap)
        self._sslobj = None
        raw, self._raw = self._raw, None
        return raw

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate (a dict of the verified one, or DER)."""
        if self._sslobj is None:
            raise ValueError("handshake not done yet")
        return self._sslobj.getpeercert(binary_form)

    def version(self) -> str | None:
        """The negotiated protocol version, e.g. 'TLSv1.3'."""
        return self._sslobj.version() if self._sslobj else None

    def cipher(self) -> tuple[str, str, int] | None:
        """(name, protocol, bits) of the cipher in use."""
        return self._sslobj.cipher() if self._sslobj else None

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        """The ciphers both sides offered."""
        return self._sslobj.shared_ciphers() if self._sslobj else None

    def compression(self) -> str | None:
        """Always None (OpenSSL 3 has no TLS compression)."""
        return self._sslobj.compression() if self._sslobj else None

    def selected_alpn_protocol(self) -> str | None:
        """The ALPN protocol the server chose."""
        return self._sslobj.selected_alpn_protocol() if self._sslobj else None

    def selected_npn_protocol(self) -> None:
        """NPN is gone from OpenSSL 3's default build: None."""
        return None

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        """RFC 5929 channel binding data."""
        return self._sslobj.get_channel_binding(cb_type) if self._sslobj else None

    @property
    def session(self) -> ssl.SSLSession | None:
        """The TLS session, for resumption."""
        return self._sslobj.session if self._sslobj else self._session

    @session.setter
    def session(self, value: ssl.SSLSession | None) -> None:
        self._session = value

    @property
    def session_reused(self) -> bool | None:
        """Whether the session was resumed."""
        return self._sslobj.session_reused if self._sslobj else None

    # What the simulated socket answers ---------------------------------------------------------------------
    @property
    def family(self) -> Any:  # type: ignore[override]
        """AF_INET."""
        return self._raw.family

    @property
    def type(self) -> Any:  # type: ignore[override]
        """SOCK_STREAM."""
        return self._raw.type

    @property
    def proto(self) -> int:  # type: ignore[override]
        """As the TCP socket's."""
        return int(self._raw.proto)

    @property
    def timeout(self) -> float | None:  # type: ignore[override]
        """The TCP socket's timeout."""
        return self._raw.gettimeout()

    def fileno(self) -> int:
        """The simulated descriptor (-1 once closed)."""
        return -1 if self._raw is None else self._raw.fileno()

    def settimeout(self, value: float | None) -> None:
        """Timeout of every read and write, as on the TCP socket."""
        self._raw.settimeout(value)

    def gettimeout(self) -> float | None:
        """The timeout in seconds (None: blocking)."""
        return self._raw.gettimeout()  # type: ignore[no-any-return]

    def setblocking(self, flag: bool) -> None:
        """Blocking or non-blocking (then SSLWantReadError instead of waiting)."""
        self._raw.setblocking(flag)

    def getblocking(self) -> bool:
        """Whether calls block."""
        return self._raw.getblocking()  # type: ignore[no-any-return]

    def getpeername(self) -> Any:
        """The peer's (address, port)."""
        return self._raw.getpeername()

    def getsockname(self) -> Any:
        """This end's (address, port)."""
        return self._raw.getsockname()

    def setsockopt(self, *args: Any) -> None:
        """Set a socket option on the TCP socket."""
        self._raw.setsockopt(*args)

    def getsockopt(self, *args: Any) -> Any:
        """Read a socket option of the TCP socket."""
        return self._raw.getsockopt(*args)

    def shutdown(self, how: int) -> None:
        """Shut the TCP socket down (no close_notify: that is unwrap's, as in CPython)."""
        self._sslobj = None
        self._raw.shutdown(how)

    def listen(self, backlog: int = 128) -> None:
        """Listen on the TCP socket."""
        self._raw.listen(backlog)

    def bind(self, address: Any) -> None:
        """Bind the TCP socket."""
        self._raw.bind(address)

    def detach(self) -> int:
        """Give up the descriptor (the TLS state goes with it)."""
        self._sslobj = None
        raw, self._raw = self._raw, None
        return raw.detach() if raw is not None else -1

    def _real_close(self) -> None:
        self._sslobj = None
        if self._raw is not None:
            self._raw.close()

    def _check_connected(self) -> None:
        if not self._connected:
            raise OSError(107, "Transport endpoint is not connected")

    def __repr__(self) -> str:
        raw = "closed" if self._raw is None else repr(self._raw)
        return f"<layersim SSLSocket {self.version() or 'no handshake yet'} over {raw}>"

    def __reduce__(self) -> Any:
        raise TypeError(f"cannot pickle {self.__class__.__name__!r} object")


def wrap(world: Any, context: ssl.SSLContext, sock: Any, *, server_side: bool = False,
         do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = True,
         server_hostname: str | None = None, session: ssl.SSLSession | None = None) -> SimSSLSocket:
    """What `context.wrap_socket(sock, ...)` gives for a simulated socket: takes over its descriptor."""
    from layersim.net.host.socketapi.sim_socket import SimSocket

    if isinstance(sock, ssl.SSLSocket):
        raise ValueError("TLS inside TLS on a simulated socket is not supported (the socket is already an SSLSocket)")
    if server_side:
        if server_hostname:
            raise ValueError("server_hostname can only be specified in client mode")
        world.log_keys_of(context)
        used = context
    else:
        used = world.client_context(context)
    timeout = sock.gettimeout()
    raw = type(sock).__new__(type(sock))  # the same class (the host's socket.socket), taking over the descriptor
    SimSocket.__init__(raw, sock.host, -1, -1, -1, sock.detach(), timeout=timeout)
    return SimSSLSocket._make(raw, context, used, world, server_side=server_side, server_hostname=server_hostname,
                              do_handshake_on_connect=do_handshake_on_connect,
                              suppress_ragged_eofs=suppress_ragged_eofs, session=session)
