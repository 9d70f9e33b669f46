"""ssl on a simulated socket: `SSLContext.wrap_socket` gives a SimSSLSocket (TLS through the real ssl module).

`ssl.SSLContext.wrap_socket(sock)` builds an `ssl.SSLSocket` (a subclass of the real `socket.socket`) around
`sock.fileno()` and detaches `sock`: on a simulated socket that would hand the simulated descriptor number to the
real kernel. While a network runs, the stdlib patch puts these replacements in place: wrap_socket hands a simulated
socket to the network's TLS world (tls/sslsocket.py), set_alpn_protocols remembers the list (a client context is
copied, and ALPN cannot be read back), and certifi.where() inside a process is the simulated CA's bundle.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import Callable
from typing import Any

from layersim.errors import LayersimError

__all__ = ["TLSNotSupportedError", "tls_replacements"]


class TLSNotSupportedError(LayersimError, ssl.SSLError):
    """TLS a simulated socket cannot do (an ssl.SSLError, so requests reports it)."""

    def __str__(self) -> str:
        return str(self.args[0])  # the message alone (SSLError's own str shows the args tuple)


def simulated_wrap_socket(real: Callable[..., Any]) -> Callable[..., Any]:
    """SSLContext.wrap_socket that runs TLS over a simulated socket and is `real` otherwise."""
    from layersim.net.host.socketapi.sim_socket import SimSocket
    from layersim.net.host.tls.sslsocket import wrap

    def wrap_socket(self: ssl.SSLContext, sock: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(sock, SimSocket):
            world = getattr(sock.host.runtime, "tls", None)
            if world is None:
                raise TLSNotSupportedError(f"{sock!r}: this host's network has no TLS world (make hosts with "
                                           "layersim.Network)")
            names = ("server_side", "do_handshake_on_connect", "suppress_ragged_eofs", "server_hostname", "session")
            kwargs.update(zip(names, args, strict=False))
            return wrap(world, self, sock, **kwargs)
        return real(self, sock, *args, **kwargs)

    wrap_socket.__doc__ = real.__doc__
    return wrap_socket


def remembering_set_alpn(real: Callable[..., Any]) -> Callable[..., Any]:
    """SSLContext.set_alpn_protocols that also keeps the list on the context (for its simulated copy)."""

    def set_alpn_protocols(self: ssl.SSLContext, alpn_protocols: Any) -> None:
        real(self, alpn_protocols)
        self._layersim_alpn = tuple(alpn_protocols)  # type: ignore[attr-defined]

    set_alpn_protocols.__doc__ = real.__doc__
    return set_alpn_protocols


def _certifi_where(real: Callable[[], str]) -> Callable[[], str]:
    """certifi.where() that names the simulated CA bundle inside a process (the real one outside)."""
    from layersim.net.engine.process import current_process

    def where() -> str:
        proc = current_process()
        world = None if proc is None else getattr(proc.host.runtime, "tls", None)
        return real() if world is None else world.ca_file  # type: ignore[no-any-return]

    where.__doc__ = real.__doc__
    return where


def tls_replacements() -> list[tuple[Any, str, Any]]:
    """(owner, name, replacement) for the stdlib patch."""
    out: list[tuple[Any, str, Any]] = [
        (ssl.SSLContext, "wrap_socket", simulated_wrap_socket(ssl.SSLContext.wrap_socket)),
        (ssl.SSLContext, "set_alpn_protocols", remembering_set_alpn(ssl.SSLContext.set_alpn_protocols))]
    certifi = sys.modules.get("certifi")
    if certifi is not None:
        out.append((certifi, "where", _certifi_where(certifi.where)))
    return out
