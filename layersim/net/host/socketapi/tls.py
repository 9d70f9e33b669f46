"""ssl on a simulated socket: refused in one clear line, before the ssl module touches any descriptor.

`ssl.SSLContext.wrap_socket(sock)` builds an `ssl.SSLSocket` (a subclass of the real `socket.socket`) around
`sock.fileno()` and detaches `sock`: on a simulated socket that would hand the simulated descriptor number to the
real kernel. While a network runs, the stdlib patch puts `refusing_wrap_socket` in its place.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from layersim.errors import LayersimError

__all__ = ["TLSNotSupportedError", "refusing_wrap_socket"]


class TLSNotSupportedError(LayersimError, ssl.SSLError):
    """TLS over a simulated socket, which layersim does not run yet (an ssl.SSLError, so requests reports it)."""

    def __str__(self) -> str:
        return str(self.args[0])  # the message alone (SSLError's own str shows the args tuple)


def refusing_wrap_socket(real: Callable[..., Any]) -> Callable[..., Any]:
    """SSLContext.wrap_socket that raises TLSNotSupportedError for a simulated socket and is `real` otherwise."""
    from layersim.net.host.socketapi.sim_socket import SimSocket

    def wrap_socket(self: ssl.SSLContext, sock: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(sock, SimSocket):
            raise TLSNotSupportedError(f"TLS over simulated sockets is not supported yet ({sock!r}): "
                                       "use plain TCP (http://, not https://) on simulated hosts")
        return real(self, sock, *args, **kwargs)

    wrap_socket.__doc__ = real.__doc__
    return wrap_socket
