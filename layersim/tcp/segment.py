"""What a connection hands back: segments to send and events for the trace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from layersim.wire.tcp import TCP

__all__ = ["EVENT_KINDS", "Segment", "TCPEvent", "make_segment"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment the connection wants sent; the IP layer computes the checksum and data offset."""

    tcp: TCP
    payload: bytes
    df: bool
    ip_id_zero: bool
    retransmission: bool
    ect: bool = False  # ECT(0) in the IP header (RFC 3168 §6.1.1: new data of an ECN-capable connection)


_new = object.__new__
_SET = tuple(getattr(Segment, name).__set__ for name in ("tcp", "payload", "df", "ip_id_zero", "retransmission",
                                                         "ect"))


def make_segment(tcp: TCP, payload: bytes, df: bool, ip_id_zero: bool, retransmission: bool,
                 ect: bool = False) -> Segment:
    """Segment(...) without the frozen dataclass __init__ (a third of its cost, on the per-segment path)."""
    seg = _new(Segment)
    set_tcp, set_payload, set_df, set_id, set_rtx, set_ect = _SET
    set_tcp(seg, tcp)
    set_payload(seg, payload)
    set_df(seg, df)
    set_id(seg, ip_id_zero)
    set_rtx(seg, retransmission)
    set_ect(seg, ect)
    return seg


# TCPEvent.kind values and their details:
EVENT_KINDS = {
    "state": "{'old': State, 'new': State, 'event': Event}",
    "retransmit": "{'seq': int, 'length': int, 'reason': 'rto' | 'fast' | 'sack' | 'recovery' | 'tlp' | 'syn'}",
    "rto": "{'rto_ns': int, 'backoff': int}: the retransmission timer fired",
    "rtt": "{'sample_ns': int, 'srtt_ns': int, 'rttvar_ns': int, 'rto_ns': int}",
    "cwnd": "{'cwnd': int, 'ssthresh': int, 'reason': str}: bytes; once per RTT sample and at every loss event",
    "tlp": "{'seq': int, 'new': bool}: a tail loss probe (RFC 8985 §7): new data, or the last segment again",
    "ecn": "{'phase': 'ece' | 'ce', ...}: congestion experienced (RFC 3168): reported to us, or seen by us",
    "dsack": "{'left': int, 'right': int}: the peer reported a duplicate (RFC 2883)",
    "recovery": "{'phase': 'enter' | 'exit', 'recover': int}: NewReno fast recovery (RFC 6582)",
    "rst": "{'direction': 'sent' | 'received', 'reason': str}",
    "challenge_ack": "{'reason': str}: RFC 5961 challenge ACK for an in-window RST or SYN",
    "ack_limited": "{'reason': str}: an ACK answering an invalid segment withheld (one per invalid_ratelimit_ns)",
    "persist": "{'probe': int, 'backoff_ns': int}: a zero-window probe",
    "keepalive": "{'probe': int}",
    "error": "{'errno': int}: the connection failed (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT)",
    "pmtu": "{'mtu': int, 'mss': int}: ICMP fragmentation-needed lowered the segment size",
}


@dataclass(frozen=True, slots=True)
class TCPEvent:
    """Something the runtime records in the trace; `kind` is a key of EVENT_KINDS."""

    kind: str
    time_ns: int
    details: Mapping[str, object]
