"""A socket in LISTEN (RFC 9293 §3.10.7.2): SYNs become connections, anything else gets RFC 9293's answer."""

from __future__ import annotations

from layersim.tcp.connection import Connection
from layersim.tcp.output import ACK, RST, SYN
from layersim.tcp.profile import LINUX, Profile
from layersim.tcp.reset import reset_for
from layersim.tcp.segment import Segment
from layersim.tcp.tcb import check_mss
from layersim.wire.tcp import TCP

__all__ = ["Listener", "reset_for"]

class Listener:
    """A socket in LISTEN: a SYN makes a new Connection in SYN_RECEIVED; anything else gets RFC 9293's answer."""

    def __init__(self, local: tuple[int, int], *, profile: Profile = LINUX, mss: int, rcvbuf: int | None = None,
                 sndbuf: int | None = None, nodelay: bool = False) -> None:
        self.local = local
        self.profile = profile
        self.mss = check_mss("mss", mss)
        self.rcvbuf = rcvbuf
        self.sndbuf = sndbuf
        self.nodelay = nodelay

    def receive(self, tcp: TCP, payload: bytes, remote: tuple[int, int], now: int, *, iss: int,
                ts_offset: int = 0, mss: int | None = None,
                path_mss: int | None = None) -> tuple[Connection | None, list[Segment]]:
        """One segment for the listening port: (new connection or None, segments to send); `mss` and `path_mss`
        override the listener's for this connection (as Connection.connect takes them)."""
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
                                  sndbuf=self.sndbuf, nodelay=self.nodelay, path_mss=path_mss)
