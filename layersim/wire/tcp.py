"""TCP segment headers (RFC 9293 §3.1) with options and the pseudo-header checksum."""

from __future__ import annotations

from enum import IntFlag
from typing import Any

from layersim.errors import DecodeError, FieldValueError, LayersimError
from layersim.wire.checksum import internet_checksum, pseudo_header_sum, transport_checksum_ok
from layersim.wire.fields import Bits, HeaderSpec, Layer, UInt, Var
from layersim.wire.tcp_options import TCPOption, coerce_options, decode_options

__all__ = ["TCP", "TCPFlags"]


class TCPFlags(IntFlag):
    """The eight TCP control bits."""

    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


_LETTERS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}
_BY_VALUE = tuple(TCPFlags(v) for v in range(256))  # IntFlag arithmetic runs in Python: look members up


def _flags(value: Any) -> Any:
    """Accept scapy-style letters ("SA", "PA") or names ("SYN|ACK") as well as numbers."""
    if not isinstance(value, str):
        return _BY_VALUE[value] if type(value) is int and 0 <= value < 256 else value
    flags = 0
    if "|" in value or value.upper() in TCPFlags.__members__:
        for name in filter(None, (part.strip().upper() for part in value.split("|"))):
            if name not in TCPFlags.__members__:
                raise FieldValueError(f"unknown TCP flag {name!r} (use {', '.join(TCPFlags.__members__)})")
            flags |= TCPFlags[name].value
        return _BY_VALUE[flags]
    for letter in value:
        bit = _LETTERS.get(letter.upper())
        if bit is None:
            raise FieldValueError(f"unknown TCP flag letter {letter!r} in {value!r} (use FSRPAUEC)")
        flags |= bit
    return _BY_VALUE[flags]


class TCP(Layer):
    """A TCP header: ports, sequence numbers, data offset, flags, window, checksum, urgent pointer, options."""

    __slots__ = ()
    ip_protocol = 6
    spec = HeaderSpec("TCP", [
        UInt("sport", 16), UInt("dport", 16),
        UInt("seq", 32), UInt("ack", 32),
        Bits("data_offset", 4, None), Bits("reserved", 4),
        UInt("flags", 8, TCPFlags(0), kind=TCPFlags, coerce=_flags),
        UInt("window", 16, 65535),
        UInt("checksum", 16, None, hex=True),
        UInt("urgent_pointer", 16),
        Var("options", (), kind=tuple, coerce=coerce_options),
    ])
    sport: int
    dport: int
    seq: int
    ack: int
    data_offset: int | None
    reserved: int
    flags: TCPFlags
    window: int
    checksum: int | None
    urgent_pointer: int
    options: tuple[TCPOption, ...]

    @property
    def header_length(self) -> int:
        """Header length in bytes (data offset * 4, or 20 + padded options when it is None)."""
        offset = self[4]
        if offset is not None:
            return offset * 4
        return 20 + (sum(len(o.encode()) for o in self[10]) + 3) // 4 * 4

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """Header then payload; the checksum covers the pseudo-header of the IPv4 layer below."""
        sport, dport, seq, ack, offset, reserved, flags, window, checksum, urgent, options = self[:11]
        opts = b"".join([o.encode() for o in options]) if options else b""
        if len(opts) % 4:
            opts += bytes(4 - len(opts) % 4)  # pad with End of Option List, as RFC 9293 §3.1 says
        if offset is None:
            offset = 5 + len(opts) // 4
            if offset > 15:
                raise LayersimError(f"TCP options of {len(opts)} bytes exceed the 40-byte maximum")
        if checksum is None:
            if ip is None:
                raise LayersimError("TCP.checksum is None but there is no IPv4 layer below to compute it from")
            segment = self._pack(sport, dport, seq, ack, offset, reserved, flags, window, 0, urgent) + opts
            length = len(segment) + len(payload)
            checksum = internet_checksum(segment + payload, pseudo_header_sum(ip.src, ip.dst, 6, length))
            return segment[:16] + checksum.to_bytes(2, "big") + segment[18:] + payload
        return self._pack(sport, dport, seq, ack, offset, reserved, flags, window, checksum, urgent) + opts + payload

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the checksum is right (None when the segment was not decoded whole)."""
        src = self._src
        if src is None:
            return None
        return transport_checksum_ok(src, 6)

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode the header and options at `start`; the payload runs to `end`."""
        available = end - start
        if available < 20:
            raise DecodeError("TCP", start, f"{available} bytes left, shorter than the 20-byte header")
        values = cls._unpack(data, start)
        header_length = values[4] * 4
        if header_length < 20:
            raise DecodeError("TCP", start, f"data offset {values[4]} ({header_length} bytes) is smaller than "
                              "the 20-byte header")
        if header_length > available:
            raise DecodeError("TCP", start, f"data offset {values[4]} ({header_length} bytes) is longer than "
                              f"the {available} bytes left")
        options = decode_options(data, start + 20, start + header_length) if header_length > 20 else ()
        src = (data, start, end, state.ip) if state.ip is not None and not state.truncated else None
        layer = tuple.__new__(cls, (*values, options, src))
        ports = cls.next_layers
        return layer, start + header_length, end, ports.get(values[1]) or ports.get(values[0])

    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """Fixed fields, then each option on its own."""
        spans = super().field_spans(start, start + 20)
        at = start + 20
        for i, option in enumerate(self[10]):
            size = len(option.encode())
            spans.append((f"options[{i}]", at, min(at + size, end)))
            at += size
        if at < end:
            spans.append(("options padding", at, end))
        return spans
