"""Duplicate address detection as Linux does it (RFC 4862 §5.4; net/ipv6/addrconf.c addrconf_dad_*).

An address given to an interface starts TENTATIVE: after a random delay below rtr_solicit_delay (1 s) the node
sends dad_transmits (1) Neighbor Solicitations from :: to the address's solicited-node group, then waits
retrans_time (1 s); with no answer the address becomes usable (PREFERRED). A Neighbor Advertisement for it, or
another node's solicitation for it from :: (the other is testing the same address), makes it DUPLICATE and it is
never used (Linux: "dadfailed"). Optimistic DAD (RFC 4429) is off, as in Linux's default. Sans-IO: calls take the
time and return what to send and when to call back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv6Address

__all__ = ["Dad", "DadResult", "DadState"]


class DadState(StrEnum):
    """Where an address stands in duplicate address detection (Linux's IFA_F_TENTATIVE / IFA_F_DADFAILED)."""

    TENTATIVE = "tentative"
    PREFERRED = "preferred"
    DUPLICATE = "dadfailed"


@dataclass(frozen=True, slots=True)
class DadResult:
    """What the owner must do: send a solicitation from :: for `probe`, call back at `deadline`."""

    probe: IPv6Address | None = None
    deadline: int | None = None
    state: DadState = DadState.TENTATIVE


@dataclass(slots=True)
class _Test:
    """One address under test."""

    interface: str
    left: int  # solicitations still to send
    deadline: int
    state: DadState = DadState.TENTATIVE


class Dad:
    """Duplicate address detection for the addresses of one node."""

    def __init__(self, rng: random.Random, *, transmits: int = 1, retrans_ns: int = 1_000_000_000,
                 max_delay_ns: int = 1_000_000_000) -> None:
        """`rng`: the node's seeded generator, which draws the initial delay; `transmits`: dad_transmits."""
        self.rng = rng
        self.transmits = transmits
        self.retrans_ns = retrans_ns
        self.max_delay_ns = max_delay_ns
        self.tests: dict[IPv6Address, _Test] = {}

    def start(self, address: IPv6Address, interface: str, now: int) -> DadResult:
        """Begin testing `address`; with dad_transmits 0 it is usable at once (Linux: no DAD)."""
        if self.transmits == 0:
            self.tests[address] = _Test(interface, 0, now, DadState.PREFERRED)
            return DadResult(state=DadState.PREFERRED)
        # addrconf_dad_kick: a random delay below rtr_solicit_delay before the first solicitation
        deadline = now + self.rng.randrange(max(self.max_delay_ns, 1))
        self.tests[address] = _Test(interface, self.transmits, deadline)
        return DadResult(deadline=deadline)

    def on_timer(self, address: IPv6Address, now: int) -> DadResult:
        """The callback a result asked for (addrconf_dad_work): send the next probe, or finish."""
        test = self.tests.get(address)
        if test is None or test.state is not DadState.TENTATIVE or now < test.deadline:
            return DadResult(state=self.state(address) or DadState.TENTATIVE)
        if test.left == 0:
            test.state = DadState.PREFERRED  # addrconf_dad_completed
            return DadResult(state=DadState.PREFERRED)
        test.left -= 1
        test.deadline = now + self.retrans_ns
        return DadResult(probe=address, deadline=test.deadline)

    def receive_na(self, target: IPv6Address) -> bool:
        """A Neighbor Advertisement for `target` arrived; True when it shows a tentative address is taken
        (ndisc_recv_na -> addrconf_dad_failure)."""
        return self._duplicate(target)

    def receive_ns(self, target: IPv6Address, source: IPv6Address) -> bool:
        """A Neighbor Solicitation for `target` arrived; True when it is another node's DAD for our tentative
        address (from ::; RFC 4862 §5.4.3). A solicitation for a tentative address from a real source is
        ignored (and not answered)."""
        return source.is_unspecified and self._duplicate(target)

    def _duplicate(self, target: IPv6Address) -> bool:
        test = self.tests.get(target)
        if test is None or test.state is not DadState.TENTATIVE:
            return False
        test.state = DadState.DUPLICATE
        return True

    def state(self, address: IPv6Address) -> DadState | None:
        """The address's DAD state, or None when it was never tested."""
        test = self.tests.get(address)
        return None if test is None else test.state

    def usable(self, address: IPv6Address) -> bool:
        """True when `address` may be used as a source and accepted as a destination (not tentative or failed)."""
        test = self.tests.get(address)
        return test is None or test.state is DadState.PREFERRED
