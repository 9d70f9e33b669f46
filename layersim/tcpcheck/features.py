"""What a script needs that layersim does not model: found before running, so it is refused in one line."""

from __future__ import annotations

import re
from types import MappingProxyType

from layersim.tcpcheck.lexer import blank_comments

__all__ = ["FEATURES", "unmodelled_feature"]

# feature -> the names in a script that need it (whole words, outside comments).
FEATURES = MappingProxyType({
    "TCP Fast Open": ("TCP_FASTOPEN", "TCP_FASTOPEN_CONNECT", "TCP_FASTOPEN_KEY", "TCP_FASTOPEN_NO_COOKIE",
                      "MSG_FASTOPEN", "FO", "FOEXP"),
    "zerocopy": ("SO_ZEROCOPY", "MSG_ZEROCOPY", "SO_EE_ORIGIN_ZEROCOPY"),
    "epoll": ("epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait"),
    "SO_TIMESTAMPING": ("SO_TIMESTAMPING", "SO_TIMESTAMPING_OLD", "SO_TIMESTAMPING_NEW", "SCM_TIMESTAMPING"),
    "TCP MD5 signatures (RFC 2385)": ("TCP_MD5SIG", "TCP_MD5SIG_EXT", "md5"),
    "IPv6": ("--ip_version=ipv6", "--ip_version=ipv4-mapped-ipv6"),
})
_WORDS = re.compile(r"--ip_version=[\w-]+|[A-Za-z_][A-Za-z0-9_]*")
_LOOKUP = MappingProxyType({name: feature for feature, names in FEATURES.items() for name in names})


def unmodelled_feature(path: str, text: str) -> tuple[int, str] | None:
    """(line, "needs X (name)") for the first use of a feature layersim does not model, or None."""
    for number, line in enumerate(blank_comments(path, text).split("\n"), start=1):
        for word in _WORDS.findall(line):
            feature = _LOOKUP.get(word)
            if feature is not None:
                return number, f"needs {feature} ({word}), which layersim does not model"
    return None
