"""What the socket scenarios share: the outcomes Linux gives as ("raised", type, errno, text), and helpers that
make listeners and connected pairs through whichever socket module a scenario is given."""

from __future__ import annotations

import errno
from typing import Any

REFUSED = ("raised", "ConnectionRefusedError", errno.ECONNREFUSED, "[Errno 111] Connection refused")
INVALID = ("raised", "OSError", errno.EINVAL, "[Errno 22] Invalid argument")
IN_USE = ("raised", "OSError", errno.EADDRINUSE, "[Errno 98] Address already in use")
RESET = ("raised", "ConnectionResetError", errno.ECONNRESET, "[Errno 104] Connection reset by peer")
PIPE = ("raised", "BrokenPipeError", errno.EPIPE, "[Errno 32] Broken pipe")
AGAIN = ("raised", "BlockingIOError", errno.EAGAIN, "[Errno 11] Resource temporarily unavailable")
IN_PROGRESS = ("raised", "BlockingIOError", errno.EINPROGRESS, "[Errno 115] Operation now in progress")
BAD_FD = ("raised", "OSError", errno.EBADF, "[Errno 9] Bad file descriptor")
NOT_CONN = ("raised", "OSError", errno.ENOTCONN, "[Errno 107] Transport endpoint is not connected")
NOT_AVAILABLE = ("raised", "OSError", errno.EADDRNOTAVAIL, "[Errno 99] Cannot assign requested address")
TOO_LONG = ("raised", "OSError", errno.EMSGSIZE, "[Errno 90] Message too long")
PAUSE = 0.05  # seconds for packets to cross (real loopback: at once; the chain: a few ms)


def listener_on(sk: Any, address: str = "") -> Any:
    """A TCP socket listening on a free port of `address`."""
    s = sk.socket(sk.AF_INET, sk.SOCK_STREAM)
    s.bind((address, 0))
    s.listen(8)
    return s


def connected_pair(srv: Any, cli: Any, ip: str) -> tuple[Any, Any, Any]:
    """A listener, a connected client socket and the accepted socket."""
    lst = listener_on(srv)
    c = cli.socket(cli.AF_INET, cli.SOCK_STREAM)
    c.connect((ip, lst.getsockname()[1]))
    conn, _ = lst.accept()
    return lst, c, conn


def closed_port(srv: Any) -> tuple[Any, int]:
    """A socket bound to a port nobody listens on (kept open so the port stays unused)."""
    s = srv.socket(srv.AF_INET, srv.SOCK_STREAM)
    s.bind(("", 0))
    return s, s.getsockname()[1]


def catch(fn: Any, *args: Any) -> Any:
    """fn(*args), or ("raised", type name, errno, text) if it raised OSError."""
    try:
        return fn(*args)
    except OSError as exc:
        return ("raised", type(exc).__name__, exc.errno, str(exc))
