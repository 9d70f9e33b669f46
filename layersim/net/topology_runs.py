"""The [[run]] tables of a topology file: which application runs where, when, with which options (checked now)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from layersim.errors import LayersimError
from layersim.net.host.host import Host
from layersim.net.ipv4.node import IPNode
from layersim.net.network import Network
from layersim.net.topology_table import REQUIRED, Table, TopologyError

__all__ = ["MAX_PING_COUNT", "RUN_KINDS", "SERVER_KINDS", "RunSpec", "RunTables"]

MAX_PING_COUNT = 100_000  # sequence numbers wrap at 65536, as iputils ping's do
RUN_KINDS = ("ping", "traceroute", "udp", "script", "http_server", "https_server", "dns_server", "http_get", "bulk")
SERVER_KINDS = ("script", "http_server", "https_server", "dns_server")  # placed with `on` (a host) rather than from/to
BULK_PORT = 5001  # iperf2's default port
_RUN_COMMON = ("kind", "from", "to", "at")
_RUN_KEYS = {"ping": ("count", "interval", "timeout", "size", "ttl"),
             "traceroute": ("max_hops", "probes", "timeout"),
             "udp": ("port", "data", "sport", "ttl", "listen"),
             "script": ("on", "path", "args"),
             "http_server": ("on", "port", "root", "body"),
             "https_server": ("on", "port", "root", "body", "names"),
             "dns_server": ("on", "port", "zone"),
             "http_get": ("port", "path", "timeout"),
             "bulk": ("port", "bytes", "timeout")}


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One [[run]] table: which application, from which host, to which address, when, with which options."""

    index: int  # position among the [[run]] tables, from 1
    kind: str
    source: str  # the host it runs on (`from`, or `on` for a script or a server)
    target: str  # `to` as written; a script's path; a server's root, body or zone
    address: IPv4Address | None  # None for a script or a server
    at_ns: int
    options: dict[str, Any] = field(default_factory=dict)  # kind-specific, durations in ns


