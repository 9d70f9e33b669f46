"""The simulated network: hosts, switches and routers joined by links, driven by a deterministic clock."""

from layersim.net.hooks import ACCEPT, REWRITTEN, Drop, HookPacket, HookPoint
from layersim.net.host import Host, UDPSocket
from layersim.net.link import Faults, Link
from layersim.net.network import Network
from layersim.net.process import Process, current_process, sleep
from layersim.net.router import Router
from layersim.net.routing import Route, RoutingTable
from layersim.net.sockets import Datagram, DatagramSocket, IcmpReport, PingSocket
from layersim.net.switch import Switch
from layersim.net.trace import DropReason, EventKind, Hop, Trace, TraceEvent

__all__ = ["ACCEPT", "REWRITTEN", "Datagram", "DatagramSocket", "Drop", "DropReason", "EventKind", "Faults",
           "HookPacket", "HookPoint", "Hop", "Host", "IcmpReport", "Link", "Network", "PingSocket", "Process",
           "Route", "Router", "RoutingTable", "Switch", "Trace", "TraceEvent", "UDPSocket", "current_process",
           "sleep"]
