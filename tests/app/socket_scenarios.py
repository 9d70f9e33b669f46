"""Socket scenarios run both on real Linux loopback and on simulated hosts (see sim_vs_real), with the outcome
CPython on Linux gives for each (checked against the real kernel by the tests).

Each scenario returns plain values (no addresses or ports that differ between the two runs) or raises.
"""

from __future__ import annotations

import errno
import struct
from typing import Any

from . import scenarios_more as more
from . import scenarios_tcp as tcp
from .scenario_tools import (
    AGAIN,
    BAD_FD,
    IN_PROGRESS,
    IN_USE,
    INVALID,
    NOT_AVAILABLE,
    NOT_CONN,
    PIPE,
    REFUSED,
    RESET,
    TOO_LONG,
)

SCENARIOS: dict[str, tuple[Any, Any]] = {
    "connect_refused": (tcp.connect_refused, REFUSED),
    "connect_ex_refused": (tcp.connect_ex_refused, errno.ECONNREFUSED),
    "connect_ex_ok_then_isconn": (tcp.connect_ex_ok_then_isconn, (0, errno.EISCONN)),
    "connect_empty_host_is_this_host": (tcp.connect_empty_host_is_this_host,
                                        ("0.0.0.0", "127.0.0.1", "127.0.0.1", "127.0.0.1", True)),
    "nonblocking_connect_sequence": (tcp.nonblocking_connect_sequence, (IN_PROGRESS, True, 0, errno.EISCONN)),
    "so_error_after_refused": (tcp.so_error_after_refused, (errno.EINPROGRESS, True, errno.ECONNREFUSED, 0)),
    "accept_before_listen": (tcp.accept_before_listen, INVALID),
    "bind_twice": (tcp.bind_twice, IN_USE),
    "bind_over_listener_with_reuseaddr": (tcp.bind_over_listener_with_reuseaddr, IN_USE),
    "rebind_time_wait_port": (tcp.rebind_time_wait_port, IN_USE),
    "rebind_time_wait_port_reuseaddr": (tcp.rebind_time_wait_port_reuseaddr, "bound"),
    "bind_empty_host": (tcp.bind_empty_host, ("0.0.0.0", True)),
    "send_after_peer_reset": (tcp.send_after_peer_reset, (RESET, PIPE, b"")),
    "recv_after_peer_reset": (tcp.recv_after_peer_reset, (RESET, b"", PIPE)),
    "recv_after_peer_close": (tcp.recv_after_peer_close, (b"bye", b"", b"")),
    "use_after_own_close": (tcp.use_after_own_close, (-1, BAD_FD, BAD_FD)),
    "close_with_unread_data_resets": (tcp.close_with_unread_data_resets, RESET),
    "shutdown_write": (tcp.shutdown_write, (b"request", b"reply", b"", PIPE)),
    "recv_into_and_sendall_large": (tcp.recv_into_and_sendall_large, (True, 256000)),
    "names": (tcp.names, (True, True, True, True, NOT_CONN, ("0.0.0.0", 0))),
    "filenos": (tcp.filenos, (3, True, -1)),
    "makefile_lines": (tcp.makefile_lines, [b"first line\n", b"second line\n", b"third\n", b""]),
    "context_manager_closes": (tcp.context_manager_closes, (-1, b"")),
    "timeout_on_accept": (tcp.timeout_on_accept, ("TimeoutError", "timed out", True, 0.2)),
    "timeout_on_recv": (tcp.timeout_on_recv, ("TimeoutError", "timed out")),
    "nonblocking_recv_and_accept": (tcp.nonblocking_recv_and_accept, (AGAIN, AGAIN, False, 0.0)),
    "socket_options": (more.socket_options, ([0, 0, 0, 1], [1, 1, 1])),
    "buffer_sizes_are_doubled": (more.buffer_sizes_are_doubled, (131072, 65536)),
    "tiny_buffers_and_linger": (more.tiny_buffers_and_linger, (2304, 4608, bytes(8), struct.pack("ii", 1, 5), INVALID)),
    "select_echo_two_clients": (more.select_echo_two_clients,
                                ([b"first", b"second says hi"], ([], [], []), ["listener"])),
    "selector_echo_two_clients": (more.selector_echo_two_clients, ["1", "1", "b'PING 0'", "b'PING 1'"]),
    "udp_sendto_recvfrom": (more.udp_sendto_recvfrom, (12, b"datagram one", True, b"ans", True, b"connected send")),
    "udp_connected_refused": (more.udp_connected_refused, (REFUSED, 5)),
    "udp_unconnected_ignores_port_unreachable": (more.udp_unconnected_ignores_port_unreachable, AGAIN),
    "peek": (more.peek, (b"hel", b"hello")),
    "send_unconnected": (more.send_unconnected, (PIPE, NOT_CONN, NOT_CONN, NOT_CONN)),
    "recv_on_listener": (more.recv_on_listener, (NOT_CONN, PIPE)),
    "double_bind_and_connect_then_bind": (more.double_bind_and_connect_then_bind, (INVALID, INVALID, INVALID)),
    "listen_without_bind": (more.listen_without_bind, ("0.0.0.0", True, True)),
    "reuseaddr_two_unlistened": (more.reuseaddr_two_unlistened, (None, None, IN_USE)),
    "bind_foreign_address": (more.bind_foreign_address, (NOT_AVAILABLE, NOT_AVAILABLE)),
    "accepted_socket_timeouts": (more.accepted_socket_timeouts, (None, None, True)),
    "nonblock_flag_type": (more.nonblock_flag_type, (0.0, True, True, 0, "<SocketKind.SOCK_STREAM: 1>")),
    "sendto_on_tcp": (more.sendto_on_tcp, (1, b"x", PIPE)),
    "udp_details": (more.udp_details, (IN_USE, TOO_LONG, 65507, 65507, ("raised", "TimeoutError", None, "timed out"), 2,
                                  NOT_CONN)),
    "udp_connected_sendto_other": (more.udp_connected_sendto_other, (b"to t", b"from s", True)),
    "select_timeout_and_eof": (more.select_timeout_and_eof, ((True, True), True, b"")),
    "nonblocking_sendall_fills": (more.nonblocking_sendall_fills, (True, errno.EAGAIN, AGAIN[:3])),
    "makefile_rw": (more.makefile_rw, (b"ping\n", b"PING\n", True)),
    "close_fileno_reuse": (more.close_fileno_reuse, True),
    "detach": (more.detach, (True, -1)),
    "writable_only_with_a_third_free": (more.writable_only_with_a_third_free, [False, False, False]),
    "listen_backlog": (more.listen_backlog, ([True, True, False], [True, True])),
    "recv_zero_bytes": (more.recv_zero_bytes, (b"", b"", b"data")),
    "create_server_and_default_timeout": (more.create_server_and_default_timeout, (1, 2.5, 2.5, None, 2.5)),
    "reset_after_fin": (more.reset_after_fin, (b"hi", b"", PIPE, PIPE)),
    "select_misuse": (more.select_misuse, [("ValueError", "file descriptor cannot be a negative integer (-1)"),
                                      ("ValueError", "Invalid file descriptor: -1"),
                                      ("ValueError", "timeout must be non-negative"),
                                      ("ValueError", "Invalid events: 0"),
                                      ("ValueError", "filedescriptor out of range in select()")]),
}
# Where the simulated hosts still differ from Linux: name -> why (the test expects failure until fixed). None now.
KNOWN_DIFFERENCES: dict[str, str] = {}
