"""A host's `socket` module: the stdlib's names, with sockets, name resolution and timeouts on the simulated host.

`host.socket` is one of these: `s = host.socket.socket(host.socket.AF_INET, host.socket.SOCK_STREAM)` inside a
process is a socket of that host. Every constant, exception class and helper the stdlib has and this does not
override is the stdlib's own, so `except socket.timeout` and `socket.gaierror` work as in any program.
"""

from __future__ import annotations

import socket as _std
import types
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from layersim.net.host.socketapi.pair_socket import socket_pair
from layersim.net.host.socketapi.pytime import socket_timeout
from layersim.net.host.socketapi.sim_socket import SimSocket
from layersim.net.host.socketapi.sim_socket_ops import os_error

if TYPE_CHECKING:
    from layersim.net.host.socketapi.socket_host import SocketHost

__all__ = ["SocketModule", "bound_socket_class"]

# glibc's (socket type, protocol) pairs for AF_INET, in the order it returns them, and the services it knows.
_KINDS = ((_std.SOCK_STREAM, 6), (_std.SOCK_DGRAM, 17), (_std.SOCK_RAW, 0))
_SERVICE_PORTS = {"http": {6: 80}, "www": {6: 80}, "https": {6: 443, 17: 443}, "domain": {6: 53, 17: 53},
                  "http-alt": {6: 8080}, "ntp": {17: 123}}  # getaddrinfo's services: name -> {protocol: port}
_OWN = ("socket", "SocketType", "create_connection", "create_server", "getaddrinfo", "gethostbyname",
        "gethostbyname_ex", "gethostname", "getfqdn", "getdefaulttimeout", "setdefaulttimeout", "gethostbyaddr",
        "getnameinfo", "socketpair")
# Service names getnameinfo gives (a fixed table, not the machine's /etc/services: same names everywhere).
_SERVICES = {(53, "tcp"): "domain", (53, "udp"): "domain", (80, "tcp"): "http", (443, "tcp"): "https"}


def bound_socket_class(host: SocketHost, module: SocketModule | None = None) -> type[SimSocket]:
    """`socket.socket` for one host: the class a program instantiates as socket.socket(family, type)."""

    class socket(SimSocket):
        """A socket of this host."""

        def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None,
                     **kwargs: Any) -> None:  # -1: the default, or what the descriptor `fileno` is (socket.py)
            if module is not None:
                kwargs.setdefault("timeout", module.getdefaulttimeout())
            super().__init__(host, family, type, proto, fileno, **kwargs)

        def _new_stream_socket(self) -> SimSocket:
            return type(self)(_std.AF_INET, _std.SOCK_STREAM)

        def __reduce__(self) -> Any:
            raise TypeError("a simulated socket cannot be pickled")

    socket.__qualname__ = socket.__name__ = "socket"
    return socket


