"""ioctl(SIOCINQ/SIOCOUTQ) and poll() on a script's sockets, as Linux's tcp_ioctl and tcp_poll answer them."""

from __future__ import annotations

import errno
from typing import Any

from layersim.net.engine.clock import Clock
from layersim.net.engine.process import wait_until
from layersim.net.host.socketapi.select_module import poll_events
from layersim.net.host.socketapi.sim_socket import SimSocket
from layersim.tcpcheck.callargs import CONSTANTS, CallError, first_value, shown_value, value_of
from layersim.tcpcheck.model import Expr

__all__ = ["poll_sockets", "queue_ioctl"]



def queue_ioctl(sock: SimSocket, request: Expr, value: Expr) -> str | None:
    """SIOCINQ (bytes ready to read) or SIOCOUTQ (bytes sent and not acknowledged, or not yet sent): None when the
    count is the script's `[N]`, else the mismatch (Linux tcp_ioctl)."""
    code = value_of(request)
    if code not in (CONSTANTS["SIOCINQ"], CONSTANTS["SIOCOUTQ"]):
        raise CallError(f"ioctl request {shown_value(request)} is not supported (SIOCINQ, SIOCOUTQ)")
    if sock._listening is not None:
        raise OSError(errno.EINVAL, "Invalid argument")  # tcp_ioctl: a listener has no queues
    conn = sock._endpoint.conn if sock._endpoint is not None else None
    actual = 0 if conn is None else conn.readable if code == CONSTANTS["SIOCINQ"] else conn.unacked
    if value is not ... and first_value(value) != actual:
        return f"{shown_value(request)}: expected {shown_value(value)}, got {actual}"
    return None


def poll_sockets(clock: Clock, polled: list[tuple[SimSocket, int, Any]], wait_ms: int) -> tuple[int, str | None]:
    """poll(): wait up to `wait_ms` (-1: for ever) until one socket is ready; (how many are, a revents mismatch)."""
    def ready() -> bool:
        return any(poll_events(sock, events) for sock, events, _ in polled)

    if wait_ms != 0:
        queues = [q for sock, _, _ in polled for q in sock._queues()]
        wait_until(clock, queues, ready, None if wait_ms < 0 else wait_ms * 1_000_000)
    got = [poll_events(sock, events) for sock, events, _ in polled]
    count = sum(map(bool, got))
    for (_sock, _events, expected), actual in zip(polled, got, strict=True):
        if expected is not None and expected is not ... and value_of(expected) != actual:
            return count, f"poll revents: expected {shown_value(expected)} ({value_of(expected):#x}), got {actual:#x}"
    return count, None
