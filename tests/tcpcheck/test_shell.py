"""The shell-line interpreter and the sysctl knobs: what a script's back-quoted lines may hold."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from layersim.errors import LayersimError
from layersim.tcp.profile import LINUX
from layersim.tcpcheck import RunConfig, UnsupportedScriptError, parse_script, run_script
from layersim.tcpcheck.prelude import prelude
from layersim.tcpcheck.shell import ShellRefused, run_shell
from layersim.tcpcheck.sysctls import (
    KNOBS,
    NO_OPS,
    PENDING,
    SysctlError,
    apply_cubic_parameter,
    apply_sysctl,
    canonical_name,
)

# Every sysctl packetdrill's gtests/net/common/defaults.sh sets (the names only; the file is not copied here).
DEFAULTS_SH = ("tcp_rmem", "tcp_wmem", "tcp_timestamps", "tcp_syn_retries", "tcp_synack_retries", "tcp_frto",
               "tcp_sack", "tcp_dsack", "tcp_fack", "tcp_reordering", "tcp_congestion_control",
               "tcp_slow_start_after_idle", "tcp_early_retrans", "tcp_recovery", "tcp_tso_win_divisor", "tcp_ecn",
               "tcp_ecn_option", "tcp_pacing_ss_ratio", "tcp_pacing_ca_ratio", "tcp_notsent_lowat",
               "tcp_fastopen", "tcp_fastopen_key", "tcp_syncookies")


def test_every_defaults_sh_sysctl_has_a_knob_or_is_a_documented_no_op() -> None:
    names = {f.name for f in fields(LINUX)}
    for name in DEFAULTS_SH:
        assert name in KNOBS or name in NO_OPS, name
    assert all(knob.field in names or name in PENDING for name, knob in KNOBS.items())
    # a pending knob names the field the engine adds after its sysctl, and no field of today's Profile
    assert all(KNOBS[name].field == name and name not in names for name in PENDING)
    assert all(field in names for knob in KNOBS.values() for field, _ in knob.also)


@pytest.mark.parametrize(("name", "value", "field", "expected"), [
    ("net.ipv4.tcp_timestamps", "0", "timestamps", False),
    ("net/ipv4/tcp_sack", "0", "sack", False),
    ("/proc/sys/net/ipv4/tcp_reordering", "10", "dupack_threshold", 10),
    ("net.ipv4.tcp_congestion_control", "reno", "congestion_control", "newreno"),
    ("net.ipv4.tcp_wmem", "4096 262144 4194304", "sndbuf", 262144),
    ("net.ipv4.tcp_rmem", "4096 540000 15728640", "rcvbuf", 540000),
    ("net.ipv4.tcp_rmem", "4096 540000 15728640", "window_scale", 8),  # 15728640 >> 8 fits 16 bits
    ("net.ipv4.tcp_rmem", "4096 65535 65535", "window_scale", 0),  # the boundary: fits without a shift
    ("net.ipv4.tcp_rmem", "4096 65536 65536", "window_scale", 1),
    ("net.ipv4.tcp_rmem", f"4096 65536 {2**31 - 1}", "window_scale", 14),  # RFC 7323 §2.3: at most 14
    ("net.ipv4.tcp_min_tso_segs", "10", "tso_min_segs", 10),
])
def test_sysctls_set_profile_fields(name: str, value: str, field: str, expected: object) -> None:
    assert getattr(apply_sysctl(LINUX, name, value), field) == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("net.ipv4.tcp_sack", "2", "sysctl net.ipv4.tcp_sack=2: out of range (Linux takes 0 to 1)"),
    ("net.ipv4.tcp_reordering", "0", "out of range (Linux takes 1 to 300)"),
    ("net.ipv4.tcp_ecn", "x", "sysctl net.ipv4.tcp_ecn='x': not an integer"),
    ("net.ipv4.tcp_rmem", "4096 540000", "needs three numbers"),
    ("net.ipv4.tcp_rmem", "4096 540000 4096", "needs min <= default <= max"),
    ("net.ipv4.tcp_congestion_control", "bbr", "layersim has cubic, reno (not bbr)"),
    ("net.ipv4.tcp_max_orphans", "1", "sysctl net.ipv4.tcp_max_orphans is not modelled"),
    ("net.core.rmem_max", "1", "only net.ipv4.tcp_* sysctls are modelled"),
    ("net.ipv4.tcp_fack", "", "no value given"),
])
def test_bad_sysctls_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SysctlError, match=re.escape(message)):
        apply_sysctl(LINUX, name, value)


def test_no_op_sysctls_change_nothing() -> None:
    assert apply_sysctl(LINUX, "net.ipv4.tcp_fastopen", "0x70403") is LINUX
    assert canonical_name("/proc/sys/net/ipv4/tcp_syncookies") == "tcp_syncookies"


def test_the_interpreter_takes_shell_syntax_defaults_sh_uses(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "inner.sh").write_text("#!/bin/bash\n# comment\nsysctl -q net.ipv4.tcp_sack=0\n")
    (tmp_path / "outer.sh").write_text("common/inner.sh\n")
    text = ("outer.sh\nip tcp_metrics flush all > /dev/null 2>&1\n"
            "sysctl -q net.ipv4.tcp_rmem=\"4096 $((256*1024)) $(( (15*1024)*1024 ))\" ; tc qdisc add dev tun0 root fq\n"
            "sysctl -e -q net.ipv4.tcp_early_retrans=4 \\\n   net.ipv4.tcp_recovery=1   # RACK\n"
            "../common/set_sysctls.py /proc/sys/net/ipv4/tcp_min_tso_segs=10\n/tmp/sysctl_restore_${PPID}.sh\n"
            "echo 1 > /proc/sys/net/ipv4/tcp_ecn\n")
    profile = run_shell(text, LINUX, tmp_path)
    assert (profile.sack, profile.rcvbuf, profile.window_scale, profile.tso_min_segs) == (False, 262144, 8, 10)
    pending = "sysctl -e -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1\necho 1 > /proc/sys/net/ipv4/tcp_ecn\n"
    assert run_shell(pending, _Pending(), tmp_path) == _Pending(tcp_early_retrans=4, tcp_recovery=1, tcp_ecn=1)


@pytest.mark.parametrize(("text", "message"), [
    ("echo 1 > /tmp/x", "shell command 'echo 1' is not interpreted"),
    ("echo 3 > /sys/module/tcp_cubic/parameters/beta", "tcp_cubic parameter beta is not modelled"),
    ("echo 2 > /proc/sys/net/ipv4/tcp_sack", "sysctl net.ipv4.tcp_sack=2: out of range"),
    ("ip route change 192.0.2.1 mtu lock 1500", "shell command 'ip route change 192.0.2.1 mtu lock 1500'"),
    ("ip tcp_metrics show", "only 'ip tcp_metrics flush'"),
    ("tc qdisc replace dev tun0 root pfifo limit 0", r"a qdisc that drops every packet \(local congestion\) is not"),
    ("sysctl net.ipv4.tcp_sack", "reading a sysctl is not interpreted"),
    ("sysctl -p /etc/sysctl.conf", "sysctl option -p is not interpreted"),
    ("sysctl -q net.ipv4.tcp_sack=$(cat x)", "shell command substitution"),
    ("cat x | sysctl -p", "shell pipes and background jobs are not interpreted"),
    ("echo $((1+x))", r"shell arithmetic \$\(\(1\+x\)\)"),
    ("missing.sh", "shell file missing.sh: cannot read"),
    ("loop.sh", "files name each other more than 8 deep"),
    ("bad.sh", "bad.sh: shell command 'ethtool -K tun0 tso off' is not interpreted"),
])
def test_anything_else_is_refused_by_name(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "loop.sh").write_text("loop.sh\n")
    (tmp_path / "bad.sh").write_text("ethtool -K tun0 tso off\n")
    with pytest.raises(LayersimError, match=message) as info:  # ShellRefused, or SysctlError for a bad value
        run_shell(text, LINUX, tmp_path)
    assert isinstance(info.value, ShellRefused | SysctlError)


def test_a_script_refuses_a_sysctl_after_its_first_call_but_runs_later_no_ops() -> None:
    start = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    assert run_script(parse_script(start + "+0 `tc qdisc del dev tun0 root`\n")).passed
    assert run_script(parse_script(start + "+0 `tc qdisc replace dev tun0 root pfifo limit 1000`\n")).passed
    with pytest.raises(UnsupportedScriptError, match=r"t\.pkt:2: a sysctl set after the first packet or call"):
        run_script(parse_script(start + "+0 `sysctl -q net.ipv4.tcp_sack=0`\n", "t.pkt"))
    with pytest.raises(UnsupportedScriptError, match=r"t\.pkt:1: sysctl net\.ipv4\.tcp_sack=3: out of range"):
        run_script(parse_script("`sysctl -q net.ipv4.tcp_sack=3`\n" + start, "t.pkt"), RunConfig())


@dataclass(frozen=True)
class _Bare:
    """A profile-like dataclass without HyStart fields."""

    name: str = "bare"


@dataclass(frozen=True)
class _WithHyStart:
    """A profile-like dataclass with the engine's HyStart fields."""

    hystart_detect: int = 3
    hystart_ack_delta_ns: int = 2_000_000


