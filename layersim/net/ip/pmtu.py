"""A host's path MTU cache (RFC 1191, RFC 8201): what Frag Needed / Packet Too Big messages taught it, per
destination, with an expiry; one class for both IP versions, which differ only in their floor."""

from __future__ import annotations

__all__ = ["IPV6_MIN_MTU", "MIN_PMTU", "PMTU_EXPIRES_NS", "PathMtuCache"]

MIN_PMTU = 552  # Linux net.ipv4.route.min_pmtu: a smaller announced MTU is raised to this and locked
IPV6_MIN_MTU = 1280  # RFC 8200 §5: every IPv6 link carries 1280 bytes, so no path MTU is smaller
PMTU_EXPIRES_NS = 600_000_000_000  # Linux net.ipv4.route.mtu_expires and net.ipv6.route.mtu_expires: 10 minutes


class PathMtuCache:
    """Learned path MTUs by destination address (as an int), each valid until it expires."""

    def __init__(self, expires_ns: int = PMTU_EXPIRES_NS, *, version: int = 4) -> None:
        """`version` 6: the floor is 1280 and nothing is locked (RFC 8201 §4; Linux's __ip6_rt_update_pmtu raises
        a smaller MTU to IPV6_MIN_MTU and has sent no atomic fragments since RFC 8021)."""
        self.expires_ns = expires_ns
        self.version = version
        self.floor = IPV6_MIN_MTU if version == 6 else MIN_PMTU
        self.entries: dict[int, tuple[int, int]] = {}
        self.locked: set[int] = set()  # destinations whose MTU was clamped: sent without DF, fragmented

    def get(self, dst: int, now: int) -> int | None:
        """The learned MTU towards `dst`, or None."""
        entry = self.entries.get(dst)
        if entry is None:
            return None
        if entry[1] <= now:
            del self.entries[dst]
            self.locked.discard(dst)
            return None
        return entry[0]

    def learn(self, dst: int, mtu: int, now: int) -> bool:
        """Lower the MTU towards `dst` (RFC 1191 §3: never raise it); True when it changed.

        IPv4: below Linux's min_pmtu (552) the MTU is set to 552 and locked: DF is no longer set towards `dst`,
        so routers fragment what is still too big for them, as Linux does. IPv6: below 1280 it is set to 1280."""
        if mtu < self.floor:
            mtu = self.floor
            if self.version == 4:
                self.locked.add(dst)
        current = self.get(dst, now)
        if current is not None and current <= mtu:
            return False
        self.entries[dst] = (mtu, now + self.expires_ns)
        return True

    def is_locked(self, dst: int, now: int) -> bool:
        """Whether packets to `dst` go without DF (a clamped path MTU)."""
        return dst in self.locked and self.get(dst, now) is not None
