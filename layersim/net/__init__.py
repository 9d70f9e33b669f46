"""The simulated network: hosts, switches and routers joined by links, driven by a deterministic clock."""

from layersim.net.apps import PingResult, TracerouteResult
from layersim.net.host import Host, UDPSocket
from layersim.net.link import Faults, Link
from layersim.net.network import Network
from layersim.net.router import Router
from layersim.net.routing import Route, RoutingTable
from layersim.net.switch import Switch
from layersim.net.trace import DropReason, EventKind, Hop, Trace, TraceEvent

__all__ = ["DropReason", "EventKind", "Faults", "Hop", "Host", "Link", "Network", "PingResult", "Route", "Router",
           "RoutingTable", "Switch", "Trace", "TraceEvent", "TracerouteResult", "UDPSocket"]
