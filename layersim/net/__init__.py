"""The simulated network: hosts, switches and routers joined by links, driven by a deterministic clock."""

from layersim.net.engine.link import Faults, Link
from layersim.net.engine.process import Process, current_process, sleep
from layersim.net.engine.switch import Switch
from layersim.net.host.datagram_sockets import Datagram, DatagramSocket, IcmpReport, PingSocket
from layersim.net.host.host import Host, UDPSocket
from layersim.net.ip.hooks import ACCEPT, REWRITTEN, Drop, HookPacket, HookPoint
from layersim.net.ip.routing import Route, RoutingTable
from layersim.net.ipv4.router import Router
from layersim.net.network import Network
from layersim.net.trace.log import DropReason, EventKind, Hop, Trace, TraceEvent

__all__ = ["ACCEPT", "REWRITTEN", "Datagram", "DatagramSocket", "Drop", "DropReason", "EventKind", "Faults",
           "HookPacket", "HookPoint", "Hop", "Host", "IcmpReport", "Link", "Network", "PingSocket", "Process",
           "Route", "Router", "RoutingTable", "Switch", "Trace", "TraceEvent", "UDPSocket", "current_process",
           "sleep"]
