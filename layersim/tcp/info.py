"""A connection's TCP_INFO: the values of Linux's `struct tcp_info` (include/uapi/linux/tcp.h), in Linux's units.

Linux fills it in `tcp_get_info` (net/ipv4/tcp.c): windows in segments, times in microseconds. Values layersim
does not keep (NOT_KEPT: lost and retransmitted segment counts, which come with the engine's loss detection) read
0 in the struct.
"""

from __future__ import annotations

import struct
from types import MappingProxyType

from layersim.tcp.connection import Connection
from layersim.tcp.seq import seq_sub
from layersim.tcp.states import State

__all__ = ["CA_STATES", "TCPI_OPTIONS", "TCP_INFINITE_SSTHRESH", "pack_tcp_info", "tcp_info"]

TCP_INFINITE_SSTHRESH = 0x7FFFFFFF  # include/net/tcp.h
# enum tcp_ca_state (include/uapi/linux/tcp.h)
CA_STATES = MappingProxyType({"TCP_CA_Open": 0, "TCP_CA_Disorder": 1, "TCP_CA_CWR": 2, "TCP_CA_Recovery": 3,
                              "TCP_CA_Loss": 4})
# tcpi_options bits (include/uapi/linux/tcp.h)
TCPI_OPTIONS = MappingProxyType({"TCPI_OPT_TIMESTAMPS": 1, "TCPI_OPT_SACK": 2, "TCPI_OPT_WSCALE": 4,
                                 "TCPI_OPT_ECN": 8, "TCPI_OPT_ECN_SEEN": 16, "TCPI_OPT_SYN_DATA": 32})
# include/net/tcp_states.h: TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11
_STATES = {State.ESTABLISHED: 1, State.SYN_SENT: 2, State.SYN_RECEIVED: 3, State.FIN_WAIT_1: 4,
           State.FIN_WAIT_2: 5, State.TIME_WAIT: 6, State.CLOSED: 7, State.CLOSE_WAIT: 8, State.LAST_ACK: 9,
           State.LISTEN: 10, State.CLOSING: 11}
# Fields the engine keeps no counter or time for: 0 in the struct, and left out of code blocks so that a script
# reading one is told so rather than given a 0 (the loss-recovery work fills tcpi_lost and tcpi_retrans in).
NOT_KEPT = frozenset({"tcpi_lost", "tcpi_retrans", "tcpi_fackets", "tcpi_last_data_sent", "tcpi_last_ack_sent",
                      "tcpi_last_data_recv", "tcpi_rcv_rtt", "tcpi_delivery_rate_app_limited"})
# struct tcp_info up to tcpi_total_retrans (104 bytes): 8 u8, then u32s.
_LAYOUT = struct.Struct("=8B24I")
_FIELDS_U8 = ("tcpi_state", "tcpi_ca_state", "tcpi_retransmits", "tcpi_probes", "tcpi_backoff", "tcpi_options",
              "tcpi_wscale", "tcpi_delivery_rate_app_limited")
_FIELDS_U32 = ("tcpi_rto", "tcpi_ato", "tcpi_snd_mss", "tcpi_rcv_mss", "tcpi_unacked", "tcpi_sacked", "tcpi_lost",
               "tcpi_retrans", "tcpi_fackets", "tcpi_last_data_sent", "tcpi_last_ack_sent", "tcpi_last_data_recv",
               "tcpi_last_ack_recv", "tcpi_pmtu", "tcpi_rcv_ssthresh", "tcpi_rtt", "tcpi_rttvar",
               "tcpi_snd_ssthresh", "tcpi_snd_cwnd", "tcpi_advmss", "tcpi_reordering", "tcpi_rcv_rtt",
               "tcpi_rcv_space", "tcpi_total_retrans")


def _ca_state(conn: Connection) -> int:
    """Linux's congestion-avoidance state, as far as the NewReno/CUBIC engine keeps one (tcp_set_ca_state)."""
    if conn.rtt.backoffs and conn.snd_una != conn.snd_max:
        return CA_STATES["TCP_CA_Loss"]  # an RTO fired and what it covered is not yet all acknowledged
    if conn.cc.in_recovery:
        return CA_STATES["TCP_CA_Recovery"]
    if conn.cc.dupacks or conn.scoreboard.sacked_bytes():
        return CA_STATES["TCP_CA_Disorder"]
    return CA_STATES["TCP_CA_Open"]


def tcp_info(conn: Connection, now: int, *, total_retrans: int = 0) -> dict[str, int]:
    """The connection's tcp_info fields by Linux's names (windows in segments, times in microseconds)."""
    mss = max(conn.send_mss, 1)
    srtt = conn.rtt.srtt_ns or 0
    flight = seq_sub(conn.snd_nxt, conn.snd_una)
    ssthresh = conn.cc.ssthresh
    options = (TCPI_OPTIONS["TCPI_OPT_TIMESTAMPS"] if conn.ts_ok else 0) | \
        (TCPI_OPTIONS["TCPI_OPT_SACK"] if conn.sack_ok else 0) | (TCPI_OPTIONS["TCPI_OPT_WSCALE"] if conn.wscale_ok
                                                                  else 0)
    return {
        "tcpi_state": _STATES.get(conn.state, 7), "tcpi_ca_state": _ca_state(conn),
        "tcpi_retransmits": conn.rtt.backoffs, "tcpi_probes": conn._persist_probes,
        "tcpi_backoff": conn.rtt.backoffs, "tcpi_options": options,
        "tcpi_wscale": (conn.snd_scale << 4 | conn.rcv_scale) if conn.wscale_ok else 0,
        "tcpi_delivery_rate_app_limited": 0,
        "tcpi_rto": conn.rtt.rto_ns // 1000, "tcpi_ato": conn.profile.delayed_ack_ns // 1000,
        "tcpi_snd_mss": mss, "tcpi_rcv_mss": conn._rcv_mss,
        "tcpi_unacked": -(-flight // mss), "tcpi_sacked": conn.scoreboard.sacked_bytes() // mss,
        "tcpi_lost": 0, "tcpi_retrans": 0, "tcpi_fackets": 0,
        "tcpi_last_data_sent": 0, "tcpi_last_ack_sent": 0, "tcpi_last_data_recv": 0,
        "tcpi_last_ack_recv": (now - conn._ack_at) // 1_000_000,
        "tcpi_pmtu": conn.path_mss + 40, "tcpi_rcv_ssthresh": conn.rcvq.capacity,
        "tcpi_rtt": srtt // 1000, "tcpi_rttvar": (conn.rtt.rttvar_ns or 0) // 1000,
        "tcpi_snd_ssthresh": TCP_INFINITE_SSTHRESH if ssthresh >= 1 << 30 else ssthresh // mss,
        "tcpi_snd_cwnd": conn.cc.cwnd // mss, "tcpi_advmss": conn.mss,
        "tcpi_reordering": conn.profile.dupack_threshold, "tcpi_rcv_rtt": 0, "tcpi_rcv_space": conn.rcvq.capacity,
        "tcpi_total_retrans": total_retrans,
        "tcpi_min_rtt": (conn._min_rtt_ns or 0) // 1000,
    }


def pack_tcp_info(info: dict[str, int]) -> bytes:
    """The first 104 bytes of `struct tcp_info` (through tcpi_total_retrans), as getsockopt(TCP_INFO) returns."""
    return _LAYOUT.pack(*(info[name] & 0xFF for name in _FIELDS_U8),
                        *(info[name] & 0xFFFFFFFF for name in _FIELDS_U32))
