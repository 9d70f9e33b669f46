"""The packetdrill-format parser: every construct, and every error naming file:line:column."""

from __future__ import annotations

import pytest

from layersim.errors import LayersimError
from layersim.tcpcheck.errors import ScriptParseError
from layersim.tcpcheck.model import Array, Call, Field, Flags, SegmentSpec, Symbol, Syscall, TimeKind, Unsupported
from layersim.tcpcheck.parser import parse_file, parse_script
from layersim.wire.tcp import TCPFlags
from layersim.wire.tcp_options import EOL, MSS, NOP, SACK, SACKPermitted, Timestamps, WindowScale


def one(line: str):
    """The single event of a one-line script."""
    script = parse_script(line + "\n", "t.pkt")
    assert len(script.events) == 1
    return script.events[0]


def error(text: str) -> ScriptParseError:
    """The parse error a script raises."""
    with pytest.raises(ScriptParseError) as info:
        parse_script(text, "bad.pkt")
    assert isinstance(info.value, LayersimError)
    return info.value


@pytest.mark.parametrize(("text", "kind", "ns", "end", "block"), [
    ("0 close(3) = 0", TimeKind.ABSOLUTE, 0, None, None),
    ("1.25 close(3) = 0", TimeKind.ABSOLUTE, 1_250_000_000, None, None),
    ("+.1 close(3) = 0", TimeKind.RELATIVE, 100_000_000, None, None),
    ("+0.000001 close(3) = 0", TimeKind.RELATIVE, 1_000, None, None),
    ("+2. close(3) = 0", TimeKind.RELATIVE, 2_000_000_000, None, None),
    ("* > . 1:1(0) ack 1", TimeKind.ANY, 0, None, None),
    ("0.1~0.25 > . 1:1(0) ack 1", TimeKind.ABSOLUTE, 100_000_000, 250_000_000, None),
    ("+1~+1.5 > . 1:1(0) ack 1", TimeKind.RELATIVE, 1_000_000_000, 1_500_000_000, None),
    ("+0...0.2 read(4, ..., 10) = 10", TimeKind.RELATIVE, 0, None, 200_000_000),
    ("0.1...0.300 accept(3, ..., ...) = 4", TimeKind.ABSOLUTE, 100_000_000, None, 300_000_000),
])
def test_time_specs(text, kind, ns, end, block):
    time = one(text).time
    assert (time.kind, time.ns, time.end_ns, time.block_ns) == (kind, ns, end, block)


@pytest.mark.parametrize(("flags", "expected"), [
    ("S", TCPFlags.SYN), ("S.", TCPFlags.SYN | TCPFlags.ACK), (".", TCPFlags.ACK),
    ("P.", TCPFlags.PSH | TCPFlags.ACK), ("F.", TCPFlags.FIN | TCPFlags.ACK),
    ("FP.", TCPFlags.FIN | TCPFlags.PSH | TCPFlags.ACK), ("R", TCPFlags.RST), ("R.", TCPFlags.RST | TCPFlags.ACK),
    ("-", TCPFlags(0)), ("SEW", TCPFlags.SYN | TCPFlags.ECE | TCPFlags.CWR), ("U.", TCPFlags.URG | TCPFlags.ACK),
])
def test_flags(flags, expected):
    assert one(f"0 < {flags} 0:0(0) win 100").action.flags == expected


def test_inbound_segment_fields():
    seg = one("+0 < P. 1:1001(1000) ack 501 win 257").action
    assert seg == SegmentSpec(True, TCPFlags.PSH | TCPFlags.ACK, 1, 1000, 501, 257, ())


def test_outbound_segment_without_ack_or_window():
    seg = one("+0 > S 0:0(0) <mss 1460>").action
    assert (seg.inbound, seg.ack, seg.window, seg.options) == (False, None, None, (MSS(1460),))


def test_sequence_numbers_wrap():
    seg = one("0 < . 4294967295:9(10) ack 1 win 5").action
    assert (seg.seq, seg.length) == (2**32 - 1, 10)


def test_every_option():
    seg = one("0 > S. 0:0(0) ack 1 <mss 536,sackOK,TS val 7 ecr 4294967295,nop,wscale 14,eol>").action
    assert seg.options == (MSS(536), SACKPermitted(), Timestamps(7, 2**32 - 1), NOP(), WindowScale(14), EOL())
    sack = one("0 > . 1:1(0) ack 1 <nop,nop,sack 1001:2001 3001:4001 5001:6001>").action
    assert sack.options == (NOP(), NOP(), SACK(((1001, 2001), (3001, 4001), (5001, 6001))))


