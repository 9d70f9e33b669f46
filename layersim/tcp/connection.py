"""A sans-IO TCP connection: segments and the time in, segments to send and trace events out."""

from __future__ import annotations

import errno

from layersim.tcp.fastpath import FastPath
from layersim.tcp.idle import restart_after_idle
from layersim.tcp.output import ACK, SENDING
from layersim.tcp.profile import LINUX, Profile
from layersim.tcp.reset import reset_for
from layersim.tcp.segment import Segment, TCPEvent
from layersim.tcp.seq import seq_add, seq_sub
from layersim.tcp.states import Event, IllegalTransition, State
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import Timestamps

__all__ = ["Connection"]

_WRITABLE = frozenset({State.SYN_SENT, State.SYN_RECEIVED, State.ESTABLISHED, State.CLOSE_WAIT})


class Connection(FastPath):
    """One TCP connection (RFC 9293), made by `connect` (active open) or by a Listener (passive open)."""

    __slots__ = ()

    @classmethod
    def connect(cls, local: tuple[int, int], remote: tuple[int, int], *, iss: int, mss: int, now: int,
                profile: Profile = LINUX, ts_offset: int = 0, rcvbuf: int | None = None,
                sndbuf: int | None = None, nodelay: bool = False,
                path_mss: int | None = None) -> tuple[Connection, list[Segment]]:
        """Active open: a connection in SYN_SENT and its SYN. `mss` is advertised; `path_mss` (default: `mss`)
        is the largest segment the first link carries (its MTU less 40); each is raised to profile.min_snd_mss."""
        conn = cls(local, remote, iss=iss, mss=mss, now=now, profile=profile, ts_offset=ts_offset, rcvbuf=rcvbuf,
                   sndbuf=sndbuf, nodelay=nodelay, path_mss=path_mss)
        conn._transition(Event.ACTIVE_OPEN)
        return conn, [conn._first_syn(now)]

    @classmethod
    def _accept(cls, local: tuple[int, int], remote: tuple[int, int], syn: TCP, *, iss: int, mss: int, now: int,
                profile: Profile, ts_offset: int, rcvbuf: int | None, sndbuf: int | None,
                nodelay: bool, path_mss: int | None = None) -> tuple[Connection, list[Segment]]:
        """Passive open (called by Listener): a connection in SYN_RECEIVED and its SYN-ACK."""
        conn = cls(local, remote, iss=iss, mss=mss, now=now, profile=profile, ts_offset=ts_offset, rcvbuf=rcvbuf,
                   sndbuf=sndbuf, nodelay=nodelay, path_mss=path_mss)
        conn._passive = True
        conn.state = State.LISTEN
        conn._negotiate(syn)
        conn._transition(Event.RCV_SYN)
        return conn, [conn._first_syn(now)]

    def _first_syn(self, now: int) -> Segment:
        """The SYN (or SYN-ACK) that opens this side: it takes the ISS, is timed for RTT and starts the RTO."""
        syn = self._syn_segment(False)
        self.snd_nxt = self.snd_max = seq_add(self.iss, 1)
        self._timed_seq, self._timed_at = self.iss, now
        self._rto_at = now + self.rtt.rto_ns
        return syn

    # Events from the network and the application ------------------------------------------------------------
    def receive(self, tcp: TCP, payload: bytes, now: int, ce: bool = False) -> list[Segment]:
        """One arriving segment (checksum already verified); the segments to send in answer. `ce`: its IP header
        said Congestion Experienced (RFC 3168)."""
        self._now = now
        if self._ecn_ok and payload:  # Linux tcp_ecn_accept_cwr, then tcp_ecn_check_ce
            if int(tcp[6]) & 0x80:
                self._ecn_ece = False
            if ce and not self._ecn_ece:
                self._ecn_ece = True
                self._ack_now = True  # tcp_enter_quickack_mode
                self._events.append(TCPEvent("ecn", now, {"phase": "ce", "seq": tcp[2]}))
        if self._ka_at is not None:
            self._ka_at = now + self.profile.keepalive_idle_ns
            self._ka_probes = 0
        out: list[Segment] = []
        state = self.state
        if state is State.ESTABLISHED and self._fast(tcp, payload, out):
            return out
        if state is State.CLOSED:
            rst = reset_for(tcp, len(payload))
            return [rst] if rst is not None else out
        self._receive(tcp, payload, out)
        return out

    def send(self, data: bytes, now: int) -> tuple[int, list[Segment]]:
        """Queue data for sending; how many bytes the send buffer took, and the segments that can go now."""
        if self.state not in _WRITABLE or self.fin_queued:
            raise IllegalTransition(self.state, Event.SEND, f"send() on {self.local[1]}->{self.remote[1]}"
                                    + (" after shutdown/close" if self.fin_queued else ""))
        self._now = now
        taken = self.sndq.write(data)
        out: list[Segment] = []
        if taken:
            if self.snd_una == self.snd_max and self.state in SENDING:
                self._idle_restart(now)
            self._output(out)
        return taken, out

    def _idle_restart(self, now: int) -> None:
        """A write with nothing in flight: CUBIC moves its epoch past the idle time (CA_EVENT_TX_START), and after
        more than an RTO of idle the cwnd restarts (Linux tcp_slow_start_after_idle_check)."""
        idle = now - self._lsndtime
        cc = self.cc
        cc.on_tx_start(idle, now)
        if self.profile.tcp_slow_start_after_idle and idle > self.rtt.rto_ns:
            mss = self._payload_room()
            cc.cwnd, cc.ssthresh = restart_after_idle(cc.cwnd, cc.ssthresh,
                                                      self.profile.initial_cwnd_segments * mss, idle, self.rtt.rto_ns)
            self._cwnd_event("restart after idle")

    def recv(self, max_bytes: int, now: int) -> tuple[bytes, list[Segment]]:
        """Read up to max_bytes in-order bytes; a window update goes out when reading opened the window enough."""
        self._now = now
        data = self.rcvq.data
        n = min(max_bytes, len(data))
        if n <= 0:
            return b"", []
        chunk = bytes(data[:n])
        del data[:n]
        out: list[Segment] = []
        if self.state in (State.ESTABLISHED, State.FIN_WAIT_1, State.FIN_WAIT_2):
            # Linux tcp_cleanup_rbuf: announce when the window at least doubles from what the peer knows
            advertised = seq_sub(self.rcv_adv, self.rcv_nxt)
            free = min(self.rcvq.free(), 65535 << self.rcv_scale)  # no more than the window field can say
            if self.profile.rcv_window_growth:
                free = min(free, self._rcv_clamp)
            if free >= 2 * advertised and free - advertised >= self._rcv_mss:
                out.append(self._ack())
        return chunk, out

    def shutdown(self, now: int) -> list[Segment]:
        """SHUT_WR: a FIN after the queued data (nothing when the FIN is already queued)."""
        self._now = now
        out: list[Segment] = []
        state = self.state
        if state is State.CLOSED:
            return out
        if state is State.SYN_SENT:
            self._transition(Event.CLOSE)
            return out
        if self.fin_queued or state not in (State.SYN_RECEIVED, State.ESTABLISHED, State.CLOSE_WAIT):
            if state is State.FIN_WAIT_2 and self._orphan and self.profile.fin_wait_2_timeout_ns is not None:
                self._close_at = now + self.profile.fin_wait_2_timeout_ns  # shutdown() earlier, close() now
            return out
        self._transition(Event.CLOSE)
        self.fin_queued = True
        self._output(out)
        return out

    def close(self, now: int) -> list[Segment]:
        """close(2): RST when unread data remains (RFC 9293 §3.10.4, Linux), else a FIN after the queued data."""
        self._now = now
        self._orphan = True
        unread = self.rcvq.data or self.rcvq.ooo
        if unread and (self.state in SENDING or self.state in (State.SYN_RECEIVED, State.FIN_WAIT_2)):
            return self.abort(now)
        return self.shutdown(now)

    def abort(self, now: int) -> list[Segment]:
        """Reset the connection now (SO_LINGER 0): an RST in synchronized states, then CLOSED."""
        self._now = now
        state = self.state
        if state is State.CLOSED:
            return []
        out: list[Segment] = []
        if state not in (State.SYN_SENT, State.TIME_WAIT):
            out.append(self._rst(self.snd_max, True))
        self._transition(Event.ABORT)
        return out

    def hard_error(self, code: int, now: int) -> list[Segment]:
        """An ICMP hard error (destination unreachable) about our segments: a connection still opening ends with
        `code` (Linux tcp_v4_err: EHOSTUNREACH, ENETUNREACH, ECONNREFUSED...); a synchronized one only notes it
        (Linux keeps it as a soft error and goes on retransmitting)."""
        self._now = now
        if self.state in (State.SYN_SENT, State.SYN_RECEIVED):
            self._rto_at = None
            self._fail(code, Event.TIMEOUT)
        return []

    def mtu_reduced(self, mtu: int, now: int) -> list[Segment]:
        """ICMP "fragmentation needed" said the path takes only `mtu` bytes (RFC 1191): smaller segments from
        now on, and what is in flight goes again at the new size, without a congestion response (Linux
        tcp_simple_retransmit)."""
        self._now = now
        mss = max(max(mtu, self.profile.min_path_mtu) - 40, self.profile.min_snd_mss)  # Linux tcp_sync_mss
        if mss >= self.path_mss or self.state is State.CLOSED:
            return []
        self.path_mss = mss
        self._events.append(TCPEvent("pmtu", now, {"mtu": mtu, "mss": mss}))
        out: list[Segment] = []
        if self.state in SENDING and self.snd_una != self.snd_max and self.snd_una != self.iss:
            self._timed_seq = None
            self.snd_nxt = self.snd_una
            self._output(out)
        return out

    def set_keepalive(self, on: bool, now: int) -> None:
        """SO_KEEPALIVE: probe an idle connection after the profile's idle time."""
        self.keepalive = on
        self._ka_at = now + self.profile.keepalive_idle_ns if on and self.state is not State.CLOSED else None
        self._ka_probes = 0

    # Timers ------------------------------------------------------------------------------------------------
    def next_deadline(self) -> int | None:
        """The earliest armed timer (retransmission, delayed ACK, persist, TIME-WAIT, keepalive), or None."""
        best = None
        for at in (self._rto_at, self._delack_at, self._persist_at, self._close_at, self._ka_at, self._tlp_at):
            if at is not None and (best is None or at < best):
                best = at
        return best

    def on_timer(self, now: int) -> list[Segment]:
        """Run every timer due at `now`."""
        self._now = now
        out: list[Segment] = []
        if self._close_at is not None and self._close_at <= now:
            self._close_at = None
            self._transition(Event.TIMEOUT_2MSL if self.state is State.TIME_WAIT else Event.TIMEOUT)
            return out
        if self._rto_at is not None and self._rto_at <= now:
            self._rto_at = self._tlp_at = None
            self._tlp_high = None  # Linux tcp_enter_loss: the probe episode ends with the timeout
            self._on_rto(out)
        elif self._tlp_at is not None and self._tlp_at <= now:
            self._on_tlp(out)
        if self._persist_at is not None and self._persist_at <= now:
            self._on_persist(out)
        if self._ka_at is not None and self._ka_at <= now:
            self._on_keepalive(out)
        if self._delack_at is not None and self._delack_at <= now:
            self._delack_at = None
            if self.state is not State.CLOSED:
                out.append(self._ack())
        return out

    def _on_rto(self, out: list[Segment]) -> None:
        """RFC 6298 §5.4-5.6: retransmit the earliest unacknowledged segment, back off, collapse cwnd."""
        state = self.state
        profile = self.profile
        limit = {State.SYN_SENT: profile.syn_retries, State.SYN_RECEIVED: profile.synack_retries}.get(
            state, profile.data_retries)
        if self.snd_una == self.snd_max and state not in (State.SYN_SENT, State.SYN_RECEIVED):
            return
        if self.snd_wnd == 0 and state in SENDING:
            # Linux tcp_retransmit_timer: facing a zero window the retransmissions are window probes, and the
            # connection lives while the receiver answers (RFC 1122 §4.2.2.17); it gives up only after twice the
            # maximum RTO without an ACK (tcp_rtx_probe0_timed_out)
            if self._now - self._ack_at > 2 * profile.max_rto_ns:
                self._fail(errno.ETIMEDOUT, Event.TIMEOUT)
                return
        else:
            if self._retrans_stamp is None:  # the timer ran one RTO from the head's send (approximately)
                self._retrans_stamp = self._now - self.rtt.rto_ns
            # Linux retransmits_timed_out: with TCP_USER_TIMEOUT the time since the head's first send decides,
            # from the second expiry on; without it, the retry count
            if self.user_timeout_ns:
                expired = self._retries > 0 and self._now - self._retrans_stamp >= self.user_timeout_ns
            else:
                expired = self._retries >= limit
            self._retries += 1
            if expired:
                self._fail(errno.ETIMEDOUT, Event.TIMEOUT)
                return
        self.rtt.backoff()
        self._events.append(TCPEvent("rto", self._now, {"rto_ns": self.rtt.rto_ns, "backoff": self.rtt.backoffs}))
        self._timed_seq = None
        if state in (State.SYN_SENT, State.SYN_RECEIVED) and self.snd_una == self.iss:
            out.append(self._syn_segment(True))
            self._events.append(TCPEvent("retransmit", self._now, {"seq": self.iss, "length": 0, "reason": "syn"}))
        else:
            cc = self.cc
            mss = self._payload_room()
            cc.on_timeout(seq_sub(self.snd_max, self.snd_una), mss)
            cc.recover = self.snd_max  # RFC 6582 §4: no fast retransmit for losses from before the timeout
            self._prr = None
            self._undo = None  # Linux can undo an RTO too (F-RTO, tcp_try_undo_loss); not modelled
            if self._send_times is not None:
                self._send_times.clear()
                self._send_times.retransmitted(self.snd_max)
            self.scoreboard.clear()
            self._cwnd_event("timeout")
            self.snd_nxt = self.snd_una  # go back: resend from the first unacknowledged byte
            self._retransmit_first(out, "rto")
            self.snd_nxt = self._rexmit_next
        rto = self.rtt.rto_ns
        if self.user_timeout_ns and self._retrans_stamp is not None:
            # Linux tcp_clamp_rto_to_user_timeout: the next expiry comes no later than the user timeout
            rto = max(min(rto, self.user_timeout_ns - (self._now - self._retrans_stamp)), 1)
        self._rto_at = self._now + rto

    def _on_persist(self, out: list[Segment]) -> None:
        """A zero-window probe (RFC 9293 §3.8.6.1), with the interval doubling like the RTO."""
        self._persist_probes += 1
        if self._persist_probes > self.profile.data_retries:
            self._fail(errno.ETIMEDOUT, Event.TIMEOUT)
            return
        if self.profile.zero_window_probe == "old_seq":
            out.append(self._segment(seq_add(self.snd_una, -1), ACK))
        else:
            self._send_range(self.snd_una, 1, out, None)
        self._events.append(TCPEvent("persist", self._now, {"probe": self._persist_probes,
                                                             "backoff_ns": self._persist_backoff}))
        self._persist_backoff = min(self._persist_backoff * 2, self.profile.max_persist_ns)
        self._persist_at = self._now + self._persist_backoff

    def _on_keepalive(self, out: list[Segment]) -> None:
        """RFC 9293 §3.8.4 / RFC 1122 §4.2.3.6: probe an idle connection, give up after the profile's probes."""
        if self.state not in (State.ESTABLISHED, State.CLOSE_WAIT) or self.snd_una != self.snd_max:
            self._ka_at = self._now + self.profile.keepalive_interval_ns
            return
        if self._ka_probes >= self.profile.keepalive_probes:
            self._fail(errno.ETIMEDOUT, Event.TIMEOUT)
            return
        self._ka_probes += 1
        out.append(self._segment(seq_add(self.snd_una, -1), ACK))
        self._events.append(TCPEvent("keepalive", self._now, {"probe": self._ka_probes}))
        self._ka_at = self._now + self.profile.keepalive_interval_ns

    def time_wait_allows(self, tcp: TCP) -> bool:
        """Whether a SYN for this TIME-WAIT connection's ports may open a new connection (RFC 6191 / Linux
        tcp_timewait_state_process): its sequence number is past RCV.NXT, or its timestamp is newer. The
        socket layer then forgets this connection and hands the SYN to the Listener."""
        if self.state is not State.TIME_WAIT or int(tcp.flags) & 0x17 != 0x02:
            return False
        if self.ts_ok:
            for option in tcp.options:
                if type(option) is Timestamps:
                    return seq_sub(option.tsval, self.ts_recent) > 0
        return seq_sub(tcp.seq, self.rcv_nxt) > 0

    # Reading the state ---------------------------------------------------------------------------------------
    def drain_events(self) -> list[TCPEvent]:
        """Trace events since the last call."""
        events, self._events = self._events, []
        return events

    @property
    def readable(self) -> int:
        """Bytes waiting in the receive buffer, in order."""
        return len(self.rcvq.data)

    @property
    def at_eof(self) -> bool:
        """The peer's FIN arrived and every byte before it was read (recv would return b"")."""
        return self.fin_received and not self.rcvq.data

    @property
    def send_space(self) -> int:
        """Room left in the send buffer."""
        return self.sndq.capacity - len(self.sndq.data)

    @property
    def unacked(self) -> int:
        """Bytes sent or queued and not yet acknowledged (netstat's Send-Q)."""
        return len(self.sndq.data)

    @property
    def finished(self) -> bool:
        """CLOSED with nothing more to do: the socket layer may forget the connection."""
        return self.state is State.CLOSED

    @property
    def send_mss(self) -> int:
        """Data bytes per full segment now: the smaller MSS, at least profile.min_snd_mss, less the options every
        segment carries (Linux's mss_cache, what TCP_MAXSEG reads on a connection)."""
        return self._payload_room()

    @property
    def cwnd(self) -> int:
        """Congestion window in bytes."""
        return self.cc.cwnd

    @property
    def ssthresh(self) -> int:
        """Slow-start threshold in bytes."""
        return self.cc.ssthresh

    @property
    def srtt_ns(self) -> int | None:
        """Smoothed round-trip time (None before the first sample)."""
        return self.rtt.srtt_ns

    @property
    def rto_ns(self) -> int:
        """Current retransmission timeout, backoff included."""
        return self.rtt.rto_ns

    def __repr__(self) -> str:
        return (f"Connection({self.local[1]}->{self.remote[1]} {self.state.name} snd_una={self.snd_una} "
                f"snd_nxt={self.snd_nxt} rcv_nxt={self.rcv_nxt} cwnd={self.cc.cwnd})")

