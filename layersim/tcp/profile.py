"""Where the RFCs leave a choice, a Profile decides: Linux 6.x behaviour (the default) or a plain RFC reading."""

from __future__ import annotations

from dataclasses import dataclass, replace

from layersim.errors import LayersimError

__all__ = ["CONGESTION_CONTROLS", "LINUX", "PROFILES", "RFC", "Profile", "choose_profile"]

_MS = 1_000_000
_S = 1_000_000_000


@dataclass(frozen=True)
class Profile:
    """Every constant and Linux-vs-RFC choice the TCP code uses; nothing else in layersim/tcp hard-codes one."""

    name: str
    # Handshake and options ------------------------------------------------------------------------------
    syn_window: int | None           # window field in a SYN: None = (65535 // mss) * mss, Linux's rule
    synack_window: int | None        # window in a SYN-ACK: None = (65535 // (mss - TS)) * (mss - TS)
    window_scale: int                # our shift count (Linux 6.x on this machine: 10; capped at 14)
    max_window_scale: int            # RFC 7323 §2.3: a larger shift is used as 14
    option_layout: str               # "linux": MSS,SACKOK,TS,NOP,WS (NOP-padded variants) | "rfc": aligned
    timestamps: bool                 # offer RFC 7323 timestamps
    sack: bool                       # offer SACK-permitted (RFC 2018)
    ts_hz: int                       # timestamp clock rate (Linux: 1000 Hz)
    default_peer_mss: int            # RFC 9293 §3.7.1: MSS when the peer sends none
    min_peer_mss: int                # a smaller peer MSS is raised to this (Linux: 88)
    min_path_mtu: int                # ICMP "fragmentation needed" never lowers the path MTU below this (Linux 552)
    min_snd_mss: int                 # the send MSS never goes below this: 40 option bytes + 8 of data (Linux
                                     # tcp_min_snd_mss 48, TCP_MIN_SND_MSS, in __tcp_mtu_to_mss)
    # Segments --------------------------------------------------------------------------------------------
    df: bool                         # DF bit on every segment (Linux: path MTU discovery)
    synack_ip_id_zero: bool          # IP identification 0 on a SYN-ACK (Linux)
    rst_ip_id_zero: bool             # IP identification 0 on an RST answering a segment (Linux)
    abort_rst_from_segment: bool     # data after close(): RST SEQ=SEG.ACK without ACK (Linux), or SEQ=SND.NXT, ACK
    # Retransmission (RFC 6298) ----------------------------------------------------------------------------
    initial_rto_ns: int
    min_rto_ns: int
    max_rto_ns: int
    rto_formula: str                 # "linux": srtt + max(4*rttvar, min_rto) | "rfc": max(min_rto, srtt+4*rttvar)
    clock_granularity_ns: int        # G of RFC 6298 §2
    rtt_from_timestamps: bool        # take RTT samples from TSecr (RFC 7323 §4) rather than one timed segment
    syn_retries: int                 # SYN retransmissions before ETIMEDOUT (Linux tcp_syn_retries 6)
    synack_retries: int              # SYN-ACK retransmissions (Linux tcp_synack_retries 5)
    data_retries: int                # data retransmissions (Linux tcp_retries2 15)
    # Congestion control -----------------------------------------------------------------------------------
    congestion_control: str          # "newreno" (RFC 5681 + RFC 6582) or "cubic" (RFC 9438, Linux's default)
    initial_cwnd_segments: int       # Linux and RFC 6928: 10; RFC 5681: 3 for a 1460-byte MSS
    slow_start_counts_bytes: bool    # True: cwnd += bytes acked (Linux packet counting); False: RFC 3465 L=1
    dupack_threshold: int            # fast retransmit after this many duplicate ACKs
    nagle_minshall: bool             # Linux: hold a small segment only while an earlier small one is unacked
    # Knobs named after the Linux sysctl or module parameter they model (so `sysctl net.ipv4.X=Y` maps onto them)
    tcp_slow_start_after_idle: bool  # net.ipv4.tcp_slow_start_after_idle 1: cwnd restarts after an idle RTO
    limited_transmit: bool           # RFC 3042: new data on the first two duplicate ACKs (Linux: always on)
    tcp_ecn: int                     # net.ipv4.tcp_ecn 2: 1 asks for ECN (RFC 3168) in the SYN, 2 accepts when
                                     # asked, 0 never
    tcp_early_retrans: int           # net.ipv4.tcp_early_retrans 3: tail loss probes (RFC 8985 §7) when >= 3
    tcp_dsack: bool                  # net.ipv4.tcp_dsack 1: report duplicates (RFC 2883), undo on D-SACKs
    prr: bool                        # RFC 6937 proportional rate reduction in recovery (Linux: always on)
    hystart: bool                    # tcp_cubic module parameter hystart 1 (RFC 9438 §4.10): leave slow start early
    hystart_detect: int              # hystart_detect 3: HYSTART_ACK_TRAIN (1) | HYSTART_DELAY (2)
    hystart_low_window: int          # hystart_low_window 16: no HyStart below this cwnd (segments)
    hystart_ack_delta_ns: int        # hystart_ack_delta_us 2000: ACKs closer than this form a train
    # Linux's GSO bursts: data leaves in skbs of at most half the cwnd (tcp_cwnd_test) and the TSO autosize
    # (tcp_tso_autosize: about 1 ms at the pacing rate), and a burst of more than one segment carries PSH on its
    # last segment (__tcp_transmit_skb forces it for the receiver's GRO). The pacing rate is
    # mss * cwnd / srtt times ss_ratio % in slow start (cwnd below half ssthresh), else ca_ratio %.
    gso_bursts: bool
    gso_max_size: int                # bytes per skb at most (GSO_LEGACY_MAX_SIZE 65536)
    tso_min_segs: int                # tcp_min_tso_segs 2
    tso_rtt_log: int                 # tcp_tso_rtt_log 9: low RTTs earn more (gso_max_size >> (min_rtt_us >> 9))
    pacing_shift: int                # sk_pacing_shift 10: a burst is about 2**-10 s at the pacing rate
    pacing_ss_ratio: int             # tcp_pacing_ss_ratio 200 (%)
    pacing_ca_ratio: int             # tcp_pacing_ca_ratio 120 (%)
    # Receiving and acknowledging ---------------------------------------------------------------------------
    delayed_ack_ns: int              # delayed ACK timeout (Linux ATO min 40 ms; RFC 1122 says < 500 ms)
    quickack_segments: int           # segments ACKed at once at the start of a connection (Linux quick ACK)
    ack_every_segments: int          # ACK at once when this many full segments are unacknowledged
    rcv_window_growth: bool          # Linux: the advertised window starts at the SYN's and grows as data comes
    delay_ack_of_fin: bool           # Linux: a FIN in ESTABLISHED is ACKed with a delay (pingpong), RFC: at once
    ack_unsent_data_reply: bool      # ACK of data not yet sent: True = send an ACK (RFC 9293), False = drop (Linux)
    challenge_acks: bool             # RFC 5961: in-window RST or SYN gets a challenge ACK
    invalid_ratelimit_ns: int        # at most one ACK per this interval answers out-of-window or invalid segments
                                     # (Linux tcp_invalid_ratelimit 500 ms, tcp_oow_rate_limited; RFC 5961 §7)
    # Buffers, persist, keepalive, TIME-WAIT ------------------------------------------------------------------
    rcvbuf: int                      # receive buffer bytes by default (net.ipv4.tcp_rmem's middle value)
    rcv_scaling_ratio: int           # /256: the part of rcvbuf the window may offer, the rest being the buffer
                                     # overhead of the skbs holding the data (Linux 6.x tcp_win_from_space with
                                     # tp->scaling_ratio = skb len / truesize, tcp_measure_rcv_mss; it replaced
                                     # tcp_adv_win_scale). 154: 1448-byte segments on veth; the window stops at
                                     # 131072 * 154 / 256 = 77 KiB, as in the recorded captures. 256: no overhead
    sndbuf: int                      # send buffer bytes by default
    zero_window_probe: str           # "old_seq": Linux's ACK with SEQ = SND.UNA - 1 | "one_byte": RFC 9293 §3.8.6.1
    max_persist_ns: int              # persist timer backoff cap
    keepalive_idle_ns: int
    keepalive_interval_ns: int
    keepalive_probes: int
    time_wait_ns: int                # 2*MSL (Linux TCP_TIMEWAIT_LEN: 60 s)
    fin_wait_2_timeout_ns: int | None  # after close(), FIN-WAIT-2 gives up (Linux tcp_fin_timeout 60 s); None: never


