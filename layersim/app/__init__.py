"""Programs that run as simulated processes on hosts: ping, traceroute, a UDP sender, and later services."""

from layersim.app.ping import PingResult, ping
from layersim.app.traceroute import TracerouteHop, TracerouteResult, traceroute
from layersim.app.udp_tool import UdpResult, udp_send

__all__ = ["PingResult", "TracerouteHop", "TracerouteResult", "UdpResult", "ping", "traceroute", "udp_send"]
