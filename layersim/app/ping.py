"""ping, run as a simulated process the way iputils ping behaves."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.errors import LayersimError
from layersim.net.host.datagram_sockets import EchoReply, IcmpReport
from layersim.net.trace.details import EventKind

if TYPE_CHECKING:
    from layersim.net.host.host import Host

__all__ = ["PingResult", "error_text", "ping"]


@dataclass(slots=True)
class PingResult:
    """Round-trip times per request (numbered from 1; None when no reply came) and the errors reported instead.

    The request number is the ICMP sequence number until it wraps at 65536, as iputils' does."""

    destination: IPv4Address
    sent: int = 0
    rtts_ns: dict[int, int | None] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    ttls: dict[int, int] = field(default_factory=dict)  # TTL of each reply as received
    size: int = 56
    identifier: int = 0
    elapsed_ns: int = 0  # from the first request to the last, iputils' "time"

    @property
    def received(self) -> int:
        """How many echo replies came back."""
        return sum(rtt is not None for rtt in self.rtts_ns.values())

    @property
    def rtts_ms(self) -> list[float]:
        """Round-trip times of the replies, in milliseconds."""
        return [rtt / 1e6 for rtt in self.rtts_ns.values() if rtt is not None]

    @property
    def error_count(self) -> int:
        """How many requests got an error (an ICMP error, or a local one) instead of a reply."""
        return sum(1 for n in self.errors if self.rtts_ns.get(n) is None)

    def __str__(self) -> str:
        """What iputils ping prints."""
        lines = [f"PING {self.destination} ({self.destination}) {self.size}({self.size + 28}) bytes of data."]
        for number, rtt in self.rtts_ns.items():
            seq = number & 0xFFFF
            if rtt is not None:
                lines.append(f"{self.size + 8} bytes from {self.destination}: icmp_seq={seq} "
                             f"ttl={self.ttls.get(number, 0)} time={_ms(rtt)} ms")
            elif number in self.errors:
                error = self.errors[number]
                if error.startswith("From "):
                    source, _, text = error[5:].partition(" ")
                    lines.append(f"From {source} icmp_seq={seq} {text}")
                else:
                    lines.append(f"ping: {error}")
        loss = 100 * (self.sent - self.received) / self.sent if self.sent else 0
        errors = f"+{self.error_count} errors, " if self.error_count else ""
        lines += ["", f"--- {self.destination} ping statistics ---",
                  f"{self.sent} packets transmitted, {self.received} received, {errors}{loss:g}% packet loss, "
                  f"time {self.elapsed_ns // 1_000_000}ms"]
        if self.rtts_ms:
            r = self.rtts_ms
            mean = sum(r) / len(r)
            mdev = max(0.0, sum(x * x for x in r) / len(r) - mean * mean) ** 0.5
            lines.append(f"rtt min/avg/max/mdev = {min(r):.3f}/{mean:.3f}/{max(r):.3f}/{mdev:.3f} ms")
        return "\n".join(lines)


def _ms(ns: int) -> str:
    """iputils' RTT precision: three decimals under 100 ms, fewer above."""
    ms = ns / 1e6
    return f"{ms:.3f}" if ms < 100 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


_ERROR_TEXT = {(3, 0): "Destination Net Unreachable", (3, 1): "Destination Host Unreachable",
               (3, 3): "Destination Port Unreachable", (3, 4): "Frag needed and DF set",
               (11, 0): "Time to live exceeded"}


def error_text(icmp_type: int, code: int, mtu: int | None = None) -> str:
    """What iputils ping prints for an ICMP error."""
    text = _ERROR_TEXT.get((icmp_type, code), f"ICMP type {icmp_type} code {code}")
    return f"{text} (mtu = {mtu})" if (icmp_type, code) == (3, 4) else text


MAX_COUNT = 10_000_000  # what a run can hold; sequence numbers wrap at 65536 as iputils' do


def ping(host: Host, dst: IPv4Address | str, count: int = 3, *, interval_ns: int = 1_000_000_000,
         timeout_ns: int = 1_000_000_000, size: int = 56, ttl: int = 64, pmtu: str = "want") -> PingResult:
    """Ping `dst` from `host` like iputils ping: `count` echo requests `interval_ns` apart, replies collected until
    the last one's timeout. In a process it blocks; from outside one it runs the network until ping is done.
    `pmtu` is ping's -M: "want", "do" or "dont"."""
    return host.run_program(_ping, host, IPv4Address(dst), count=count, interval_ns=interval_ns,
                            timeout_ns=timeout_ns, size=size, ttl=ttl, pmtu=pmtu)


def _ping(host: Host, dst: IPv4Address, *, count: int, interval_ns: int, timeout_ns: int, size: int, ttl: int,
          pmtu: str) -> PingResult:
    """ping's process."""
    if not 1 <= count <= MAX_COUNT or not 16 <= size <= 65507:
        raise LayersimError(f"ping: count {count} must be 1 to {MAX_COUNT} and size {size} 16 to 65507 "
                            "(the timestamp needs 16 bytes; an IPv4 datagram holds 65507)")
    clock = host.clock
    sock = host.ping_socket()
    sock.ttl = ttl
    sock.set_pmtu(pmtu)
    result = PingResult(dst, size=size, identifier=sock.identifier)
    sent_at: dict[int, tuple[int, int]] = {}  # sequence number -> (request number, time) of its latest request
    start = clock.now
    end = start + (count - 1) * interval_ns + timeout_ns
    sent = 0
    last_send = start
    try:
        while True:
            now = clock.now
            if sent < count and now >= start + sent * interval_ns:
                sent += 1
                seq = sent & 0xFFFF
                stamp = struct.pack("<QQ", now // 1_000_000_000, now % 1_000_000_000 // 1000)  # struct timeval
                data = stamp + bytes((16 + i) & 0xFF for i in range(size - 16))
                sent_at[seq] = (sent, now)
                last_send = now
                result.sent += 1
                result.rtts_ns[sent] = None
                try:
                    sock.send_echo(dst, seq, data)
                except OSError as exc:
                    result.errors[sent] = f"local error: {exc.strerror}"
                continue
            until = start + sent * interval_ns if sent < count else end
            if now >= until or (sent == count and all(rtt is not None or n in result.errors
                                                         for n, rtt in result.rtts_ns.items())):
                break  # iputils ends as soon as every request has its reply or error
            item = sock.receive(until - now)
            if isinstance(item, EchoReply) and item.sequence in sent_at:
                number, at = sent_at[item.sequence]
                if result.rtts_ns.get(number) is None:
                    result.rtts_ns[number] = item.time_ns - at
                    result.ttls[number] = item.ttl
                    host.event(EventKind.APP, None, None, None,
                               ("ping", (("seq", item.sequence), ("rtt_ms", round((item.time_ns - at) / 1e6, 3)))))
            elif isinstance(item, IcmpReport) and item.sequence in sent_at:
                number = sent_at[item.sequence][0]
                result.errors[number] = f"From {item.offender} {error_text(item.type, item.code, item.mtu)}"
    finally:
        sock.close()
    result.elapsed_ns = last_send - start  # iputils' "time": from the first request to the last
    return result
