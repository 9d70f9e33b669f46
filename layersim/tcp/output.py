"""Building and sending segments: the output loop (Nagle, windows, congestion window), ACKs and retransmissions."""

from __future__ import annotations

from layersim.tcp.options import TS_LENGTH, data_options, options_length, syn_options
from layersim.tcp.segment import Segment, TCPEvent, make_segment
from layersim.tcp.seq import seq_add, seq_lt, seq_sub
from layersim.tcp.states import State
from layersim.tcp.tcb import TCB
from layersim.tcp.tlp import probe_timeout
from layersim.wire.tcp import TCP, TCPFlags
from layersim.wire.tcp_options import NOP, Timestamps

__all__ = ["Output"]

_tnew = tuple.__new__
_F = tuple(TCPFlags(v) for v in range(256))  # flag values as members, built once
FIN, SYN, RST, PSH, ACK, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x40, 0x80
_MASK = 0xFFFFFFFF
_NOP = NOP()
_new = object.__new__
_set_tsval = Timestamps.tsval.__set__  # type: ignore[attr-defined]
_set_tsecr = Timestamps.tsecr.__set__  # type: ignore[attr-defined]
# States in which queued data and a queued FIN may go out (the SYN has been acknowledged).
SENDING = frozenset({State.ESTABLISHED, State.CLOSE_WAIT, State.FIN_WAIT_1, State.CLOSING, State.LAST_ACK})


