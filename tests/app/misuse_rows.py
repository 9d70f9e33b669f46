"""The rows of test_sim_socket_misuse: name -> (call, CPython's outcome on Linux, checked on this machine)."""

from __future__ import annotations

import socket
from typing import Any

from .misuse_table import Row, Track, loopback_pair, raised, udp_pair

ROWS: dict[str, tuple[Row, Any]] = {}


def row(expected: Any) -> Any:
    """Register the decorated function as a row expecting `expected`."""

    def add(fn: Row) -> Row:
        ROWS[fn.__name__] = (fn, expected)
        return fn

    return add


# recv_into / recvfrom_into: sizes are checked before a byte is taken off the stream (CPython's sock_recv_into) ----
@row((raised(ValueError, None, "buffer too small for requested bytes"), b"hello"))
def recv_into_nbytes_above_buffer(track: Track) -> Any:
    client, server = loopback_pair(track)
    server.sendall(b"hello")
    client.settimeout(5)
    try:
        client.recv_into(bytearray(4), 5)
    except ValueError as exc:
        return raised(ValueError, None, str(exc)), client.recv(5)


@row((raised(ValueError, None, "negative buffersize in recv_into"), b"hello"))
def recv_into_negative_nbytes(track: Track) -> Any:
    client, server = loopback_pair(track)
    server.sendall(b"hello")
    client.settimeout(5)
    try:
        client.recv_into(bytearray(8), -1)
    except ValueError as exc:
        return raised(ValueError, None, str(exc)), client.recv(5)


@row((4, b"hell", 1, b"o"))
def recv_into_nbytes_equal_to_buffer(track: Track) -> Any:
    client, server = loopback_pair(track)
    server.sendall(b"hello")
    buffer = bytearray(4)
    count = client.recv_into(buffer, 4)
    return count, bytes(buffer), client.recv_into(buffer), bytes(buffer[:1])


@row(raised(TypeError, None, "recv_into() argument 1 must be read-write bytes-like object, not bytes"))
def recv_into_read_only_buffer(track: Track) -> Any:
    client, _ = loopback_pair(track)
    return client.recv_into(b"abcd")


@row((raised(ValueError, None, "nbytes is greater than the length of the buffer"), b"hello"))
def recvfrom_into_nbytes_above_buffer(track: Track) -> Any:
    sender, receiver = udp_pair(track)
    sender.send(b"hello")
    receiver.settimeout(5)
    try:
        receiver.recvfrom_into(bytearray(4), 5)
    except ValueError as exc:
        return raised(ValueError, None, str(exc)), receiver.recv(5)


@row((raised(ValueError, None, "negative buffersize in recvfrom_into"), b"hello"))
def recvfrom_into_negative_nbytes(track: Track) -> Any:
    sender, receiver = udp_pair(track)
    sender.send(b"hello")
    receiver.settimeout(5)
    try:
        receiver.recvfrom_into(bytearray(8), -1)
    except ValueError as exc:
        return raised(ValueError, None, str(exc)), receiver.recv(5)


@row(raised(ValueError, None, "negative buffersize in recvfrom"))
def recvfrom_negative_size(track: Track) -> Any:
    return udp_pair(track)[1].recvfrom(-1)


@row(raised(ValueError, None, "negative buffersize in recv"))
def recv_negative_size(track: Track) -> Any:
    return track(socket.socket()).recv(-1)