LINUX = Profile(
    name="linux", syn_window=None, synack_window=None, window_scale=10, max_window_scale=14, option_layout="linux",
    timestamps=True, sack=True, ts_hz=1000, default_peer_mss=536, min_peer_mss=88,
    min_path_mtu=552, min_snd_mss=48,
    df=True, synack_ip_id_zero=True, rst_ip_id_zero=True, abort_rst_from_segment=True,
    initial_rto_ns=1 * _S, min_rto_ns=200 * _MS, max_rto_ns=120 * _S, rto_formula="linux",
    clock_granularity_ns=1 * _MS, rtt_from_timestamps=False, syn_retries=6, synack_retries=5, data_retries=15,
    congestion_control="cubic", initial_cwnd_segments=10, slow_start_counts_bytes=True, dupack_threshold=3,
    nagle_minshall=True, tcp_slow_start_after_idle=True, tcp_ecn=2, tcp_early_retrans=3, tcp_dsack=True,
    limited_transmit=True, prr=True, hystart=True,
    hystart_detect=3, hystart_low_window=16, hystart_ack_delta_ns=2 * _MS,
    gso_bursts=True, gso_max_size=65536, tso_min_segs=2, tso_rtt_log=9, pacing_shift=10,
    pacing_ss_ratio=200, pacing_ca_ratio=120,
    delayed_ack_ns=40 * _MS, quickack_segments=16, ack_every_segments=2, rcv_window_growth=True,
    delay_ack_of_fin=True, ack_unsent_data_reply=False, challenge_acks=True,
    invalid_ratelimit_ns=500 * _MS,
    rcvbuf=131072, rcv_scaling_ratio=154, sndbuf=262144, zero_window_probe="old_seq", max_persist_ns=120 * _S,
    keepalive_idle_ns=7200 * _S, keepalive_interval_ns=75 * _S, keepalive_probes=9, time_wait_ns=60 * _S,
    fin_wait_2_timeout_ns=60 * _S,
)

