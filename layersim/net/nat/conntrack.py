"""Connection tracking for NAT as Linux's nf_conntrack does it: timeouts, the TCP state table, mapping entries.

Timeouts are Linux's defaults (`sysctl net.netfilter.nf_conntrack_*_timeout*`, in seconds). The TCP table
follows the states conntrack shows (`SYN_SENT`, `ESTABLISHED`, `TIME_WAIT`, ...) and moves between them on the
flags of each segment, from either direction, enough to pick the timeout; conntrack's window tracking (the
300 s "unacknowledged" and "max_retrans" timeouts) is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address

__all__ = ["LINUX_TIMEOUTS", "Mapping", "NatEvent", "NatTimeouts", "TcpState", "tcp_transition"]

NS_PER_S = 1_000_000_000
UDP_STREAM_AFTER_NS = 2 * NS_PER_S  # Linux: a replied UDP flow still active 2 s after it began becomes a stream
FRAGMENT_TIMEOUT_NS = 30 * NS_PER_S  # net.ipv4.ipfrag_time: how long later fragments may follow the first


@dataclass(frozen=True)
class NatTimeouts:
    """Seconds a mapping lives after its last packet, by protocol and state (nf_conntrack sysctl names)."""

    tcp_syn_sent: int = 120
    tcp_syn_recv: int = 60
    tcp_established: int = 432000  # 5 days
    tcp_fin_wait: int = 120
    tcp_close_wait: int = 60
    tcp_last_ack: int = 30
    tcp_time_wait: int = 120
    tcp_close: int = 10
    udp: int = 30  # unreplied, or replied within its first 2 s (a DNS query and answer)
    udp_stream: int = 120  # replied and still active after 2 s: ASSURED
    icmp: int = 30
    generic: int = 600  # other IP protocols: addresses only


LINUX_TIMEOUTS = NatTimeouts()


class TcpState(StrEnum):
    """TCP connection states as conntrack names them (SYN_SENT2: both sides sent a SYN, simultaneous open).

    A StrEnum: its members hash and compare at C speed, which the per-packet state lookup needs.
    """

    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT = "FIN_WAIT"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"
    CLOSE = "CLOSE"
    SYN_SENT2 = "SYN_SENT2"

    @property
    def timeout_name(self) -> str:
        """The NatTimeouts field holding this state's timeout (SYN_SENT2 shares SYN_SENT's)."""
        return "tcp_syn_sent" if self is TcpState.SYN_SENT2 else "tcp_" + self.value.lower()


S = TcpState
# Segment classes, as conntrack sorts a segment's flags: RST first, then SYN (with or without ACK), FIN, ACK.
SYN, SYNACK, FIN, ACK, RST, NONE = "syn", "synack", "fin", "ack", "rst", "none"
ORIGINAL, REPLY = 0, 1


def segment_class(flags: int) -> str:
    """The class of a segment with these TCP flags (RST > SYN/SYN-ACK > FIN > ACK > none)."""
    if flags & 0x04:
        return RST
    if flags & 0x02:
        return SYNACK if flags & 0x10 else SYN
    if flags & 0x01:
        return FIN
    if flags & 0x10:
        return ACK
    return NONE


# Which segment from which side opens a connection, and the state it opens in (loose pickup: an ACK mid-stream
# is taken as an established connection, as nf_conntrack_tcp_loose=1 does).
OPENING = {SYN: S.SYN_SENT, ACK: S.ESTABLISHED}

# {(direction, segment class): {state: next state}}; a pair not listed leaves the state as it is.
_CLOSING = {S.SYN_RECV: S.FIN_WAIT, S.ESTABLISHED: S.FIN_WAIT, S.FIN_WAIT: S.LAST_ACK, S.CLOSE_WAIT: S.LAST_ACK}
_ACKING = {S.FIN_WAIT: S.CLOSE_WAIT, S.LAST_ACK: S.TIME_WAIT}
TCP_TABLE: dict[tuple[int, str], dict[TcpState, TcpState]] = {
    (ORIGINAL, SYN): {S.TIME_WAIT: S.SYN_SENT, S.CLOSE: S.SYN_SENT},  # a new connection on the same ports
    (ORIGINAL, SYNACK): {S.SYN_SENT2: S.SYN_RECV},
    (ORIGINAL, FIN): _CLOSING,
    (ORIGINAL, ACK): {S.SYN_RECV: S.ESTABLISHED, **_ACKING},
    (REPLY, SYN): {S.SYN_SENT: S.SYN_SENT2},
    (REPLY, SYNACK): {S.SYN_SENT: S.SYN_RECV, S.SYN_SENT2: S.SYN_RECV},
    (REPLY, FIN): _CLOSING,
    (REPLY, ACK): _ACKING,
}


def tcp_transition(state: TcpState, direction: int, kind: str) -> TcpState:
    """The state after a segment of class `kind` from `direction` (ORIGINAL: from inside); RST closes."""
    if kind == RST:
        return S.CLOSE
    return TCP_TABLE.get((direction, kind), {}).get(state, state)


_PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp"}
ECHO_REPLY_TYPE = {8: 0, 13: 14}  # ICMP request type -> reply type


@dataclass(slots=True, eq=False)
class Mapping:
    """One tracked connection and its translation: inside endpoint <-> outside endpoint, to one remote endpoint.

    For ICMP queries the "port" fields hold the identifier (inside_port, outside_port) and the request type
    (remote_port: 8 for echo). For other IP protocols the ports are 0. Times are simulated nanoseconds.
    """

    protocol: int
    inside: IPv4Address
    inside_port: int
    remote: IPv4Address
    remote_port: int
    outside: IPv4Address
    outside_port: int
    created: int
    expires: int
    state: TcpState | None = None
    replied: bool = False
    assured: bool = False
    queued: int = field(default=-1, repr=False)  # the deadline this mapping is filed under in the expiry heap
    inside_int: int = field(default=0, repr=False)  # the inside address as an int, for the per-packet rewrite

    def __post_init__(self) -> None:
        self.inside_int = int(self.inside)

    @property
    def translated(self) -> bool:
        """True when packets of this connection change on the way through (not a null binding)."""
        return self.inside != self.outside or self.inside_port != self.outside_port

    def remaining(self, now: int) -> int:
        """Whole seconds left before the mapping times out (what conntrack -L shows)."""
        return max(0, (self.expires - now) // NS_PER_S)

    def line(self, now: int) -> str:
        """One `conntrack -L` line for this mapping."""
        name = _PROTO_NAMES.get(self.protocol, "unknown")
        head = f"{name:<8} {self.protocol} {self.remaining(now)} "
        if self.state is not None:
            head += self.state.value + " "
        original = f"src={self.inside} dst={self.remote}"
        reply = f"src={self.remote} dst={self.outside}"
        if self.protocol in (6, 17):
            original += f" sport={self.inside_port} dport={self.remote_port}"
            reply += f" sport={self.remote_port} dport={self.outside_port}"
        elif self.protocol == 1:
            original += f" type={self.remote_port} code=0 id={self.inside_port}"
            reply += f" type={ECHO_REPLY_TYPE.get(self.remote_port, 0)} code=0 id={self.outside_port}"
        flags_after_original = " [UNREPLIED]" if not self.replied else ""
        flags_after_reply = " [ASSURED]" if self.assured else ""
        return head + original + flags_after_original + " " + reply + flags_after_reply


@dataclass(frozen=True, slots=True)
class NatEvent:
    """Something that happened to a mapping: "created", "expired" (timed out) or "reset" (closed by an RST
    before any reply, which Linux removes at once)."""

    time: int
    kind: str
    mapping: Mapping
