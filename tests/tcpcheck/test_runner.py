"""The runner's rules on short scripts: timing windows, blocking calls, results, mapping, merging, extras."""

from __future__ import annotations

import pytest

from layersim.tcpcheck.errors import UnsupportedScriptError
from layersim.tcpcheck.parser import parse_script
from layersim.tcpcheck.report import RunResult, render
from layersim.tcpcheck.runner import RunConfig, run_script

OPEN = """0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1000>
+0 > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
"""


def run(text: str, **config) -> RunResult:
    """Run a script given as text."""
    return run_script(parse_script(text, "t.pkt"), RunConfig(**config))


def failure(text: str, **config) -> tuple[int, str]:
    """(line, message) of a script that must fail."""
    result = run(text, **config)
    assert not result.passed, render(result)
    assert result.failure is not None
    return result.failure.event.line, result.failure.message or ""


def test_open_passes_and_reports_every_line():
    result = run(OPEN)
    assert result.passed
    assert [line.event.line for line in result.lines] == list(range(1, 8))
    assert result.lines[-1].time_ns == 10_000_000


def test_segment_sent_early():
    line, message = failure(OPEN + "+0 write(4, ..., 10) = 10\n+.5 > P. 1:11(10) ack 1\n")
    assert line == 9
    assert "segment sent early: at 0.010000, expected no sooner than 0.447500" in message


@pytest.mark.parametrize(("window", "passes"), [("0.2~0.3", True), ("0.215~0.3", True), ("0.1~0.15", False),
                                                ("0.26~0.3", False), ("+0.2~+0.3", True)])
def test_time_ranges(window, passes):
    # Data sent at 0.01 is retransmitted at 0.22 (RTO 210 ms after a 10 ms RTT sample).
    text = OPEN + f"+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n{window} > P. 1:11(10) ack 1\n"
    assert run(text).passed is passes


