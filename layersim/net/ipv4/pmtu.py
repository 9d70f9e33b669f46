"""IPv4's path MTU cache: the one both versions share (layersim.net.ip.pmtu), under its IPv4 name."""

from layersim.net.ip.pmtu import MIN_PMTU, PMTU_EXPIRES_NS, PathMtuCache

__all__ = ["MIN_PMTU", "PMTU_EXPIRES_NS", "PathMtuCache"]
