"""Build a simulated network, and the applications to run on it, from a TOML topology file.

A file has a seed and four kinds of tables. Every key is checked; a mistake raises TopologyError naming the
file, the table (`[[link]] #3`, counted from 1) and the key, e.g.
`topology.toml: [[route]] #2: via: next hop 10.0.99.1 is not on a subnet connected to r1 (...)`.

    seed = 1                  # optional integer, default 0 (`layersim run --seed N` overrides it)
    start = "2026-01-01T00:00:00Z"  # optional: the date simulated time 0 stands for in captures (this default)
    hosts = true              # optional, default true: every node's name resolves on every host to the node's
                              #   first address (an /etc/hosts for the simulated world); false: only its own name

    [[node]]                  # required: name (letters, digits, '-', '_', '.'), kind: "host" | "router" | "switch"
    name = "r1"
    kind = "router"
    nat = "eth1"              # optional, routers: masquerade what leaves eth1 behind its address (Linux MASQUERADE)
    nat_ports = [40000, 40999]  # optional with nat: always map to a port in this range (like --to-ports)
    tcp = "linux"             # optional, hosts: the TCP profile, "linux" (default: Linux 6.x) or "rfc" (plain RFCs)
    congestion = "cubic"      # optional, hosts: "cubic" or "newreno" (default: the profile's)

    [[link]]                  # a point-to-point link; it creates the interfaces at both ends
    a = "client:eth0"         # required: "node" or "node:iface" (unnamed ends get eth0, eth1, ... in file order)
    b = "r1"
    a_ip = "10.0.1.10/24"     # optional per end: give both; or one (the other end gets the subnet's next free
    b_ip = "10.0.1.1/24"      #   host); or none (a free 10.0.N.0/24). Switch ports take no address.
    a_ip6 = "2001:db8:1::10/64"  # optional per end: a global IPv6 address (every interface also has a link-local
    b_ip6 = "2001:db8:1::1/64"   #   fe80:: address made from its MAC, modified EUI-64)
    ra = true                 # optional: the router end advertises its IPv6 prefix (Router Advertisements)
    a_mac = "52:54:00:12:34:56"  # optional per end: a unicast MAC used nowhere else (default 02:00:00:00:00:NN,
                              #   numbered in the order interfaces are made)
    delay = "2ms"             # default "1ms"; units ns, us, ms, s. Every duration (delay, at, interval,
                              #   timeout) is a string with its unit: a bare number or a negative one is an error
    bandwidth = "100Mbit"     # default "100Mbit"; units bit, kbit, Mbit, Gbit (or bps...; an integer is bit/s)
    mtu = 1500                # default 1500 bytes of IP packet; queue = 100 frames (drop-tail)
    loss = 0.0                # per-frame probabilities 0..1, default 0: loss, duplicate, reorder, corrupt
    corrupt_fcs = "drop"      # "drop" (default): the receiver's FCS check discards a corrupted frame, as Ethernet
                              #   does; "pass": it is delivered, and only the IP/TCP/UDP checksums can catch it

    [[route]]                 # a static route on a host or router
    node = "r1"               # required
    to = "10.0.2.0/24"        # required: a prefix, or "default" (IPv4); an IPv6 prefix such as "::/0"
    via = "10.0.12.2"         # the next hop: must be on a subnet the node is connected to (a link-local IPv6
                              #   next hop such as "fe80::1" needs `dev`)
    dev = "eth1"              # optional with `via` (derived from the connected subnet that holds it)

    [[run]]                   # an application, started at simulated time `at` (default "0s")
    kind = "ping"             # required: "ping" | "traceroute" | "udp" | "http_get" | "bulk" (from/to), or
                              #   "script" | "http_server" | "https_server" | "dns_server" (placed with `on`)
    from = "client"           # required: a host
    to = "server"             # required: an IPv4 address, or a node name (meaning its first address)
    count = 3                 # ping: count 3, interval "1s", timeout "1s", size 56 (data bytes), ttl 64
                              # traceroute: max_hops 30, probes 3, timeout "5s" (per hop)
                              # udp: port (required), data "hello", sport (default: ephemeral), ttl 64,
                              #   listen (default true when `to` is a host: bind `port` there; false leaves it
                              #   closed, so the host answers ICMP port unreachable)
                              # script: `on` (the host, instead of from/to), `path` (a Python file, relative to
                              #   this file), `args` (its sys.argv[1:]); it runs as __main__ and its `import
                              #   socket`, select, selectors and time are the host's
                              # http_server: `on`, port 80, and one of `root` (a directory, relative to this file:
                              #   its files, index.html for a directory) or `body` (the text every path answers)
                              # https_server: as http_server, port 443, over TLS with a certificate the network's
                              #   simulated CA issues for `names` (default: the host's name and addresses)
                              # dns_server: `on`, port 53 (UDP and TCP), `zone`: a zone file (TOML, relative to
                              #   this file) or an inline table, both as layersim.dns.zone reads them
                              # http_get: port 80, path "/", timeout "30s"; prints the status, the size of the
                              #   head (status line and headers) and of the body
                              # bulk: `to` a host, bytes 1000000, port 5001, timeout "600s": sends that many bytes
                              #   to a receiver started on `to` at time 0 and prints the goodput like iperf
                              #   (bytes, seconds from connect() to the receiver's close, Mbit/s)

Hosts without a default route get one via the first router on their subnet. Each run is a simulated process
started at its `at` time; runs overlap freely (a ping due while a traceroute is still probing starts on time).
Servers (and scripts that block in accept() or recv()) run until the simulation ends; the story says so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

from layersim.errors import LayersimError
from layersim.net.engine.link import FCS_MODES
from layersim.net.engine.switch import Switch
from layersim.net.engine.units import parse_bandwidth
from layersim.net.host.host import Host
from layersim.net.ipv4.node import IPNode
from layersim.net.network import Network
from layersim.net.topology_runs import RUN_KINDS, RunSpec, RunTables, first_address
from layersim.net.topology_table import Table, TopologyError
from layersim.tcp import CONGESTION_CONTROLS, PROFILES

__all__ = ["RUN_KINDS", "RunSpec", "Scenario", "TopologyError", "build_network", "load_topology"]

NODE_KINDS = ("host", "router", "switch")
_TOP_KEYS = ("seed", "start", "hosts", "node", "link", "route", "run")
_NODE_KEYS = ("name", "kind", "nat", "nat_ports", "tcp", "congestion")
_LINK_KEYS = ("a", "b", "a_ip", "b_ip", "a_ip6", "b_ip6", "ra", "a_mac", "b_mac", "delay", "bandwidth", "mtu", "queue",
              "loss", "duplicate", "reorder", "corrupt", "corrupt_fcs")
_ROUTE_KEYS = ("node", "to", "via", "dev")


@dataclass(slots=True)
class Scenario:
    """A built network and the applications to run on it."""

    network: Network
    runs: list[RunSpec]
    source: str  # the file name, for messages


def load_topology(path: str | Path, *, seed: int | None = None) -> Scenario:
    """Read a TOML topology file and build it; `seed` overrides the file's."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise TopologyError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TopologyError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TopologyError(f"{source}: TOML syntax error: {exc}") from None
    return build_network(data, source, seed=seed)


