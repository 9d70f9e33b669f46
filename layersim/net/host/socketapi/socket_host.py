"""What the socket API uses of the host it runs on (a Host is one), so the sockets need not import the host."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from layersim.net.engine.clock import Clock
    from layersim.net.engine.interface import Interface
    from layersim.net.engine.process import Process
    from layersim.net.host.datagram_sockets import SocketTable
    from layersim.net.host.tcp_stack import TcpStack
    from layersim.net.ipv4.output import Output

__all__ = ["SocketHost"]


class SocketHost(Protocol):
    """A simulated host as its sockets, select and socket module see it: descriptors, names, TCP and UDP, processes."""

    name: str
    clock: Clock
    tcp: TcpStack
    sockets: SocketTable
    output: Output
    own_ints: frozenset[int]
    fd_table: dict[int, Any]  # file descriptor -> socket object
    hosts: dict[str, IPv4Address]  # /etc/hosts
    resolver: Any  # a stub resolver for names not in `hosts`, or None

    @property
    def addresses(self) -> dict[IPv4Address, Interface]: ...

    @property
    def socket(self) -> Any: ...

    def new_fd(self, sock: Any) -> int: ...

    def free_fd(self, fd: int, sock: Any) -> None: ...

    def resolve(self, name: str) -> IPv4Address: ...

    def resolve_all(self, name: str) -> list[IPv4Address]: ...

    def spawn(self, fn: Callable[..., Any], *args: Any, at: int | str | None = None, name: str | None = None,
              **kwargs: Any) -> Process: ...

    def run_script(self, path: str | Path, argv: Sequence[str] = (), *, at: int | str | None = None) -> Process: ...
