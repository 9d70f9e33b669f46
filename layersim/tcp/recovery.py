"""Loss recovery on the linux profile: RFC 6675's pipe, PRR (RFC 6937) and limited transmit (RFC 3042)."""

from __future__ import annotations

from layersim.tcp.output import Output
from layersim.tcp.prr import PRR
from layersim.tcp.segment import Segment, TCPEvent
from layersim.tcp.seq import seq_add, seq_lt, seq_sub

__all__ = ["Recovery"]


class Recovery(Output):
    """What fast recovery sends and when, once the congestion controller has chosen ssthresh."""

    __slots__ = ()

    def _start_prr(self, prior_cwnd: int, mss: int) -> None:
        """Fast recovery begins: PRR counts from here, and retransmission starts at SND.UNA."""
        self._prr = PRR(self.cc.ssthresh // mss, prior_cwnd // mss)
        self._rexmit_next = self.snd_una

    def _prr_ack(self, delivered: int, acked: int, out: list[Segment]) -> None:
        """An ACK in recovery: the cwnd PRR allows (Linux tcp_cwnd_reduction), then the segments it lets out."""
        prr = self._prr
        assert prr is not None
        cc = self.cc
        mss = self._payload_room()
        if not (self.sack_ok and self.scoreboard.blocks):  # Linux tcp_add_reno_sack / tcp_remove_reno_sacks
            if acked:
                delivered = max(acked - prr.reno_sacked, mss)
                prr.reno_sacked = max(prr.reno_sacked - max(acked - mss, 0), 0)
            else:
                prr.reno_sacked = min(prr.reno_sacked + mss, max(seq_sub(self.snd_nxt, self.snd_una) - mss, 0))
        pipe = self._pipe(mss)
        pipe_segments = -(-pipe // mss)
        count = prr.send_count(-(-delivered // mss), pipe_segments, acked > 0)
        first = prr.out == 0
        if count is not None:
            cc.cwnd = (pipe_segments + count) * mss
            if first:
                self._cwnd_event("fast retransmit")
        start = len(out)
        reason = "fast" if first else "sack"
        while self._pipe(mss) < cc.cwnd:  # RFC 6675 NextSeg rule 1: lost segments first
            if self.sack_ok and self.scoreboard.blocks:
                if not self._retransmit_hole(out, reason):
                    break
            elif not seq_lt(self.snd_una, self._rexmit_next) and seq_lt(self.snd_una, self.snd_nxt):
                self._retransmit_first(out, "fast" if first else "recovery")
            else:
                break
            reason = "sack"
            first = False
        self._output(out)  # rule 2: new data, while the pipe stays below cwnd
        prr.out += sum(1 for seg in out[start:] if seg.payload or int(seg.tcp[6]) & 1)

    def _end_recovery(self) -> None:
        """The ACK covering the recovery point: cwnd = ssthresh (Linux tcp_end_cwnd_reduction)."""
        cc = self.cc
        cc.cwnd = cc.ssthresh
        cc.in_recovery = False
        cc.dupacks = 0
        self._prr = None
        self._events.append(TCPEvent("recovery", self._now, {"phase": "exit", "recover": cc.recover}))
        self._cwnd_event("recovery exit")

    def _dsack_received(self, block: tuple[int, int]) -> None:
        """A D-SACK (RFC 2883): the receiver got something twice. When every retransmission of the last reduction
        comes back that way, none was needed: undo it (Linux tcp_try_undo_dsack, tcp_undo_cwnd_reduction)."""
        self._events.append(TCPEvent("dsack", self._now, {"left": block[0], "right": block[1]}))
        undo = self._undo
        if undo is None or not undo.dsacked(block[0], block[1], self.snd_una, self._payload_room()):
            return
        cc = self.cc
        cc.cwnd = max(cc.cwnd, undo.cwnd)
        cc.ssthresh = max(cc.ssthresh, undo.ssthresh)
        cc.in_recovery = False
        cc.dupacks = 0
        self._prr = None
        self._undo = None
        self._cwnd_event("dsack undo")

    def _on_tlp(self, out: list[Segment]) -> None:
        """The probe timer fired (RFC 8985 §7.3, Linux tcp_send_loss_probe): one new segment if the peer's window
        takes it, whatever cwnd says; else the last segment again. The RTO stays armed behind it."""
        self._tlp_at = None
        if self._tlp_high is not None or self.snd_una == self.snd_max:
            return
        room = self._payload_room()
        sndq = self.sndq
        start = len(out)
        unsent = seq_sub(sndq.end, self.snd_nxt)
        if unsent > 0 and seq_sub(self.snd_nxt, self.snd_una) + min(unsent, room) <= self.snd_wnd:
            cc = self.cc
            cwnd = cc.cwnd
            cc.cwnd = seq_sub(self.snd_nxt, self.snd_una) + room
            self._output(out)
            cc.cwnd = cwnd
            self._tlp_at = None
        self._tlp_retrans = len(out) == start
        if self._tlp_retrans:  # the last segment sent (never bytes beyond SND.MAX: the window may not allow them)
            sent_end = self.snd_max if seq_lt(self.snd_max, sndq.end) else sndq.end
            outstanding = seq_sub(sent_end, self.snd_una)
            last = outstanding % room or min(room, outstanding)
            self._send_range(seq_add(sent_end, -last), last, out, "tlp")
        if len(out) > start:
            self._tlp_high = self.snd_max
            self._events.append(TCPEvent("tlp", self._now, {"seq": out[start].tcp[2], "new": not self._tlp_retrans}))

    def _tlp_ack(self, ack: int, dsacked: bool, pure_dupack: bool) -> None:
        """An ACK at or past the probe (Linux tcp_process_tlp_ack): a repaired tail loss costs a cwnd reduction
        (RFC 8985 §7.4.2), unless a D-SACK or a pure duplicate ACK shows the probe was not needed."""
        high = self._tlp_high
        if high is None or seq_lt(ack, high):
            return
        if not self._tlp_retrans or dsacked:
            self._tlp_high = None
        elif seq_lt(high, ack):
            self._tlp_high = None
            cc = self.cc
            mss = self._payload_room()
            cc.enter_recovery(seq_sub(self.snd_max, self.snd_una), mss, cc.recover)  # the controller's ssthresh
            cc.cwnd = cc.ssthresh  # Linux: CWR, tcp_end_cwnd_reduction at once
            cc.in_recovery = False
            cc.dupacks = 0
            self._cwnd_event("tlp recovery")
        elif pure_dupack:
            self._tlp_high = None

    def _ecn_echo(self) -> None:
        """An ACK with ECE (RFC 3168 §6.1.2): reduce as for a loss, once per window of data, without
        retransmitting, and say so with CWR on the next new segment (Linux tcp_enter_cwr, CWR at once)."""
        high = self._ecn_high
        cc = self.cc
        if cc.in_recovery or (high is not None and seq_lt(self.snd_una, high)):
            return
        mss = self._payload_room()
        cc.enter_recovery(seq_sub(self.snd_max, self.snd_una), mss, cc.recover)  # the controller's ssthresh
        cc.cwnd = cc.ssthresh
        cc.in_recovery = False
        cc.dupacks = 0
        self._ecn_high = self.snd_max
        self._ecn_cwr = True
        self._events.append(TCPEvent("ecn", self._now, {"phase": "ece", "cwnd": cc.cwnd}))
        self._cwnd_event("ecn")

    def _limited_transmit(self, mss: int, out: list[Segment]) -> None:
        """RFC 3042: the first two duplicate ACKs each let one new segment out, beyond cwnd but within the
        receiver's window, without changing cwnd (Linux gets the same from counting SACKed segments out of the
        flight)."""
        cc = self.cc
        flight = seq_sub(self.snd_nxt, self.snd_una)
        if flight + mss > cc.cwnd + cc.dupacks * mss:
            return
        cwnd = cc.cwnd
        cc.cwnd = flight + mss
        self._output(out)
        cc.cwnd = cwnd
