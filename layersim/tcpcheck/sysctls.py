"""The sysctls a script may set: each `net.ipv4.*` name maps onto a TCP Profile field, or is a documented no-op.

Names and value ranges are Linux's (Documentation/networking/ip-sysctl.rst, net/ipv4/sysctl_net_ipv4.c). Every
sysctl packetdrill's `gtests/net/common/defaults.sh` sets is here. A name not here is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any

from layersim.errors import LayersimError
from layersim.tcp.profile import Profile

__all__ = ["CUBIC_PARAMETERS", "KNOBS", "NO_OPS", "PENDING", "SysctlError", "apply_cubic_parameter", "apply_sysctl",
           "canonical_name"]


class SysctlError(LayersimError):
    """A sysctl a script sets that layersim cannot take: unknown name, or a value out of Linux's range."""


def _int(low: int, high: int) -> Callable[[str, str], int]:
    """A parser for an integer sysctl in [low, high] (decimal or 0x hex, as the kernel's proc_dointvec)."""
    def parse(name: str, text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise SysctlError(f"sysctl {name}={text!r}: not an integer") from None
        if not low <= value <= high:
            raise SysctlError(f"sysctl {name}={value}: out of range (Linux takes {low} to {high})")
        return value
    return parse


def _bool(name: str, text: str) -> bool:
    """A 0/1 switch."""
    return bool(_int(0, 1)(name, text))


def _triple(index: int) -> Callable[[str, str], int]:
    """One of the three numbers of tcp_rmem/tcp_wmem ("min default max")."""
    def parse(name: str, text: str) -> int:
        parts = text.split()
        if len(parts) != 3:
            raise SysctlError(f"sysctl {name}={text!r}: needs three numbers (min default max)")
        numbers = [_int(1, 2**31 - 1)(name, part) for part in parts]
        if not numbers[0] <= numbers[1] <= numbers[2]:
            raise SysctlError(f"sysctl {name}={text!r}: needs min <= default <= max")
        return numbers[index]
    return parse


def _congestion(name: str, text: str) -> str:
    """tcp_congestion_control: the algorithms layersim has ("reno" is Linux's name for NewReno)."""
    known = {"cubic": "cubic", "reno": "newreno"}
    if text not in known:
        raise SysctlError(f"sysctl {name}={text}: layersim has {', '.join(known)} (not {text})")
    return known[text]


def _window_scale(space: int) -> int:
    """The shift Linux offers for a receive buffer of at most `space` bytes (tcp_select_initial_window: halve
    until it fits the 16-bit window, at most 14, RFC 7323 §2.3)."""
    scale = 0
    while space > 0xFFFF and scale < 14:
        space >>= 1
        scale += 1
    return scale


@dataclass(frozen=True, slots=True)
class Knob:
    """A sysctl's Profile field, how its value is read, and how that value becomes the field's; `also` sets
    further fields from the same text (tcp_rmem's maximum decides the window scale)."""

    field: str
    parse: Callable[[str, str], Any]
    convert: Callable[[Any], Any] = lambda value: value
    also: tuple[tuple[str, Callable[[str, str], Any]], ...] = ()


# sysctl name (without net.ipv4.) -> Profile field. A field named after its sysctl (tcp_dsack, tcp_ecn, ...) is
# one the engine work adds (RACK-TLP, D-SACK, ECN, F-RTO, idle restart, TSO deferral, PLPMTUD); until the
# Profile has it, its sysctl is checked and not honoured (PENDING lists them).
KNOBS = MappingProxyType({
    # the default receive buffer (tcp_rmem[1]); the largest (tcp_rmem[2]) sets the window scale offered
    "tcp_rmem": Knob("rcvbuf", _triple(1), also=(("window_scale",
                                                  lambda n, t: _window_scale(_triple(2)(n, t))),)),
    "tcp_wmem": Knob("sndbuf", _triple(1)),          # the default send buffer (tcp_wmem[1])
    "tcp_timestamps": Knob("timestamps", _int(0, 2), bool),  # 2: timestamps without random offsets
    "tcp_sack": Knob("sack", _bool),
    "tcp_dsack": Knob("tcp_dsack", _bool),
    "tcp_syn_retries": Knob("syn_retries", _int(1, 127)),
    "tcp_synack_retries": Knob("synack_retries", _int(0, 255)),
    "tcp_retries2": Knob("data_retries", _int(0, 255)),
    "tcp_frto": Knob("tcp_frto", _int(0, 2)),
    "tcp_reordering": Knob("dupack_threshold", _int(1, 300)),
    "tcp_congestion_control": Knob("congestion_control", _congestion),
    "tcp_slow_start_after_idle": Knob("tcp_slow_start_after_idle", _bool),  # RFC 5681 §4.1, tcp_cwnd_restart
    "tcp_early_retrans": Knob("tcp_early_retrans", _int(0, 4)),  # 3 and 4: TLP (tcp_schedule_loss_probe)
    "tcp_recovery": Knob("tcp_recovery", _int(0, 7)),  # bit 0: RACK loss detection (TCP_RACK_LOSS_DETECTION)
    "tcp_tso_win_divisor": Knob("tcp_tso_win_divisor", _int(1, 255)),
    "tcp_min_tso_segs": Knob("tso_min_segs", _int(1, 255)),
    "tcp_ecn": Knob("tcp_ecn", _int(0, 2)),  # 0 off, 1 ask and accept, 2 accept when asked (RFC 3168)
    "tcp_pacing_ss_ratio": Knob("pacing_ss_ratio", _int(0, 1000)),
    "tcp_pacing_ca_ratio": Knob("pacing_ca_ratio", _int(0, 1000)),
    "tcp_notsent_lowat": Knob("tcp_notsent_lowat", _int(0, 2**32 - 1)),
    "tcp_mtu_probing": Knob("tcp_mtu_probing", _int(0, 2)),  # packetization-layer PMTU discovery (RFC 4821)
    "tcp_base_mss": Knob("tcp_base_mss", _int(1, 65535)),
    "tcp_fin_timeout": Knob("fin_wait_2_timeout_ns", _int(1, 2**31 - 1), lambda s: s * 1_000_000_000),
    "tcp_keepalive_time": Knob("keepalive_idle_ns", _int(1, 2**31 - 1), lambda s: s * 1_000_000_000),
    "tcp_keepalive_intvl": Knob("keepalive_interval_ns", _int(1, 2**31 - 1), lambda s: s * 1_000_000_000),
    "tcp_keepalive_probes": Knob("keepalive_probes", _int(1, 127)),
})

PENDING = frozenset(name for name, knob in KNOBS.items() if knob.field not in {f.name for f in fields(Profile)})

# sysctl name -> why setting it changes nothing layersim models (the value is still checked to be a value).
NO_OPS = MappingProxyType({
    "tcp_fack": "FACK was removed from Linux 4.15; the sysctl is kept and ignored",
    "tcp_ecn_option": "the AccECN option (RFC 9768) is not modelled; classic ECN is tcp_ecn",
    "tcp_fastopen": "TCP Fast Open is not modelled (a script that uses it is refused)",
    "tcp_fastopen_key": "TCP Fast Open is not modelled (a script that uses it is refused)",
    "tcp_syncookies": "no SYN flood is modelled: the listen queue never overflows into cookies",
})


# Parameters of Linux's tcp_cubic module (/sys/module/tcp_cubic/parameters/NAME) -> (Profile field, parse,
# convert). They take effect once the engine's CUBIC has the field (HyStart, RFC 9438 §4.10); until then a write
# is checked and not honoured.
CUBIC_PARAMETERS = MappingProxyType({
    "hystart": ("hystart", _bool, bool),
    "hystart_detect": ("hystart_detect", _int(0, 3), int),
    "hystart_low_window": ("hystart_low_window", _int(2, 2**31 - 1), int),
    "hystart_ack_delta_us": ("hystart_ack_delta_ns", _int(0, 2**31 - 1), lambda us: us * 1000),
})


def apply_cubic_parameter(profile: Profile, name: str, value: str) -> Profile:
    """The profile with tcp_cubic module parameter `name` set (SysctlError when unknown or not modelled)."""
    entry = CUBIC_PARAMETERS.get(name)
    if entry is None:
        raise SysctlError(f"tcp_cubic parameter {name} is not modelled (known: {', '.join(CUBIC_PARAMETERS)})")
    field, parse, convert = entry
    setting = convert(parse(f"tcp_cubic.{name}", value.strip()))
    if field not in {f.name for f in fields(profile)}:
        return profile  # an engine without HyStart: checked, not honoured
    return replace(profile, **{field: setting})


def canonical_name(name: str) -> str:
    """`net.ipv4.tcp_sack`, `net/ipv4/tcp_sack` or `/proc/sys/net/ipv4/tcp_sack` -> `tcp_sack`; other trees are
    refused."""
    path = name.removeprefix("/proc/sys/").replace("/", ".")
    if not path.startswith("net.ipv4.") or path.count(".") != 2:
        raise SysctlError(f"sysctl {name}: only net.ipv4.tcp_* sysctls are modelled")
    return path.removeprefix("net.ipv4.")


def apply_sysctl(profile: Profile, name: str, value: str) -> Profile:
    """The profile with sysctl `name` set to `value` (SysctlError naming it when unknown or out of range)."""
    short = canonical_name(name)
    value = value.strip()
    if short in NO_OPS:
        if not value:
            raise SysctlError(f"sysctl {name}: no value given")
        return profile
    knob = KNOBS.get(short)
    if knob is None:
        raise SysctlError(f"sysctl net.ipv4.{short} is not modelled (known: {', '.join(sorted(KNOBS))}; "
                          f"ignored: {', '.join(sorted(NO_OPS))})")
    full = f"net.ipv4.{short}"
    setting = knob.convert(knob.parse(full, value))
    if short in PENDING and knob.field not in {f.name for f in fields(profile)}:
        return profile  # checked, not yet honoured
    changes = {knob.field: setting}
    changes.update({field: parse(full, value) for field, parse in knob.also})
    return replace(profile, **changes)