def build_network(data: dict[str, Any], source: str, *, seed: int | None = None, trace: str = "all") -> Scenario:
    """Build the Network and the run list described by parsed TOML `data` (`source` names it in errors);
    `trace`: what the network's trace keeps (see Network)."""
    top = Table(source, data, _TOP_KEYS)
    file_seed = top.get("seed", int, 0)
    start = top.get("start", (str, datetime), None)
    try:
        network = Network(seed=file_seed if seed is None else seed, start=start, trace=trace)
    except LayersimError as exc:
        raise top.error("start", str(exc)) from None
    builder = _Builder(network, source)
    for name, step in (("node", builder.node), ("link", builder.link), ("route", builder.route)):
        for where, table in _tables(top, name):
            step(where, table)
    builder.finish()
    if top.get("hosts", bool, True):
        _fill_hosts(network)
    tables = RunTables(network, source)
    runs = [tables.run(where, table, number) for number, (where, table) in enumerate(_tables(top, "run"), 1)]
    return Scenario(network, runs, source)


def _fill_hosts(network: Network) -> None:
    """`hosts = true`: every node's name resolves on every host to its first address, as in an /etc/hosts."""
    names = {name: address for name, node in network.nodes.items()
             if (address := first_address(node)) is not None}
    for node in network.nodes.values():
        if isinstance(node, Host):
            for name, address in names.items():
                node.hosts.setdefault(name, address)


def _tables(top: Table, name: str) -> list[tuple[str, Any]]:
    value = top.data.get(name, [])
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        raise top.error(name, f"expected an array of tables, written [[{name}]]")
    return [(f"{top.where}: [[{name}]] #{number}", item) for number, item in enumerate(value, 1)]