class SocketModule(types.ModuleType):
    """The `socket` module as a program on `host` sees it."""

    def __init__(self, host: SocketHost) -> None:
        super().__init__("socket", f"the socket module of simulated host {host.name}")
        for name in dir(_std):
            if not name.startswith("__") and name not in _OWN:
                setattr(self, name, getattr(_std, name))
        self.host = host
        self.socket = bound_socket_class(host, self)
        self.SocketType = self.socket
        self._default_timeout: float | None = None

    # Module functions -----------------------------------------------------------------------------------
    def getdefaulttimeout(self) -> float | None:
        """The timeout new sockets start with."""
        return self._default_timeout

    def setdefaulttimeout(self, timeout: float | None) -> None:
        """Set the timeout new sockets start with."""
        self._default_timeout = socket_timeout(timeout)

    def gethostname(self) -> str:
        """The host's name."""
        return self.host.name

    def getfqdn(self, name: str = "") -> str:
        """The host's name (there is no domain search)."""
        return name or self.host.name

    def gethostbyname(self, name: str) -> str:
        """The first IPv4 address of `name` (a hosts entry, or a DNS answer); socket.gaierror when unknown."""
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode("idna")
        elif not isinstance(name, str):
            raise TypeError(f"gethostbyname() argument 1 must be str, bytes or bytearray, not "
                            f"{'None' if name is None else type(name).__name__}")
        if not name:  # CPython's setipaddr: the empty name is INADDR_ANY
            return "0.0.0.0"
        return str(self.host.resolve(name))

    def gethostbyname_ex(self, name: str) -> tuple[str, list[str], list[str]]:
        """(canonical name, aliases, addresses) of `name`: from DNS the CNAME chain's end and its aliases."""
        resolver = self.host.resolver
        if name == "":  # glibc's gethostbyname_r("") fails with NO_RECOVERY, which CPython reports as herror 3
            raise _std.herror(3, "Unknown server error")
        try:
            IPv4Address(name)
        except ValueError:
            key = name.rstrip(".").lower()
            if resolver is not None and key not in self.host.hosts and key not in ("localhost", self.host.name):
                return resolver.lookup_for(self.host, name)
        return name, [], [str(a) for a in self.host.resolve_all(name)]

    def getaddrinfo(self, host: str | bytes | None, port: int | str | bytes | None, family: int = 0, type: int = 0,
                    proto: int = 0, flags: int = 0) -> list[tuple[Any, Any, int, str, tuple[str, int]]]:
        """(family, type, proto, canonname, (address, port)) for each address, as glibc's getaddrinfo gives them.

        Without a type or protocol each address comes as SOCK_STREAM/6, SOCK_DGRAM/17 and SOCK_RAW/0; a named
        service only for the protocols /etc/services lists it under; a service with SOCK_RAW is EAI_SERVICE."""
        if isinstance(host, bytes):
            host = host.decode("idna")
        elif host is not None and not isinstance(host, str):
            raise TypeError("getaddrinfo() argument 1 must be string or None")
        if isinstance(port, bytes):
            port = port.decode()
        elif port.__class__ is int:  # `type` is the argument here
            port = str(port)  # CPython hands glibc the number as text (an exact int only)
        elif port is not None and not isinstance(port, str):
            raise OSError("Int or String expected")
        if (host is None and port is None) or host == "":  # glibc: no name and no service, or the empty name
            raise _std.gaierror(_std.EAI_NONAME, "Name or service not known")
        if family == _std.AF_INET6:
            raise _std.gaierror(_std.EAI_ADDRFAMILY, "Address family for hostname not supported")
        if family not in (_std.AF_INET, _std.AF_UNSPEC):
            raise _std.gaierror(_std.EAI_FAMILY, "ai_family not supported")
        kinds = [k for k in _KINDS if (not type or k[0] == type) and (not proto or k[1] == proto)]
        if not kinds:
            raise _std.gaierror(_std.EAI_SOCKTYPE, "ai_socktype not supported")
        number = 0
        if isinstance(port, str) and not port.isdigit():
            by_protocol = _SERVICE_PORTS.get(port, {})
            kinds = [k for k in kinds if k[1] in by_protocol]
            if not kinds:
                raise _std.gaierror(_std.EAI_SERVICE, "Servname not supported for ai_socktype")
            number = by_protocol[kinds[0][1]]
        elif port is not None:
            number = int(port) % 0x10000  # glibc keeps the low 16 bits of a numeric service (htons)
        if port is not None and type == _std.SOCK_RAW:
            raise _std.gaierror(_std.EAI_SERVICE, "Servname not supported for ai_socktype")
        if host is None:
            addresses = [IPv4Address("0.0.0.0" if flags & _std.AI_PASSIVE else "127.0.0.1")]
        else:
            addresses = self.host.resolve_all(host)
        return [(_std.AddressFamily.AF_INET, _std.SocketKind(kind), protocol, "", (str(address), number))
                for address in addresses for kind, protocol in kinds]

    def gethostbyaddr(self, ip_address: str) -> tuple[str, list[str], list[str]]:
        """(name, aliases, [address]) from the host's own name and its hosts entries; socket.herror otherwise, as
        for an address without a PTR record (the simulated zones have none)."""
        address = self.host.resolve(ip_address)  # a name is resolved first, as glibc does
        names = [name for name, entry in self.host.hosts.items() if entry == address]
        if address in self.host.addresses:
            names.insert(0, self.host.name)
        if not names:
            raise _std.herror(1, "Unknown host")
        return names[0], names[1:], [str(address)]

    def getnameinfo(self, sockaddr: tuple[str, int], flags: int) -> tuple[str, str]:
        """(host, port) names for a numeric address, reverse-looked-up as gethostbyaddr does (no query leaves
        the simulation)."""
        host, port = sockaddr[0], int(sockaddr[1])
        try:
            address = str(IPv4Address(host))
        except ValueError:
            raise _std.gaierror(_std.EAI_NONAME, "Name or service not known") from None
        name = address
        if not flags & _std.NI_NUMERICHOST:
            try:
                name = self.gethostbyaddr(address)[0]
            except _std.herror:
                if flags & _std.NI_NAMEREQD:
                    raise _std.gaierror(_std.EAI_NONAME, "Name or service not known") from None
        kind = "udp" if flags & _std.NI_DGRAM else "tcp"
        service = str(port) if flags & _std.NI_NUMERICSERV else _SERVICES.get((port, kind), str(port))
        return name, service

    def socketpair(self, family: int | None = None, type: int = _std.SOCK_STREAM, proto: int = 0) -> Any:
        """Two connected AF_UNIX stream ends inside this host (see pair_socket.py), as asyncio's loop needs."""
        return socket_pair(self.host, family, type, proto)

    def create_connection(self, address: tuple[str, int], timeout: Any = _std._GLOBAL_DEFAULT_TIMEOUT,
                          source_address: tuple[str, int] | None = None, *, all_errors: bool = False) -> SimSocket:
        """Connect to the first address of `address` that answers, as the stdlib's create_connection does."""
        host, port = address
        errors: list[OSError] = []
        for _family, kind, proto, _name, target in self.getaddrinfo(host, port, 0, _std.SOCK_STREAM):
            sock = self.socket(_std.AF_INET, kind, proto)
            try:
                if timeout is not _std._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(target)
                return sock
            except OSError as exc:
                errors.append(exc)
                sock.close()
        if not errors:
            raise OSError("getaddrinfo returns an empty list")
        if all_errors:
            raise ExceptionGroup("create_connection failed", errors)
        raise errors[0]

    def create_server(self, address: tuple[str, int], *, family: int = _std.AF_INET, backlog: int | None = None,
                      reuse_port: bool = False, dualstack_ipv6: bool = False) -> SimSocket:
        """A listening TCP socket bound to `address` (SO_REUSEADDR set, as the stdlib does on Linux)."""
        if dualstack_ipv6 or family != _std.AF_INET:
            raise os_error(97, "layersim's hosts speak IPv4 only")
        sock = self.socket(_std.AF_INET, _std.SOCK_STREAM)
        sock.setsockopt(_std.SOL_SOCKET, _std.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128 if backlog is None else backlog)
        return sock
