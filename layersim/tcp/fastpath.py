"""Header prediction (Van Jacobson's fast path): the in-order ACK or data segment of an established connection."""

from __future__ import annotations

from layersim.tcp.input import Input, timestamps_and_sack
from layersim.tcp.segment import Segment
from layersim.wire.tcp import TCP

__all__ = ["FastPath"]

_MASK = 0xFFFFFFFF
_HALF = 1 << 31


class FastPath(Input):
    """Handles the common segment with the fewest checks; anything unusual goes to the full RFC 9293 path."""

    __slots__ = ()

    def _fast(self, tcp: TCP, payload: bytes, out: list[Segment]) -> bool:
        """Process `tcp` if it is a plain in-order ACK/data segment in ESTABLISHED; False to take the slow path."""
        f = int(tcp[6])
        if f & 0x17 != 0x10:  # exactly ACK among SYN, RST, FIN, ACK (PSH may be set)
            return False
        seq = tcp[2]
        if seq != self.rcv_nxt or self._peer_fin is not None:  # a FIN held out of order: the full path takes it
            return False
        ts, sack = timestamps_and_sack(tcp[10])
        if ts is not None and self.ts_ok and (ts.tsval - self.ts_recent) & _MASK >= _HALF:
            return False  # PAWS: let the full path drop it
        plen = len(payload)
        if plen > (self.rcv_adv - seq) & _MASK:
            return False
        ack = tcp[3]
        una = self.snd_una
        if (ack - una) & _MASK > (self.snd_max - una) & _MASK:
            return False  # old or unsent: the full path decides
        if ts is not None and self.ts_ok and seq == self.last_ack_sent:
            self.ts_recent = ts.tsval  # RFC 7323 §4.3
        start = len(out)
        self._process_ack(tcp, ack, seq, plen, f, ts, sack, out)
        if plen:
            self._data(seq, payload, 0, 0, out)
        sndq = self.sndq
        if self.snd_nxt != (sndq.base + len(sndq.data)) & _MASK or self.fin_queued:
            self._output(out)
        if self._ack_now:
            self._ack_now = False
            if len(out) == start or out[-1].tcp[3] != self.rcv_nxt:
                out.append(self._ack())
        return True