def test_cubic_parameters_set_the_engines_hystart_fields_once_it_has_them() -> None:
    changed = apply_cubic_parameter(_WithHyStart(), "hystart_detect", "2")  # type: ignore[arg-type]
    assert changed.hystart_detect == 2
    assert apply_cubic_parameter(_WithHyStart(), "hystart_ack_delta_us", "500").hystart_ack_delta_ns == 500_000
    with pytest.raises(SysctlError, match=r"tcp_cubic\.hystart_detect=4: out of range"):
        apply_cubic_parameter(_WithHyStart(), "hystart_detect", "4")  # type: ignore[arg-type]
    assert apply_cubic_parameter(_Bare(), "hystart_detect", "2") == _Bare()  # type: ignore[arg-type]
    with pytest.raises(SysctlError, match=r"tcp_cubic\.hystart_detect=5: out of range"):  # checked all the same
        apply_cubic_parameter(_Bare(), "hystart_detect", "5")  # type: ignore[arg-type]


def _open(options: str) -> str:
    return (options + "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
            "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1000,TS val 1 ecr 0>\n"
            "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 0 ecr 1>\n"
            "+.1 < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 2 ecr 0>\n"
            "+0 accept(3, ..., ...) = 4\n")


def test_packetdrill_options_in_the_script() -> None:
    # --tcp_ts_tick_usecs: our TS clock ticks once per 10 ms, so 1.1 s after the SYN-ACK TS val is 110 ticks on
    text = _open("--tcp_ts_tick_usecs=10000\n") + "+1 close(4) = 0\n+0 > F. 1:1(0) ack 1 <nop,nop,TS val 110 ecr 2>\n"
    assert run_script(parse_script(text)).passed
    wrong = run_script(parse_script(text.replace("TS val 110 ecr 2", "TS val 1100 ecr 2")))
    assert "TS val: expected 1100 (within 2 ticks), got 110" in (wrong.failure.message or "")
    near = run_script(parse_script(text.replace("TS val 110 ecr 2", "TS val 112 ecr 2")))  # the boundary: 2 ticks
    assert near.passed and not run_script(parse_script(text.replace("TS val 110 ecr 2", "TS val 113 ecr 2"))).passed
    assert run_script(parse_script(text.replace("--tcp_ts_tick_usecs=10000\n", "").replace(
        "TS val 110 ecr 2", "TS val 7 ecr 2"))).passed  # without the option packetdrill does not check TS val
    profile = prelude(parse_script(text), LINUX)[0].profile
    assert profile.ts_hz == 100
    # --strict_segments: two sent segments never match one line
    write = "+0 write(4, ..., 2000) = 2000\n+0 > P. 1:2001(2000) ack 1 <...>\n"
    assert run_script(parse_script(_open("") + write)).passed
    strict = run_script(parse_script(_open("--strict_segments\n") + write))
    assert not strict.passed and "payload length: expected 2000, got" in (strict.failure.message or "")
    for option, message in [("--ip_version=ipv4", None),
                            ("--local_ip=192.168.0.1", None),
                            ("--local_ip=10.0.0.1", "--local_ip=10.0.0.1: the harness uses packetdrill's default "
                                                    "192.168.0.1 only"),
                            ("--tcp_ts_tick_usecs=7", "--tcp_ts_tick_usecs=7: a TS clock of 1000000/7 Hz")]:
        script = parse_script(option + "\n" + _open(""), "o.pkt")
        if message is None:
            assert run_script(script).passed
        else:
            with pytest.raises(UnsupportedScriptError, match=re.escape(f"o.pkt:1: {message}")):
                run_script(script)


