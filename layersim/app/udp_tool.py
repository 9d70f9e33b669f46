"""A one-datagram UDP sender (a topology file's `kind = "udp"` run): send, then note any ICMP error."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from layersim.app.ping import error_text
from layersim.net.host.datagram_sockets import DatagramSocket

if TYPE_CHECKING:
    from layersim.net.host.host import Host

__all__ = ["UdpResult", "udp_send"]


@dataclass(slots=True)
class UdpResult:
    """One datagram sent: whether it arrived, when, or which ICMP error came back instead."""

    destination: IPv4Address
    port: int
    size: int
    source_port: int = 0
    sent: bool = False
    sent_ns: int = 0
    latency_ns: int | None = None
    error: str | None = None
    socket: DatagramSocket | None = None  # kept open with IP_RECVERR, so errors that come later are seen

    @property
    def delivered(self) -> bool:
        """Whether the listening socket received it."""
        return self.latency_ns is not None

    def collect_error(self) -> None:
        """Take the first ICMP error the socket has queued, if any."""
        if self.socket is not None and self.error is None and self.socket.errors:
            report = self.socket.errors[0]
            self.error = f"From {report.offender} {error_text(report.type, report.code, report.mtu)}"

    def __str__(self) -> str:
        head = f"UDP {self.size} bytes from port {self.source_port} to {self.destination}:{self.port}"
        if self.delivered:
            return f"{head}: delivered in {self.latency_ns / 1e6:.3f} ms"  # type: ignore[operator]
        if not self.sent:
            return f"{head}: not sent (no route)"
        return f"{head}: not delivered ({self.error or 'no answer came back'})"


def udp_send(host: Host, dst: IPv4Address, port: int, data: bytes, *, sport: int | None = None,
             ttl: int = 64) -> UdpResult:
    """Send one datagram from `sport` (ephemeral if None) with IP_RECVERR set, and return at once."""
    sock = host.udp_socket(sport)
    sock.ttl = ttl
    sock.recverr = True
    result = UdpResult(dst, port, len(data), sock.port, sent_ns=host.clock.now, socket=sock)
    result.sent = sock.sendto(data, (dst, port))
    return result