def test_any_time_waits_for_the_segment():
    assert run(OPEN + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n* > P. 1:11(10) ack 1\n").passed


def test_tolerance_is_relative_to_the_gap():
    late = OPEN + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n+.15 > P. 1:11(10) ack 1\n"
    line, message = failure(late)
    assert (line, message) == (10, "segment sent late: at 0.220000, expected by 0.178750")
    assert run("--tolerance_usecs=60000\n" + late).passed
    assert run("--tolerance_percent=40\n" + late).passed
    assert run(late, tolerance_ns=60_000_000).passed
    assert run(OPEN + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n+.19 > P. 1:11(10) ack 1\n").passed


def test_blocking_call_must_return_at_its_end_time():
    text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n" \
           "+0...{end} accept(3, ..., ...) = 4\n+0 < S 0:0(0) win 65535 <mss 1000>\n+0 > S. 0:0(0) ack 1 <...>\n" \
           "+.1 < . 1:1(0) ack 1 win 65535\n"
    assert run(text.format(end="0.1")).passed
    line, message = failure(text.format(end="0.5"))
    assert line == 4
    assert message == "call returned at 0.100000, expected at 0.500000 (allowed 0.437500 to 0.562500)"


def test_call_that_blocks_without_an_end_time_fails():
    line, message = failure("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                            "+0 listen(3, 1) = 0\n+0 accept(3, ..., ...) = 4\n+1 < S 0:0(0) win 100\n")
    assert line == 4
    assert message == "call did not return by 0.004000 (it blocks: write START...END if the script means it to)"


def test_call_expected_to_block_that_returns_at_once():
    line, message = failure(OPEN + "+0...1 write(4, ..., 10) = 10\n")
    assert (line, message) == (8, "call returned at once, expected it to block until 1.010000")


def test_wrong_results_are_named():
    assert failure(OPEN + "+0 read(4, ..., 10) = 10\n")[1].startswith("call did not return")
    assert failure(OPEN + "+0 fcntl(4, F_SETFL, O_NONBLOCK) = 0\n+0 read(4, ..., 10) = 10\n") == (
        9, "read() returned -1 EAGAIN")
    assert failure(OPEN + "+0 write(4, ..., 10) = -1 EPIPE\n") == (8, "write() returned 10")
    assert failure(OPEN + "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n") == (
        8, "SO_ERROR value: expected ECONNRESET, got 0")
    assert failure(OPEN + "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = -1 EMFILE\n") == (8, "socket() returned 5")


def test_script_descriptors_name_live_ones():
    # packetdrill maps the numbers a script gives socket() and accept() onto the live ones
    text = OPEN.replace("accept(3, ..., ...) = 4", "accept(3, ..., ...) = 9") + "+0 write(9, ..., 10) = 10\n"
    assert run(text + "+0 > P. 1:11(10) ack 1\n").passed
    assert failure(text.replace("write(9", "write(8")) == (8, "write() returned -1 EBADF")


def test_merged_segments_must_add_up():
    text = OPEN + "+0 write(4, ..., 2000) = 2000\n+0 > P. 1:2501(2500) ack 1\n"
    line, message = failure(text)
    assert line == 9
    assert "payload length: expected 2500, got 2000" in message
    assert run(OPEN + "+0 write(4, ..., 2000) = 2000\n+0 > P. 1:2001(2000) ack 1\n").passed


def test_extra_segment_at_the_end_of_the_script():
    result = run(OPEN + "+0 write(4, ..., 10) = 10\n")
    assert not result.passed
    assert result.failure.event.text == "(end of script)"
    assert result.failure.event.line == 9
    assert result.failure.actual == "> P. 1:11(10) ack 1 win 64240"


def test_ts_ecr_with_no_outbound_ts_fails_the_line():
    line, message = failure(OPEN + "+0 < . 1:1(0) ack 1 win 100 <nop,nop,TS val 1 ecr 5>\n")
    assert (line, message) == (8, "cannot map TS ecr 5: no outbound TS val was matched before it")


@pytest.mark.parametrize("remote_isn", [0, 12345, 2**32 - 1])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numbers_are_relative_whatever_the_isns(remote_isn, seed):
    text = OPEN + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n+0 < P. 1:6(5) ack 11 win 65535 " \
                  "<sack 1:11>\n*  > . 11:11(0) ack 6\n"
    assert run(text, remote_isn=remote_isn, seed=seed).passed


def test_options_loose_compares_a_set():
    text = OPEN.replace("> S. 0:0(0) ack 1 <...>", "> S. 0:0(0) ack 1 <nop,mss 1460>")
    assert not run(text).passed
    assert run(text, options="loose").passed


def test_unsupported_lines_stop_the_run_before_it_starts():
    with pytest.raises(UnsupportedScriptError) as info:
        run("0 `true`\n+0 setsockopt(3, SOL_SOCKET, SO_BROADCAST, [1], 4) = 0\n"
            "+0 fcntl(3, F_DUPFD, 0) = 4\n")
    assert info.value.problems == [(1, "shell command 'true' is not interpreted (layersim runs sysctl, shell "
                                       "files, 'ip tcp_metrics flush' and 'tc qdisc')"),
                                   (2, "socket option SO_BROADCAST is not supported (SO_REUSEADDR, SO_ERROR, "
                                       "SO_LINGER, SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF, TCP_NODELAY, TCP_MAXSEG, "
                                       "TCP_CORK, TCP_USER_TIMEOUT, TCP_INFO, TCP_CONGESTION, IP_TOS, IP_TTL, "
                                       "IP_MTU_DISCOVER)"),
                                   (3, "unknown constant F_DUPFD")]
    with pytest.raises(UnsupportedScriptError, match="profile 'bsd'"):
        run(OPEN, profile="bsd")


def test_render_shows_failure_with_expected_and_actual():
    result = run(OPEN + "+0 write(4, ..., 10) = 10\n+0 > F. 1:11(10) ack 1\n")
    text = render(result)
    assert "FAIL t.pkt:9: +0 > F. 1:11(10) ack 1 @0.010000" in text
    assert "     flags: expected F., got P." in text
    assert "     expected: > F. 1:11(10) ack 1" in text
    assert "     actual:   > P. 1:11(10) ack 1 win 64240" in text
    assert text.endswith("FAIL t.pkt (profile linux): 8 lines passed, failed at line 9")
    assert "ok   t.pkt:1:" not in text
    assert "ok   t.pkt:1: 0 socket" in render(result, verbose=True)


def test_a_tcp_that_raises_fails_the_line_instead_of_crashing(monkeypatch):
    from layersim.tcp import Connection

    def broken(self, tcp, payload, now):
        raise RuntimeError("boom")

    monkeypatch.setattr(Connection, "receive", broken)
    line, message = failure(OPEN)
    assert (line, message) == (6, "layersim.tcp raised RuntimeError: boom")


def test_extras_strict_or_as_packetdrill_treats_them():
    # the data is ACKed at once (quick-ACK mode); the script does not say so before its next line
    text = OPEN + "+.01 < P. 1:101(100) ack 1 win 65535\n+0 read(4, ..., 1000) = 100\n"
    assert failure(text) == (9, "unexpected extra segment sent at 0.020000 (the script expects none before this line)")
    assert run(text, extras="packetdrill").passed  # packetdrill compares sent segments only at a `>` line
    # ... where a stray one is the segment the line is compared with
    later = text + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 101\n"
    line, message = failure(later, extras="packetdrill")
    assert line == 11 and "flags: expected P., got ." in message and "payload length: expected 10, got 0" in message
    assert run(later.replace("+0 > P. 1:11(10)", "+0 > . 1:1(0) ack 101\n+0 > P. 1:11(10)"),
               extras="packetdrill").passed
    with pytest.raises(UnsupportedScriptError, match="extras 'loose'"):
        run(OPEN, extras="loose")
