"""Processing an arriving segment (RFC 9293 §3.10.7): acceptability, RST and SYN checks, ACKs, data, FIN."""

from __future__ import annotations

import errno

from layersim.tcp.cubic import controller
from layersim.tcp.dsack import Undo, dsack_block
from layersim.tcp.options import parse_offer
from layersim.tcp.output import ACK, FIN, RST, SYN
from layersim.tcp.recovery import Recovery
from layersim.tcp.segment import Segment, TCPEvent
from layersim.tcp.seq import seq_add, seq_le, seq_lt, seq_sub
from layersim.tcp.states import Event, State, next_state
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import SACK, TCPOption, Timestamps

__all__ = ["Input", "timestamps_and_sack"]

_RECEIVING = frozenset({State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2})
# errno a received RST leaves, by state (Linux tcp_reset); missing: no error.
_RST_ERRNO = {State.SYN_SENT: errno.ECONNREFUSED, State.ESTABLISHED: errno.ECONNRESET,
              State.FIN_WAIT_1: errno.ECONNRESET, State.FIN_WAIT_2: errno.ECONNRESET,
              State.CLOSE_WAIT: errno.EPIPE, State.CLOSING: errno.ECONNRESET, State.LAST_ACK: errno.ECONNRESET}


def timestamps_and_sack(options: tuple[TCPOption, ...]) -> tuple[Timestamps | None, tuple[tuple[int, int], ...] | None]:
    """The Timestamps option and the SACK blocks of a segment's options (None where absent)."""
    ts = sack = None
    for option in options:
        kind = type(option)
        if kind is Timestamps:
            ts = option
        elif kind is SACK:
            sack = option.blocks
    return ts, sack