RFC = Profile(
    name="rfc", syn_window=65535, synack_window=65535, window_scale=7, max_window_scale=14, option_layout="rfc",
    timestamps=True, sack=True, ts_hz=1000, default_peer_mss=536, min_peer_mss=64,
    min_path_mtu=576, min_snd_mss=48,
    df=False, synack_ip_id_zero=False, rst_ip_id_zero=False, abort_rst_from_segment=False,
    initial_rto_ns=1 * _S, min_rto_ns=1 * _S, max_rto_ns=60 * _S, rto_formula="rfc",
    clock_granularity_ns=1 * _MS, rtt_from_timestamps=True, syn_retries=5, synack_retries=5, data_retries=12,
    congestion_control="newreno", initial_cwnd_segments=3, slow_start_counts_bytes=False, dupack_threshold=3,
    nagle_minshall=False, tcp_slow_start_after_idle=False, tcp_ecn=0, tcp_early_retrans=0, tcp_dsack=False,
    limited_transmit=False, prr=False, hystart=False,
    hystart_detect=3, hystart_low_window=16, hystart_ack_delta_ns=2 * _MS,
    gso_bursts=False, gso_max_size=65536, tso_min_segs=2, tso_rtt_log=9, pacing_shift=10,
    pacing_ss_ratio=200, pacing_ca_ratio=120,
    delayed_ack_ns=200 * _MS, quickack_segments=0, ack_every_segments=2, rcv_window_growth=False,
    delay_ack_of_fin=False, ack_unsent_data_reply=True, challenge_acks=True,
    invalid_ratelimit_ns=500 * _MS,
    rcvbuf=65535 * 2, rcv_scaling_ratio=256, sndbuf=65535 * 4, zero_window_probe="one_byte", max_persist_ns=60 * _S,
    keepalive_idle_ns=7200 * _S, keepalive_interval_ns=75 * _S, keepalive_probes=9, time_wait_ns=240 * _S,
    fin_wait_2_timeout_ns=None,
)

PROFILES = {"linux": LINUX, "rfc": RFC}
CONGESTION_CONTROLS = ("newreno", "cubic")


def choose_profile(tcp: str | Profile = "linux", congestion: str | None = None) -> Profile:
    """The profile a host's TCP uses: `tcp` by name ("linux", "rfc") or as a Profile, with its congestion control
    replaced by `congestion` ("newreno", "cubic") when given."""
    if isinstance(tcp, Profile):
        profile = tcp
    elif tcp in PROFILES:
        profile = PROFILES[tcp]
    else:
        raise LayersimError(f"unknown TCP profile {tcp!r} (use {' or '.join(map(repr, PROFILES))})")
    if congestion is None or congestion == profile.congestion_control:
        return profile
    if congestion not in CONGESTION_CONTROLS:
        raise LayersimError(f"unknown congestion control {congestion!r} (use "
                            f"{' or '.join(map(repr, CONGESTION_CONTROLS))})")
    return replace(profile, congestion_control=congestion)
