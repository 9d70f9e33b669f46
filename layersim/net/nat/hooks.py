"""NAT on a router as a hook pair: POSTROUTING out of the outside interface, PREROUTING into it.

`router.enable_nat("eth1")` masquerades everything leaving eth1 behind eth1's address, as Linux's
`iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE` does; replies coming back in on eth1 are translated back,
and unsolicited inbound traffic is dropped with DropReason.NAT_NO_MAPPING. Mappings appear in the trace (NAT
events) and in `router.nat.table()`, like `conntrack -L`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol

from layersim.errors import LayersimError
from layersim.net.ip.hooks import ACCEPT, REWRITTEN, Drop, HookPacket, HookPoint, Hooks
from layersim.net.nat.napt import Nat, NatReason, NatVerdict
from layersim.net.trace.details import DropReason, EventKind

if TYPE_CHECKING:
    from layersim.net.engine.clock import Clock, Timer
    from layersim.net.engine.interface import Interface

__all__ = ["NatBinding", "NatRouter"]


class NatRouter(Protocol):
    """What NAT needs of the router it runs on (ipv4.router.Router is one)."""

    name: str
    rng: random.Random
    clock: Clock
    hooks: Hooks

    def interface(self, name: str) -> Interface: ...

    def event(self, kind: EventKind, iface: Interface | None, frame: bytes | None = None,
              packet_id: int | None = None, values: tuple[Any, ...] = ()) -> None: ...

_REASONS = {NatReason.NO_MAPPING: DropReason.NAT_NO_MAPPING, NatReason.PORTS_EXHAUSTED: DropReason.NAT_EXHAUSTED}


class NatBinding:
    """A router's NAT: the translation object, its two hooks, the expiry timer and the trace events."""

    def __init__(self, router: NatRouter, outside: str, port_range: tuple[int, int] | None = None) -> None:
        iface = router.interface(outside)
        if iface.address is None:
            raise LayersimError(f"{router.name}: NAT on {outside} needs an address on that interface")
        self.router = router
        self.outside = iface
        self.nat = Nat(iface.address.ip, port_range=port_range, rng=random.Random(router.rng.getrandbits(64)))
        self._timer: Timer | None = None
        self._timer_at: int | None = None
        router.hooks.add(HookPoint.POSTROUTING, self.outbound, "nat-masquerade")
        router.hooks.add(HookPoint.PREROUTING, self.inbound, "nat-reply")

    def outbound(self, packet: HookPacket) -> Any:
        """POSTROUTING: translate what leaves by the outside interface."""
        if packet.out_iface is not self.outside:
            return ACCEPT
        return self._verdict(self.nat.outbound(packet.data, packet.now))

    def inbound(self, packet: HookPacket) -> Any:
        """PREROUTING: translate replies that come in by the outside interface."""
        if packet.in_iface is not self.outside:
            return ACCEPT
        return self._verdict(self.nat.inbound(packet.data, packet.now))

    def _verdict(self, result: Any) -> Any:
        self._after()
        if result.verdict is NatVerdict.TRANSLATED:
            return REWRITTEN
        if result.verdict is NatVerdict.DROP:
            return Drop(_REASONS.get(result.reason, DropReason.FILTERED), f"NAT: {result.reason}")
        return ACCEPT

    def _after(self) -> None:
        """Record mapping events and keep the expiry timer at the next deadline."""
        router = self.router
        clock = router.clock
        for event in self.nat.drain_events():
            m = event.mapping
            router.event(EventKind.NAT, self.outside, None, None,
                         (event.kind, m.protocol, f"{m.inside}:{m.inside_port}", f"{m.outside}:{m.outside_port}",
                          f"{m.remote}:{m.remote_port}"))
        deadline = self.nat.next_deadline()
        if deadline is not None and deadline != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = clock.at(max(deadline, clock.now), self._expire)
            self._timer_at = deadline

    def _expire(self) -> None:
        self._timer = None
        self._timer_at = None
        self.nat.expire(self.router.clock.now)
        self._after()

    def table(self) -> str:
        """The mappings now, like `conntrack -L`."""
        return self.nat.table(self.router.clock.now)

    def mappings(self) -> list[Any]:
        """The mappings now."""
        return self.nat.mappings()
