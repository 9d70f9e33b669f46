"""The transmission control block (RFC 9293 §3.3.1): every variable one connection keeps, in one place."""

from __future__ import annotations

from layersim.tcp.buffers import ReceiveBuffer, Scoreboard, SendBuffer
from layersim.tcp.cubic import controller
from layersim.tcp.dsack import Undo
from layersim.tcp.profile import Profile
from layersim.tcp.prr import PRR
from layersim.tcp.rto import RttEstimator
from layersim.tcp.segment import TCPEvent
from layersim.tcp.sendtimes import SendTimes
from layersim.tcp.states import State

__all__ = ["TCB", "check_mss"]


def check_mss(name: str, value: object) -> int:
    """A segment size given by the caller, checked: an int from 1 to 65535 (the MSS option has 16 bits)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (bytes of data per segment), got {type(value).__name__}")
    if not 1 <= value <= 65535:
        raise ValueError(f"{name} must be 1-65535 (bytes of data per segment: the link MTU less 40), got {value}")
    return value


class TCB:
    """Connection variables; Output, Input and Connection add the behaviour on top of it."""

    __slots__ = (
        "_ack_at",
        "_ack_now",
        "_close_at",
        "_delack_at",
        "_df",
        "_dsack",
        "_ecn_cwr",
        "_ecn_ece",
        "_ecn_high",
        "_ecn_ok",
        "_events",
        "_ka_at",
        "_ka_probes",
        "_lsndtime",
        "_min_rtt_ns",
        "_now",
        "_oow_ack_at",
        "_orphan",
        "_passive",
        "_peer_fin",
        "_persist_at",
        "_persist_backoff",
        "_persist_probes",
        "_prr",
        "_quickacks",
        "_rcv_clamp",
        "_rcv_mss",
        "_retrans_stamp",
        "_retries",
        "_rexmit_next",
        "_rto_at",
        "_send_times",
        "_snd_sml",
        "_timed_at",
        "_timed_seq",
        "_tlp_at",
        "_tlp_high",
        "_tlp_retrans",
        "_unacked_bytes",
        "_undo",
        "cc",
        "error",
        "fin_queued",
        "fin_received",
        "irs",
        "iss",
        "keepalive",
        "last_ack_sent",
        "local",
        "max_snd_wnd",
        "mss",
        "nodelay",
        "path_mss",
        "peer_mss",
        "profile",
        "rcv_adv",
        "rcv_nxt",
        "rcv_scale",
        "rcvq",
        "remote",
        "rtt",
        "sack_ok",
        "scoreboard",
        "snd_max",
        "snd_nxt",
        "snd_scale",
        "snd_una",
        "snd_wl1",
        "snd_wl2",
        "snd_wnd",
        "sndq",
        "state",
        "ts_offset",
        "ts_ok",
        "ts_recent",
        "user_timeout_ns",
        "wscale_ok",
    )

    def __init__(self, local: tuple[int, int], remote: tuple[int, int], *, iss: int, mss: int, now: int,
                 profile: Profile, ts_offset: int, rcvbuf: int | None, sndbuf: int | None, nodelay: bool,
                 path_mss: int | None = None) -> None:
        check_mss("mss", mss)
        path_mss = mss if path_mss is None else check_mss("path_mss", path_mss)
        # Linux __tcp_mtu_to_mss: the send MSS never goes below tcp_min_snd_mss (48: 40 option bytes and 8 of
        # data). A path that cannot carry that gets segments without DF, which IP fragments, as Linux does once it
        # has locked the route MTU below min_pmtu (__ip_rt_update_pmtu). Neither do we advertise less.
        floor = profile.min_snd_mss
        self._df = profile.df and path_mss >= floor
        mss = max(mss, floor)
        iss &= 0xFFFFFFFF
        self.profile = profile
        self.local = local
        self.remote = remote
        self.state = State.CLOSED
        self.error: int | None = None
        self.nodelay = nodelay
        self.keepalive = False
        self.mss = mss                      # what we advertise: interface MTU - 40 (the host: at least 256)
        self.peer_mss = profile.default_peer_mss
        self.path_mss = max(path_mss, floor)  # the first link's MTU - 40; lowered by ICMP fragmentation-needed

        # send sequence space (RFC 9293 §3.3.1)
        self.iss = iss
        self.snd_una = iss
        self.snd_nxt = iss
        self.snd_max = iss                  # highest sequence number sent + 1 (snd_nxt moves back after an RTO)
        self.snd_wnd = 0
        self.max_snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        self.snd_scale = 0
        self.sndq = SendBuffer((iss + 1) & 0xFFFFFFFF, sndbuf if sndbuf is not None else profile.sndbuf)
        self.fin_queued = False             # close()/shutdown(): FIN follows the last queued byte
        # receive sequence space
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0                    # right edge of the window we last advertised (never moves left)
        self.rcv_scale = 0
        # the window offers the part of the buffer that data can use (Linux tcp_win_from_space)
        self.rcvq = ReceiveBuffer((rcvbuf if rcvbuf is not None else profile.rcvbuf) * profile.rcv_scaling_ratio >> 8)
        self._rcv_clamp = 0                 # Linux: the advertised window grows from the SYN's towards rcvbuf
        self._min_rtt_ns: int | None = None  # the smallest RTT sample (Linux's min_rtt: the TSO autosize uses it)
        self._rcv_mss = min(mss, profile.default_peer_mss)  # peer segment size estimate (delayed-ACK rule)
        self.fin_received = False           # the peer's FIN has been taken in order
        self._peer_fin: int | None = None   # sequence number of a FIN that arrived ahead of missing data
        # options
        self.sack_ok = False
        self.wscale_ok = False
        self.ts_ok = False
        self.ts_offset = ts_offset & 0xFFFFFFFF
        self.ts_recent = 0
        self.last_ack_sent = 0
        # retransmission, congestion control
        self.rtt = RttEstimator(profile)
        self.cc = controller(profile, mss)
        self.scoreboard = Scoreboard(iss)
        self._retries = 0
        self._lsndtime = now                # when data last left (Linux tp->lsndtime: slow start after idle)
        self._retrans_stamp: int | None = None  # first send of the head segment being retransmitted (Linux
                                            # tp->retrans_stamp: TCP_USER_TIMEOUT counts from it)
        self.user_timeout_ns = 0            # TCP_USER_TIMEOUT (RFC 5482): 0 = the retry counts decide
        self._ack_at = now                  # when the last acceptable ACK arrived (Linux tp->rcv_tstamp)
        self._snd_sml = iss                 # end of the last small segment sent (Minshall's Nagle)
        # per-segment send times for an RTT sample from every ACK: only HyStart needs them
        self._send_times = (SendTimes(iss) if profile.hystart and profile.congestion_control == "cubic"
                            else None)
        self._tlp_at: int | None = None     # the tail loss probe timer (RFC 8985 §7.2, Linux ICSK_TIME_LOSS_PROBE)
        self._tlp_high: int | None = None   # SND.NXT when the probe went (Linux tlp_high_seq): one per episode
        self._tlp_retrans = False           # the probe was a retransmission
        self._ecn_ok = False                # RFC 3168 negotiated in the handshake
        self._ecn_ece = False               # CE seen: ECE on every segment until a CWR (Linux TCP_ECN_DEMAND_CWR)
        self._ecn_cwr = False               # ECE answered with a reduction: CWR on the next new data (QUEUE_CWR)
        self._ecn_high: int | None = None   # one reduction per window of data (RFC 3168 §6.1.2)
        self._dsack: tuple[int, int] | None = None  # a duplicate to report in the next ACK (RFC 2883)
        self._undo: Undo | None = None      # the last cwnd reduction, while D-SACKs may still undo it
        self._prr: PRR | None = None        # RFC 6937 state while in fast recovery (profile.prr)
        self._rexmit_next = iss             # in recovery: next SACK hole to retransmit starts here or later
        self._timed_seq: int | None = None  # Karn: one segment timed at a time, never a retransmitted one
        self._timed_at = 0
        # timers (absolute ns, None = not armed)
        self._rto_at: int | None = None
        self._delack_at: int | None = None
        self._persist_at: int | None = None
        self._close_at: int | None = None   # TIME-WAIT's 2 MSL, or an orphaned FIN-WAIT-2's timeout
        self._ka_at: int | None = None
        self._persist_backoff = 0
        self._persist_probes = 0
        self._ka_probes = 0
        # acknowledgement policy
        self._quickacks = profile.quickack_segments
        self._unacked_bytes = 0             # in-order bytes received since our last ACK
        self._ack_now = False
        self._oow_ack_at: int | None = None  # when an ACK last answered an invalid segment (Linux last_oow_ack_time)
        self._passive = False
        self._orphan = False                # close() was called: no application will read any more
        self._now = now
        self._events: list[TCPEvent] = []
