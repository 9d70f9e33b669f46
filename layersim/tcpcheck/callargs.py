"""The arguments of socket calls: constants, `[N]` values, and which socket options are honoured."""

from __future__ import annotations

import errno
from types import MappingProxyType

from layersim.tcpcheck.model import Array, Expr, Field, Flags, Symbol, Syscall

__all__ = ["CONSTANTS", "CallError", "check_buffer", "check_call", "first_value", "iov_total", "is_null",
           "option_name", "shown_value", "value_of"]

# Linux's values for the names scripts use (read-only).
CONSTANTS = MappingProxyType({
    "SOL_SOCKET": 1, "IPPROTO_TCP": 6, "SO_REUSEADDR": 2, "SO_ERROR": 4, "SO_LINGER": 13, "TCP_NODELAY": 1,
    "TCP_MAXSEG": 2, "F_GETFL": 3, "F_SETFL": 4, "O_RDWR": 2, "O_RDONLY": 0, "O_WRONLY": 1, "O_NONBLOCK": 0o4000,
    "SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2, "AF_INET": 2, "SOCK_STREAM": 1, "MSG_NOSIGNAL": 0x4000,
    "SO_SNDBUF": 7, "SO_RCVBUF": 8, "SO_KEEPALIVE": 9, "TCP_CORK": 3, "TCP_INFO": 11, "TCP_CONGESTION": 13,
    "TCP_USER_TIMEOUT": 18, "IPPROTO_IP": 0, "IP_TOS": 1, "IP_TTL": 2, "IP_MTU_DISCOVER": 10,
    "IP_PMTUDISC_DONT": 0, "IP_PMTUDISC_WANT": 1, "IP_PMTUDISC_DO": 2, "IP_PMTUDISC_PROBE": 3,
    "SIOCINQ": 0x541B, "FIONREAD": 0x541B, "SIOCOUTQ": 0x5411, "TIOCOUTQ": 0x5411,
    "POLLIN": 0x1, "POLLPRI": 0x2, "POLLOUT": 0x4, "POLLERR": 0x8, "POLLHUP": 0x10, "POLLNVAL": 0x20,
    "POLLRDNORM": 0x40, "POLLWRNORM": 0x100, "POLLRDHUP": 0x2000, "MSG_DONTWAIT": 0x40, "MSG_MORE": 0x8000,
    "IPTOS_ECN_ECT0": 2, "IPTOS_ECN_ECT1": 1, "IPTOS_ECN_CE": 3})


class CallError(Exception):
    """A call the socket layer cannot honour as written (unsupported option, unknown constant)."""


def value_of(expr: Expr) -> int:
    """An integer argument: a number, a known constant or errno name, or A|B."""
    if isinstance(expr, bool) or not isinstance(expr, int | Symbol | Flags):
        raise CallError(f"expected a number or a constant, found {expr!r}")
    if isinstance(expr, int):
        return expr
    if isinstance(expr, Flags):
        total = 0
        for part in expr.parts:
            total |= value_of(part)
        return total
    if expr.name in CONSTANTS:
        return CONSTANTS[expr.name]
    code = getattr(errno, expr.name, None)
    if isinstance(code, int) and expr.name.startswith("E"):
        return code
    raise CallError(f"unknown constant {expr.name}")


_OPTIONS = ("SO_REUSEADDR", "SO_ERROR", "SO_LINGER", "SO_KEEPALIVE", "SO_SNDBUF", "SO_RCVBUF", "TCP_NODELAY",
            "TCP_MAXSEG", "TCP_CORK", "TCP_USER_TIMEOUT", "TCP_INFO", "TCP_CONGESTION", "IP_TOS", "IP_TTL",
            "IP_MTU_DISCOVER")


def check_call(syscall: Syscall) -> str | None:
    """Before running: why a call cannot be honoured (an option or fcntl command not supported), or None."""
    try:
        flags = {"send": 3, "sendto": 3, "sendmsg": 2}.get(syscall.name)
        if flags is not None and len(syscall.args) > flags and syscall.args[flags] is not ... and \
                value_of(syscall.args[flags]) & CONSTANTS["MSG_MORE"]:
            return f"{syscall.name}() with MSG_MORE (corking) is not modelled"
        if syscall.name in ("setsockopt", "getsockopt") and len(syscall.args) >= 3:
            option_name(syscall.args[2])
        if syscall.name == "fcntl" and len(syscall.args) >= 2 and value_of(syscall.args[1]) not in (3, 4):
            return f"fcntl command {syscall.args[1]!r} (supported: F_GETFL, F_SETFL)"
    except CallError as exc:
        return str(exc)
    return None


def option_name(name: Expr) -> str:
    """The socket option a call names, if it is one the layer honours."""
    if isinstance(name, Symbol) and name.name in _OPTIONS:
        return name.name
    shown = name.name if isinstance(name, Symbol) else repr(name)
    raise CallError(f"socket option {shown} is not supported "
                    f"({', '.join(_OPTIONS)})")


def first_value(value: Expr) -> int:
    """`[N]` or `N` as an int."""
    if isinstance(value, Array) and len(value.items) == 1:
        return value_of(value.items[0])
    return value_of(value)


def shown_value(value: Expr) -> str:
    """An expected out-value as the script wrote it."""
    inner = value.items[0] if isinstance(value, Array) and value.items else value
    return inner.name if isinstance(inner, Symbol) else str(inner)


def is_null(buf: Expr) -> bool:
    """The buffer argument is NULL (or 0)."""
    return (isinstance(buf, Symbol) and buf.name == "NULL") or (isinstance(buf, int) and buf == 0)


def check_buffer(buf: Expr, count: Expr) -> None:
    """EFAULT for a NULL buffer of some length, as the kernel's copy from user space fails."""
    if is_null(buf) and value_of(count):
        raise OSError(errno.EFAULT, "Bad address")


def iov_total(message: Expr) -> int:
    """The bytes of a sendmsg() message `{msg_iov(n)=[{buf, len}, ...], ...}` (EFAULT for a NULL iovec)."""
    fields = {f.name: f.value for f in message.items if isinstance(f, Field)} if isinstance(message, Array) else {}
    iov = fields.get("msg_iov")
    if not isinstance(iov, Array):
        raise CallError("sendmsg() needs {msg_iov(n)=[{..., len}, ...]} (the message's iovecs)")
    total = 0
    for vec in iov.items:
        if not isinstance(vec, Array) or len(vec.items) != 2:
            raise CallError("sendmsg(): each iovec is {buffer, length}")
        check_buffer(vec.items[0], vec.items[1])
        total += value_of(vec.items[1])
    return total