class RunTables:
    """Reads [[run]] tables against a built network (`source` is the file, for messages and relative paths)."""

    def __init__(self, network: Network, source: str) -> None:
        self.network = network
        self.source = source

    def _host(self, table: Table, key: str, what: str) -> Host:
        name = table.get(key, str)
        if name not in self.network.nodes:
            raise table.error(key, f"unknown node {name!r} (nodes: {', '.join(self.network.nodes) or 'none'})")
        node = self.network.nodes[name]
        if not isinstance(node, Host):
            raise table.error(key, f"{node.name} is a {node.kind}; {what} run on hosts")
        return node

    def _file(self, table: Table, key: str, text: str, directory: bool = False) -> Path:
        """A path relative to the topology file (or absolute) that must exist."""
        path = Path(text) if Path(text).is_absolute() else Path(self.source).parent / text
        if not (path.is_dir() if directory else path.is_file()):
            raise table.error(key, f"no such {'directory' if directory else 'file'} {text!r} (looked for {path})")
        return path

    def run(self, where: str, data: Any, number: int) -> RunSpec:
        """[[run]]: an application to start, with its options checked now rather than mid-simulation."""
        kind = data.get("kind") if isinstance(data, dict) else None
        if isinstance(kind, str) and kind not in RUN_KINDS:  # name a misspelled kind before anything it holds
            close = difflib.get_close_matches(kind, RUN_KINDS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use {', '.join(RUN_KINDS)}"
            raise TopologyError(f"{where}: kind: unknown run kind {kind!r} ({hint})")
        extra = _RUN_KEYS.get(kind, ()) if isinstance(kind, str) else ()
        for key in data if extra else ():
            if key not in extra and key not in _RUN_COMMON and any(key in keys for keys in _RUN_KEYS.values()):
                raise TopologyError(f"{where}: {key}: not an option of a {kind} run (it has {', '.join(extra)})")
        if kind in SERVER_KINDS:
            return self._on_host(Table(where, data, ("kind", "at", *extra)), kind, number)
        table = Table(where, data, (*_RUN_COMMON, *extra))
        kind = table.get("kind", str)
        if kind not in RUN_KINDS:
            raise table.error("kind", f"unknown run kind {kind!r} (use {', '.join(RUN_KINDS)})")
        host = self._host(table, "from", "applications")
        target = table.get("to", str)
        address, owner = self._target(table, target)
        at_ns = table.duration("at", "0s")
        if kind == "ping":
            options = dict(count=table.integer("count", 3, 1, MAX_PING_COUNT),
                           interval_ns=table.duration("interval", "1s", positive=True),
                           timeout_ns=table.duration("timeout", "1s", positive=True),
                           size=table.integer("size", 56, 16, 65507), ttl=table.integer("ttl", 64, 1, 255))
        elif kind == "traceroute":
            options = dict(max_hops=table.integer("max_hops", 30, 1, 255),
                           probes=table.integer("probes", 3, 1, 10),
                           timeout_ns=table.duration("timeout", "5s", positive=True))
        elif kind == "http_get":
            path = table.get("path", str, "/")
            if not path.startswith("/"):
                raise table.error("path", f"{path!r} must start with '/' (the path part of the URL)")
            options = dict(port=table.integer("port", 80, 1, 65535), path=path,
                           timeout_ns=table.duration("timeout", "30s", positive=True))
        elif kind == "bulk":
            if not isinstance(owner, Host):
                raise table.error("to", f"{target} is not a host's address: a bulk transfer needs a host to receive")
            options = dict(port=table.integer("port", BULK_PORT, 1, 65535),
                           bytes=table.integer("bytes", 1_000_000, 1, 1 << 34),
                           timeout_ns=table.duration("timeout", "600s", positive=True), listen=owner.name)
        else:
            listen = table.get("listen", bool, isinstance(owner, Host))
            if listen and not isinstance(owner, Host):
                raise table.error("listen", f"{target} is not a host's address, so nothing can listen there")
            sport = table.get("sport", int, None)
            if sport is not None:
                sport = table.integer("sport", None, 1, 65535)
            options = dict(port=table.integer("port", REQUIRED, 1, 65535), data=table.get("data", str, "hello"),
                           sport=sport, ttl=table.integer("ttl", 64, 1, 255),
                           listen=owner.name if listen else None)
        return RunSpec(number, kind, host.name, target, address, at_ns, options)

    def _on_host(self, table: Table, kind: str, number: int) -> RunSpec:
        """A script or a server: placed on a host with `on`, no `to`."""
        what = "scripts" if kind == "script" else "servers"
        host = self._host(table, "on", what)
        at_ns = table.duration("at", "0s")
        if kind == "script":
            text = table.get("path", str)
            path = self._file(table, "path", text)
            args = table.get("args", list, [])
            if not all(isinstance(arg, str | int | float) for arg in args):
                raise table.error("args", "expected an array of strings or numbers (the script's sys.argv[1:])")
            return RunSpec(number, kind, host.name, text, None, at_ns, {"path": str(path),
                                                                         "args": [str(a) for a in args]})
        if kind in ("http_server", "https_server"):
            root, body = table.get("root", str, None), table.get("body", str, None)
            if (root is None) == (body is None):
                raise table.error("root" if root is not None else None,
                                  "give one of root (a directory to serve) or body (the text every path answers)")
            options = dict(port=table.integer("port", 443 if kind == "https_server" else 80, 1, 65535), body=body,
                           root=None if root is None else str(self._file(table, "root", root, directory=True)))
            if kind == "https_server":  # the certificate's names (the network's CA issues it): the host's by default
                names = table.get("names", list, [host.name, *(str(i.address.ip) for i in host.interfaces.values()
                                                               if i.address is not None)])
                if not names or not all(isinstance(name, str) and name for name in names):
                    raise table.error("names", "expected a non-empty array of DNS names or addresses")
                options["names"] = names
            target = root if root is not None else f"(a {len((body or '').encode())}-byte body)"
            return RunSpec(number, kind, host.name, target, None, at_ns, options)
        zone = self._zone(table)
        return RunSpec(number, kind, host.name, zone.origin, None, at_ns,
                       {"port": table.integer("port", 53, 1, 65535), "zone": zone})

    def _zone(self, table: Table) -> Any:
        """dns_server's `zone`: a TOML zone file (relative to this file) or an inline table (layersim.dns.zone)."""
        from layersim.dns.zone import Zone

        value = table.get("zone", (str, dict))
        try:
            if isinstance(value, dict):
                return Zone.from_dict(value)
            return Zone.from_toml(self._file(table, "zone", value).read_text(encoding="utf-8"))
        except (LayersimError, OSError) as exc:
            raise table.error("zone", str(exc)) from None

    def _target(self, table: Table, text: str) -> tuple[IPv4Address, Any]:
        """`to`: an address (and the node owning it, if any), or a node name meaning its first address."""
        try:
            address = IPv4Address(text)
        except ValueError:
            address = None
        if address is not None:
            owner = next((n for n in self.network.nodes.values() if isinstance(n, IPNode) and address in n.addresses),
                         None)
            return address, owner
        if text not in self.network.nodes:
            raise table.error("to", f"{text!r} is neither an IPv4 address nor a node "
                              f"(nodes: {', '.join(self.network.nodes)})")
        node = self.network.nodes[text]
        first = first_address(node)
        if first is None:
            raise table.error("to", f"node {text!r} has no IPv4 address")
        return first, node


def first_address(node: Any) -> IPv4Address | None:
    """A node's first IPv4 address in interface order (what a node name in `to` or in /etc/hosts stands for)."""
    return next((i.address.ip for i in node.interfaces.values() if i.address is not None), None)
