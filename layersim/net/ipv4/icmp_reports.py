"""What ICMP tells a host's sockets: error reports and echo replies, and the errno Linux gives for each error."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from ipaddress import IPv4Address

__all__ = ["EchoReply", "IcmpReport", "hard_error", "report_errno"]


@dataclass(frozen=True, slots=True)
class IcmpReport:
    """An ICMP error about a datagram this host sent: who sent the error, what it says, what it quoted."""

    time_ns: int
    offender: IPv4Address
    type: int
    code: int
    protocol: int
    destination: tuple[IPv4Address, int]  # the quoted datagram's destination (address, port or echo id)
    source_port: int  # the quoted datagram's source port (or echo identifier)
    sequence: int | None = None  # the quoted echo request's sequence number
    mtu: int | None = None  # next-hop MTU of a Frag Needed
    errno: int = 0  # what Linux reports: ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EMSGSIZE, ...


@dataclass(frozen=True, slots=True)
class EchoReply:
    """An ICMP echo reply as a ping socket receives it."""

    source: IPv4Address
    sequence: int
    data: bytes
    ttl: int
    time_ns: int


# Linux's icmp_err_convert table for destination unreachable codes, and time exceeded.
_UNREACH_ERRNO = {0: errno.ENETUNREACH, 1: errno.EHOSTUNREACH, 2: errno.ENOPROTOOPT, 3: errno.ECONNREFUSED,
                  4: errno.EMSGSIZE, 5: errno.EOPNOTSUPP, 6: errno.ENETUNREACH, 7: errno.EHOSTDOWN,
                  9: errno.ENETUNREACH, 10: errno.EHOSTUNREACH, 13: errno.EHOSTUNREACH}


_HARD_UNREACH = frozenset({2, 3, 6, 7, 8, 9, 10, 13, 14, 15})  # icmp_err_convert's "fatal" codes


def hard_error(icmp_type: int, code: int, pmtu: str = "want") -> bool:
    """Whether Linux reports an ICMP error to a connected UDP socket without IP_RECVERR (`__udp4_lib_err`): port or
    protocol unreachable and the other "fatal" codes, parameter problem, and Frag Needed unless PMTU mode is "dont";
    not Time Exceeded, net or host unreachable."""
    if icmp_type == 3:
        return pmtu != "dont" if code == 4 else code in _HARD_UNREACH
    return icmp_type == 12


def report_errno(icmp_type: int, code: int) -> int:
    """The errno Linux gives a socket for an ICMP error."""
    if icmp_type == 3:
        return _UNREACH_ERRNO.get(code, errno.EHOSTUNREACH)
    return errno.EHOSTUNREACH if icmp_type == 11 else errno.EPROTO
