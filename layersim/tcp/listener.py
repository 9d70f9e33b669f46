"""A socket in LISTEN (RFC 9293 §3.10.7.2) and the RST that answers a segment for no connection (§3.10.7.1)."""

from __future__ import annotations

from layersim.tcp.connection import Connection
from layersim.tcp.output import ACK, RST, SYN
from layersim.tcp.profile import LINUX, Profile
from layersim.tcp.segment import Segment
from layersim.tcp.seq import seq_add
from layersim.wire.tcp import TCP, TCPFlags

__all__ = ["Listener", "reset_for"]

_RST = TCPFlags(RST)
_RST_ACK = TCPFlags(RST | ACK)


def reset_for(tcp: TCP, payload_len: int) -> Segment | None:
    """RFC 9293 §3.10.7.1: the RST answering `tcp` sent to a closed port; None when `tcp` is itself an RST.

    With ACK set: <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Linux sends it
    with DF and IP identification 0, which is what the flags here say.
    """
    flags = int(tcp.flags)
    if flags & RST:
        return None
    if flags & ACK:
        rst = TCP(sport=tcp.dport, dport=tcp.sport, seq=tcp.ack, ack=0, flags=_RST, window=0)
    else:
        seg_len = payload_len + (1 if flags & SYN else 0) + (flags & 0x01)
        rst = TCP(sport=tcp.dport, dport=tcp.sport, seq=0, ack=seq_add(tcp.seq, seg_len), flags=_RST_ACK, window=0)
    return Segment(rst, b"", True, True, False)


class Listener:
    """A socket in LISTEN: a SYN makes a new Connection in SYN_RECEIVED; anything else gets RFC 9293's answer."""

    def __init__(self, local: tuple[int, int], *, profile: Profile = LINUX, mss: int, rcvbuf: int | None = None,
                 sndbuf: int | None = None, nodelay: bool = False) -> None:
        self.local = local
        self.profile = profile
        self.mss = mss
        self.rcvbuf = rcvbuf
        self.sndbuf = sndbuf
        self.nodelay = nodelay

    def receive(self, tcp: TCP, payload: bytes, remote: tuple[int, int], now: int, *, iss: int,
                ts_offset: int = 0, mss: int | None = None) -> tuple[Connection | None, list[Segment]]:
        """One segment for the listening port: (new connection or None, segments to send)."""
        flags = int(tcp.flags)
        if flags & RST:
            return None, []  # RFC 9293: an RST to a LISTEN socket is ignored
        if flags & ACK:  # an ACK (or SYN-ACK) for no connection: <SEQ=SEG.ACK><CTL=RST>
            rst = reset_for(tcp, len(payload))
            return None, [rst] if rst is not None else []
        if not flags & SYN:
            return None, []  # RFC 9293: any other control or text-bearing segment is dropped
        return Connection._accept(self.local, remote, tcp, iss=iss, mss=mss if mss is not None else self.mss,
                                  now=now, profile=self.profile, ts_offset=ts_offset, rcvbuf=self.rcvbuf,
                                  sndbuf=self.sndbuf, nodelay=self.nodelay)
