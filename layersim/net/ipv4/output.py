"""IPv4 local output (RFC 1122 §3.3, RFC 1191 path MTU): one plan of every output decision, and the packet.

`Output.plan` decides how a locally made packet leaves (route, source, IP id, DF, path MTU, hooks); `Output.send`
builds it by that plan and returns an OUTPUT action for the runtime to pass through the OUTPUT and POSTROUTING
hooks, fragment and hand to ARP. The host's fast path packs the same plan's bytes itself.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from layersim.errors import LayersimError
from layersim.net.ip.actions import EVENT, OUTPUT, Action
from layersim.net.trace.details import DropReason, EventKind
from layersim.wire.ipv4 import IPv4, IPv4Flags

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface
    from layersim.net.ip.hooks import Hooks
    from layersim.net.ip.node_routes import NodeRoutes
    from layersim.net.ipv4.pmtu import PathMtuCache
    from layersim.wire.fields import Layer
    from layersim.wire.packet import Packet

__all__ = ["LOCAL", "Output", "Plan"]

LOCAL = False  # the last item of an OUTPUT action for a locally made packet (see forward.FORWARDED)
_DROP = EventKind.DROP


class Plan:
    """Every output decision about one locally made packet (RFC 1122 §3.3, RFC 1191), made once by `Output.plan`.

    Both ways out read it: the general path (layers, hooks, fragmentation) and the host's fast path, which only
    packs the bytes of what is decided here, so the two cannot drift apart."""

    __slots__ = ("df", "hooked", "ident", "locked", "next_hop", "out", "path_mtu", "src")

    def __init__(self, out: Interface, next_hop: int, src: int, ident: int, df: bool | None, locked: bool,
                 path_mtu: int, hooked: bool) -> None:
        self.out = out
        self.next_hop = next_hop  # the neighbour to resolve: the gateway, or the destination on a connected link
        self.src = src
        self.ident = ident
        self.df = df  # the mode asked for: True "do", False "dont", None "want" (decide by the path MTU)
        self.locked = locked  # RFC 1191 §6.4: the path MTU is at its floor; "want" stops setting DF
        self.path_mtu = path_mtu
        self.hooked = hooked  # a hook must see the packet: only the general path may send it

    def df_bit(self, size: int) -> bool:
        """Whether a packet of `size` bytes leaves with Don't Fragment: "want" sets it while the packet fits the
        path MTU and discovery is not locked; otherwise the packet is fragmented here (Linux's IP_PMTUDISC_WANT)."""
        df = self.df
        return df is True or (df is None and not self.locked and size <= self.path_mtu)

    def fragment_size(self, df_bit: bool) -> int:
        """The size the packet is cut to: the link MTU with DF (too big is an error then), else the path MTU."""
        return self.out.mtu if df_bit else self.path_mtu


class Output:
    """Locally made packets: the route, the source address, the IPv4 header, DF by the path MTU discovery mode."""

    def __init__(self, routes: NodeRoutes, interfaces: dict[str, Interface],
                 pmtu: PathMtuCache | None, first_id: int, hooks: Hooks) -> None:
        self.routes = routes
        self.interfaces = interfaces
        self.pmtu = pmtu
        self.hooks = hooks
        self._next_id = first_id

    def take_ip_id(self) -> int:
        """The next IPv4 identification value of this node."""
        ident = self._next_id
        self._next_id = (ident + 1) & 0xFFFF
        return ident

    def route(self, dst: IPv4Address) -> tuple[Interface, IPv4Address] | None:
        """(outgoing interface, next hop) for `dst`, or None without a route."""
        route = self.routes.lookup_int(int(dst))
        if route is None or route.interface is None:
            return None
        return self.interfaces[route.interface], route.via or dst

    def path_mtu(self, dst: IPv4Address | int, out: Interface, now: int) -> int:
        """The MTU to size packets to `dst` by: the link's, or a smaller one learned from Frag Needed."""
        pmtu = self.pmtu
        if pmtu is None or not pmtu.entries:
            return out.mtu
        learned = pmtu.get(int(dst), now)
        return min(out.mtu, learned) if learned is not None else out.mtu

    def plan(self, dst: int, now: int, *, df: bool | None = None, src: int | None = None,
             ip_id: int | None = None) -> Plan | None:
        """Decide how a packet to `dst` leaves (None without a route): interface, next hop, source address, IP id
        (the node's counter unless `ip_id` is given), DF mode and path MTU, and whether hooks must see it."""
        route = self.routes.lookup_int(dst)
        if route is None or route.interface is None:
            return None
        out = self.interfaces[route.interface]
        if src is None:
            src = out.address_int
            if src is None:
                raise LayersimError(f"{out.full_name} has no IPv4 address to send from")
        via = route.via_int
        pmtu = self.pmtu
        if pmtu is not None and pmtu.entries:
            locked = df is None and pmtu.is_locked(dst, now)
            path_mtu = self.path_mtu(dst, out, now)
        else:
            locked, path_mtu = False, out.mtu
        return Plan(out, dst if via is None else via, src, self.take_ip_id() if ip_id is None else ip_id, df,
                    locked, path_mtu, self.hooks.installed > 0)

    def send(self, dst: IPv4Address, upper: Layer | Packet | bytes, packet_id: int | None, now: int, *,
             ttl: int = 64, df: bool | None = None, dscp: int = 0, ecn: int = 0, src: IPv4Address | None = None,
             protocol: int | None = None, ip_id: int | None = None, note: Any = None,
             plan: Plan | None = None) -> list[Action]:
        """Build and route one packet by `plan` (made here from `df`, `src` and `ip_id` when not given). `df`:
        True sets DF (path MTU discovery "do"), False never ("dont"), None sets it when the packet fits the path
        MTU and fragments it here otherwise ("want", Linux's default)."""
        if plan is None:
            plan = self.plan(int(dst), now, df=df, src=None if src is None else int(src), ip_id=ip_id)
            if plan is None:
                return [(EVENT, _DROP, None, None, packet_id, (DropReason.NO_ROUTE.value, (("dst", str(dst)),)))]
        out = plan.out
        flags = IPv4Flags.DF if plan.df_bit(0) else IPv4Flags(0)
        header = IPv4(src=IPv4Address(plan.src), dst=dst, ttl=ttl, dscp=dscp, ecn=ecn, identification=plan.ident,
                      protocol=protocol, flags=flags)
        ip_bytes = (header / upper).encode()
        if flags and not plan.df_bit(len(ip_bytes)):  # "want": too big for the path MTU, fragment here
            ip_bytes = (header.replace(flags=IPv4Flags(0)) / upper).encode()
        note = note or ("sent", out.name)
        return [(OUTPUT, out, IPv4Address(plan.next_hop), bytearray(ip_bytes), packet_id, note, None, None, LOCAL)]
