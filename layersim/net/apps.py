"""ping and traceroute, run on a simulated host the way iputils ping and Linux traceroute behave."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.errors import LayersimError
from layersim.net.interface import Interface
from layersim.net.trace import EventKind
from layersim.wire.icmp import ICMP
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet
from layersim.wire.udp import UDP

if TYPE_CHECKING:
    from layersim.net.host import Host

__all__ = ["PingResult", "TracerouteHop", "TracerouteResult", "ping", "traceroute"]


@dataclass(slots=True)
class PingResult:
    """Round-trip times per sequence number (None when no reply came) and the errors reported instead."""

    destination: IPv4Address
    sent: int = 0
    rtts_ns: dict[int, int | None] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    ttls: dict[int, int] = field(default_factory=dict)  # TTL of each reply as received
    size: int = 56
    identifier: int = 0

    @property
    def received(self) -> int:
        """How many echo replies came back."""
        return sum(rtt is not None for rtt in self.rtts_ns.values())

    @property
    def rtts_ms(self) -> list[float]:
        """Round-trip times of the replies, in milliseconds."""
        return [rtt / 1e6 for rtt in self.rtts_ns.values() if rtt is not None]

    def __str__(self) -> str:
        lines = [f"PING {self.destination} ({self.destination}) {self.size}({self.size + 28}) bytes of data."]
        for seq, rtt in self.rtts_ns.items():
            if rtt is not None:
                lines.append(f"{self.size + 8} bytes from {self.destination}: icmp_seq={seq} "
                             f"ttl={self.ttls.get(seq, 0)} time={rtt / 1e6:.3f} ms")
            elif seq in self.errors:
                lines.append(f"icmp_seq={seq} {self.errors[seq]}")
        loss = 100 * (self.sent - self.received) / self.sent if self.sent else 0
        lines.append(f"--- {self.destination} ping statistics ---")
        lines.append(f"{self.sent} packets transmitted, {self.received} received, {loss:.0f}% packet loss")
        if self.rtts_ms:
            r = self.rtts_ms
            lines.append(f"rtt min/avg/max = {min(r):.3f}/{sum(r) / len(r):.3f}/{max(r):.3f} ms")
        return "\n".join(lines)


_ERROR_TEXT = {(3, 0): "Destination Net Unreachable", (3, 1): "Destination Host Unreachable",
               (3, 3): "Destination Port Unreachable", (3, 4): "Frag needed", (11, 0): "Time to live exceeded"}


def _error_text(icmp: ICMP) -> str:
    text = _ERROR_TEXT.get((icmp.type, icmp.code), f"ICMP type {icmp.type} code {icmp.code}")
    return f"{text} (mtu = {icmp.next_hop_mtu})" if (icmp.type, icmp.code) == (3, 4) else text


def ping(host: Host, dst: IPv4Address, *, count: int = 3, interval_ns: int = 1_000_000_000,
         timeout_ns: int = 1_000_000_000, size: int = 56, ttl: int = 64, run: bool = True) -> PingResult:
    """Send `count` echo requests `interval_ns` apart; with `run`, run the network until the last one's timeout."""
    if count < 1 or size < 16:
        raise LayersimError(f"ping: count {count} must be >= 1 and size {size} >= 16 (the timestamp)")
    clock = host.network.clock
    ident = host.rng.randrange(0x10000)
    result = PingResult(dst, size=size, identifier=ident)
    sent_at: dict[int, int] = {}

    def on_icmp(_iface: Interface, packet: Packet) -> None:
        icmp = packet[ICMP]
        if icmp.type == 0 and icmp.identifier == ident and icmp.sequence in sent_at:
            if result.rtts_ns.get(icmp.sequence) is None:
                result.rtts_ns[icmp.sequence] = clock.now - sent_at[icmp.sequence]
                result.ttls[icmp.sequence] = packet[IPv4].ttl
                host.event(EventKind.APP, None, None, app="ping", seq=icmp.sequence,
                           rtt_ms=round((clock.now - sent_at[icmp.sequence]) / 1e6, 3))
            return
        if icmp.is_error and len(packet.layers) > 3:  # IPv4 / ICMP / quoted IPv4 / quoted ICMP echo
            quoted = packet.layers[3]
            if isinstance(quoted, ICMP) and quoted.type == 8 and quoted.identifier == ident:
                result.errors[quoted.sequence] = f"From {packet[IPv4].src} {_error_text(icmp)}"

    def send(seq: int) -> None:
        now = clock.now
        stamp = struct.pack("<QQ", now // 1_000_000_000, now % 1_000_000_000 // 1000)  # struct timeval
        data = stamp + bytes((16 + i) & 0xFF for i in range(size - 16))
        sent_at[seq] = now
        result.sent += 1
        result.rtts_ns[seq] = None
        host.send_ip(dst, ICMP(type=8, identifier=ident, sequence=seq) / data, ttl=ttl,
                     comment=f"{host.name}: ping {dst} seq {seq}")

    host.icmp_listeners.append(on_icmp)
    start = clock.now
    for seq in range(1, count + 1):
        clock.at(start + (seq - 1) * interval_ns, send, seq)
    end = start + (count - 1) * interval_ns + timeout_ns
    clock.at(end, host.icmp_listeners.remove, on_icmp)
    if run:
        host.network.run(until=end)
    return result


@dataclass(frozen=True, slots=True)
class TracerouteHop:
    """One TTL's probes: (responder or None, RTT in ns or None) each."""

    ttl: int
    probes: tuple[tuple[IPv4Address | None, int | None], ...]

    def __str__(self) -> str:
        parts, last = [], None
        for addr, rtt in self.probes:
            if addr is None:
                parts.append("*")
                continue
            if addr != last:
                parts.append(str(addr))
                last = addr
            parts.append(f"{rtt / 1e6:.3f} ms" if rtt is not None else "*")
        return f"{self.ttl:2d}  " + "  ".join(parts)


@dataclass(slots=True)
class TracerouteResult:
    """The hops to a destination and whether it was reached."""

    destination: IPv4Address
    hops: list[TracerouteHop] = field(default_factory=list)
    reached: bool = False
    max_hops: int = 30
    size: int = 32
    source_port: int = 0

    @property
    def path(self) -> list[IPv4Address | None]:
        """The first responder of each hop."""
        return [next((a for a, _ in hop.probes if a is not None), None) for hop in self.hops]

    def __str__(self) -> str:
        header = (f"traceroute to {self.destination} ({self.destination}), {self.max_hops} hops max, "
                  f"{self.size + 28} byte packets")
        return "\n".join([header, *map(str, self.hops)])


def traceroute(host: Host, dst: IPv4Address, *, max_hops: int = 30, probes: int = 3,
               timeout_ns: int = 5_000_000_000, first_port: int = 33434, size: int = 32) -> TracerouteResult:
    """Probe with UDP datagrams of rising TTL (3 per hop, ports from 33434 up) and read the ICMP answers."""
    clock = host.network.clock
    sock = host.udp_socket()
    result = TracerouteResult(dst, max_hops=max_hops, size=size, source_port=sock.port)
    port = first_port
    try:
        for ttl in range(1, max_hops + 1):
            answers: dict[int, tuple[IPv4Address, int]] = {}
            sent: dict[int, int] = {}

            def on_icmp(_iface: Interface, packet: Packet, sent: dict[int, int] = sent,
                        answers: dict[int, tuple[IPv4Address, int]] = answers) -> None:
                icmp = packet[ICMP]
                if not icmp.is_error or len(packet.layers) < 4 or not isinstance(packet.layers[3], UDP):
                    return
                quoted = packet.layers[3]
                if quoted.sport == sock.port and quoted.dport in sent and quoted.dport not in answers:
                    answers[quoted.dport] = (packet[IPv4].src, clock.now - sent[quoted.dport])
                    if (icmp.type, icmp.code) == (3, 3):
                        result.reached = True

            host.icmp_listeners.append(on_icmp)
            sock.ttl = ttl
            for _ in range(probes):
                sent[port] = clock.now
                sock.sendto(bytes(size), (dst, port))
                port += 1
            host.network.run_until(lambda: len(answers) == probes, timeout_ns)  # noqa: B023
            host.icmp_listeners.remove(on_icmp)
            result.hops.append(TracerouteHop(ttl, tuple(answers.get(p, (None, None)) for p in sorted(sent))))
            if result.reached:
                break
    finally:
        sock.close()
    return result
