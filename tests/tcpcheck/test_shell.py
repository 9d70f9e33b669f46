"""The shell-line interpreter and the sysctl knobs: what a script's back-quoted lines may hold."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from layersim.tcp import PROFILES
from layersim.tcp.profile import LINUX
from layersim.tcpcheck import RunConfig, UnsupportedScriptError, parse_script, run_script
from layersim.tcpcheck.shell import ShellRefused, run_shell
from layersim.tcpcheck.sysctls import KNOBS, NO_OPS, SysctlError, apply_sysctl, canonical_name

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
    assert all(knob.field in names for knob in KNOBS.values())
    assert all(field in names for knob in KNOBS.values() for field, _ in knob.also)


def test_the_new_knobs_default_to_what_the_engine_does_today() -> None:
    # a profile nobody set a sysctl on behaves as before: RACK, TLP, D-SACK, F-RTO, ECN and SSAI off
    for profile in PROFILES.values():
        assert (profile.rack, profile.tlp, profile.dsack, profile.frto, profile.ecn,
                profile.slow_start_after_idle) == (False, False, False, 0, 0, False)


@pytest.mark.parametrize(("name", "value", "field", "expected"), [
    ("net.ipv4.tcp_timestamps", "0", "timestamps", False),
    ("net/ipv4/tcp_sack", "0", "sack", False),
    ("/proc/sys/net/ipv4/tcp_reordering", "10", "dupack_threshold", 10),
    ("net.ipv4.tcp_congestion_control", "reno", "congestion_control", "newreno"),
    ("net.ipv4.tcp_early_retrans", "4", "tlp", True),
    ("net.ipv4.tcp_early_retrans", "2", "tlp", False),
    ("net.ipv4.tcp_recovery", "1", "rack", True),
    ("net.ipv4.tcp_recovery", "4", "rack", False),
    ("net.ipv4.tcp_wmem", "4096 262144 4194304", "sndbuf", 262144),
    ("net.ipv4.tcp_rmem", "4096 540000 15728640", "rcvbuf", 540000),
    ("net.ipv4.tcp_rmem", "4096 540000 15728640", "window_scale", 8),  # 15728640 >> 8 fits 16 bits
    ("net.ipv4.tcp_rmem", "4096 65535 65535", "window_scale", 0),  # the boundary: fits without a shift
    ("net.ipv4.tcp_rmem", "4096 65536 65536", "window_scale", 1),
    ("net.ipv4.tcp_rmem", f"4096 65536 {2**31 - 1}", "window_scale", 14),  # RFC 7323 §2.3: at most 14
    ("net.ipv4.tcp_ecn", "2", "ecn", 2),
    ("net.ipv4.tcp_min_tso_segs", "10", "tso_min_segs", 10),
    ("net.ipv4.tcp_notsent_lowat", "4294967295", "notsent_lowat", 2**32 - 1),
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
            "../common/set_sysctls.py /proc/sys/net/ipv4/tcp_min_tso_segs=10\n/tmp/sysctl_restore_${PPID}.sh\n")
    profile = run_shell(text, LINUX, tmp_path)
    assert (profile.sack, profile.rcvbuf, profile.window_scale, profile.tlp, profile.rack, profile.tso_min_segs) == \
        (False, 262144, 8, True, True, 10)


@pytest.mark.parametrize(("text", "message"), [
    ("echo 1 > /proc/sys/net/ipv4/tcp_sack", "shell command 'echo 1' is not interpreted"),
    ("ip route change 192.0.2.1 mtu lock 1500", "shell command 'ip route change 192.0.2.1 mtu lock 1500'"),
    ("ip tcp_metrics show", "only 'ip tcp_metrics flush'"),
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
    with pytest.raises(ShellRefused, match=message):
        run_shell(text, LINUX, tmp_path)


def test_a_script_refuses_a_sysctl_after_its_first_call_but_runs_later_no_ops() -> None:
    start = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    assert run_script(parse_script(start + "+0 `tc qdisc del dev tun0 root`\n")).passed
    with pytest.raises(UnsupportedScriptError, match=r"t\.pkt:2: a sysctl set after the first packet or call"):
        run_script(parse_script(start + "+0 `sysctl -q net.ipv4.tcp_sack=0`\n", "t.pkt"))
    with pytest.raises(UnsupportedScriptError, match=r"t\.pkt:1: sysctl net\.ipv4\.tcp_sack=3: out of range"):
        run_script(parse_script("`sysctl -q net.ipv4.tcp_sack=3`\n" + start, "t.pkt"), RunConfig())
