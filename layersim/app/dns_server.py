"""An authoritative DNS server on the socket API: UDP port 53, and TCP port 53 (RFC 7766) for long answers."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from layersim.app.serving import Spawn, Stop, accept_loop, poll_timeout, recv_exact, running, thread_spawn
from layersim.dns.zone import Zone
from layersim.errors import LayersimError
from layersim.wire.dns import DNS, DNSRcode
from layersim.wire.packet import Packet

__all__ = ["TCP_IDLE_SECONDS", "answer_bytes", "serve_dns", "serve_dns_tcp", "serve_dns_udp"]

TCP_IDLE_SECONDS = 10.0  # an idle TCP client is closed after this (RFC 7766 §6.2.3 asks for seconds)
_HEADER = struct.Struct("!HH")  # id, flags
Ready = Callable[[tuple[str, int]], object]  # told the bound address once the service listens


def answer_bytes(zone: Zone, data: bytes, *, tcp: bool = False) -> bytes | None:
    """The response to one query message, FORMERR for one that does not parse, None for one not to answer."""
    if len(data) < 12:
        return None  # not even a header: nothing to answer to (RFC 1035 §4.1.1)
    query_id, flags = _HEADER.unpack_from(data)
    if flags & 0x8000:
        return None  # a response: answering it could start a loop
    try:
        query = DNS.decode(data)
    except LayersimError:
        # Header only, same id, opcode and RD, QR set, FORMERR (what BIND sends for a malformed question).
        return _HEADER.pack(query_id, 0x8000 | flags & 0x7900 | DNSRcode.FORMERR) + bytes(8)
    return Packet([zone.answer(query, tcp=tcp)]).encode()


def serve_dns(sock_mod: Any, zone: Zone, address: tuple[str, int] = ("", 53), *, stop: Stop | None = None,
              spawn: Spawn | None = None, ready: Ready | None = None) -> None:
    """Answer queries for `zone` on UDP and TCP at `address` until `stop()` is true (forever without `stop`).

    The UDP loop runs in the caller; the TCP listener and each TCP client run through `spawn(fn, *args)`
    (host.spawn on a simulated host; a daemon thread when not given). `ready(address)` is called once both
    sockets are bound (port 0 picks a free UDP port and binds TCP to the same number).
    """
    udp = sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_DGRAM)
    try:
        udp.bind(address)
        if address[1] == 0:
            address = (address[0], udp.getsockname()[1])
        listener = _listen(sock_mod, address)
    except BaseException:
        udp.close()
        raise
    (spawn or thread_spawn)(_tcp_loop, zone, listener, stop, spawn or thread_spawn)
    if ready is not None:
        ready(address)
    _udp_loop(zone, udp, stop)


def serve_dns_udp(sock_mod: Any, zone: Zone, address: tuple[str, int] = ("", 53), *,
                  stop: Stop | None = None, ready: Ready | None = None) -> None:
    """Answer queries for `zone` on UDP only, until `stop()` is true."""
    udp = sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_DGRAM)
    try:
        udp.bind(address)
        if ready is not None:
            ready(udp.getsockname() if address[1] == 0 else address)
    except BaseException:
        udp.close()
        raise
    _udp_loop(zone, udp, stop)


def serve_dns_tcp(sock_mod: Any, zone: Zone, address: tuple[str, int] = ("", 53), *, stop: Stop | None = None,
                  spawn: Spawn | None = None, ready: Ready | None = None) -> None:
    """Answer queries for `zone` on TCP only, each client in a task of its own when given `spawn`."""
    listener = _listen(sock_mod, address)
    if ready is not None:
        ready(listener.getsockname() if address[1] == 0 else address)
    _tcp_loop(zone, listener, stop, spawn)


def _listen(sock_mod: Any, address: tuple[str, int]) -> Any:
    """A listening TCP socket bound to `address`."""
    listener = sock_mod.socket(sock_mod.AF_INET, sock_mod.SOCK_STREAM)
    try:
        listener.bind(address)
        listener.listen(16)
    except BaseException:
        listener.close()
        raise
    return listener


def _udp_loop(zone: Zone, udp: Any, stop: Stop | None) -> None:
    """Receive a datagram, send its answer back to where it came from; repeat until `stop`."""
    udp.settimeout(poll_timeout(stop))
    try:
        while running(stop):
            try:
                data, peer = udp.recvfrom(65535)
            except TimeoutError:
                continue
            except ConnectionError:  # an ICMP error about an earlier answer: nothing to do
                continue
            reply = answer_bytes(zone, data)
            if reply is not None:
                udp.sendto(reply, peer)
    finally:
        udp.close()


def _tcp_loop(zone: Zone, listener: Any, stop: Stop | None, spawn: Spawn | None) -> None:
    """Accept TCP clients until `stop`."""
    accept_loop(listener, lambda conn, peer: _tcp_client(zone, conn), stop=stop, spawn=spawn)


def _tcp_client(zone: Zone, conn: Any) -> None:
    """Queries prefixed by their 2-byte length (RFC 1035 §4.2.2), answered in order until the client closes."""
    conn.settimeout(TCP_IDLE_SECONDS)
    try:
        while True:
            prefix = recv_exact(conn, 2)
            if prefix is None:
                return
            data = recv_exact(conn, int.from_bytes(prefix, "big"))
            if data is None:
                return
            reply = answer_bytes(zone, data, tcp=True)
            if reply is None:
                return
            conn.sendall(len(reply).to_bytes(2, "big") + reply)
    except (TimeoutError, ConnectionError):
        return
    finally:
        conn.close()
