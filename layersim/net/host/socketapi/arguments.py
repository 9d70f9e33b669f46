"""Arguments of socket calls read as CPython reads them, with its errors (types, C int ranges, buffers) and
Linux's (the family, type and protocol socket() takes)."""

from __future__ import annotations

import errno
import operator
import os
import socket as _std
import sys
from typing import Any

__all__ = ["bytes_view", "c_int", "int_argument", "into_size", "os_error", "size_argument", "socket_arguments",
           "writable_view"]

# Linux's AF_MAX, SOCK_TYPE_MASK, SOCK_MAX, SOCK_PACKET and IPPROTO_MAX (include/linux/socket.h, net.h, in.h).
_AF_MAX, _SOCK_TYPE_MASK, _SOCK_MAX, _SOCK_PACKET, _IPPROTO_MAX = 46, 0xF, 11, 10, 263


def os_error(code: int, detail: str | None = None) -> OSError:
    """OSError with Linux's text for `code` (Python turns it into ConnectionRefusedError and the like)."""
    return OSError(code, detail or os.strerror(code))


def c_int(value: Any) -> int:
    """An argument CPython reads as a C int."""
    number = operator.index(value)
    if not -2**31 <= number < 2**31:
        raise OverflowError("Python int too large to convert to C int")
    return number


def socket_arguments(family: Any, type: Any, proto: Any, fileno: int | None) -> tuple[int, int, int]:
    """socket()'s family, type and protocol, refused with CPython's and Linux's errors (socket.py turns -1 into
    the default; net/socket.c __sock_create and net/ipv4/af_inet.c inet_create check the rest)."""
    family, type, proto = c_int(family), c_int(type), c_int(proto)
    if fileno is None:
        family = _std.AF_INET if family == -1 else family
        type = _std.SOCK_STREAM if type == -1 else type
        proto = 0 if proto == -1 else proto
    if family != _std.AF_INET:
        if 0 <= family < _AF_MAX:
            raise os_error(errno.EAFNOSUPPORT, f"layersim's hosts speak IPv4 only (AF_INET), not family {family}")
        raise os_error(errno.EAFNOSUPPORT)
    if type & ~(_SOCK_TYPE_MASK | _std.SOCK_NONBLOCK | _std.SOCK_CLOEXEC) or type & _SOCK_TYPE_MASK >= _SOCK_MAX:
        raise os_error(errno.EINVAL)
    base = type & _SOCK_TYPE_MASK
    if base in (_std.SOCK_RAW, _SOCK_PACKET):
        raise os_error(errno.EPROTONOSUPPORT)  # layersim has no raw sockets; Linux's answer to SOCK_RAW, proto 0
    if base not in (_std.SOCK_STREAM, _std.SOCK_DGRAM):
        raise os_error(errno.ESOCKTNOSUPPORT)  # inet_create: no AF_INET protocol of that type
    if not 0 <= proto < _IPPROTO_MAX:
        raise os_error(errno.EINVAL)
    if proto not in (0, 6 if base == _std.SOCK_STREAM else 17):
        raise os_error(errno.EPROTONOSUPPORT)
    return family, type, proto


def bytes_view(data: Any) -> memoryview:
    """The bytes to send, or CPython's TypeError for what is not bytes-like (a str, None)."""
    try:
        return memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{type(data).__name__}'") from None


def size_argument(value: Any) -> int:
    """A buffer size as CPython reads it (a Py_ssize_t)."""
    number = operator.index(value)
    if not -sys.maxsize - 1 <= number <= sys.maxsize:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return number


def int_argument(value: Any) -> int:
    """An argument CPython parses with the "i" format (listen's backlog, shutdown's how)."""
    number = operator.index(value)
    if number > 2**31 - 1:
        raise OverflowError("signed integer is greater than maximum")
    if number < -2**31:
        raise OverflowError("signed integer is less than minimum")
    return number


def writable_view(buffer: Any, call: str) -> memoryview:
    """The bytes of a writable buffer, or CPython's TypeError for a read-only one (bytes, a str)."""
    try:
        view = memoryview(buffer)
    except TypeError:
        view = None
    if view is None or view.readonly:
        raise TypeError(f"{call}() argument 1 must be read-write bytes-like object, not {type(buffer).__name__}")
    return view.cast("B")


def into_size(nbytes: int, size: int, call: str, too_big: str) -> int:
    """How many bytes a recv_into/recvfrom_into call may take, checked before anything is read, as CPython's
    sock_recv_into and sock_recvfrom_into do (0 means the whole buffer)."""
    nbytes = operator.index(nbytes)
    if nbytes < 0:
        raise ValueError(f"negative buffersize in {call}")
    if nbytes > size:
        raise ValueError(too_big)
    return nbytes or size