class Input(Recovery):
    """Everything that happens when a segment arrives."""

    __slots__ = ()

    # State changes ---------------------------------------------------------------------------------------
    def _transition(self, event: Event) -> None:
        """Move along the state table (IllegalTransition leaves the state as it was) and arm the matching timers."""
        old = self.state
        new = next_state(old, event, f"{self.local[1]}->{self.remote[1]}")
        self.state = new
        self._events.append(TCPEvent("state", self._now, {"old": old, "new": new, "event": event}))
        if new is State.ESTABLISHED:
            self._lsndtime = self._now  # Linux: no cwnd restart on the first data (tcp_finish_connect)
        if new is State.FIN_WAIT_2 and self._orphan and self.profile.fin_wait_2_timeout_ns is not None:
            self._close_at = self._now + self.profile.fin_wait_2_timeout_ns
        elif new is State.TIME_WAIT:
            self._rto_at = self._persist_at = self._ka_at = self._delack_at = self._tlp_at = None
            self._close_at = self._now + self.profile.time_wait_ns
        elif new is State.CLOSED:
            self._rto_at = self._persist_at = self._ka_at = self._delack_at = self._close_at = self._tlp_at = None

    def _fail(self, code: int | None, event: Event) -> None:
        """End the connection with an errno (None: ended without an error the application must see)."""
        if code is not None:
            self.error = code
            self._events.append(TCPEvent("error", self._now, {"errno": code}))
        self._transition(event)

    def _negotiate(self, tcp: TCP) -> None:
        """Take the peer's SYN options (RFC 9293 §3.7.1, RFC 7323, RFC 2018) and its initial sequence number."""
        profile = self.profile
        offer = parse_offer(tcp.options)
        mss = offer.mss if offer.mss is not None else profile.default_peer_mss
        self.peer_mss = max(mss, profile.min_peer_mss)
        self.wscale_ok = offer.wscale is not None
        if self.wscale_ok:
            self.snd_scale = min(offer.wscale, profile.max_window_scale)  # RFC 7323 §2.3
            self.rcv_scale = min(profile.window_scale, profile.max_window_scale)
        self.sack_ok = offer.sack_permitted and profile.sack
        self.ts_ok = offer.tsval is not None and profile.timestamps
        if self.ts_ok:
            self.ts_recent = offer.tsval
        self.irs = tcp.seq
        # RFC 3168 §6.1.1: a SYN with ECE and CWR asks for ECN, a SYN-ACK with ECE alone grants it
        f = int(tcp.flags)
        if f & ACK:
            self._ecn_ok = profile.tcp_ecn == 1 and f & 0xC0 == 0x40
        else:
            self._ecn_ok = profile.tcp_ecn in (1, 2) and f & 0xC0 == 0xC0
        self.snd_wnd = self.max_snd_wnd = tcp.window  # a SYN's window is never scaled (RFC 7323 §2.2)
        self.snd_wl1, self.snd_wl2 = tcp.seq, self.iss
        self.rcv_nxt = self.last_ack_sent = seq_add(tcp.seq, 1)
        self.rcv_adv = seq_add(self.rcv_nxt, self._rcv_clamp)
        room = self._payload_room()
        self.cc = controller(profile, room)
        self.cc.recover = self.iss
        self._rcv_mss = room

    def _reset_received(self) -> None:
        """An acceptable RST: the connection ends, with the errno Linux gives for the state."""
        self._events.append(TCPEvent("rst", self._now, {"direction": "received", "state": self.state}))
        code = _RST_ERRNO.get(self.state)
        if self.state is State.SYN_RECEIVED and not self._passive:
            code = errno.ECONNREFUSED  # simultaneous open refused
        self._fail(code, Event.RCV_RST)

    def _challenge_ack(self, out: list[Segment], reason: str) -> None:
        """RFC 5961: answer a suspicious segment with an ACK that only the true peer can use, at most one per
        interval (RFC 5961 §7; Linux tcp_send_challenge_ack)."""
        if self._ack_limited(reason):
            return
        self._events.append(TCPEvent("challenge_ack", self._now, {"reason": reason}))
        out.append(self._ack())

    def _ack_limited(self, reason: str) -> bool:
        """Whether an ACK answering an invalid segment must wait: one per profile.invalid_ratelimit_ns per
        connection, so two ends cannot keep each other answering (Linux __tcp_oow_rate_limited)."""
        now = self._now
        last = self._oow_ack_at
        if last is not None and 0 <= now - last < self.profile.invalid_ratelimit_ns:
            self._events.append(TCPEvent("ack_limited", now, {"reason": reason}))
            return True
        self._oow_ack_at = now
        return False

    def _dupack(self, f: int, plen: int, out: list[Segment], reason: str) -> None:
        """The duplicate ACK that answers an out-of-window, old or invalid segment; rate-limited unless the segment
        carried data or a FIN without SYN, which is not part of an ACK loop (Linux tcp_oow_rate_limited)."""
        if ((plen or f & FIN) and not f & SYN) or not self._ack_limited(reason):
            out.append(self._ack())

    # Arrival --------------------------------------------------------------------------------------------
    def _syn_sent(self, tcp: TCP, f: int, out: list[Segment]) -> None:
        """RFC 9293 §3.10.7.3: a segment arriving in SYN_SENT."""
        ack = tcp.ack
        if f & ACK and not (seq_lt(self.iss, ack) and seq_le(ack, self.snd_max)):
            if not f & RST:
                out.append(self._rst(ack, False))
            return
        if f & RST:
            if f & ACK:
                self._reset_received()
            return
        if not f & SYN:
            return
        self._negotiate(tcp)
        if not f & ACK:  # simultaneous open: our SYN crossed theirs
            self._transition(Event.RCV_SYN)
            out.append(self._syn_segment(False))
            return
        self.snd_una = ack
        self.scoreboard.advance(ack)
        self.snd_wnd = self.max_snd_wnd = tcp.window  # never scaled in a SYN (RFC 7323 §2.2)
        self.snd_wl1, self.snd_wl2 = tcp.seq, ack
        if self._timed_seq == self.iss:
            self._rtt_sample(self._now - self._timed_at)
        else:
            self._rtt_from_echo(tcp)
        self._timed_seq = None
        self._rto_at = None
        self._retries = 0
        self._retrans_stamp = None
        self._transition(Event.RCV_SYN_ACK)
        out.append(self._ack())
        self._output(out)

    def _receive(self, tcp: TCP, payload: bytes, out: list[Segment]) -> None:
        """RFC 9293 §3.10.7.4: a segment arriving in a synchronized state."""
        f = int(tcp[6])
        state = self.state
        if state is State.SYN_SENT:
            self._syn_sent(tcp, f, out)
            return
        start = len(out)
        seq = tcp[2]
        plen = len(payload)
        ts, sack = timestamps_and_sack(tcp[10])
        if state is State.SYN_RECEIVED and f & SYN and seq == self.irs and not f & RST:
            if not f & ACK:  # the peer's SYN again: our SYN-ACK was lost (Linux tcp_check_req limits the answers)
                if not self._ack_limited("syn again"):
                    out.append(self._syn_segment(True))
                return
            if tcp[3] == self.snd_max:  # simultaneous open: the peer's SYN-ACK completes it (Linux does the same)
                self._established(tcp)
                return
        rcv_nxt = self.rcv_nxt
        if ts is not None and self.ts_ok and not f & RST and seq_lt(ts.tsval, self.ts_recent):
            self._dupack(f, plen, out, "paws")  # PAWS (RFC 7323 §5.3): an old duplicate
            return
        wnd = seq_sub(self.rcv_adv, rcv_nxt)
        if wnd < 0:
            wnd = 0
        d = seq_sub(seq, rcv_nxt)
        seg_len = plen + (f & SYN and 1) + (f & FIN)
        if seg_len == 0:
            ok = d == 0 if wnd == 0 else 0 <= d < wnd
        else:
            ok = wnd > 0 and (0 <= d < wnd or 0 <= d + seg_len - 1 < wnd)
        if not ok:
            if f & RST:
                return  # never answer an RST
            if state is State.TIME_WAIT and f & FIN:
                self._close_at = self._now + self.profile.time_wait_ns  # RFC 9293: restart the 2 MSL timeout
            if plen and d < 0 and self.sack_ok and self.profile.tcp_dsack:
                # RFC 2883 §4 / Linux tcp_send_dupack: data we already had, reported in a D-SACK block
                self._dsack = (seq, seq_add(seq, plen) if seq_sub(seq_add(seq, plen), rcv_nxt) <= 0 else rcv_nxt)
            self._dupack(f, plen, out, "out of window")
            self._dsack = None
            return
        if f & RST:  # RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK
            if d == 0 or not self.profile.challenge_acks:
                self._reset_received()
            else:
                self._challenge_ack(out, "rst in window")
            return
        if f & SYN:  # RFC 5961 §4.2 / RFC 9293 §3.10.7.4 fourth check
            if self.profile.challenge_acks:
                self._challenge_ack(out, "syn in window")
            else:
                out.append(self._rst(self.snd_nxt, True))
                self._fail(errno.ECONNRESET, Event.ABORT)
            return
        if not f & ACK:
            return
        if ts is not None and self.ts_ok and seq_le(seq, self.last_ack_sent):
            # RFC 7323 §4.3 (TS.Recent from acceptable segments only) would move this after the ACK checks below;
            # with the linux profile's recovery that stalls the hostile-peer campaign (seed 0), so it waits
            self.ts_recent = ts.tsval
        ack = tcp[3]
        if state is State.SYN_RECEIVED:
            if not (seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_max)):
                out.append(self._rst(ack, False))
                return
            self._established(tcp)
        if seq_lt(self.snd_max, ack):
            if self.profile.ack_unsent_data_reply:
                self._dupack(f, plen, out, "ack of unsent data")
            return
        if self.profile.challenge_acks and seq_lt(ack, seq_sub(self.snd_una, self.max_snd_wnd)):
            self._challenge_ack(out, "ack too old")  # RFC 5961 §5.2: blind data injection
            return
        if self._orphan and plen and state in _RECEIVING and seq_lt(rcv_nxt, seq_add(seq, plen)):
            # RFC 1122 §4.2.2.13: new data after close() resets. Linux answers from the offending segment
            # (tcp_v4_send_reset): a bare RST with SEQ = its ACK; the RFC profile from our own sequence space.
            out.append(self._rst(ack, False) if self.profile.abort_rst_from_segment else self._rst(self.snd_max, True))
            self._fail(None, Event.ABORT)
            return
        fin_acked = False
        if not seq_lt(ack, self.snd_una):
            self._process_ack(tcp, ack, seq, plen, f, ts, sack, out)
            fin_acked = self.fin_queued and self.snd_una == seq_add(self.sndq.end, 1)
            state = self.state
            if fin_acked and state is State.CLOSING:
                self._transition(Event.RCV_ACK_OF_FIN)
                return
            if fin_acked and state is State.LAST_ACK:
                self._transition(Event.RCV_ACK_OF_FIN)
                return
        if state in _RECEIVING:
            if plen:
                self._data(seq, payload, d, f & FIN, out)
            elif f & FIN and d >= 0:  # a FIN alone, maybe ahead of missing data (then a duplicate ACK at once)
                self._peer_fin = seq
                self._ack_now = d > 0
            fin_now = self._peer_fin is not None and self._peer_fin == self.rcv_nxt
            if fin_now:
                self.rcv_nxt = seq_add(self.rcv_nxt, 1)
                self._peer_fin = None
                self.fin_received = True
                # Linux tcp_send_delayed_ack waits icsk_ack.ato, which stays 0 until the first data segment
                # (tcp_event_data_recv sets TCP_ATO_MIN): a FIN before any data is ACKed at once
                had_data = seq_sub(self.rcv_nxt, self.irs) > 2
                if state is State.ESTABLISHED and self.profile.delay_ack_of_fin and had_data:
                    # Linux (tcp_fin): pingpong mode, the ACK waits to ride on our own FIN or reply
                    if self._delack_at is None:
                        self._delack_at = self._now + self.profile.delayed_ack_ns
                else:
                    self._ack_now = True
            if state is State.FIN_WAIT_1 and fin_acked:
                self._transition(Event.RCV_FIN_ACK_OF_FIN if fin_now else Event.RCV_ACK_OF_FIN)
            elif fin_now:
                self._transition(Event.RCV_FIN)
        self._output(out)
        if self._ack_now:
            self._ack_now = False
            if len(out) == start or out[-1].tcp[3] != self.rcv_nxt:
                out.append(self._ack())

    def _established(self, tcp: TCP) -> None:
        """The ACK of our SYN in SYN_RECEIVED."""
        if self._timed_seq == self.iss:
            self._rtt_sample(self._now - self._timed_at)
        else:
            self._rtt_from_echo(tcp)
        self._timed_seq = None
        self._retries = 0
        self._retrans_stamp = None
        self._transition(Event.RCV_ACK_OF_SYN)
        ack = tcp.ack
        self.snd_una = ack
        self.scoreboard.advance(ack)
        self.snd_wnd = self.max_snd_wnd = tcp.window << self.snd_scale
        self.snd_wl1, self.snd_wl2 = tcp.seq, ack
        self._rto_at = None if ack == self.snd_max else self._now + self.rtt.rto_ns

    def _data(self, seq: int, payload: bytes, d: int, fin: int, out: list[Segment]) -> None:
        """In-window data: append in order, or hold out of order; decide when to acknowledge."""
        rcv_nxt = self.rcv_nxt
        if d < 0:
            if self.sack_ok and self.profile.tcp_dsack:  # Linux tcp_data_queue: the old part, in a D-SACK
                self._dsack = (seq, rcv_nxt)
            payload = payload[-d:]
            seq = rcv_nxt
            d = 0
        room = seq_sub(self.rcv_adv, seq)
        if len(payload) > room:
            payload = payload[:room if room > 0 else 0]
            fin = 0  # the FIN lies beyond the window: dropped with the bytes before it
        n = len(payload)
        if fin:
            self._peer_fin = seq_add(seq, n)
        if not n:
            self._ack_now = True
            return
        rcvq = self.rcvq
        if d > 0:
            rcvq.insert(rcv_nxt, seq, payload)
            self._ack_now = True  # out of order: a duplicate ACK with SACK blocks, at once (RFC 5681 §4.2)
            return
        rcvq.data += payload
        rcv_nxt = seq_add(rcv_nxt, n)
        if rcvq.ooo:
            rcv_nxt = rcvq.pull(rcv_nxt)
            self._ack_now = True  # a hole filled: ACK at once
        self.rcv_nxt = rcv_nxt
        if self.profile.rcv_window_growth and self._rcv_clamp < rcvq.capacity and 2 * n >= self.mss:
            # Linux tcp_grow_window: two segments' worth per large segment (small ones cost more than they carry),
            # and `icsk_ack.quick |= 1`: while the window grows, the quick-ACK quota does not run down (a profile
            # without quick ACKs has none to keep)
            self._rcv_clamp = min(self._rcv_clamp + 2 * self.mss, rcvq.capacity)
            if self.profile.quickack_segments:
                self._quickacks |= 1
        self._unacked_bytes += n
        if n > self._rcv_mss:
            self._rcv_mss = min(n, self.mss)
        if self._quickacks > 0:
            self._quickacks -= 1
            self._ack_now = True
        elif self._unacked_bytes > (self.profile.ack_every_segments - 1) * self._rcv_mss:
            self._ack_now = True
        elif self._delack_at is None:
            self._delack_at = self._now + self.profile.delayed_ack_ns

    def _rtt_from_echo(self, tcp: TCP) -> None:
        """Linux's fallback (tcp_rtt_tsopt_us) for the handshake: when the SYN (or SYN-ACK) was retransmitted, Karn's
        rule leaves no timed segment, and the echo of the answer still gives an RTT sample, so the connection does
        not start with its RTO backed off. (On data, echoes can name older transmissions than the segments
        acknowledged, so there Karn's rule alone decides.)"""
        if not self.ts_ok:
            return
        for option in tcp.options:
            if isinstance(option, Timestamps) and option.tsecr:
                ticks = (self._tsval() - option.tsecr) & 0xFFFFFFFF
                if ticks < 0x7FFFFFFF:
                    self._rtt_sample(ticks * 1_000_000_000 // self.profile.ts_hz)
                return

    def _rtt_sample(self, r: int) -> None:
        """Feed one RTT measurement to the estimator and trace it with the current cwnd."""
        rtt = self.rtt
        rtt.sample(r)
        if self._min_rtt_ns is None or r < self._min_rtt_ns:
            self._min_rtt_ns = r
        self._events.append(TCPEvent("rtt", self._now, {"sample_ns": r, "srtt_ns": rtt.srtt_ns,
                                                         "rttvar_ns": rtt.rttvar_ns, "rto_ns": rtt.rto_ns}))
        self._cwnd_event("rtt sample")

    def _process_ack(self, tcp: TCP, ack: int, seq: int, plen: int, f: int, ts: Timestamps | None,
                     sack: tuple[tuple[int, int], ...] | None, out: list[Segment]) -> None:
        """An ACK at or above SND.UNA: window update, SACK scoreboard, RTT, congestion control, timers."""
        acked = seq_sub(ack, self.snd_una)
        window = tcp[7] << self.snd_scale
        # RFC 1122 §4.2.2.17: keep probing a zero window as long as the receiver answers; Linux (tcp_ack) sets
        # icsk_probes_out = 0 on every acceptable ACK, so only unanswered probes count towards giving up
        self._persist_probes = 0
        self._ack_at = self._now
        old_wnd = self.snd_wnd
        wl1 = self.snd_wl1
        if seq_lt(wl1, seq) or (wl1 == seq and seq_le(self.snd_wl2, ack)):  # RFC 9293 §3.10.7.4 window update
            self.snd_wnd = window
            self.snd_wl1, self.snd_wl2 = seq, ack
            if window > self.max_snd_wnd:
                self.max_snd_wnd = window
            if window and self._persist_at is not None:
                self._persist_at = None
        board = self.scoreboard
        sacked = board.sacked_bytes() if board.blocks else 0
        dup = None
        if sack and self.sack_ok:
            limit = seq_sub(self.snd_max, self.snd_una)
            for left, right in sack:
                board.add(left, right, limit)
            if self.profile.tcp_dsack:
                dup = dsack_block(sack, ack)
                if dup is not None:
                    self._dsack_received(dup)
        if f & 0x40 and self._ecn_ok:  # ECE
            self._ecn_echo()
        if self._tlp_high is not None:
            self._tlp_ack(ack, dup is not None, acked <= 0 and not plen and window == old_wnd
                          and (board.sacked_bytes() if board.blocks else 0) == sacked)
        prr = self._prr
        cc = self.cc
        if acked > 0:
            mss = self._payload_room()
            self._retries = 0
            self._retrans_stamp = None
            self.sndq.acknowledge(ack)
            self.snd_una = ack
            if seq_lt(self.snd_nxt, ack):
                self.snd_nxt = ack
            if board.blocks:
                board.advance(ack)
            else:
                board.una = ack
            if self.profile.rtt_from_timestamps and self.ts_ok:
                if ts is not None and ts.tsecr:
                    ticks = (self._tsval() - ts.tsecr) & 0xFFFFFFFF
                    self._rtt_sample(ticks * 1_000_000_000 // self.profile.ts_hz)
            elif self._timed_seq is not None and seq_lt(self._timed_seq, ack):
                self._rtt_sample(self._now - self._timed_at)
                self._timed_seq = None
            rtt = self.rtt
            if rtt.backoffs:
                rtt.reset_backoff()
            times = self._send_times
            if times is not None and cc.on_sample(self._now, ack, self.snd_nxt, times.acked(ack, self._now), mss,
                                                  rtt.srtt_ns):
                self._cwnd_event("hystart")  # Linux tcp_cubic hystart_update: ssthresh = cwnd
            if prr is not None:
                if seq_le(cc.recover, ack):
                    self._end_recovery()
                else:
                    self._prr_ack(acked + board.sacked_bytes() - sacked, acked, out)
            elif cc.in_recovery:
                if seq_le(cc.recover, ack):
                    cc.full_ack(seq_sub(self.snd_max, ack), mss)
                    self._events.append(TCPEvent("recovery", self._now, {"phase": "exit", "recover": cc.recover}))
                    self._cwnd_event("recovery exit")
                else:  # RFC 6582 §3.2 step 5: partial ACK, retransmit the next unacknowledged segment
                    cc.partial_ack(acked, mss)
                    if seq_le(self._rexmit_next, ack) or not self.sack_ok:
                        self._retransmit_first(out, "recovery")
                    else:
                        self._retransmit_hole(out)
            else:
                cc.dupacks = 0
                if cc.on_ack(acked, mss, self._now, rtt.srtt_ns):
                    self._cwnd_event("congestion avoidance")
            self._rto_at = None if ack == self.snd_max else self._now + rtt.rto_ns
            if self._rto_at is None:
                self._tlp_at = None
            elif self.profile.tcp_early_retrans >= 3 and self._prr is None and not cc.in_recovery:
                self._schedule_tlp(True)
        elif ack != self.snd_max and self._persist_at is None and (
                (not plen and not f & (SYN | FIN) and window == old_wnd)
                or (sack and board.blocks and board.sacked_bytes() > sacked)):
            # RFC 5681 §2 duplicate ACK, or RFC 6675 §2's: one that SACKs new data, whatever else it carries; not the
            # answer to a zero-window probe (its byte is not lost data: FreeBSD's tcp_input counts duplicate ACKs
            # only while the retransmission timer, not the persist timer, runs)
            cc.dupacks += 1
            mss = self._payload_room()
            delivered = board.sacked_bytes() - sacked if self.sack_ok else mss  # RFC 6937 DeliveredData
            if prr is not None:
                self._prr_ack(delivered, 0, out)
                return
            if cc.in_recovery:  # one segment out per duplicate ACK: a SACK hole if there is one, else new data
                if not (self.sack_ok and self._retransmit_hole(out)):
                    cc.cwnd += mss  # RFC 6582 §3.2 step 4: inflate by the segment that left the network
                return
            threshold = self.profile.dupack_threshold
            lost = cc.dupacks >= threshold or (self.sack_ok and board.sacked_bytes() > (threshold - 1) * mss)
            if lost and seq_lt(cc.recover, ack):  # RFC 6582 §3.2 step 1: not after a timeout's recovery
                prior = cc.cwnd
                if self.profile.tcp_dsack:
                    self._undo = Undo(self.snd_una, prior, cc.ssthresh)
                cc.enter_recovery(seq_sub(self.snd_max, self.snd_una), mss, self.snd_max)
                self._events.append(TCPEvent("recovery", self._now, {"phase": "enter", "recover": cc.recover}))
                if self.profile.prr:
                    self._start_prr(prior, mss)
                    self._prr_ack(delivered, 0, out)
                    return
                self._cwnd_event("fast retransmit")
                self._retransmit_first(out, "fast")
            elif not lost and self.profile.limited_transmit and cc.dupacks < threshold:
                self._limited_transmit(mss, out)
