"""Which socket options Linux takes at which level, and the errors it gives for the rest.

The option numbers are those an AF_INET socket of Linux 6.x accepts (measured on 6.18 with an int value, per
level and socket type): net/core/sock.c `sk_setsockopt`/`sk_getsockopt`, net/ipv4/tcp.c `do_tcp_setsockopt`/
`do_tcp_getsockopt`, net/ipv4/ip_sockglue.c `do_ip_setsockopt`/`do_ip_getsockopt`, net/ipv4/udp.c
`udp_lib_setsockopt`. A number a level does not know is ENOPROTOOPT; a level the socket does not know is
ENOPROTOOPT for setsockopt and EOPNOTSUPP for getsockopt (ip_setsockopt/ip_getsockopt, where an unknown level
ends up). layersim acts on the options it models and keeps the value of the others for getsockopt.
"""

from __future__ import annotations

import errno
import socket as _std
from typing import Any

from layersim.net.host.socketapi.arguments import os_error

__all__ = ["check_getsockopt", "check_setsockopt", "int_value"]

_SOL_SOCKET, _IP, _TCP, _UDP = _std.SOL_SOCKET, _std.IPPROTO_IP, _std.IPPROTO_TCP, _std.IPPROTO_UDP
_STREAM, _DGRAM = _std.SOCK_STREAM, _std.SOCK_DGRAM

# level -> (settable, gettable), for both socket types unless the level is one type's only.
_SOCKET_SET = frozenset({1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 20, 21, 25, 29, 32, 33, 35, 36, 37, 40,
                         41, 42, 43, 44, 45, 46, 47, 49, 53, 60, 62, 63, 64, 65, 69, 70, 72, 75, 82})
_SOCKET_GET = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 25, 26, 29, 30,
                         35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 55, 56, 60, 61, 62, 63, 64,
                         65, 66, 67, 69, 72, 73, 75, 82})
_TCP_SET = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 16, 17, 18, 19, 23, 25, 27, 30, 34, 36, 37})
_TCP_GET = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 23, 24, 25, 26, 27, 28, 30, 31,
                      33, 34, 36, 37, 43, 44, 45, 46})
_IP_SET = frozenset({1, 2, 4, 6, 7, 8, 10, 11, 12, 13, 15, 18, 19, 20, 21, 23, 24, 26, 32, 33, 34, 49, 50, 51})
_IP_GET = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 18, 19, 20, 21, 22, 23, 24, 25, 26, 32, 33,
                     34, 49, 50, 51, 52})
_UDP_OPTIONS = frozenset({1, 100, 101, 102, 103, 104})  # UDP_CORK, UDP_ENCAP, UDP_NO_CHECK6_*, _SEGMENT, _GRO
_LEVELS: dict[tuple[int, int], tuple[frozenset[int], frozenset[int]]] = {
    (_STREAM, _SOL_SOCKET): (_SOCKET_SET, _SOCKET_GET), (_DGRAM, _SOL_SOCKET): (_SOCKET_SET, _SOCKET_GET),
    (_STREAM, _IP): (_IP_SET, _IP_GET), (_DGRAM, _IP): (_IP_SET, _IP_GET),
    (_STREAM, _TCP): (_TCP_SET, _TCP_GET), (_DGRAM, _UDP): (_UDP_OPTIONS, _UDP_OPTIONS)}
# SO_PASSCRED and SO_PASSSEC are for AF_UNIX and netlink sockets: EOPNOTSUPP on AF_INET, set or get.
_NOT_SUPPORTED = {(_SOL_SOCKET, 16), (_SOL_SOCKET, 34)}
# Values Linux range-checks (do_tcp_setsockopt: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT,
# MAX_TCP_SYNCNT; do_ip_setsockopt: IP_TTL is 1-255, or -1 for the default).
_RANGES = {(_TCP, 4): (1, 32767), (_TCP, 5): (1, 32767), (_TCP, 6): (1, 127), (_TCP, 7): (1, 127),
           (_IP, 2): (1, 255)}
# Options that take a struct, not an int (sock_set_timeout: a struct timeval of 16 bytes; SO_LINGER 8 bytes).
_STRUCT_SIZE = {(_SOL_SOCKET, 20): 16, (_SOL_SOCKET, 21): 16, (_SOL_SOCKET, 13): 8}


def int_value(value: Any) -> int | bytes:
    """setsockopt()'s value as CPython takes it: a C int or a bytes-like object (TypeError otherwise)."""
    if isinstance(value, int) and -2**31 <= value < 2**31:
        return int(value)
    try:
        return bytes(memoryview(value))
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'") from None


def check_setsockopt(kind: int, level: int, optname: int, value: int | bytes) -> None:
    """OSError as Linux's setsockopt(2) gives for this option and value on a socket of type `kind`."""
    if (level, optname) in _NOT_SUPPORTED:
        raise os_error(errno.EOPNOTSUPP)
    known = _LEVELS.get((kind, level))
    if known is None or optname not in known[0]:
        raise os_error(errno.ENOPROTOOPT)
    size = _STRUCT_SIZE.get((level, optname))
    if size is not None and (isinstance(value, int) or len(value) < size):
        raise os_error(errno.EINVAL)
    bounds = _RANGES.get((level, optname))
    default_ttl = (level, optname, value) == (_IP, 2, -1)
    if bounds is not None and isinstance(value, int) and not bounds[0] <= value <= bounds[1] and not default_ttl:
        raise os_error(errno.EINVAL)


def check_getsockopt(kind: int, level: int, optname: int) -> None:
    """OSError as Linux's getsockopt(2) gives for this option on a socket of type `kind`."""
    if (level, optname) in _NOT_SUPPORTED:
        raise os_error(errno.EOPNOTSUPP)
    known = _LEVELS.get((kind, level))
    if known is None:
        raise os_error(errno.EOPNOTSUPP)
    if optname not in known[1]:
        raise os_error(errno.ENOPROTOOPT)
