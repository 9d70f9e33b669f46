"""Ready-made frames that the CLI, the README and the tests use as their running example."""

from __future__ import annotations

from typing import Any

from layersim.wire.ethernet import Ethernet
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import NOP, Timestamps

__all__ = ["http_get_frame"]


def http_get_frame(*, src_mac: str = "02:00:00:00:01:10", dst_mac: str = "02:00:00:00:01:01",
                   src_ip: str = "10.0.1.10", dst_ip: str = "93.184.216.34", sport: int = 50512,
                   dport: int = 80, seq: int = 1000, ack: int = 2000, ttl: int = 64, method: str = "GET",
                   path: str = "/", host: str = "example.com", identification: int = 0x1c46,
                   tsval: int = 1000, tsecr: int = 2000) -> Packet:
    """The running example: an HTTP request in a TCP segment in an IPv4 packet in an Ethernet II frame."""
    from layersim.wire.http import HTTPRequest

    request: Any = HTTPRequest(method, path, headers={"Host": host, "User-Agent": "layersim/0.1",
                                                      "Accept": "*/*"})
    return (Ethernet(src=src_mac, dst=dst_mac)
            / IPv4(src=src_ip, dst=dst_ip, ttl=ttl, identification=identification, flags="DF")
            / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags="PA", window=502,
                  options=[NOP(), NOP(), Timestamps(tsval, tsecr)])
            / request)