@dataclass(frozen=True)
class _Pending:
    """A profile-like dataclass with some of the fields the engine work adds."""

    tcp_early_retrans: int = 0
    tcp_recovery: int = 0
    tcp_ecn: int = 0
    tcp_slow_start_after_idle: bool = True


@pytest.mark.parametrize(("name", "value", "field", "expected"), [
    ("net.ipv4.tcp_early_retrans", "4", "tcp_early_retrans", 4),
    ("net.ipv4.tcp_recovery", "1", "tcp_recovery", 1),
    ("net.ipv4.tcp_ecn", "1", "tcp_ecn", 1),
    ("net.ipv4.tcp_slow_start_after_idle", "0", "tcp_slow_start_after_idle", False),
])
def test_pending_knobs_set_the_engines_field_once_it_has_one(name: str, value: str, field: str,
                                                            expected: object) -> None:
    assert getattr(apply_sysctl(_Pending(), name, value), field) == expected  # type: ignore[arg-type]
    if field in PENDING:
        assert apply_sysctl(LINUX, name, value) is LINUX  # the engine has no such field yet: checked, not honoured
    else:
        assert getattr(apply_sysctl(LINUX, name, value), field) == expected  # the engine's knob: honoured
    with pytest.raises(SysctlError, match="out of range"):
        apply_sysctl(LINUX, name, "9")
