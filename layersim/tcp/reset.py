"""The RST that answers a segment for no connection (RFC 9293 §3.10.7.1)."""

from __future__ import annotations

from layersim.tcp.segment import Segment
from layersim.tcp.seq import seq_add
from layersim.wire.tcp import TCP, TCPFlags

__all__ = ["reset_for"]

_RST = TCPFlags.RST
_RST_ACK = TCPFlags.RST | TCPFlags.ACK


def reset_for(tcp: TCP, payload_len: int) -> Segment | None:
    """RFC 9293 §3.10.7.1: the RST answering `tcp` sent to a closed port; None when `tcp` is itself an RST.

    With ACK set: <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Linux sends it
    with DF and IP identification 0, which is what the flags here say.
    """
    flags = int(tcp.flags)
    if flags & 0x04:  # RST
        return None
    if flags & 0x10:  # ACK
        rst = TCP(sport=tcp.dport, dport=tcp.sport, seq=tcp.ack, ack=0, flags=_RST, window=0)
    else:
        seg_len = payload_len + (1 if flags & 0x02 else 0) + (flags & 0x01)
        rst = TCP(sport=tcp.dport, dport=tcp.sport, seq=0, ack=seq_add(tcp.seq, seg_len), flags=_RST_ACK, window=0)
    return Segment(rst, b"", True, True, False)
