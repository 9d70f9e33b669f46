"""`%{ }%` blocks: Python with TCP_INFO values, in a namespace that reaches nothing else; features refused."""

from __future__ import annotations

import pytest

from layersim.tcpcheck import UnsupportedScriptError, parse_script
from layersim.tcpcheck.codeblock import CodeBlockError, check_code, run_code
from layersim.tcpcheck.features import FEATURES

INFO = {"tcpi_snd_cwnd": 10, "tcpi_ca_state": 3}


def test_a_block_sees_the_values_and_linux_names() -> None:
    printed: list[str] = []
    source = "\nprint(tcpi_snd_cwnd, 'segments')\nassert tcpi_ca_state == TCP_CA_Recovery\n" \
             "def half(x):\n    return x // 2\nassert half(tcpi_snd_cwnd) == 5\n"
    assert run_code(source, INFO, printed) is None
    assert printed == ["10 segments"]


@pytest.mark.parametrize(("source", "message"), [
    ("assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd",
     "code block assertion failed: assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd (value: 10)"),
    ("x = 1\nassert tcpi_snd_cwnd < x", "code block assertion failed: assert tcpi_snd_cwnd < x"),
    ("assert tcpi_lost == 0", "code block reads tcpi_lost, which layersim's TCP_INFO does not provide (yet)"),
    ("assert lost == 0", "code block raised NameError: name 'lost' is not defined"),
    ("open('/etc/passwd')", "code block raised NameError: name 'open' is not defined"),
    ("for i in range(10**7): pass", "code block raised ValueError: range of 10000000 items"),
])
def test_a_failing_block_says_why(source: str, message: str) -> None:
    assert run_code(source, INFO, []).startswith(message)


@pytest.mark.parametrize(("source", "message"), [
    ("import os", "import, global and nonlocal are not allowed"),
    ("().__class__", "attribute __class__ is not allowed"),
    ("__builtins__", "name __builtins__ is not allowed"),
    ("while True: pass", "while loops, async code and generators are not allowed"),
    ("assert (", "code block does not parse"),
])
def test_forbidden_blocks_are_refused_before_the_run(source: str, message: str) -> None:
    assert message in (check_code(source) or "")
    with pytest.raises(CodeBlockError, match="code block"):
        run_code(source, INFO, [])
    with pytest.raises(UnsupportedScriptError, match=f"s.pkt:2: code block.*{message.split()[-1]}"):
        from layersim.tcpcheck import run_script

        run_script(parse_script(f"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{{ {source} }}%\n", "s.pkt"))


@pytest.mark.parametrize(("line", "feature"), [
    ("+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0", "TCP Fast Open (TCP_FASTOPEN)"),
    ("+0 sendto(3, ..., 1000, MSG_FASTOPEN, ..., ...) = 1000", "TCP Fast Open (MSG_FASTOPEN)"),
    ("+0 < S 0:0(0) win 1000 <mss 1460,FO abcd1234>", "TCP Fast Open (FO)"),
    ("+0 send(3, ..., 1000, MSG_ZEROCOPY) = 1000", "zerocopy (MSG_ZEROCOPY)"),
    ("+0 epoll_create(1) = 4", "epoll (epoll_create)"),
    ("+0 setsockopt(3, SOL_SOCKET, SO_TIMESTAMPING, [1], 4) = 0", "SO_TIMESTAMPING (SO_TIMESTAMPING)"),
    ("+0 setsockopt(3, SOL_TCP, TCP_MD5SIG, [1], 4) = 0", "TCP MD5 signatures (RFC 2385) (TCP_MD5SIG)"),
    ("--ip_version=ipv6", "IPv6 (--ip_version=ipv6)"),
])
def test_scripts_needing_what_layersim_does_not_model_are_refused_in_one_line(line: str, feature: str) -> None:
    text = f"// TCP_FASTOPEN in a comment is not a use\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n{line}\n"
    with pytest.raises(UnsupportedScriptError) as info:
        parse_script(text, "f.pkt")
    assert info.value.problems == [(3, f"needs {feature}, which layersim does not model")]
    assert str(info.value).count("\n") == 0
    assert feature.rsplit(" (", 1)[0] in FEATURES