class _Builder:
    """Adds each table's part to the network, checking what the network itself would accept silently."""

    def __init__(self, network: Network, source: str) -> None:
        self.network = network
        self.source = source
        self.node_where: dict[str, str] = {}
        self.iface_where: dict[str, str] = {}  # "node:iface" -> the [[link]] that made it
        self.address_where: dict[IPv4Address, str] = {}
        self.nat: dict[str, tuple[Table, str, tuple[int, int] | None]] = {}

    def _node(self, table: Table, key: str, text: str) -> Any:
        if text not in self.network.nodes:
            have = ", ".join(self.network.nodes) or "none"
            raise table.error(key, f"unknown node {text!r} (nodes: {have})")
        return self.network.nodes[text]

    def node(self, where: str, data: Any) -> None:
        """[[node]]: add a host, router or switch."""
        table = Table(where, data, _NODE_KEYS)
        name = table.get("name", str)
        kind = table.get("kind", str)
        if kind not in NODE_KINDS:
            raise table.error("kind", f"unknown node kind {kind!r} (use {', '.join(NODE_KINDS)})")
        if name in self.node_where:
            raise table.error("name", f"duplicate node name {name!r} (already {self.node_where[name]})")
        add = {"host": self.network.add_host, "router": self.network.add_router, "switch": self.network.add_switch}
        tcp = {key: table.get(key, str, None) for key in ("tcp", "congestion")}
        chosen = [key for key, value in tcp.items() if value is not None]
        if chosen and kind != "host":
            raise table.error(chosen[0], f"{name} is a {kind}; only hosts run TCP")
        if tcp["tcp"] not in (None, *PROFILES):
            raise table.error("tcp", f"unknown TCP profile {tcp['tcp']!r} (use {' or '.join(map(repr, PROFILES))})")
        if tcp["congestion"] not in (None, *CONGESTION_CONTROLS):
            raise table.error("congestion", f"unknown congestion control {tcp['congestion']!r} (use "
                              f"{' or '.join(map(repr, CONGESTION_CONTROLS))})")
        try:
            add[kind](name, **{key: value for key, value in tcp.items() if value is not None})
        except LayersimError as exc:
            raise table.error("name", str(exc)) from None
        self.node_where[name] = where.removeprefix(f"{self.source}: ")
        nat = table.get("nat", str, None)
        ports = table.get("nat_ports", list, None)
        if (nat is not None or ports is not None) and kind != "router":
            raise table.error("nat" if nat is not None else "nat_ports", f"{name} is a {kind}; NAT runs on routers")
        if ports is not None and (nat is None or len(ports) != 2 or not all(isinstance(p, int) for p in ports)
                                  or not 1 <= ports[0] <= ports[1] <= 65535):
            raise table.error("nat_ports", f"expected [low, high] with 1 <= low <= high <= 65535 next to `nat`, "
                              f"got {ports!r}")
        if nat is not None:
            self.nat[name] = (table, nat, tuple(ports) if ports is not None else None)

    def finish(self) -> None:
        """What needs the links in place: NAT on the routers that asked for it."""
        for name, (table, outside, ports) in self.nat.items():
            try:
                self.network.nodes[name].enable_nat(outside, port_range=ports)  # type: ignore[attr-defined]
            except LayersimError as exc:
                raise table.error("nat", str(exc)) from None

    def _end(self, table: Table, key: str) -> tuple[Any, str | None]:
        text = table.get(key, str)
        name, colon, iface = text.partition(":")
        node = self._node(table, key, name)
        if colon and not iface:
            raise table.error(key, f"{text!r}: the interface name after ':' is empty")
        full = f"{name}:{iface}"
        if iface and full in self.iface_where:
            raise table.error(key, f"interface {full!r} is already linked ({self.iface_where[full]})")
        return node, iface or None

    def _address(self, table: Table, key: str, node: Any) -> IPv4Interface | None:
        text = table.get(key, str, None)
        if text is None:
            return None
        if isinstance(node, Switch):
            raise table.error(key, f"{node.name} is a switch; switch ports have no IP address")
        try:
            address = IPv4Interface(text)
        except ValueError as exc:
            raise table.error(key, f"{text!r} is not an IPv4 address with prefix ({exc})") from None
        if "/" not in text:
            raise table.error(key, f"{text!r} needs a prefix length, e.g. {text}/24")
        net = address.network
        if net.prefixlen < 31 and address.ip in (net.network_address, net.broadcast_address):
            which = "network" if address.ip == net.network_address else "broadcast"
            raise table.error(key, f"{text} is the {which} address of {net}, not a host address")
        if address.ip in self.address_where:
            raise table.error(key, f"duplicate address {address.ip} (already used in {self.address_where[address.ip]})")
        for iface in node.interfaces.values():
            if iface.address is not None and iface.address.network.overlaps(net):
                raise table.error(key, f"{node.name} is already connected to {iface.address.network} on "
                                  f"{iface.name}; one subnet per interface")
        return address

    def link(self, where: str, data: Any) -> None:
        """[[link]]: join two nodes, creating both interfaces."""
        table = Table(where, data, _LINK_KEYS)
        node_a, iface_a = self._end(table, "a")
        node_b, iface_b = self._end(table, "b")
        if node_a is node_b:
            raise table.error("b", f"cannot link {node_a.name} to itself")
        ip_a = self._address(table, "a_ip", node_a)
        ip_b = self._address(table, "b_ip", node_b)
        if ip_a is not None and ip_b is not None:
            if ip_a.ip == ip_b.ip:
                raise table.error("b_ip", f"duplicate address {ip_b.ip} (a_ip is the same)")
            if ip_b.network != ip_a.network:
                raise table.error("b_ip", f"address {ip_b} is outside the link's prefix {ip_a.network} (a_ip)")
        options = dict(delay=table.duration("delay", "1ms"),
                       bandwidth=table.units("bandwidth", "100Mbit", parse_bandwidth, positive=True),
                       mtu=table.integer("mtu", 1500, 68, 65535), queue=table.integer("queue", 100, 1),
                       **{key: table.probability(key) for key in ("loss", "duplicate", "reorder", "corrupt")},
                       corrupt_fcs=table.choice("corrupt_fcs", FCS_MODES))
        macs = {key: table.get(key, str, None) for key in ("a_mac", "b_mac")}
        for key, value in macs.items():
            if value is not None:
                try:
                    self.network._chosen_mac(key, value)
                except LayersimError as exc:
                    raise table.error(None, str(exc)) from None
        if macs["a_mac"] is not None and macs["a_mac"].lower() == (macs["b_mac"] or "").lower():
            raise table.error("b_mac", f"{macs['b_mac']} is the same MAC as a_mac")
        try:
            link = self.network.link(node_a, node_b, a_ip=ip_a and str(ip_a), b_ip=ip_b and str(ip_b),
                                     a_iface=iface_a, b_iface=iface_b, **macs, **options,
                                     a_ip6=table.get("a_ip6", str, None), b_ip6=table.get("b_ip6", str, None),
                                     ra=table.get("ra", bool, False))
        except (LayersimError, ValueError) as exc:
            raise table.error(None, str(exc)) from None
        short = where.removeprefix(f"{self.source}: ")
        for iface in (link.a, link.b):
            self.iface_where[iface.full_name] = short
            if iface.address is not None:
                self.address_where[iface.address.ip] = f"{short} ({iface.full_name})"

    def route(self, where: str, data: Any) -> None:
        """[[route]]: a static route, its interface derived from the next hop when `dev` is omitted."""
        table = Table(where, data, _ROUTE_KEYS)
        node = self._node(table, "node", table.get("node", str))
        if not isinstance(node, IPNode):
            raise table.error("node", f"{node.name} is a switch; switches have no routing table")
        prefix = table.get("to", str)
        via_text, dev = table.get("via", str, None), table.get("dev", str, None)
        if dev is not None and dev not in node.interfaces:
            raise table.error("dev", f"interface '{node.name}:{dev}' does not exist "
                              f"({node.name} has {', '.join(node.interfaces) or 'no interfaces'})")
        if via_text is None and dev is None:
            raise table.error("via", "missing: give the next hop `via`, or `dev` for an on-link route")
        via = None
        if ":" in prefix or (via_text is not None and ":" in via_text):  # IPv6: the node's routes check it
            try:
                node.routes.add(prefix, via=via_text, interface=dev)
            except LayersimError as exc:
                raise table.error("to" if ":" in prefix else "via", str(exc)) from None
            return
        if via_text is not None:
            via = self._next_hop(table, node, via_text, dev)
            dev = dev or next(i.name for i in node.interfaces.values() if i.address and via in i.address.network)
        try:
            node.routes.add(prefix, via=via, interface=dev)
        except LayersimError as exc:
            raise table.error("to", str(exc)) from None

    def _next_hop(self, table: Table, node: IPNode, text: str, dev: str | None) -> IPv4Address:
        try:
            via = IPv4Address(text)
        except ValueError:
            raise table.error("via", f"{text!r} is not an IPv4 address") from None
        if via in node.addresses:
            raise table.error("via", f"{via} is {node.name}'s own address, not a next hop")
        connected = [i for i in node.interfaces.values() if i.address is not None]
        if not any(via in i.address.network for i in connected):
            have = ", ".join(f"{i.address.network} on {i.name}" for i in connected) or "no addresses"
            raise table.error("via", f"next hop {via} is not on a subnet connected to {node.name} ({have})")
        if dev is not None:
            address = node.interfaces[dev].address
            if address is None or via not in address.network:
                raise table.error("via", f"next hop {via} is not on {node.name}:{dev}'s subnet "
                                  f"({address.network if address else 'no address'})")
        return via