def test_any_options():
    assert one("0 > S. 0:0(0) ack 1 <...>").action.options is None


def test_syscalls_and_arguments():
    call = one("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0").action
    assert call == Syscall("setsockopt", (3, Symbol("SOL_SOCKET"), Symbol("SO_LINGER"),
                                          Array((Field("onoff", 1), Field("linger", 0)), braces=True), 8), 0, None)
    fcntl = one("0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0").action
    assert fcntl.args[2] == Flags((Symbol("O_RDWR"), Symbol("O_NONBLOCK")))
    conn = one("0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)").action
    assert (conn.args, conn.result, conn.errno) == ((3, ..., ...), -1, "EINPROGRESS")
    get = one("0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0").action
    assert get.args[3:] == (Array((Symbol("ECONNREFUSED"),)), Array((4,)))
    bind = one('0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0')
    assert bind.action.args[1].items[1] == Field("sin_port", Call("htons", (8080,)))
    assert bind.action.args[1].items[2] == Field("sin_addr", Call("inet_addr", ("192.0.2.1",)))
    assert one("0 write(4, ..., 0x10) = ...").action.args[2] == 16
    assert one("0 write(4, ..., 16) = ...").action.result is None
    assert one("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3").action.args[0] is ...


def test_call_split_over_lines():
    script = parse_script("0 setsockopt(3, SOL_SOCKET,\n   SO_REUSEADDR, [1], 4) = 0\n+0 close(3) = 0\n")
    assert [e.line for e in script.events] == [1, 3]


def test_comments():
    script = parse_script("// a comment\n0 close(3) = 0 // trailing\n/* block\n still */ +0 close(4) = 0 /* x */\n"
                          '+0 bind(3, inet_addr("a//b"), 4) = 0\n')
    assert [e.line for e in script.events] == [2, 4, 5]
    assert script.events[1].column == 11
    assert script.events[2].action.args[1] == Call("inet_addr", ("a//b",))


def test_unsupported_lines_named_with_line_numbers():
    text = ("`sysctl -q net.ipv4.tcp_sack=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
            "+0 `echo hi`\n--ip_version=ipv4\n+0 %{\nprint(tcpi_rto)\n}%\n+0 poll([{fd=3}], 1, 0) = 1\n"
            "+0 < udp (100)\n+0 < [ect0] . 1:1(0) ack 1 win 10\n+0 < . 1:1(0) ack 1 win 10 urg 3\n")
    script = parse_script(text, "u.pkt")
    assert script.unsupported() == [(9, "udp packets (only TCP segments are supported)"),
                                    (11, "urgent pointer (urg)")]
    assert [type(e.action).__name__ for e in script.events[:5]] == ["Shell", "Syscall", "Shell", "CodeBlock",
                                                                   "Syscall"]
    assert script.events[0].action.command == "sysctl -q net.ipv4.tcp_sack=0"
    assert script.events[3].action.source.strip() == "print(tcpi_rto)"
    assert script.events[6].action.ip.ecn == 2
    assert ("ip_version", "ipv4", 4) in script.settings
    assert not isinstance(script.events[1].action, Unsupported)


def test_tolerance_settings_are_honoured_not_unsupported():
    script = parse_script("--tolerance_usecs=10000\n--tolerance_percent=5\n0 close(3) = 0\n")
    assert script.settings == (("tolerance_usecs", "10000", 1), ("tolerance_percent", "5", 2))
    assert script.unsupported() == []