def syn_window(mss: int, rcvbuf: int, fixed: int | None) -> int:
    """Linux's initial window: the largest multiple of the segment size below 65536 (tcp_select_initial_window)."""
    if fixed is not None:
        return min(fixed, rcvbuf, 65535)
    return min(65535 // mss * mss, rcvbuf)


class Output(TCB):
    """Everything that turns connection state into segments."""

    __slots__ = ()

    # Segment construction --------------------------------------------------------------------------------
    def _tsval(self) -> int:
        """Our timestamp clock now (RFC 7323 §5.4: ticks plus a per-connection offset)."""
        return (self._now * self.profile.ts_hz // 1_000_000_000 + self.ts_offset) & _MASK

    def _window_field(self) -> int:
        """The window to advertise, scaled, never moving the right edge left (RFC 9293 §3.8.6.2.2)."""
        rcvq = self.rcvq
        room = rcvq.capacity - len(rcvq.data) - rcvq.ooo_bytes  # what the buffer can really take
        free = room
        if self.profile.rcv_window_growth and free > self._rcv_clamp:
            free = self._rcv_clamp
        if free < self._rcv_mss and free < rcvq.capacity // 2:  # receiver SWS avoidance (RFC 1122 §4.2.3.3)
            free = 0
        scale = self.rcv_scale
        current = seq_sub(self.rcv_adv, self.rcv_nxt)
        if free < current:  # keep the right edge where it is
            field = current >> scale
            # Linux rounds the kept window up too, as long as that stays within a unit of the real room
            if current & ((1 << scale) - 1) and (field + 1) << scale < room + (1 << scale):
                field += 1
        else:  # Linux rounds up so the window is not scaled away (at most 2**scale - 1 beyond the room)
            field = (free + (1 << scale) - 1) >> scale
        if field > 65535:
            field = 65535
        edge = (self.rcv_nxt + (field << scale)) & _MASK
        if seq_lt(self.rcv_adv, edge):
            self.rcv_adv = edge
        return field

    def _segment(self, seq: int, flags: int, payload: bytes = b"", retransmission: bool = False) -> Segment:
        """A segment of the synchronized states: ACK of RCV.NXT, our window, timestamps and SACK blocks."""
        blocks = self.rcvq.sack_blocks() if self.sack_ok and self.rcvq.ooo else None
        if self._dsack is not None and not payload:  # RFC 2883 §4: the D-SACK block first, once
            blocks = [self._dsack, *(blocks or ())]
            self._dsack = None
        if self.ts_ok:
            tsval = (self._now * self.profile.ts_hz // 1_000_000_000 + self.ts_offset) & _MASK
            if blocks is None:
                ts = _new(Timestamps)  # the frozen dataclass __init__ costs more than the rest of this line
                _set_tsval(ts, tsval)
                _set_tsecr(ts, self.ts_recent)
                options = (_NOP, _NOP, ts)
            else:
                options = data_options(tsval, self.ts_recent, blocks)
        else:
            options = data_options(None, 0, blocks) if blocks else ()
        rcv_nxt = self.rcv_nxt
        ect = False
        if self._ecn_ok:  # RFC 3168 §6.1: ECT(0) and CWR on new data only; ECE while the peer owes us a CWR
            if payload and not retransmission:
                ect = True
                if self._ecn_cwr:
                    self._ecn_cwr = False
                    flags |= CWR
            if self._ecn_ece:
                flags |= ECE
        if flags & ACK:
            self.last_ack_sent = rcv_nxt
            self._delack_at = None
            self._unacked_bytes = 0
        tcp = _tnew(TCP, (self.local[1], self.remote[1], seq, rcv_nxt if flags & ACK else 0, None, 0, _F[flags],
                          self._window_field(), None, 0, options, None))
        return make_segment(tcp, payload, self._df, False, retransmission, ect)

    def _syn_segment(self, retransmission: bool) -> Segment:
        """Our SYN (SYN_SENT) or SYN-ACK (SYN_RECEIVED), with the negotiated or offered options."""
        profile = self.profile
        passive = self.state is State.SYN_RECEIVED
        if passive:  # offer only what the peer offered
            wscale = self.rcv_scale if self.wscale_ok else None
            tsval = self._tsval() if self.ts_ok else None
            options = syn_options(profile, self.mss, wscale=wscale, sack=self.sack_ok, tsval=tsval,
                                  tsecr=self.ts_recent)
            seg_mss = self.mss - (TS_LENGTH if self.ts_ok else 0)
            window = syn_window(seg_mss, self.rcvq.capacity, profile.synack_window)
            flags, ack = SYN | ACK | (ECE if self._ecn_ok else 0), self.rcv_nxt  # RFC 3168 §6.1.1
            self.rcv_adv = seq_add(self.rcv_nxt, window)
        else:
            wscale = min(profile.window_scale, profile.max_window_scale)
            tsval = self._tsval() if profile.timestamps else None
            options = syn_options(profile, self.mss, wscale=wscale, sack=profile.sack, tsval=tsval)
            window = syn_window(self.mss, self.rcvq.capacity, profile.syn_window)
            flags, ack = SYN | (ECE | CWR if profile.tcp_ecn == 1 else 0), 0  # an ECN-setup SYN (RFC 3168 §6.1.1)
        self._rcv_clamp = window
        tcp = _tnew(TCP, (self.local[1], self.remote[1], self.iss, ack, None, 0, _F[flags], window, None, 0,
                          options, None))
        return Segment(tcp, b"", self._df, passive and profile.synack_ip_id_zero, retransmission)

    def _rst(self, seq: int, with_ack: bool) -> Segment:
        """An RST from this connection (abort, or an unacceptable ACK in SYN_RECEIVED)."""
        self._events.append(TCPEvent("rst", self._now, {"direction": "sent", "seq": seq}))
        tcp = _tnew(TCP, (self.local[1], self.remote[1], seq, self.rcv_nxt if with_ack else 0, None, 0,
                          _F[RST | ACK if with_ack else RST], 0, None, 0, (), None))
        return Segment(tcp, b"", self._df, self.profile.rst_ip_id_zero, False)

    def _ack(self) -> Segment:
        """A pure ACK, at SND.MAX: after a timeout SND.NXT moves back, but an ACK must stay acceptable to the peer."""
        return self._segment(self.snd_max, ACK)

    # Sending data --------------------------------------------------------------------------------------------
    def _payload_room(self) -> int:
        """Payload bytes per segment: the smaller MSS minus the options every segment carries (at least 8 bytes:
        the MSS is at least 48 and options take at most 40)."""
        mss = self.peer_mss if self.peer_mss < self.path_mss else self.path_mss
        if mss < self.profile.min_snd_mss:  # Linux __tcp_mtu_to_mss: the floor applies after the peer's MSS too
            mss = self.profile.min_snd_mss
        room = mss - (TS_LENGTH if self.ts_ok else 0)
        if self.sack_ok and self.rcvq.ooo:
            room -= options_length(data_options(0, 0, self.rcvq.sack_blocks())) - (TS_LENGTH if self.ts_ok else 0)
        return room

    def _send_range(self, seq: int, limit: int, out: list[Segment], reason: str | None) -> int:
        """Send up to `limit` bytes from `seq` (FIN included when they reach it); the sequence space used."""
        sndq = self.sndq
        end = sndq.end
        n = min(seq_sub(end, seq), limit)
        if n < 0:
            n = 0
        fin = self.fin_queued and seq_add(seq, n) == end
        if n == 0 and not fin:
            return 0
        payload = sndq.read(seq, n) if n else b""
        flags = ACK | (FIN if fin else 0) | (PSH if n and seq_add(seq, n) == end else 0)
        retrans = seq_lt(seq, self.snd_max)
        out.append(self._segment(seq, flags, payload, retrans))
        self._lsndtime = self._now  # Linux tcp_event_data_sent
        if reason is not None:
            self._events.append(TCPEvent("retransmit", self._now, {"seq": seq, "length": n, "reason": reason}))
        end = seq_add(seq, n + fin)
        if retrans and self._undo is not None:
            self._undo.retrans += 1
        times = self._send_times
        if times is not None:
            if retrans:
                times.retransmitted(end)
            else:
                times.sent(end, self._now)
        if seq_lt(self.snd_max, end):  # a retransmission with more room than the original can carry new bytes
            self.snd_max = end
        return n + fin

    def _pipe(self, mss: int) -> int:
        """RFC 6675 §4 pipe (Linux tcp_packets_in_flight): bytes sent, not acknowledged, not SACKed, and not
        presumed lost unless retransmitted. Every hole below the highest SACK counts as lost (RACK's view once the
        reordering window has passed); without SACK the duplicate ACKs stand for segments that left."""
        una = self.snd_una
        outstanding = seq_sub(self.snd_nxt, una)
        done = seq_sub(self._rexmit_next, una)  # retransmitted in this recovery up to here
        if done < 0:
            done = 0
        board = self.scoreboard
        if self.sack_ok and board.blocks:
            return outstanding - board.sacked_bytes() - board.lost_from(done)
        prr = self._prr
        gone = prr.reno_sacked if prr is not None else 0
        head_lost = 0 if done else min(mss, outstanding)
        return max(outstanding - gone - head_lost, 0)

    def _gso_burst(self, mss: int) -> int:
        """Segments Linux puts in the next GSO skb: at most half the cwnd (tcp_cwnd_test) and the TSO autosize."""
        p = self.profile
        cwnd = self.cc.cwnd // mss
        flight = seq_sub(self.snd_nxt, self.snd_una) // mss
        srtt = self.rtt.srtt_ns
        size = p.gso_max_size
        if srtt:  # tcp_update_pacing_rate, then tcp_tso_autosize: about 2**-pacing_shift s at that rate
            ratio = p.pacing_ss_ratio if self.cc.cwnd < self.cc.ssthresh // 2 else p.pacing_ca_ratio
            rate = mss * ratio * max(cwnd, flight) * 10_000_000 // srtt  # bytes per second
            size = rate >> p.pacing_shift
            low = (self._min_rtt_ns or srtt) // 1000 >> p.tso_rtt_log
            if low < 32:
                size += p.gso_max_size >> low
            size = min(size, p.gso_max_size)
        return min(max(cwnd >> 1, 1), max(size // mss, p.tso_min_segs))

    def _push_last(self, out: list[Segment]) -> None:
        """PSH on the last segment of a GSO burst of more than one (Linux forces it for the receiver's GRO)."""
        seg = out[-1]
        tcp = seg.tcp
        flags = int(tcp[6])
        if not flags & PSH:
            out[-1] = make_segment(_tnew(TCP, (*tcp[:6], _F[flags | PSH], *tcp[7:])), seg.payload, seg.df,
                                   seg.ip_id_zero, seg.retransmission, seg.ect)

    def _output(self, out: list[Segment]) -> None:
        """Send what the windows, Nagle and the congestion window allow (RFC 9293 §3.8.6, RFC 5681, RFC 896)."""
        state = self.state
        if (state is not State.ESTABLISHED and state not in SENDING) or self.snd_una == self.iss:
            return
        sndq = self.sndq
        room = self._payload_room()
        bursts = self.profile.gso_bursts
        start_nxt = self.snd_nxt
        burst = limit = 0  # segments in the GSO burst being sent, and how many it may take
        while True:
            snd_nxt = self.snd_nxt
            end = (sndq.base + len(sndq.data)) & _MASK
            remaining = seq_sub(end, snd_nxt)
            fin_left = self.fin_queued and seq_lt(snd_nxt, seq_add(end, 1))
            if remaining <= 0 and not fin_left:
                break
            flight = seq_sub(snd_nxt, self.snd_una)
            cwnd = self.cc.cwnd
            wnd = self.snd_wnd if self.snd_wnd < cwnd else cwnd
            usable = wnd - flight
            if self._prr is not None:  # in recovery cwnd bounds the pipe (RFC 6675), the window what is outstanding
                pipe_room = cwnd - self._pipe(room)
                usable = self.snd_wnd - flight if self.snd_wnd - flight < pipe_room else pipe_room
            n = remaining if remaining < room else room
            if n > usable:
                n = usable if usable > 0 else 0
            if n <= 0 and remaining > 0:
                if self.snd_wnd == 0 and flight == 0 and self._persist_at is None and self._rto_at is None:
                    self._persist_at = self._now + self.rtt.rto_ns
                    self._persist_backoff = self.rtt.rto_ns
                break
            if remaining > 0 and n < room and flight > 0:
                if n < remaining:  # sender SWS avoidance: wait for a full segment's window
                    break
                if not self.nodelay and not self.fin_queued and (  # Nagle (RFC 896): one small segment in flight
                        not self.profile.nagle_minshall or seq_lt(self.snd_una, self._snd_sml)):
                    break
            fresh = not seq_lt(snd_nxt, self.snd_max)
            used = self._send_range(snd_nxt, n, out, None)
            if used == 0:
                break
            if bursts and n:
                if not burst:
                    limit = self._gso_burst(room)
                burst += 1
                if burst >= limit:
                    if burst > 1:
                        self._push_last(out)
                    burst = 0
            if n < room:
                self._snd_sml = seq_add(snd_nxt, used)
            if self._timed_seq is None and fresh:
                self._timed_seq, self._timed_at = snd_nxt, self._now
            self.snd_nxt = seq_add(snd_nxt, used)
            if self._rto_at is None:
                self._rto_at = self._now + self.rtt.rto_ns
            self._persist_at = None
        if burst > 1:
            self._push_last(out)
        if self.snd_nxt != start_nxt and self._prr is None and self.profile.tcp_early_retrans >= 3:
            self._schedule_tlp(False)

    def _schedule_tlp(self, on_ack: bool) -> None:
        """Arm the tail loss probe (Linux tcp_schedule_loss_probe): SACK on, data out, not recovering, one probe
        per episode. From an ACK the RTO bound is the minimum RTO (Linux's `advanced`), else the RTO's time left."""
        if (not self.sack_ok or self.snd_una == self.snd_max or self._tlp_high is not None
                or self.snd_nxt != self.snd_max or self.rtt.backoffs or self._rto_at is None):
            self._tlp_at = None
            return
        one = seq_sub(self.snd_max, self.snd_una) <= self._payload_room()
        left = self.profile.min_rto_ns if on_ack else self._rto_at - self._now
        self._tlp_at = self._now + probe_timeout(self.rtt.srtt_ns, one, left)

    def _retransmit_first(self, out: list[Segment], reason: str) -> None:
        """Retransmit one segment at SND.UNA (fast retransmit, partial ACK, RTO)."""
        self._timed_seq = None  # Karn's algorithm
        used = self._send_range(self.snd_una, self._payload_room(), out, reason)
        self._rexmit_next = seq_add(self.snd_una, used)
        if self._rto_at is None:
            self._rto_at = self._now + self.rtt.rto_ns

    def _retransmit_hole(self, out: list[Segment], reason: str = "sack") -> bool:
        """In recovery: retransmit the next un-SACKed segment below the highest SACKed byte (RFC 6675 NextSeg)."""
        board = self.scoreboard
        start = max(seq_sub(self._rexmit_next, self.snd_una), 0)
        hole = board.hole_from(start)
        if hole is None:
            return False
        seq = seq_add(self.snd_una, hole[0])
        used = self._send_range(seq, min(hole[1] - hole[0], self._payload_room()), out, reason)
        self._rexmit_next = seq_add(seq, used)
        return used > 0

    def _cwnd_event(self, reason: str) -> None:
        """Trace cwnd and ssthresh (once per RTT sample and at every loss event, not per ACK)."""
        self._events.append(TCPEvent("cwnd", self._now, {"cwnd": self.cc.cwnd, "ssthresh": self.cc.ssthresh,
                                                          "reason": reason}))
