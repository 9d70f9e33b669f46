"""The rows of test_sim_socket_misuse: name -> (call, CPython's outcome on Linux, checked on this machine)."""

from __future__ import annotations

import decimal
import errno
import select
import selectors
import socket
import time
from typing import Any

from .misuse_table import Row, Track, closed, loopback_pair, raised, udp_pair

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


def calls(expected: Any, **rows: Row) -> None:
    """Register several one-line rows expecting the same outcome."""
    for name, fn in rows.items():
        ROWS[name] = (fn, expected)


def fresh(track: Track, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A new, tracked socket."""
    return track(socket.socket(socket.AF_INET, kind))


# Timeouts and sleep lengths: read at the call, as CPython's pytime.c reads them -----------------------------------
NAN, INF = float("nan"), float("inf")
NOT_A_NUMBER = raised(ValueError, None, "Invalid value NaN (not a number)")
TIME_T = raised(OverflowError, None, "timestamp out of range for platform time_t")
PYTIME_T = raised(OverflowError, None, "timestamp too large to convert to C _PyTime_t")
OUT_OF_RANGE = raised(ValueError, None, "Timeout value out of range")
calls(NOT_A_NUMBER, settimeout_nan=lambda t: fresh(t).settimeout(NAN),
      setdefaulttimeout_nan=lambda t: socket.setdefaulttimeout(NAN), sleep_nan=lambda t: time.sleep(NAN),
      select_timeout_nan=lambda t: select.select([], [], [], NAN))
calls(TIME_T, settimeout_inf=lambda t: fresh(t).settimeout(INF), settimeout_1e300=lambda t: fresh(t).settimeout(1e300),
      settimeout_minus_inf=lambda t: fresh(t).settimeout(-INF),
      settimeout_just_past_pytime=lambda t: fresh(t).settimeout(9.3e9),
      setdefaulttimeout_inf=lambda t: socket.setdefaulttimeout(INF), sleep_inf=lambda t: time.sleep(INF),
      sleep_1e300=lambda t: time.sleep(1e300), select_timeout_inf=lambda t: select.select([], [], [], INF))
calls(PYTIME_T, settimeout_huge_int=lambda t: fresh(t).settimeout(10**10),
      sleep_huge_int=lambda t: time.sleep(2**63))
calls(OUT_OF_RANGE, settimeout_negative=lambda t: fresh(t).settimeout(-1),
      settimeout_minus_one_ns=lambda t: fresh(t).settimeout(-1e-10),
      setdefaulttimeout_negative=lambda t: socket.setdefaulttimeout(-0.5))
calls(raised(ValueError, None, "sleep length must be non-negative"), sleep_negative=lambda t: time.sleep(-1),
      sleep_minus_one_ns=lambda t: time.sleep(-1e-10))
calls(raised(ValueError, None, "timeout must be non-negative"),
      select_timeout_negative=lambda t: select.select([], [], [], -1))
calls(raised(TypeError, None, "timeout must be a float or None"),
      select_timeout_str=lambda t: select.select([], [], [], "a"))
calls(raised(TypeError, None, "'str' object cannot be interpreted as an integer"),
      settimeout_str=lambda t: fresh(t).settimeout("1"), setdefaulttimeout_str=lambda t: socket.setdefaulttimeout("a"),
      sleep_str=lambda t: time.sleep("a"), setblocking_str=lambda t: fresh(t).setblocking("x"))
calls(raised(TypeError, None, "'decimal.Decimal' object cannot be interpreted as an integer"),
      settimeout_decimal=lambda t: fresh(t).settimeout(decimal.Decimal("1.5")))
calls(raised(TypeError, None, "'float' object cannot be interpreted as an integer"),
      setblocking_float=lambda t: fresh(t).setblocking(1.5))
calls(raised(TypeError, None, "'NoneType' object cannot be interpreted as an integer"),
      setblocking_none=lambda t: fresh(t).setblocking(None), sleep_none=lambda t: time.sleep(None))


def timeout_after(value: Any) -> Row:
    """A row that sets a timeout and reads it back."""

    def fn(track: Track) -> Any:
        sock = fresh(track)
        sock.settimeout(value)
        return sock.gettimeout()

    return fn


calls(0.0, settimeout_minus_zero=timeout_after(-0.0))
calls(1e-09, settimeout_rounds_up_to_a_nanosecond=timeout_after(1e-10))
calls(0.333333334, settimeout_rounds_away_from_zero=timeout_after(1 / 3))
calls(1.0, settimeout_true=timeout_after(True))
calls(9.2e9, settimeout_just_below_pytime=timeout_after(9.2e9))
calls(None, setblocking_two_blocks=lambda t: (lambda s: (s.setblocking(2), s.gettimeout())[1])(fresh(t)),
      sleep_zero=lambda t: time.sleep(0), sleep_minus_zero=lambda t: time.sleep(-0.0))

# select()'s lists: CPython's PyObject_AsFileDescriptor and seq2set ------------------------------------------------
NO_FILENO = raised(TypeError, None, "argument must be an int, or have a fileno() method.")
calls(NO_FILENO, select_str_item=lambda t: select.select(["x"], [], [], 0),
      select_str_as_list=lambda t: select.select("x", [], [], 0),
      select_float_item=lambda t: select.select([], [3.5], [], 0),
      select_str_in_xlist=lambda t: select.select([], [], ["x"], 0))
calls(raised(TypeError, None, "arguments 1-3 must be sequences"), select_int_as_list=lambda t: select.select(5, [], []))
calls(raised(ValueError, None, "file descriptor cannot be a negative integer (-1)"),
      select_negative_fd=lambda t: select.select([-1], [], [], 0),
      select_closed_socket=lambda t: select.select([closed(t)], [], [], 0))
calls(raised(ValueError, None, "filedescriptor out of range in select()"),
      select_fd_past_fd_setsize=lambda t: select.select([2000], [], [], 0))
calls(raised(OverflowError, None, "Python int too large to convert to C int"),
      select_fd_past_c_int=lambda t: select.select([2**40], [], [], 0))
calls(raised(ValueError, None, "Invalid file object: 'x'"),
      selector_register_str=lambda t: selectors.DefaultSelector().register("x", selectors.EVENT_READ))


def selector_unregister_after_close(track: Track) -> Any:
    selector = selectors.DefaultSelector()
    sock = socket.socket()
    selector.register(sock, selectors.EVENT_READ)
    sock.close()
    key = selector.unregister(sock)
    return key.fileobj is sock, len(selector.get_map())


ROWS["selector_unregister_after_close"] = (selector_unregister_after_close, (True, 0))

# setsockopt/getsockopt: what Linux knows at each level (sockopts.py) ----------------------------------------------
NO_OPTION = raised(OSError, errno.ENOPROTOOPT, "[Errno 92] Protocol not available")
NOT_SUPPORTED = raised(OSError, errno.EOPNOTSUPP, "[Errno 95] Operation not supported")
INVALID = raised(OSError, errno.EINVAL, "[Errno 22] Invalid argument")
SOL, TCP, IP = socket.SOL_SOCKET, socket.IPPROTO_TCP, socket.IPPROTO_IP
UDP_KIND = socket.SOCK_DGRAM
calls(NO_OPTION, setsockopt_unknown_option=lambda t: fresh(t).setsockopt(SOL, 9999, 1),
      setsockopt_unknown_level=lambda t: fresh(t).setsockopt(9999, 1, 1),
      setsockopt_unknown_tcp_option=lambda t: fresh(t).setsockopt(TCP, 9999, 1),
      setsockopt_unknown_ip_option=lambda t: fresh(t).setsockopt(IP, 9999, 1),
      setsockopt_read_only_so_type=lambda t: fresh(t).setsockopt(SOL, socket.SO_TYPE, 1),
      setsockopt_read_only_so_error=lambda t: fresh(t).setsockopt(SOL, socket.SO_ERROR, 0),
      setsockopt_tcp_info=lambda t: fresh(t).setsockopt(TCP, socket.TCP_INFO, 1),
      setsockopt_tcp_level_on_udp=lambda t: fresh(t, UDP_KIND).setsockopt(TCP, socket.TCP_NODELAY, 1),
      getsockopt_unknown_option=lambda t: fresh(t).getsockopt(SOL, 9999),
      getsockopt_unknown_tcp_option=lambda t: fresh(t).getsockopt(TCP, 9999))
calls(NOT_SUPPORTED, getsockopt_unknown_level=lambda t: fresh(t).getsockopt(9999, 1),
      getsockopt_tcp_level_on_udp=lambda t: fresh(t, UDP_KIND).getsockopt(TCP, socket.TCP_NODELAY),
      setsockopt_so_passcred=lambda t: fresh(t).setsockopt(SOL, socket.SO_PASSCRED, 1))
calls(INVALID, setsockopt_ttl_zero=lambda t: fresh(t).setsockopt(IP, socket.IP_TTL, 0),
      setsockopt_ttl_256=lambda t: fresh(t, UDP_KIND).setsockopt(IP, socket.IP_TTL, 256),
      setsockopt_keepidle_zero=lambda t: fresh(t).setsockopt(TCP, socket.TCP_KEEPIDLE, 0),
      setsockopt_keepcnt_128=lambda t: fresh(t).setsockopt(TCP, socket.TCP_KEEPCNT, 128),
      setsockopt_rcvtimeo_int=lambda t: fresh(t).setsockopt(SOL, socket.SO_RCVTIMEO, 1),
      setsockopt_linger_int=lambda t: fresh(t).setsockopt(SOL, socket.SO_LINGER, 1))
calls(raised(TypeError, None, "a bytes-like object is required, not 'str'"),
      setsockopt_str_value=lambda t: fresh(t).setsockopt(SOL, socket.SO_REUSEADDR, "x"))
calls(raised(TypeError, None, "a bytes-like object is required, not 'int'"),
      setsockopt_value_past_c_int=lambda t: fresh(t).setsockopt(SOL, socket.SO_REUSEADDR, 2**40))
calls(raised(OSError, None, "getsockopt buflen out of range"),
      getsockopt_negative_buflen=lambda t: fresh(t).getsockopt(SOL, socket.SO_REUSEADDR, -1),
      getsockopt_buflen_past_1024=lambda t: fresh(t).getsockopt(SOL, socket.SO_REUSEADDR, 1025))


def option_round_trip(level: int, name: int, value: Any, kind: int = socket.SOCK_STREAM, buflen: int = 0) -> Row:
    """A row that sets an option and reads it back."""

    def fn(track: Track) -> Any:
        sock = fresh(track, kind)
        sock.setsockopt(level, name, value)
        return sock.getsockopt(level, name, buflen) if buflen else sock.getsockopt(level, name)

    return fn


calls(64, setsockopt_ttl_minus_one_is_the_default=option_round_trip(IP, socket.IP_TTL, -1, UDP_KIND))
calls(255, setsockopt_ttl_255=option_round_trip(IP, socket.IP_TTL, 255))
calls(1, setsockopt_keepidle_one=option_round_trip(TCP, socket.TCP_KEEPIDLE, 1))
calls(32767, setsockopt_keepintvl_max=option_round_trip(TCP, socket.TCP_KEEPINTVL, 32767))
calls(b"\x01\x00\x00\x00", getsockopt_buflen_past_an_int=option_round_trip(SOL, socket.SO_REUSEADDR, 1, buflen=8))
calls(b"\x01", getsockopt_buflen_one=option_round_trip(SOL, socket.SO_REUSEADDR, 1, buflen=1))
calls((6, 17, 2), getsockopt_protocol_and_domain=lambda t: (fresh(t).getsockopt(SOL, socket.SO_PROTOCOL),
                                                            fresh(t, UDP_KIND).getsockopt(SOL, socket.SO_PROTOCOL),
                                                            fresh(t).getsockopt(SOL, socket.SO_DOMAIN)))


def accept_conn(track: Track) -> Any:
    sock = fresh(track)
    before = sock.getsockopt(SOL, socket.SO_ACCEPTCONN)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return before, sock.getsockopt(SOL, socket.SO_ACCEPTCONN)


ROWS["getsockopt_acceptconn"] = (accept_conn, (0, 1))

# Calls on a closed socket: EBADF from the kernel, except where CPython answers without a system call -------------
BAD_FD = raised(OSError, errno.EBADF, "[Errno 9] Bad file descriptor")
calls(BAD_FD, closed_getsockname=lambda t: closed(t).getsockname(),
      closed_getpeername=lambda t: closed(t).getpeername(),
      closed_settimeout=lambda t: closed(t).settimeout(1), closed_setblocking=lambda t: closed(t).setblocking(False),
      closed_shutdown_bad_how=lambda t: closed(t).shutdown(9), closed_listen=lambda t: closed(t).listen(),
      closed_sendto=lambda t: closed(t, UDP_KIND).sendto(b"x", ("127.0.0.1", 9)),
      closed_setsockopt_unknown=lambda t: closed(t).setsockopt(SOL, 9999, 1))
calls(errno.EBADF, closed_connect_ex=lambda t: closed(t).connect_ex(("127.0.0.1", 9)))
calls(b"", closed_recv_nothing=lambda t: closed(t).recv(0), unconnected_recv_nothing=lambda t: fresh(t).recv(0))
calls(-1, closed_detach=lambda t: closed(t).detach())

# socket()'s arguments (socket.py, __sock_create, inet_create) -----------------------------------------------------
calls(raised(OSError, errno.EINVAL, "[Errno 22] Invalid argument"),
      socket_type_999=lambda t: socket.socket(socket.AF_INET, 999),
      socket_type_past_sock_max=lambda t: socket.socket(socket.AF_INET, 11),
      socket_unknown_type_flag=lambda t: socket.socket(socket.AF_INET, socket.SOCK_STREAM | 0x100),
      socket_protocol_999=lambda t: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 999))
calls(raised(OSError, errno.ESOCKTNOSUPPORT, "[Errno 94] Socket type not supported"),
      socket_type_zero=lambda t: socket.socket(socket.AF_INET, 0),
      socket_seqpacket=lambda t: socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET))
calls(raised(OSError, errno.EPROTONOSUPPORT, "[Errno 93] Protocol not supported"),
      socket_raw=lambda t: socket.socket(socket.AF_INET, socket.SOCK_RAW),
      socket_stream_udp=lambda t: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 17),
      socket_dgram_tcp=lambda t: socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 6),
      socket_stream_protocol_256=lambda t: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 256))
calls(raised(OSError, errno.EAFNOSUPPORT, "[Errno 97] Address family not supported by protocol"),
      socket_family_999=lambda t: socket.socket(999))
calls(raised(TypeError, None, "'str' object cannot be interpreted as an integer"),
      socket_family_str=lambda t: socket.socket("x"), socket_type_str=lambda t: socket.socket(socket.AF_INET, "x"),
      listen_str=lambda t: fresh(t).listen("x"), shutdown_str=lambda t: fresh(t).shutdown("x"),
      recv_str=lambda t: fresh(t).recv("x"))
calls(raised(OverflowError, None, "Python int too large to convert to C int"),
      socket_family_past_c_int=lambda t: socket.socket(2**40))
calls(raised(OverflowError, None, "signed integer is greater than maximum"),
      listen_huge=lambda t: fresh(t).listen(2**40))
calls(raised(OverflowError, None, "Python int too large to convert to C ssize_t"),
      recv_huge=lambda t: fresh(t).recv(2**70))
calls((socket.SOCK_STREAM, 0, socket.SOCK_STREAM), socket_minus_one_is_the_default=lambda t: (
    lambda s: (s.type, s.proto, s.getsockopt(SOL, socket.SO_TYPE)))(track_new(t, socket.AF_INET, -1, -1)))
calls(True, socket_nonblock_flag=lambda t: track_new(t, socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
      .gettimeout() == 0.0)


def track_new(track: Track, *args: Any) -> socket.socket:
    """socket.socket(*args), tracked."""
    return track(socket.socket(*args))


# Addresses, data and states ------------------------------------------------------------------------------------
calls(raised(OSError, errno.EISCONN, "[Errno 106] Transport endpoint is already connected"),
      connect_on_a_listener=lambda t: (lambda s: s.connect(s.getsockname()))(listening(t)))
calls(errno.EISCONN, connect_ex_on_a_listener=lambda t: (lambda s: s.connect_ex(s.getsockname()))(listening(t)))
calls(raised(OSError, errno.EINVAL, "[Errno 22] Invalid argument"),
      bind_a_listener_again=lambda t: listening(t).bind(("127.0.0.1", 0)),
      shutdown_bad_how=lambda t: fresh(t).shutdown(5))
calls(raised(OSError, errno.ENOTCONN, "[Errno 107] Transport endpoint is not connected"),
      shutdown_unconnected=lambda t: fresh(t).shutdown(socket.SHUT_RDWR))
calls(raised(OSError, errno.EDESTADDRREQ, "[Errno 89] Destination address required"),
      send_unconnected_udp=lambda t: fresh(t, UDP_KIND).send(b"x"))
calls(raised(TypeError, None, "connect(): AF_INET address must be tuple, not str"),
      connect_str_address=lambda t: fresh(t).connect("x"))
calls(raised(TypeError, None, "connect_ex(): AF_INET address must be tuple, not str"),
      connect_ex_str_address=lambda t: fresh(t).connect_ex("x"))
calls(raised(TypeError, None, "sendto(): AF_INET address must be tuple, not NoneType"),
      sendto_none_address=lambda t: fresh(t, UDP_KIND).sendto(b"x", None))
calls(raised(TypeError, None, "AF_INET address must be a pair (host, port)"),
      bind_three_tuple=lambda t: fresh(t).bind(("127.0.0.1", 80, 1)))
calls(raised(TypeError, None, "str, bytes or bytearray expected, not int"),
      bind_int_host=lambda t: fresh(t).bind((1, 80)))
calls(raised(TypeError, None, "'str' object cannot be interpreted as an integer"),
      connect_str_port=lambda t: fresh(t).connect(("127.0.0.1", "80")))
calls(raised(OverflowError, None, "connect(): port must be 0-65535."),
      connect_port_65536=lambda t: fresh(t).connect(("127.0.0.1", 65536)),
      connect_port_minus_one=lambda t: fresh(t).connect(("127.0.0.1", -1)))
calls(raised(OverflowError, None, "bind(): port must be 0-65535."),
      bind_port_70000=lambda t: fresh(t).bind(("", 70000)))
calls(raised(OverflowError, None, "connect_ex(): port must be 0-65535."),
      connect_ex_port_70000=lambda t: fresh(t).connect_ex(("127.0.0.1", 70000)))
calls(raised(OverflowError, None, "sendto(): port must be 0-65535."),
      sendto_port_70000=lambda t: fresh(t, UDP_KIND).sendto(b"x", ("127.0.0.1", 70000)))
calls(raised(TypeError, None, "a bytes-like object is required, not 'str'"),
      send_str=lambda t: fresh(t).send("x"), sendall_str=lambda t: fresh(t).sendall("x"),
      sendto_str=lambda t: fresh(t, UDP_KIND).sendto("x", ("127.0.0.1", 9)))
calls(raised(TypeError, None, "a bytes-like object is required, not 'NoneType'"),
      send_none=lambda t: fresh(t).send(None))
calls(raised(BrokenPipeError, errno.EPIPE, "[Errno 32] Broken pipe"), send_unconnected=lambda t: fresh(t).send(b""))
calls(("0.0.0.0", 0), bind_port_zero_boundary=lambda t: (lambda s: (s.bind(("", 0)), s.getsockname()[0], 0)[1:])(
    fresh(t)))
calls(True, bind_port_65535_boundary=lambda t: (lambda s: s.bind(("", 65535)) is None)(fresh(t)))


def listening(track: Track, backlog: int = 128) -> socket.socket:
    """A tracked socket listening on 127.0.0.1."""
    sock = track(socket.socket())
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


# Names --------------------------------------------------------------------------------------------------------
NO_NAME = raised(socket.gaierror, socket.EAI_NONAME, "[Errno -2] Name or service not known")
calls(NO_NAME, getaddrinfo_no_host_no_port=lambda t: socket.getaddrinfo(None, None),
      getaddrinfo_empty_host=lambda t: socket.getaddrinfo("", 80),
      getaddrinfo_passive_no_port=lambda t: socket.getaddrinfo(None, None, socket.AF_INET, socket.SOCK_STREAM, 0,
                                                               socket.AI_PASSIVE))
calls(raised(socket.gaierror, socket.EAI_SERVICE, "[Errno -8] Servname not supported for ai_socktype"),
      getaddrinfo_negative_port=lambda t: socket.getaddrinfo("127.0.0.1", -1))
calls(raised(TypeError, None, "getaddrinfo() argument 1 must be string or None"),
      getaddrinfo_int_host=lambda t: socket.getaddrinfo(1, 80))
calls(raised(OSError, None, "Int or String expected"), getaddrinfo_float_port=lambda t: socket.getaddrinfo("x", 1.5))
STREAM_ARGS = (socket.AF_INET, socket.SOCK_STREAM)
calls([(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 4464))],
      getaddrinfo_port_wraps=lambda t: socket.getaddrinfo("127.0.0.1", 70000, *STREAM_ARGS))
calls([(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))],
      getaddrinfo_bytes_port=lambda t: socket.getaddrinfo(b"127.0.0.1", b"80", *STREAM_ARGS),
      getaddrinfo_no_host_named_port=lambda t: socket.getaddrinfo(None, "http", *STREAM_ARGS))
calls("0.0.0.0", gethostbyname_empty=lambda t: socket.gethostbyname(""),
      gethostbyname_empty_bytes=lambda t: socket.gethostbyname(b""))
calls("127.0.0.1", gethostbyname_bytes=lambda t: socket.gethostbyname(b"127.0.0.1"))
calls(raised(TypeError, None, "gethostbyname() argument 1 must be str, bytes or bytearray, not int"),
      gethostbyname_int=lambda t: socket.gethostbyname(1))
calls(raised(TypeError, None, "gethostbyname() argument 1 must be str, bytes or bytearray, not None"),
      gethostbyname_none=lambda t: socket.gethostbyname(None))
calls(raised(socket.herror, 3, "[Errno 3] Unknown server error"),
      gethostbyname_ex_empty=lambda t: socket.gethostbyname_ex(""))


def connect_ex_timeout(track: Track) -> Any:
    """connect_ex() to a listener whose backlog is full (its SYNs are dropped) until the timeout passes."""
    server = listening(track, backlog=0)
    codes = []
    for _ in range(3):
        client = track(socket.socket())
        client.settimeout(0.2)
        codes.append(client.connect_ex(server.getsockname()))
    return codes[0], codes[-1]


ROWS["connect_ex_timeout"] = (connect_ex_timeout, (0, errno.EAGAIN))


# socket(fileno=...): a descriptor taken over (ssl's and asyncio's detach idiom), or none ------------------------
def take_over_a_connection(track: Track) -> Any:
    client, server = loopback_pair(track)
    number = client.detach()
    again = track(socket.socket(fileno=number))
    again.sendall(b"hi")
    return (server.recv(2), again.fileno() == number, again.type, again.proto,
            again.getpeername() == server.getsockname(), client.fileno())


def take_over_a_datagram_socket(track: Track) -> Any:
    sender, receiver = udp_pair(track)
    again = track(socket.socket(fileno=sender.detach()))
    again.send(b"datagram")
    return receiver.recv(16), again.type, again.proto


ROWS["take_over_a_connection"] = (take_over_a_connection, (b"hi", True, socket.SOCK_STREAM, 6, True, -1))
ROWS["take_over_a_datagram_socket"] = (take_over_a_datagram_socket, (b"datagram", socket.SOCK_DGRAM, 17))
calls(BAD_FD, socket_fileno_of_nothing=lambda t: socket.socket(fileno=900_000))
calls(raised(ValueError, None, "negative file descriptor"), socket_negative_fileno=lambda t: socket.socket(fileno=-1))


def shutdown_a_listener(how: int) -> Row:
    """shutdown(how) on a listener, then whether it still listens and what accept() says (inet_shutdown)."""

    def row(track: Track) -> Any:
        sock = listening(track)
        sock.setblocking(False)
        result = sock.shutdown(how)
        try:
            accepted: Any = sock.accept()
        except OSError as exc:
            accepted = exc.errno
        return result, sock.getsockopt(SOL, socket.SO_ACCEPTCONN), accepted

    return row


# A listener is not ENOTCONN: SHUT_RD and SHUT_RDWR stop it listening (tcp_disconnect), SHUT_WR does nothing
ROWS["shutdown_rdwr_a_listener"] = (shutdown_a_listener(socket.SHUT_RDWR), (None, 0, errno.EINVAL))
ROWS["shutdown_rd_a_listener"] = (shutdown_a_listener(socket.SHUT_RD), (None, 0, errno.EINVAL))
ROWS["shutdown_wr_a_listener"] = (shutdown_a_listener(socket.SHUT_WR), (None, 1, errno.EAGAIN))


def accepted_socket_options(track: Track) -> Any:
    """What a connection accept() returns says of the options its listener set (it is a clone of it)."""
    server = track(socket.socket())
    for level, name in ((SOL, socket.SO_REUSEADDR), (TCP, socket.TCP_NODELAY), (SOL, socket.SO_KEEPALIVE)):
        server.setsockopt(level, name, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = track(socket.socket())
    client.connect(server.getsockname())
    accepted = track(server.accept()[0])
    return (accepted.getsockopt(SOL, socket.SO_REUSEADDR), accepted.getsockopt(TCP, socket.TCP_NODELAY),
            accepted.getsockopt(SOL, socket.SO_KEEPALIVE), client.getsockopt(TCP, socket.TCP_NODELAY))


ROWS["accepted_socket_options"] = (accepted_socket_options, (1, 1, 1, 0))
