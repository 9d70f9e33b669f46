"""traceroute, run as a simulated process the way Linux traceroute's default UDP method behaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.errors import LayersimError
from layersim.net.host.datagram_sockets import DatagramSocket

if TYPE_CHECKING:
    from layersim.net.host.host import Host

__all__ = ["FIRST_PORT", "PROBE_SIZE", "TracerouteHop", "TracerouteResult", "probe_payload", "traceroute"]

FIRST_PORT = 33434  # traceroute's default base port; each probe takes the next one
PROBE_SIZE = 32  # Linux traceroute's default data: 32 bytes (60-byte packets)
SIM_QUERIES = 16  # Linux traceroute's -N: probes in flight at once


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


def traceroute(host: Host, dst: IPv4Address | str, *, max_hops: int = 30, probes: int = 3,
               timeout_ns: int = 5_000_000_000, first_port: int = FIRST_PORT, size: int = PROBE_SIZE,
               sim_queries: int = SIM_QUERIES) -> TracerouteResult:
    """Trace the path from `host` to `dst` like Linux traceroute. In a process it blocks; from outside one it runs
    the network until traceroute is done.

    As Linux traceroute: `sim_queries` probes go out at once, in TTL order; each from a socket of its own (its own
    source port), DF clear, IP_RECVERR to read the Time Exceeded and Port Unreachable answers; the destination is
    reached when its port unreachable comes, and no hop past it is shown.
    """
    return host.run_program(_traceroute, host, IPv4Address(dst), max_hops=max_hops, probes=probes,
                            timeout_ns=timeout_ns, first_port=first_port, size=size, sim_queries=sim_queries)


def _traceroute(host: Host, dst: IPv4Address, *, max_hops: int, probes: int, timeout_ns: int, first_port: int,
                size: int, sim_queries: int) -> TracerouteResult:
    """traceroute's process."""
    if not 1 <= max_hops <= 255 or not 1 <= probes <= 10 or not sim_queries >= 1:
        raise LayersimError(f"traceroute: max_hops {max_hops} must be 1 to 255, probes {probes} 1 to 10, "
                            f"sim_queries {sim_queries} at least 1")
    clock = host.clock
    result = TracerouteResult(dst, max_hops=max_hops, size=size)
    data = probe_payload(size)
    plan = [(ttl, n) for ttl in range(1, max_hops + 1) for n in range(probes)]
    answers: dict[tuple[int, int], tuple[IPv4Address | None, int | None]] = {}
    reached_at: int | None = None
    next_probe = 0
    while next_probe < len(plan) and reached_at is None:
        batch = plan[next_probe:next_probe + sim_queries]
        sent: list[tuple[DatagramSocket, tuple[int, int], int]] = []
        for ttl, n in batch:
            sock = host.udp_socket()
            sock.recverr = True
            sock.ttl = ttl
            sock.set_pmtu("dont")
            if not result.source_port:
                result.source_port = sock.port
            port = first_port + next_probe
            next_probe += 1
            sent.append((sock, (ttl, n), clock.now))
            sock.sendto(data, (dst, port))
        deadline = clock.now + timeout_ns
        for sock, key, at in sent:
            wait = 0 if reached_at is not None and key[0] > reached_at else max(0, deadline - clock.now)
            report = sock.recv_error(wait)
            sock.close()
            if report is None:
                answers[key] = (None, None)
                continue
            answers[key] = (report.offender, report.time_ns - at)
            if (report.type, report.code) == (3, 3) and (reached_at is None or key[0] < reached_at):
                reached_at = key[0]
    last = reached_at or max_hops
    for ttl in range(1, last + 1):
        result.hops.append(TracerouteHop(ttl, tuple(answers.get((ttl, n), (None, None)) for n in range(probes))))
    result.reached = reached_at is not None
    return result
