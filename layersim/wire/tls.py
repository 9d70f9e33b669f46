"""TLS as TCP port 443 carries it (RFC 8446 §5.1 record layer, §4 handshake): records, and the plaintext
handshake messages an observer on the path can read (ClientHello and ServerHello with SNI, ALPN,
supported_versions, key_share; a TLS 1.2 Certificate). Encrypted records stay opaque bytes.

A segment's bytes decode as a chain of TLSRecord layers, one per record; a record cut by the segment's end keeps
its length field and the bytes present, so re-encoding is exact. Bytes that do not start a record (the middle of
a record a previous segment began) stay Raw.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from layersim.errors import DecodeError, FieldValueError
from layersim.wire.fields import Field, HeaderSpec, Layer, UInt, Var
from layersim.wire.payload import Raw

__all__ = ["TLSClientHello", "TLSContentType", "TLSExtension", "TLSHandshake", "TLSHandshakeType", "TLSRecord",
           "TLSServerHello"]


class TLSContentType(IntEnum):
    """RFC 8446 §5.1 ContentType (and RFC 6520 heartbeat)."""

    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23
    HEARTBEAT = 24


class TLSHandshakeType(IntEnum):
    """RFC 8446 §4 HandshakeType (with TLS 1.2's, RFC 5246 §7.4)."""

    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    NEW_SESSION_TICKET = 4
    END_OF_EARLY_DATA = 5
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20
    KEY_UPDATE = 24
    MESSAGE_HASH = 254


class TLSExtension(IntEnum):
    """The extension types layersim reads (IANA TLS ExtensionType Values)."""

    SERVER_NAME = 0  # RFC 6066 §3
    SUPPORTED_GROUPS = 10
    SIGNATURE_ALGORITHMS = 13
    ALPN = 16  # RFC 7301 §3.1
    SUPPORTED_VERSIONS = 43  # RFC 8446 §4.2.1
    KEY_SHARE = 51  # RFC 8446 §4.2.8


class _Reader:
    """Big-endian reads from a bounded slice, each short read a DecodeError naming what and where."""

    __slots__ = ("at", "data", "end", "what")

    def __init__(self, data: bytes, start: int, end: int, what: str) -> None:
        self.data, self.at, self.end, self.what = data, start, end, what

    def take(self, size: int, field: str) -> bytes:
        if self.at + size > self.end:
            raise DecodeError(self.what, self.at, f"{field} needs {size} bytes, {self.end - self.at} left")
        out = self.data[self.at:self.at + size]
        self.at += size
        return out

    def number(self, size: int, field: str) -> int:
        return int.from_bytes(self.take(size, field), "big")

    def vector(self, length_size: int, field: str) -> bytes:
        """An RFC 8446 §3.4 vector: a length of `length_size` bytes, then that many bytes."""
        return self.take(self.number(length_size, f"{field} length"), field)

    def done(self) -> None:
        if self.at != self.end:
            raise DecodeError(self.what, self.at, f"{self.end - self.at} bytes left over after the message")


def _vector(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _extensions(reader: _Reader) -> tuple[tuple[int, bytes], ...]:
    """RFC 8446 §4.2: a 2-byte-length list of (2-byte type, 2-byte-length data)."""
    block = reader.vector(2, "extensions")
    inner = _Reader(block, 0, len(block), reader.what)
    out = []
    while inner.at < inner.end:
        kind = inner.number(2, "extension type")
        out.append((kind, inner.vector(2, f"extension {kind} data")))
    return tuple(out)


def _encode_extensions(extensions: tuple[tuple[int, bytes], ...]) -> bytes:
    return _vector(2, b"".join(kind.to_bytes(2, "big") + _vector(2, data) for kind, data in extensions))


class _Hello(Layer):
    """What ClientHello and ServerHello share: the extensions an observer reads."""

    __slots__ = ()
    extensions: tuple[tuple[int, bytes], ...]

    def extension(self, kind: int) -> bytes | None:
        """The data of the first extension of type `kind`, or None."""
        return next((data for k, data in self.extensions if k == kind), None)

    @property
    def server_name(self) -> str | None:
        """SNI (RFC 6066 §3): the host_name the client asks for, sent in the clear."""
        data = self.extension(TLSExtension.SERVER_NAME)
        if not data:
            return None
        reader = _Reader(data, 2, len(data), "TLS server_name")
        while reader.at < reader.end:
            kind = reader.number(1, "name type")
            name = reader.vector(2, "host name")
            if kind == 0:
                return name.decode("latin-1")
        return None

    @property
    def alpn(self) -> tuple[str, ...]:
        """ALPN protocol names (RFC 7301 §3.1): the client's offer, or the server's one choice."""
        data = self.extension(TLSExtension.ALPN)
        if not data:
            return ()
        reader, out = _Reader(data, 2, len(data), "TLS ALPN"), []
        while reader.at < reader.end:
            out.append(reader.vector(1, "protocol name").decode("latin-1"))
        return tuple(out)

    @property
    def supported_versions(self) -> tuple[int, ...]:
        """RFC 8446 §4.2.1: the client's list, or the version the server chose (0x0304 for TLS 1.3)."""
        data = self.extension(TLSExtension.SUPPORTED_VERSIONS)
        if data is None:
            return ()
        if len(data) == 2:
            return (int.from_bytes(data, "big"),)
        return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(1, len(data) - 1, 2))

    @property
    def key_share_groups(self) -> tuple[int, ...]:
        """RFC 8446 §4.2.8: the named groups of the key shares (0x001d: x25519)."""
        data = self.extension(TLSExtension.KEY_SHARE)
        if not data or len(data) < 2:
            return ()
        reader = _Reader(data, 2 if isinstance(self, TLSClientHello) else 0, len(data), "TLS key_share")
        out = []
        while reader.at + 4 <= reader.end:
            out.append(reader.number(2, "group"))
            reader.vector(2, "key exchange")
        return tuple(out)

    def info(self) -> dict[str, Any]:
        """SNI, ALPN, versions and key share groups, as an observer reads them (an extension that does not parse
        is left out)."""
        out: dict[str, Any] = {}
        for name, show in (("server_name", None), ("alpn", list), ("supported_versions", hex),
                           ("key_share_groups", hex)):
            try:
                value = getattr(self, name)
            except DecodeError:
                continue
            out[name] = value if show is None else [show(v) for v in value] if show is hex else show(value)
        return out


class TLSClientHello(_Hello):
    """RFC 8446 §4.1.2 ClientHello."""

    __slots__ = ()
    spec = HeaderSpec("TLS ClientHello", [
        UInt("legacy_version", 16, 0x0303, hex=True),
        Var("random", bytes(32)), Var("session_id", b""),
        Var("cipher_suites", (), kind=tuple), Var("compression_methods", b"\x00"),
        Var("extensions", (), kind=tuple),
    ])
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: bytes

    @classmethod
    def parse(cls, data: bytes, start: int, end: int) -> TLSClientHello:
        """Decode a ClientHello body (DecodeError unless it is whole and exact)."""
        reader = _Reader(data, start, end, "TLS ClientHello")
        version = reader.number(2, "legacy_version")
        random, session = reader.take(32, "random"), reader.vector(1, "session_id")
        suites = reader.vector(2, "cipher_suites")
        if len(suites) % 2:
            raise DecodeError("TLS ClientHello", reader.at, "cipher_suites has an odd number of bytes")
        compression = reader.vector(1, "compression_methods")
        extensions = _extensions(reader) if reader.at < reader.end else ()
        reader.done()
        cipher_suites = tuple(int.from_bytes(suites[i:i + 2], "big") for i in range(0, len(suites), 2))
        return cls._from_fields((version, random, session, cipher_suites, compression, extensions))

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The body: version, random, session id, suites, compression, extensions."""
        suites = b"".join(s.to_bytes(2, "big") for s in self.cipher_suites)
        return b"".join((self._pack(self.legacy_version), self.random, _vector(1, self.session_id),
                         _vector(2, suites), _vector(1, self.compression_methods),
                         _encode_extensions(self.extensions) if self.extensions else b"", payload))


class TLSServerHello(_Hello):
    """RFC 8446 §4.1.3 ServerHello (also a HelloRetryRequest, which has a fixed random)."""

    __slots__ = ()
    spec = HeaderSpec("TLS ServerHello", [
        UInt("legacy_version", 16, 0x0303, hex=True), Var("random", bytes(32)), Var("session_id", b""),
        Var("cipher_suite", 0x1301, kind=int), Var("compression_method", 0, kind=int),
        Var("extensions", (), kind=tuple),
    ])
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int

    @classmethod
    def parse(cls, data: bytes, start: int, end: int) -> TLSServerHello:
        """Decode a ServerHello body (DecodeError unless it is whole and exact)."""
        reader = _Reader(data, start, end, "TLS ServerHello")
        version = reader.number(2, "legacy_version")
        random, session = reader.take(32, "random"), reader.vector(1, "session_id")
        suite, compression = reader.number(2, "cipher_suite"), reader.number(1, "compression_method")
        extensions = _extensions(reader) if reader.at < reader.end else ()
        reader.done()
        return cls._from_fields((version, random, session, suite, compression, extensions))

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The body: version, random, session id, suite, compression, extensions."""
        return b"".join((self._pack(self.legacy_version), self.random, _vector(1, self.session_id),
                         self.cipher_suite.to_bytes(2, "big"), bytes((self.compression_method,)),
                         _encode_extensions(self.extensions) if self.extensions else b"", payload))


def _length24(value: Any) -> int | None:
    """A handshake length: None (computed) or 0 to 2**24 - 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 24:
        raise FieldValueError(f"{value!r} is not a 24-bit length")
    return value


class TLSHandshake(Layer):
    """RFC 8446 §4 Handshake: message type, 24-bit length, body (read by `message` when it is a hello)."""

    __slots__ = ()
    spec = HeaderSpec("TLS Handshake", [
        UInt("msg_type", 8, TLSHandshakeType.CLIENT_HELLO, kind=TLSHandshakeType),
        # 24 bits, after the fixed part (struct has no 24-bit code); None: the body's length, computed on encode
        Field("length", None, None, int, False, _length24, computed=True),
        Var("body", b""),
    ])
    msg_type: TLSHandshakeType
    length: int | None
    body: bytes

    @property
    def message(self) -> TLSClientHello | TLSServerHello | None:
        """The ClientHello or ServerHello this carries, or None (another type, or not a valid hello)."""
        parser = {1: TLSClientHello, 2: TLSServerHello}.get(int(self.msg_type))
        if parser is None:
            return None
        try:
            return parser.parse(self.body, 0, len(self.body))
        except DecodeError:
            return None

    @property
    def certificates(self) -> tuple[bytes, ...]:
        """The DER certificates of a TLS 1.2 Certificate message (RFC 5246 §7.4.2; () for anything else)."""
        if self.msg_type != TLSHandshakeType.CERTIFICATE:
            return ()
        try:
            reader = _Reader(self.body, 0, len(self.body), "TLS Certificate")
            block = reader.vector(3, "certificate_list")
            reader.done()
            inner, out = _Reader(block, 0, len(block), "TLS Certificate"), []
            while inner.at < inner.end:
                out.append(inner.vector(3, "certificate"))
            return tuple(out)
        except DecodeError:
            return ()

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Type, length (the body's unless given), body."""
        length = len(self.body) if self.length is None else self.length
        return self._pack(self.msg_type) + length.to_bytes(3, "big") + self.body + payload


class TLSRecord(Layer):
    """RFC 8446 §5.1 TLSPlaintext / TLSCiphertext: content type, legacy version, length, then the fragment."""

    __slots__ = ()
    spec = HeaderSpec("TLS Record", [
        UInt("content_type", 8, TLSContentType.HANDSHAKE, kind=TLSContentType),
        UInt("version", 16, 0x0303, hex=True), UInt("length", 16, None),
        Var("fragment", b""),
    ])
    content_type: TLSContentType
    version: int
    length: int | None
    fragment: bytes

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """One record (the next one follows as another TLSRecord); bytes that start no record stay Raw."""
        if end - start < 5 or data[start] not in TLSContentType._value2member_map_ or data[start + 1] != 3:
            return Raw(data[start:end]), end, end, None  # RFC 8446 §5.1: every legacy_version is 0x03xx
        content_type, version, length = cls._unpack(data, start)
        stop = min(start + 5 + length, end)
        layer = cls._from_fields((content_type, version, length, data[start + 5:stop]))
        return layer, stop, end, cls if stop < end else None

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header, fragment, then the records after it."""
        length = len(self.fragment) if self.length is None else self.length
        return self._pack(self.content_type, self.version, length) + self.fragment + payload

    @property
    def complete(self) -> bool:
        """Whether the whole record is here (a segment's end can cut one)."""
        return self.length is None or self.length == len(self.fragment)

    @property
    def handshake(self) -> tuple[TLSHandshake, ...]:
        """The handshake messages of a whole plaintext handshake record; () for anything else (encrypted, cut,
        or not whole messages: TLS 1.3 sends everything after ServerHello as application_data)."""
        if self.content_type != TLSContentType.HANDSHAKE or not self.complete:
            return ()
        data, at, out = self.fragment, 0, []
        while at < len(data):
            if len(data) - at < 4:
                return ()
            length = int.from_bytes(data[at + 1:at + 4], "big")
            if at + 4 + length > len(data):
                return ()
            kind = TLSHandshake._unpack(data, at)[0]
            out.append(TLSHandshake._from_fields((kind, length, data[at + 4:at + 4 + length])))
            at += 4 + length
        return tuple(out)

    def info(self) -> dict[str, Any]:
        """What an observer reads: the handshake messages and their hello fields."""
        messages = []
        for message in self.handshake:
            hello = message.message
            messages.append({"msg_type": message.msg_type.name, **(hello.info() if hello is not None else {})})
        return {"handshake": messages} if messages else {}
