"""A host's path MTU cache (RFC 1191): what Frag Needed messages taught it, per destination, with an expiry."""

from __future__ import annotations

__all__ = ["PathMtuCache"]

MIN_MTU = 68  # RFC 791: every IPv4 link carries 68 bytes unfragmented
PMTU_EXPIRES_NS = 600_000_000_000  # Linux net.ipv4.route.mtu_expires: 10 minutes


class PathMtuCache:
    """Learned path MTUs by destination address (as an int), each valid until it expires."""

    def __init__(self, expires_ns: int = PMTU_EXPIRES_NS) -> None:
        self.expires_ns = expires_ns
        self.entries: dict[int, tuple[int, int]] = {}

    def get(self, dst: int, now: int) -> int | None:
        """The learned MTU towards `dst`, or None."""
        entry = self.entries.get(dst)
        if entry is None:
            return None
        if entry[1] <= now:
            del self.entries[dst]
            return None
        return entry[0]

    def learn(self, dst: int, mtu: int, now: int) -> bool:
        """Lower the MTU towards `dst` (RFC 1191 §3: never raise it, never below 68); True when it changed."""
        mtu = max(MIN_MTU, mtu)
        current = self.get(dst, now)
        if current is not None and current <= mtu:
            return False
        self.entries[dst] = (mtu, now + self.expires_ns)
        return True
