"""traceroute, run as a simulated process the way Linux traceroute's default UDP method behaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.net.sockets import DatagramSocket

if TYPE_CHECKING:
    from layersim.net.host import Host

__all__ = ["FIRST_PORT", "PROBE_SIZE", "TracerouteHop", "TracerouteResult", "probe_payload", "traceroute"]

FIRST_PORT = 33434  # traceroute's default base port; each probe takes the next one
PROBE_SIZE = 32  # Linux traceroute's default data: 32 bytes (60-byte packets)


def probe_payload(size: int = PROBE_SIZE) -> bytes:
    """Linux traceroute's probe data: the bytes 0x40, 0x41, ... ("@ABC...")."""
    return bytes((0x40 + i) & 0xFF for i in range(size))


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
               timeout_ns: int = 5_000_000_000, first_port: int = FIRST_PORT,
               size: int = PROBE_SIZE) -> TracerouteResult:
    """Probe with UDP datagrams of rising TTL (`probes` per hop, ports from 33434 up) and read the ICMP answers.

    As Linux traceroute: each probe from a socket of its own (its own source port), DF clear, IP_RECVERR to read
    the Time Exceeded and Port Unreachable answers; the destination is reached when its port unreachable comes.
    """
    clock = host.network.clock
    result = TracerouteResult(dst, max_hops=max_hops, size=size)
    port = first_port
    data = probe_payload(size)
    for ttl in range(1, max_hops + 1):
        sent: list[tuple[DatagramSocket, int, int]] = []  # (socket, destination port, time sent)
        for _ in range(probes):
            sock = host.udp_socket()
            sock.recverr = True
            sock.ttl = ttl
            sock.set_pmtu("dont")
            if not result.source_port:
                result.source_port = sock.port
            sent.append((sock, port, clock.now))
            sock.sendto(data, (dst, port))
            port += 1
        deadline = clock.now + timeout_ns
        answers: list[tuple[IPv4Address | None, int | None]] = []
        for sock, _dport, at in sent:
            report = sock.recv_error(max(0, deadline - clock.now))
            sock.close()
            if report is None:
                answers.append((None, None))
                continue
            answers.append((report.offender, report.time_ns - at))
            if (report.type, report.code) == (3, 3):
                result.reached = True
        result.hops.append(TracerouteHop(ttl, tuple(answers)))
        if result.reached:
            break
    return result