@pytest.mark.parametrize(("text", "where", "message"), [
    ("0 < X 0:0(0) win 1\n", "bad.pkt:1:5", "unknown TCP flag 'X'"),
    ("0 < SX 0:0(0) win 1\n", "bad.pkt:1:6", "unknown TCP flag 'X'"),
    ("\n\n  +0 < S 0:10(0) win 1\n", "bad.pkt:3:12", "inconsistent sequence numbers"),
    ("0 < S 0:0 win 1\n", "bad.pkt:1:11", "expected '(' in seq:end(length)"),
    ("0 < S 4294967296:0(0) win 1\n", "bad.pkt:1:7", "out of range"),
    ("0 < S 0:0(0) win 65536\n", "bad.pkt:1:18", "window 65536 is out of range"),
    ("0 < S 0:0(0) win 1 <mss 70000>\n", "bad.pkt:1:25", "mss value 70000 is out of range"),
    ("0 < S 0:0(0) win 1 <mss 1,wat>\n", "bad.pkt:1:27", "unsupported TCP option 'wat'"),
    ("0 < S 0:0(0) win 1 <TS val 1>\n", "bad.pkt:1:29", "expected 'ecr' after the TS val"),
    ("0 < S 0:0(0) win 1 <sack>\n", "bad.pkt:1:25", "expected SACK blocks"),
    ("0 < S 0:0(0) win 1 <mss 1 nop>\n", "bad.pkt:1:27", "expected ',' or '>' in the option list"),
    ("0 < . 1:1(0) ack 1 win 1 <...>\n", "bad.pkt:1:27", "<...> (any options) can only be used on outbound"),
    ("0 > . 1:1(0) ack 1 <sack 1:2 3:4 5:6 7:8 9:10>\n", "bad.pkt:1:21", "5 SACK blocks do not fit"),
    ("0 > S 0:0(0) <mss 1,TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2>\n", "bad.pkt:1:14",
     "exceed the 40-byte maximum"),
    ("0 > . 1:1(0) ack 1 extra\n", "bad.pkt:1:20", "unexpected 'extra' at the end of the line"),
    ("* < . 1:1(0) ack 1 win 1\n", "bad.pkt:1:1", "time * can only be used on outbound"),
    ("* close(3) = 0\n", "bad.pkt:1:1", "time * can only be used on outbound"),
    ("0.1~0.2 close(3) = 0\n", "bad.pkt:1:1", "a time range (~) can only be used on outbound"),
    ("0.2~0.1 > . 1:1(0)\n", "bad.pkt:1:4", "time range is backwards"),
    ("+1~2 > . 1:1(0)\n", "bad.pkt:1:4", "must end with + too"),
    ("1~+2 > . 1:1(0)\n", "bad.pkt:1:3", "an absolute range must end with an absolute time"),
    ("0...1 > . 1:1(0)\n", "bad.pkt:1:1", "START...END can only be used on system calls"),
    ("1...0.5 read(3, ..., 1) = 1\n", "bad.pkt:1:2", "blocking call ends before it starts"),
    ("0.1234567891 close(3) = 0\n", "bad.pkt:1:1", "more than 9 decimals"),
    ("x close(3) = 0\n", "bad.pkt:1:1", "expected a time in seconds"),
    ("0 close 3\n", "bad.pkt:1:3", "expected '<', '>' or a system call after the time"),
    ("0 close(3 = 0\n", "bad.pkt:1:11", "expected ',' or ')'"),
    ("0 close(3) 0\n", "bad.pkt:1:12", "expected '= result'"),
    ("0 close(3) = 0 ENOENT\n", "bad.pkt:1:1", "an errno (ENOENT) goes with the result -1"),
    ("0 close(3) = -1 oops\n", "bad.pkt:1:17", "expected an errno name"),
    ("0 close(3) = -1 EBADF (Bad file\n", "bad.pkt:1:32", "')' closing the note"),
    ("0 write(3, #, 1) = 1\n", "bad.pkt:1:12", "unexpected character '#'"),
    ('0 bind(3, "abc, 1) = 1\n', "bad.pkt:1:11", "string is never closed"),
    ("0 `ls\n", "bad.pkt:1:3", "command is never closed"),
    ("0 close(3) = 0\n/* never closed\n", "bad.pkt:2:1", "comment /* is never closed"),
    ("--tolerance_usecs=abc\n", "bad.pkt:1:1", "--tolerance_usecs needs a number"),
    ("0 < 0:0(0) win 1\n", "bad.pkt:1:5", "expected TCP flags"),
])
def test_errors_name_file_line_column(text, where, message):
    exc = error(text)
    assert str(exc).startswith(where + ": "), str(exc)
    assert message in str(exc)


def test_parse_file_reads_and_names_the_file(tmp_path):
    path = tmp_path / "x.pkt"
    path.write_text("0 close(3) = 0\n+0 > F 1:1(\n")
    with pytest.raises(ScriptParseError, match=r"x\.pkt:2:12: "):
        parse_file(path)
    with pytest.raises(ScriptParseError, match="cannot read"):
        parse_file(tmp_path / "missing.pkt")
