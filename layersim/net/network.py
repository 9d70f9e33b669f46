"""A simulated network: it owns the clock, the seeded random generator, the nodes, the links and the trace."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable
from datetime import datetime
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface
from pathlib import Path
from typing import Any

from layersim.errors import LayersimError
from layersim.net.engine.capture import CaptureSession
from layersim.net.engine.clock import Clock
from layersim.net.engine.interface import Interface
from layersim.net.engine.link import Faults, Link
from layersim.net.engine.node import Node
from layersim.net.engine.runtime import Runtime
from layersim.net.engine.switch import Switch
from layersim.net.engine.units import DEFAULT_START, parse_bandwidth, parse_duration, parse_start
from layersim.net.host.host import Host
from layersim.net.host.tls.world import TLSWorld
from layersim.net.ipv4.node import IPNode
from layersim.net.ipv4.router import Router
from layersim.net.ipv6.interfaces import add_address, parse_address, start_interface
from layersim.net.ipv6.stack import start_ipv6
from layersim.net.trace.log import Trace
from layersim.tcp import Profile, choose_profile
from layersim.wire.addresses import MAC

__all__ = ["Network"]

AUTO_POOL = IPv4Network("10.0.0.0/8")  # auto-assigned link subnets: 10.0.1.0/24, 10.0.2.0/24, ...


class Network:
    """Hosts, routers and switches joined by links, driven by one deterministic clock.

    Same seed, same topology, same program: the same events and byte-identical captures.
    """

    def __init__(self, seed: int = 0, *, trace: str = "all", trace_limit: int | None = None,
                 start: str | int | datetime | None = None, strict: bool | None = None,
                 tcp: str | Profile = "linux", congestion: str | None = None) -> None:
        """`trace`: what the trace keeps ("all", "events", "drops", "none"), `trace_limit` the newest N only;
        `start`: the date simulated time 0 stands for in captures (default DEFAULT_START); `strict`: a bug inside
        layersim that ends a process is raised out of `run` (default: the LAYERSIM_STRICT environment variable);
        `tcp` and `congestion`: the TCP profile ("linux", "rfc") and congestion control ("cubic", "newreno";
        default: the profile's) of hosts that do not choose their own."""
        self.seed = seed
        self.tcp = choose_profile(tcp, congestion)
        self.congestion = congestion  # asked for network-wide: also for hosts that choose their own profile
        self.rng = random.Random(seed)
        self.start_ns = parse_start(DEFAULT_START if start is None else start)
        self.strict = bool(os.environ.get("LAYERSIM_STRICT")) if strict is None else strict
        self.runtime = Runtime(Clock(), Trace(trace, trace_limit), strict=self.strict, start_ns=self.start_ns,
                               run_until=self.run_until, add_run_guard=self.add_run_guard)
        self._run_guards: list[Any] = []  # context managers entered for the length of every run (the stdlib patch)
        self.nodes: dict[str, Node] = {}
        self.links: list[Link] = []
        self._captures: list[CaptureSession] = []
        self._tls_secrets: list[bytes] = []  # key log lines so far, for captures opened later
        self.runtime.tls = TLSWorld(seed, self._add_tls_secrets)
        self._next_subnet = 1
        self._lan: dict[str, tuple[IPv4Network, list[IPv4Address]]] = {}  # switch -> (subnet, free addresses)
        self._mac_counter = 0

    @property
    def clock(self) -> Clock:
        """The simulated clock (given to every node and link when made, so it is never replaced)."""
        return self.runtime.clock

    @property
    def trace(self) -> Trace:
        """What happened (choose its level with `Network(trace=..., trace_limit=...)`)."""
        return self.runtime.trace

    # Building ------------------------------------------------------------------------------------------
    def _add(self, cls: type[Node], name: str, **options: Any) -> Any:
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise LayersimError(f"node name {name!r} must be letters, digits, '-', '_' or '.'")
        if name in self.nodes:
            raise LayersimError(f"a node called {name!r} already exists")
        node = cls(self.runtime, name, random.Random(self.rng.getrandbits(64)), **options)
        if isinstance(node, IPNode):  # its own generator, seeded by name: the IPv4 draws stay as they were
            node.ipv6 = start_ipv6(node.interfaces, node.routes.v6, random.Random(f"{self.seed}:ipv6:{name}"),
                                   forwarding=node.forwarding)
        self.nodes[name] = node
        return node

    def add_host(self, name: str, *, tcp: str | Profile | None = None, congestion: str | None = None) -> Host:
        """Add an end host (gets a default route via its router when linked, unless given one); `tcp` and
        `congestion` choose its TCP as for the Network (default: the Network's)."""
        if tcp is None and congestion is None:
            profile = self.tcp
        else:
            profile = choose_profile(self.tcp if tcp is None else tcp, congestion or self.congestion)
        return self._add(Host, name, tcp=profile)

    def add_router(self, name: str) -> Router:
        """Add a router."""
        return self._add(Router, name)

    def add_switch(self, name: str) -> Switch:
        """Add a learning switch; the hosts and routers linked to it share one subnet."""
        return self._add(Switch, name)

    def node(self, name: str) -> Node:
        """The node called `name`, with an error listing the real ones otherwise."""
        try:
            return self.nodes[name]
        except KeyError:
            raise LayersimError(f"no node called {name!r} (nodes: {', '.join(self.nodes) or 'none'})") from None

    @property
    def hosts(self) -> dict[str, Host]:
        """The hosts by name."""
        return {n: node for n, node in self.nodes.items() if isinstance(node, Host)}

    @property
    def routers(self) -> dict[str, Router]:
        """The routers by name."""
        return {n: node for n, node in self.nodes.items() if isinstance(node, Router)}

    def interface(self, full_name: str) -> Interface:
        """An interface by "node:interface"."""
        node_name, _, iface = full_name.partition(":")
        return self.node(node_name).interface(iface)

    def _new_mac(self) -> MAC:
        while True:
            self._mac_counter += 1
            mac = MAC(0x020000000000 | self._mac_counter)
            if self._mac_owner(mac) is None:
                return mac

    def _mac_owner(self, mac: MAC) -> str | None:
        for node in self.nodes.values():
            for iface in node.interfaces.values():
                if iface.mac == mac:
                    return iface.full_name
        return None

    def _chosen_mac(self, where: str, value: str | MAC) -> MAC:
        """A MAC given by the user: valid, unicast, not all zeros, not used elsewhere."""
        try:
            mac = MAC(value)
        except (ValueError, LayersimError) as exc:
            raise LayersimError(f"{where}: MAC {value!r} is not valid ({exc})") from None
        if mac[0] & 1:
            raise LayersimError(f"{where}: MAC {mac} is a multicast address (the low bit of its first byte is set); "
                                "an interface needs a unicast MAC")
        if mac == bytes(6):
            raise LayersimError(f"{where}: MAC {mac} (all zeros) is not a usable address")
        owner = self._mac_owner(mac)
        if owner is not None:
            raise LayersimError(f"{where}: MAC {mac} is already used by {owner}")
        return mac

    def _take_subnet(self) -> IPv4Network:
        while True:
            subnet = IPv4Network((int(AUTO_POOL.network_address) + (self._next_subnet << 8), 24))
            self._next_subnet += 1
            if not any(isinstance(n, IPNode) and any(i.address is not None and i.address.network.overlaps(subnet)
                                                         for i in n.interfaces.values()) for n in self.nodes.values()):
                return subnet

    def _endpoint(self, node: Node, name: str | None, address: str | None, peer: Node,
                  subnet: IPv4Network | None, host_number: int, mac: MAC | None) -> Interface:
        """Create the interface for one end of a link, with an explicit or auto-assigned address."""
        name = name or f"eth{len(node.interfaces)}"
        mac = mac or self._new_mac()
        if isinstance(node, Switch):
            if address is not None:
                raise LayersimError(f"{node.name}:{name}: a switch port has no IPv4 address (got {address!r}); "
                                    "give the address to the host or router at the other end")
            return node.add_interface(name, mac)
        if address is None:
            if isinstance(peer, Switch):
                net, free = self._lan_of(peer)
                if not free:
                    raise LayersimError(f"switch {peer.name}'s subnet {net} has no free addresses left")
                iface_address = IPv4Interface(f"{free.pop(0)}/{net.prefixlen}")
            else:
                assert subnet is not None
                iface_address = IPv4Interface(f"{subnet.network_address + host_number}/{subnet.prefixlen}")
        else:
            try:
                iface_address = IPv4Interface(address)
            except ValueError as exc:
                raise LayersimError(f"{node.name}:{name}: address {address!r} is not valid ({exc})") from None
            if iface_address.network.prefixlen == 32 and "/" not in address:
                raise LayersimError(f"{node.name}:{name}: address {address!r} needs a prefix, e.g. {address}/24")
            if isinstance(peer, Switch):
                net, free = self._lan_of(peer, iface_address.network)
                if iface_address.network != net:
                    raise LayersimError(f"{node.name}:{name}: address {address} is outside switch {peer.name}'s "
                                        f"subnet {net}")
                if iface_address.ip in free:
                    free.remove(iface_address.ip)
        owner = self._owner_of(iface_address.ip)
        if owner is not None:
            raise LayersimError(f"{node.name}:{name}: address {iface_address.ip} is already used by {owner}")
        return node.add_interface(name, mac, iface_address)

    def _lan_of(self, switch: Switch, wanted: IPv4Network | None = None) -> tuple[IPv4Network, list[IPv4Address]]:
        if switch.name not in self._lan:
            net = wanted or self._take_subnet()
            self._lan[switch.name] = (net, list(net.hosts()))
        return self._lan[switch.name]

    def _owner_of(self, ip: IPv4Address) -> str | None:
        for node in self.nodes.values():
            for iface in node.interfaces.values():
                if iface.address is not None and iface.address.ip == ip:
                    return iface.full_name
        return None

    def link(self, a: Node | str, b: Node | str, *, a_ip: str | None = None, b_ip: str | None = None,
             a_iface: str | None = None, b_iface: str | None = None, delay: str | int = "1ms",
             bandwidth: str | int = "100Mbit", mtu: int = 1500, queue: int = 100, loss: float = 0.0,
             duplicate: float = 0.0, reorder: float = 0.0, corrupt: float = 0.0, corrupt_fcs: str = "drop",
             faults_ba: Faults | None = None, a_mac: str | MAC | None = None, b_mac: str | MAC | None = None,
             a_ip6: str | None = None, b_ip6: str | None = None, ra: bool = False) -> Link:
        """Join two nodes with a point-to-point link; addresses, interface names and MACs are chosen if omitted
        (MACs as 02:00:00:00:00:01, 02:00:00:00:00:02, ... in the order interfaces are made). Every host and router
        interface gets a link-local IPv6 address from its MAC; `a_ip6`/`b_ip6` ("2001:db8:1::10/64") add global ones,
        and `ra=True` makes the router end(s) advertise their IPv6 prefix on the link.

        `loss`, `duplicate`, `reorder`, `corrupt`: per-frame fault probabilities (0 to 1), both directions unless
        `faults_ba` gives b -> a its own. A frame `corrupt` damages is dropped by the receiver's FCS check
        (DropReason.BAD_FCS) unless `corrupt_fcs="pass"`, which delivers it for the checksums to catch or miss."""
        node_a = self.node(a) if isinstance(a, str) else a
        node_b = self.node(b) if isinstance(b, str) else b
        if node_a is node_b:
            raise LayersimError(f"cannot link {node_a.name} to itself")
        mac_a = self._chosen_mac(f"link {node_a.name} - {node_b.name}: a_mac", a_mac) if a_mac is not None else None
        mac_b = self._chosen_mac(f"link {node_a.name} - {node_b.name}: b_mac", b_mac) if b_mac is not None else None
        if mac_a is not None and mac_a == mac_b:
            raise LayersimError(f"link {node_a.name} - {node_b.name}: a_mac and b_mac are both {mac_a}")
        both_ip = isinstance(node_a, IPNode) and isinstance(node_b, IPNode)
        subnet = None
        if both_ip and a_ip is None and b_ip is None:
            subnet = self._take_subnet()
        elif both_ip and (a_ip is None) != (b_ip is None):
            try:
                given = IPv4Interface(a_ip or b_ip)
            except ValueError as exc:
                raise LayersimError(f"link {node_a.name} - {node_b.name}: address {a_ip or b_ip!r} is not valid "
                                    f"({exc})") from None
            subnet = given.network
            if a_ip is None:
                a_ip = str(IPv4Interface(f"{_other_host(given)}/{given.network.prefixlen}"))
            else:
                b_ip = str(IPv4Interface(f"{_other_host(given)}/{given.network.prefixlen}"))
        if both_ip and a_ip is not None and b_ip is not None:
            try:
                net_a, net_b = IPv4Interface(a_ip).network, IPv4Interface(b_ip).network
            except ValueError as exc:
                raise LayersimError(f"link {node_a.name} - {node_b.name}: {exc}") from None
            if net_a != net_b:
                raise LayersimError(f"link {node_a.name} - {node_b.name}: {a_ip} and {b_ip} are not in the same "
                                    "subnet")
        ip6_a, ip6_b = self._ipv6_ends(node_a, node_b, a_ip6, b_ip6)
        advertisers = [node for node, ip6 in ((node_a, ip6_a), (node_b, ip6_b)) if isinstance(node, Router) and ip6]
        if ra and not advertisers:
            raise LayersimError(f"link {node_a.name} - {node_b.name}: ra=True needs a router end with an IPv6 "
                                "address (a_ip6/b_ip6) whose prefix it advertises")
        iface_a = self._endpoint(node_a, a_iface, a_ip, node_b, subnet, 1, mac_a)
        iface_b = self._endpoint(node_b, b_iface, b_ip, node_a, subnet, 2, mac_b)
        for node, iface, ip6 in ((node_a, iface_a, ip6_a), (node_b, iface_b, ip6_b)):
            if isinstance(node, IPNode):
                start_interface(iface)
                if ip6 is not None:
                    add_address(node.routes, iface, ip6)
                    if ra and node in advertisers:
                        node.ipv6.advertise(iface.name)
        faults = Faults(loss, duplicate, reorder, corrupt, corrupt_fcs)
        link = Link(iface_a, iface_b, delay_ns=parse_duration(delay), bandwidth_bps=parse_bandwidth(bandwidth),
                    mtu=mtu, queue_limit=queue, faults=faults, faults_ba=faults_ba,
                    rng=random.Random(self.rng.getrandbits(64)), clock=self.clock)
        self.links.append(link)
        self._auto_gateways()
        return link

    def _ipv6_ends(self, node_a: Node, node_b: Node, a_ip6: str | None,
                   b_ip6: str | None) -> tuple[IPv6Interface | None, IPv6Interface | None]:
        """The global IPv6 addresses asked for at the two ends of a link, checked before anything is made."""
        where = f"link {node_a.name} - {node_b.name}"
        ends = []
        for node, key, text in ((node_a, "a_ip6", a_ip6), (node_b, "b_ip6", b_ip6)):
            if text is not None and not isinstance(node, IPNode):
                raise LayersimError(f"{where}: {key}: {node.name} is a switch; give the address to the host or "
                                    "router at the other end")
            address = None if text is None else parse_address(text, f"{where}: {key}")
            if address is not None and self._owner_of6(address.ip) is not None:
                raise LayersimError(f"{where}: {key}: address {address.ip} is already used by "
                                    f"{self._owner_of6(address.ip)}")
            ends.append(address)
        ip6_a, ip6_b = ends
        if ip6_a is not None and ip6_b is not None:
            if ip6_a.ip == ip6_b.ip:
                raise LayersimError(f"{where}: a_ip6 and b_ip6 are both {ip6_a.ip}")
            if ip6_a.network != ip6_b.network:
                raise LayersimError(f"{where}: {ip6_a} and {ip6_b} are not in the same subnet")
        return ip6_a, ip6_b

    def _owner_of6(self, ip: IPv6Address) -> str | None:
        for node in self.nodes.values():
            for iface in node.interfaces.values():
                if any(address.ip == ip for address in iface.addresses6):
                    return iface.full_name
        return None

    def _auto_gateways(self) -> None:
        """Give each host without a default route one via the first router it shares a subnet with (per IP
        version)."""
        for host in self.hosts.values():
            if host.routes.get("::/0") is None:
                for iface in host.interfaces.values():
                    gateway6 = self._router_on_subnet6(iface)
                    if gateway6 is not None:
                        host.routes.add_automatic("::/0", gateway6, iface.name)
                        break
            if host.routes.get("0.0.0.0/0") is not None:
                continue
            for iface in host.interfaces.values():
                gateway = self._router_on_subnet(iface)
                if gateway is not None:
                    host.routes.add_automatic("0.0.0.0/0", gateway, iface.name)
                    break

    def _router_on_subnet(self, iface: Interface) -> IPv4Address | None:
        if iface.address is None:
            return None
        for router in self.routers.values():
            for r_iface in router.interfaces.values():
                if r_iface.address is not None and r_iface.address.network == iface.address.network:
                    return r_iface.address.ip
        return None

    def _router_on_subnet6(self, iface: Interface) -> IPv6Address | None:
        subnets = {address.network for address in iface.addresses6 if not address.ip.is_link_local}
        for router in self.routers.values():
            for r_iface in router.interfaces.values():
                for address in r_iface.addresses6:
                    if address.network in subnets:
                        return address.ip
        return None

    # Running -------------------------------------------------------------------------------------------
    def run(self, until: int | str | None = None, *, max_events: int = 50_000_000) -> int:
        """Run the simulation until simulated time `until` (ns or "2s"), or until nothing is left to do.

        This is the only loop: processes block on the clock it runs, so it cannot be called from one."""
        self._not_in_process("run")
        self._auto_gateways()
        limit = None if until is None else parse_duration(until)
        return self._run_clock(limit, max_events)

    def run_until_idle(self, *, max_events: int = 50_000_000) -> int:
        """Run until no event is pending."""
        return self.run(None, max_events=max_events)

    def run_until(self, done: Callable[[], bool], timeout_ns: int | None = None) -> bool:
        """Run events until `done()` is true, nothing is left to do, or `timeout_ns` passes; returns done()."""
        self._not_in_process("run_until")
        self._auto_gateways()
        deadline = None if timeout_ns is None else self.clock.now + timeout_ns
        while not done():
            next_time = self.clock.next_time()
            if next_time is None:
                break
            if deadline is not None and next_time > deadline:
                self._run_clock(deadline, None)
                break
            self._run_clock(next_time, None)
        return done()

    def add_run_guard(self, guard: Any) -> None:
        """Enter `guard` (a context manager) around every run from now on; one of each type is kept."""
        if self.run_guard(type(guard)) is None:
            self._run_guards.append(guard)

    def run_guard(self, kind: type) -> Any:
        """The run guard of type `kind`, if one was added."""
        return next((g for g in self._run_guards if type(g) is kind), None)

    def _run_clock(self, until: int | None, max_events: int | None) -> int:
        """clock.run inside every run guard (they are left, in reverse, also when the run raises)."""
        guards = self._run_guards
        if not guards:
            return self.clock.run(until, max_events=max_events)
        entered = []
        try:
            for guard in guards:
                guard.__enter__()
                entered.append(guard)
            return self.clock.run(until, max_events=max_events)
        finally:
            for guard in reversed(entered):
                guard.__exit__(None, None, None)

    @staticmethod
    def _not_in_process(what: str) -> None:
        from layersim.net.engine.process import ProcessError, current_process

        if current_process() is not None:
            raise ProcessError(f"{what}() called from inside a simulated process: only the network runs the clock; "
                               "a process waits with sleep() or a blocking socket call")

    @property
    def processes(self) -> list[Any]:
        """Every process started on any host, in the order they were spawned."""
        return [p for host in self.hosts.values() for p in host.processes]

    @property
    def now(self) -> int:
        """The simulated time in nanoseconds."""
        return self.clock.now

    # Captures ------------------------------------------------------------------------------------------
    def capture(self, path: str | Path, interfaces: Iterable[str] | None = None) -> CaptureSession:
        """Record frames on interfaces ("node:iface"; all by default) to a .pcapng (or one interface's .pcap)."""
        chosen = ([self.interface(name) for name in interfaces] if interfaces is not None else
                  [i for node in self.nodes.values() for i in node.interfaces.values()])
        session = CaptureSession(Path(path), chosen, self.start_ns)
        if self._tls_secrets:
            session.add_tls_secrets(b"".join(self._tls_secrets))
        self._captures.append(session)
        return session

    def _add_tls_secrets(self, lines: bytes) -> None:
        """New TLS key log lines: into every open capture now, before the records they decrypt are sent."""
        self._tls_secrets.append(lines)
        for session in self._captures:
            session.add_tls_secrets(lines)

    def close(self) -> None:
        """Write and close every capture file."""
        for session in self._captures:
            session.close()
        self._captures.clear()

    def to_html(self, path: str | Path, *, title: str | None = None, json: str | Path | None = None,
                **options: Any) -> Path:
        """Write the run's page (topology, timeline, packets, TCP ladders; see `layersim.view`) to `path`, and its
        JSON to `json` when given; `options` (max_events, max_detailed) go to `layersim.view.view_data`."""
        from layersim.view import write_html, write_json

        if json is not None:
            write_json(self, json, title=title, **options)
        return write_html(self, path, title=title, **options)

    def _repr_html_(self) -> str:
        """The run's page in Jupyter, inside an iframe (the first 20,000 events)."""
        from layersim.view import notebook_html

        return notebook_html(self, title=f"layersim network (seed {self.seed})")

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Network(seed={self.seed}, nodes={list(self.nodes)}, links={len(self.links)}, t={self.clock.now}ns)"


def _other_host(given: IPv4Interface) -> IPv4Address:
    """The first host address of the subnet that is not `given`'s."""
    for candidate in given.network.hosts():
        if candidate != given.ip:
            return candidate
    raise LayersimError(f"subnet {given.network} has no second host address")
