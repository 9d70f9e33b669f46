"""Neighbour discovery's neighbour cache (RFC 4861 §7.3) with Linux's NUD states and timers.

Protocol logic without I/O: the owner calls `resolve` when it has a packet for a next hop, `receive_na` /
`receive_ns` when an advertisement or solicitation arrives, `confirm` when an upper layer sees the neighbour is
alive (TCP's forward progress, Linux's neigh_confirm), and `on_timer` when the deadline an answer named is due.
Each returns an `NdResult`: solicitations to send, packets now sendable with their MAC, packets that failed (the
owner answers each with ICMPv6 Address Unreachable, RFC 4861 §7.2.2), and the entry's next deadline.

Which state follows which is the table `TRANSITIONS` ({state: {event: next state}}), as in h11: the code works
out the event, the table decides, and a picture can be drawn from the same data. The states and defaults are
Linux's (include/net/neighbour.h NUD_*, net/ipv6/ndisc.c nd_tbl parameters); Linux's periodic garbage collection
and its re-drawing of the reachable time every 300 s are left out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv6Address
from typing import Any

from layersim.errors import LayersimError
from layersim.wire.addresses import MAC

__all__ = ["TRANSITIONS", "NdEvent", "NdResult", "Neighbour", "NeighbourCache", "NudState", "Solicit",
           "reachable_time"]


class NudState(StrEnum):
    """Neighbour unreachability detection states (RFC 4861 §7.3.2; Linux's NUD_* names)."""

    INCOMPLETE = "INCOMPLETE"  # address resolution under way: multicast solicitations, packets queued
    REACHABLE = "REACHABLE"  # confirmed within the reachable time
    STALE = "STALE"  # not confirmed lately; nothing is done until a packet is sent
    DELAY = "DELAY"  # a packet went out to a stale neighbour: wait for upper layers to confirm it
    PROBE = "PROBE"  # no confirmation came: unicast solicitations
    FAILED = "FAILED"  # no answer: packets to it fail with Address Unreachable


class NdEvent(StrEnum):
    """What happened to a neighbour entry, as the transition table names it."""

    SEND = "send"  # a packet is to go to this neighbour
    SOLICITED_NA = "solicited NA"  # an advertisement answering our solicitation (S flag set)
    UNSOLICITED_NA = "unsolicited NA"  # an advertisement that changes the link-layer address (or S clear)
    CONFLICTING_NA = "conflicting NA"  # O flag clear and a different address: keep the old one (§7.2.5)
    NS_WITH_LLADDR = "NS with new lladdr"  # a solicitation from it carrying a new link-layer address (§7.2.3)
    REACHABLE_EXPIRED = "reachable time passed"
    DELAY_CONFIRMED = "confirmed during delay"
    DELAY_EXPIRED = "delay passed unconfirmed"
    RETRANSMIT = "retransmit timer, tries left"
    GIVE_UP = "retransmit timer, no tries left"


S, E = NudState, NdEvent
# {state: {event: next state}}; an event missing for a state leaves the state as it is
TRANSITIONS: dict[NudState, dict[NdEvent, NudState]] = {
    S.INCOMPLETE: {E.SOLICITED_NA: S.REACHABLE, E.UNSOLICITED_NA: S.STALE, E.NS_WITH_LLADDR: S.STALE,
                   E.GIVE_UP: S.FAILED},
    S.REACHABLE: {E.REACHABLE_EXPIRED: S.STALE, E.UNSOLICITED_NA: S.STALE, E.CONFLICTING_NA: S.STALE,
                  E.NS_WITH_LLADDR: S.STALE},
    S.STALE: {E.SEND: S.DELAY, E.SOLICITED_NA: S.REACHABLE},
    S.DELAY: {E.SOLICITED_NA: S.REACHABLE, E.DELAY_CONFIRMED: S.REACHABLE, E.DELAY_EXPIRED: S.PROBE,
              E.UNSOLICITED_NA: S.STALE, E.NS_WITH_LLADDR: S.STALE},
    S.PROBE: {E.SOLICITED_NA: S.REACHABLE, E.GIVE_UP: S.FAILED, E.UNSOLICITED_NA: S.STALE,
              E.NS_WITH_LLADDR: S.STALE},
    S.FAILED: {E.SEND: S.INCOMPLETE, E.SOLICITED_NA: S.REACHABLE, E.UNSOLICITED_NA: S.STALE,
               E.NS_WITH_LLADDR: S.STALE},
}


def reachable_time(base_ns: int, rng: random.Random) -> int:
    """A reachable time drawn uniformly from 0.5 to 1.5 times the base (RFC 4861 §6.3.2; Linux's
    neigh_rand_reach_time: base/2 plus a random value below base)."""
    return (base_ns >> 1) + rng.randrange(base_ns) if base_ns > 0 else 0


@dataclass(frozen=True, slots=True)
class Solicit:
    """A Neighbor Solicitation to send: multicast to the target's solicited-node group when `mac` is None,
    else unicast to `mac` (a probe of a known neighbour, RFC 4861 §7.3.3)."""

    target: IPv6Address
    interface: str
    mac: MAC | None = None
    attempt: int = 1


@dataclass(slots=True)
class NdResult:
    """What the owner must do after a call: send solicitations, send or fail packets, set a timer."""

    solicits: list[Solicit] = field(default_factory=list)
    send: list[tuple[Any, MAC]] = field(default_factory=list)  # (packet, the neighbour's MAC)
    failed: list[Any] = field(default_factory=list)  # packets to answer with ICMPv6 Address Unreachable
    queued: bool = False  # `resolve` kept the packet until the neighbour answers
    dropped: bool = False  # `resolve` had no room for the packet (the queue is full)
    deadline: int | None = None  # call on_timer(target, deadline) then


@dataclass(slots=True)
class Neighbour:
    """One neighbour cache entry."""

    interface: str
    state: NudState = NudState.INCOMPLETE
    mac: MAC | None = None
    confirmed: int = 0  # last time reachability was confirmed
    updated: int = 0  # last time the state changed
    probes: int = 0  # solicitations sent in this INCOMPLETE or PROBE phase
    deadline: int | None = None  # the pending timer; a timer due at another time is stale and ignored
    queue: list[Any] = field(default_factory=list)


class NeighbourCache:
    """IPv6 neighbours of one node, resolved and watched as Linux does (defaults from net/ipv6/ndisc.c)."""

    def __init__(self, rng: random.Random, *, base_reachable_ns: int = 30_000_000_000,
                 retrans_ns: int = 1_000_000_000, delay_first_probe_ns: int = 5_000_000_000,
                 mcast_solicit: int = 3, ucast_solicit: int = 3, queue_limit: int = 100) -> None:
        """`rng`: the node's seeded generator, which draws the reachable time."""
        if min(base_reachable_ns, retrans_ns, delay_first_probe_ns) <= 0 or min(mcast_solicit, ucast_solicit) < 1:
            raise LayersimError("neighbour cache: times must be positive and solicitation counts at least 1")
        self.base_reachable_ns = base_reachable_ns
        self.reachable_ns = reachable_time(base_reachable_ns, rng)
        self.retrans_ns = retrans_ns
        self.delay_first_probe_ns = delay_first_probe_ns
        self.mcast_solicit = mcast_solicit
        self.ucast_solicit = ucast_solicit
        self.queue_limit = queue_limit
        self.entries: dict[IPv6Address, Neighbour] = {}

    def _move(self, entry: Neighbour, event: NdEvent, now: int) -> NudState:
        """Apply `event` by the table; returns the new state."""
        new = TRANSITIONS[entry.state].get(event, entry.state)
        if new is not entry.state:
            entry.state, entry.updated = new, now
        return new

    # Sending ------------------------------------------------------------------------------------------
    def resolve(self, target: IPv6Address, interface: str, packet: Any, now: int) -> NdResult:
        """A packet is to go to neighbour `target` on `interface`: send it, queue it, or start resolution."""
        entry = self.entries.get(target)
        if entry is not None and entry.state is NudState.REACHABLE and now >= entry.confirmed + self.reachable_ns:
            self._move(entry, NdEvent.REACHABLE_EXPIRED, now)  # Linux notices this in its timer; same outcome
        if entry is None or entry.state is NudState.FAILED:  # RFC 4861 §7.2.2: create INCOMPLETE, ask
            entry = self.entries[target] = Neighbour(interface, updated=now)
            return self._solicit(target, entry, now, NdResult(queued=True), packet)
        if entry.state is NudState.INCOMPLETE:
            if len(entry.queue) >= self.queue_limit:
                return NdResult(dropped=True)
            entry.queue.append(packet)
            return NdResult(queued=True)
        assert entry.mac is not None
        result = NdResult(send=[(packet, entry.mac)])
        if entry.state is NudState.STALE:  # RFC 4861 §7.3.3: first send to a stale neighbour starts DELAY
            self._move(entry, NdEvent.SEND, now)
            entry.deadline = result.deadline = now + self.delay_first_probe_ns
        return result

    def _solicit(self, target: IPv6Address, entry: Neighbour, now: int, result: NdResult,
                 packet: Any = None) -> NdResult:
        """Send the next solicitation (multicast while INCOMPLETE, unicast in PROBE) and arm the retransmit timer."""
        if packet is not None:
            entry.queue.append(packet)
        entry.probes += 1
        mac = entry.mac if entry.state is NudState.PROBE else None
        result.solicits.append(Solicit(target, entry.interface, mac, entry.probes))
        entry.deadline = result.deadline = now + self.retrans_ns
        return result

    # Receiving ----------------------------------------------------------------------------------------
    def receive_na(self, target: IPv6Address, mac: MAC | None, *, solicited: bool, override: bool,
                   now: int) -> NdResult:
        """A Neighbor Advertisement for `target` arrived (`mac`: its target link-layer address option)."""
        entry = self.entries.get(target)
        if entry is None:  # RFC 4861 §7.2.5: no entry, no new one for an advertisement
            return NdResult()
        if entry.state in (NudState.INCOMPLETE, NudState.FAILED):  # no address known that could conflict
            if mac is None:  # §7.2.5: no target link-layer address while INCOMPLETE: discard
                return NdResult()
            entry.mac = mac
            event = NdEvent.SOLICITED_NA if solicited else NdEvent.UNSOLICITED_NA
        elif not override and mac is not None and mac != entry.mac:
            event = NdEvent.CONFLICTING_NA  # keep the address; a REACHABLE entry is no longer trusted
            if entry.state is not NudState.REACHABLE:
                return NdResult()
        else:
            changed = mac is not None and mac != entry.mac
            if mac is not None:
                entry.mac = mac
            if solicited:
                event = NdEvent.SOLICITED_NA
            elif changed:
                event = NdEvent.UNSOLICITED_NA
            else:
                return NdResult()  # an unsolicited advertisement with nothing new changes nothing
        return self._after(target, entry, event, now)

    def receive_ns(self, source: IPv6Address, mac: MAC | None, interface: str, now: int) -> NdResult:
        """A Neighbor Solicitation from `source` with source link-layer address `mac` arrived (RFC 4861 §7.2.3):
        a new or different address is recorded as STALE. A solicitation from :: (DAD) changes nothing."""
        if mac is None or source.is_unspecified:
            return NdResult()
        entry = self.entries.get(source)
        if entry is None:
            entry = self.entries[source] = Neighbour(interface, NudState.STALE, mac, updated=now)
            return NdResult()
        if entry.mac == mac and entry.state not in (NudState.INCOMPLETE, NudState.FAILED):
            return NdResult()
        entry.mac = mac
        return self._after(source, entry, NdEvent.NS_WITH_LLADDR, now)

    def confirm(self, target: IPv6Address, now: int) -> None:
        """An upper layer saw `target` answer (RFC 4861 §7.3.1). As Linux's neigh_confirm, this only stamps the
        time: a REACHABLE entry's timer and a DELAY entry's timer find it (RFC 4861 would move any state to
        REACHABLE at once; Linux leaves STALE and PROBE as they are)."""
        entry = self.entries.get(target)
        if entry is not None and entry.mac is not None:
            entry.confirmed = now

    def _after(self, target: IPv6Address, entry: Neighbour, event: NdEvent, now: int) -> NdResult:
        """Apply an event that may make the entry usable: flush the queue, arm or clear the timer."""
        state = self._move(entry, event, now)
        result = NdResult()
        if state is NudState.REACHABLE:
            entry.confirmed = now
            entry.deadline = result.deadline = now + self.reachable_ns
        elif state is NudState.STALE:
            entry.deadline = None
        if state in (NudState.REACHABLE, NudState.STALE):
            entry.probes = 0
            assert entry.mac is not None
            result.send = [(packet, entry.mac) for packet in entry.queue]
            entry.queue = []
        return result

    # Timers -------------------------------------------------------------------------------------------
    def on_timer(self, target: IPv6Address, now: int) -> NdResult:
        """The deadline a result named is due (Linux's neigh_timer_handler); a deadline no longer pending is
        ignored."""
        entry = self.entries.get(target)
        if entry is None or entry.deadline is None or now < entry.deadline:
            return NdResult()
        entry.deadline = None
        state = entry.state
        if state is NudState.REACHABLE:
            if now < entry.confirmed + self.reachable_ns:  # confirmed meanwhile: wait for the new expiry
                entry.deadline = entry.confirmed + self.reachable_ns
                return NdResult(deadline=entry.deadline)
            self._move(entry, NdEvent.REACHABLE_EXPIRED, now)
            return NdResult()
        if state is NudState.DELAY:
            if now <= entry.confirmed + self.delay_first_probe_ns:  # neigh_timer_handler: confirmed in time
                return self._after(target, entry, NdEvent.DELAY_CONFIRMED, now)
            self._move(entry, NdEvent.DELAY_EXPIRED, now)
            entry.probes = 0
            return self._solicit(target, entry, now, NdResult())
        if state in (NudState.INCOMPLETE, NudState.PROBE):
            tries = self.mcast_solicit if state is NudState.INCOMPLETE else self.ucast_solicit
            if entry.probes < tries:
                return self._solicit(target, entry, now, NdResult())
            self._move(entry, NdEvent.GIVE_UP, now)
            failed, entry.queue, entry.probes = entry.queue, [], 0
            return NdResult(failed=failed)
        return NdResult()

    def state(self, target: IPv6Address) -> NudState | None:
        """The entry's state, or None when there is no entry."""
        entry = self.entries.get(target)
        return None if entry is None else entry.state

    def __str__(self) -> str:
        """The cache as `ip -6 neigh` prints it."""
        lines = []
        for address, entry in sorted(self.entries.items()):
            lladdr = f" lladdr {entry.mac}" if entry.mac is not None and entry.state is not NudState.FAILED else ""
            lines.append(f"{address} dev {entry.interface}{lladdr} {entry.state}")
        return "\n".join(lines)
