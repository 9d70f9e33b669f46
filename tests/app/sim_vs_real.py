"""Run one socket scenario on real loopback sockets (CPython on Linux) and on simulated hosts, and compare.

A scenario is `fn(server_socket_module, client_socket_module, server_ip)`: on the real side both modules are the
stdlib's `socket` and the address is 127.0.0.1; on the simulated side they are the server's and the client's
`host.socket` of the client - r1 - r2 - server chain, and the scenario runs as a process on the client. What it
returns, or the exception it raises (type, errno, text), is the outcome compared.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from tests.net.conftest import SERVER_IP, Chain, build_chain

Scenario = Callable[[Any, Any, str], Any]


def outcome(fn: Scenario, *args: Any) -> Any:
    """What fn returned, or ("raised", exception type name, errno, str(exception))."""
    try:
        return fn(*args)
    except OSError as exc:
        return ("raised", type(exc).__name__, exc.errno, str(exc))


def on_linux(fn: Scenario) -> Any:
    """The outcome of the scenario on real loopback sockets."""
    return outcome(fn, socket, socket, "127.0.0.1")


def on_chain(fn: Scenario, chain: Chain | None = None, timeout_s: float = 600) -> Any:
    """The outcome of the scenario as a process on the chain's client (server sockets on the server host)."""
    chain = chain or build_chain()
    proc = chain.client.spawn(outcome, fn, chain.server.socket, chain.client.socket, SERVER_IP)
    chain.net.run_until(lambda: proc.done, timeout_ns=round(timeout_s * 1e9))
    assert proc.done, f"the scenario did not finish within {timeout_s} simulated seconds"
    if proc.exception is not None:
        raise proc.exception
    return proc.result
