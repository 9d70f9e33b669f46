"""Point-to-point links: serialization at a bandwidth, propagation delay, MTU, a drop-tail queue, seeded faults.

Frames carry no FCS bytes (as in a capture), but the link keeps Ethernet's promise: a frame it corrupts is, by
default, discarded by the receiving interface's FCS check (DropReason.BAD_FCS), as a real NIC does with a
CRC-32 mismatch (IEEE 802.3 §3.2.9). `Faults(corrupt_fcs="pass")` delivers the damaged frame instead, as if the
damage had happened before the FCS was computed, so the IPv4, TCP and UDP checksums are the only defence.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layersim.errors import LayersimError
from layersim.net.engine.clock import Clock
from layersim.net.trace.log import DropReason, EventKind

if TYPE_CHECKING:
    from layersim.net.engine.interface import Interface

__all__ = ["FCS_MODES", "Faults", "Link"]

FCS_MODES = ("drop", "pass")  # what the receiver's FCS check does with a frame the corrupt fault damaged


@dataclass(frozen=True, slots=True)
class Faults:
    """Per-direction fault probabilities (0 to 1): loss, duplication, reordering, one flipped bit; and whether a
    flipped frame is dropped by the receiver's FCS check ("drop", Ethernet's behaviour) or passes it ("pass")."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    corrupt: float = 0.0
    corrupt_fcs: str = "drop"

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise LayersimError(f"link fault {name}={value!r} is not a probability between 0 and 1")
        if self.corrupt_fcs not in FCS_MODES:
            raise LayersimError(f"link fault corrupt_fcs={self.corrupt_fcs!r} must be \"drop\" (the receiver's FCS "
                                "check discards a corrupted frame, as Ethernet does) or \"pass\" (the damaged frame "
                                "is delivered and only the IP/TCP/UDP checksums can catch it)")


class _Direction:
    """The sending side of one direction: when the wire is free and what waits in the queue."""

    __slots__ = ("busy_until", "departures", "faults", "faulty", "on_frame", "receiver", "rng")

    def __init__(self, faults: Faults, rng: random.Random, receiver: Interface) -> None:
        self.busy_until = 0
        self.departures: deque[int] = deque()  # when each queued frame has left the wire (the last one sending)
        self.faults = faults
        self.faulty = bool(faults.loss or faults.duplicate or faults.reorder or faults.corrupt)
        self.rng = rng
        self.receiver = receiver
        self.on_frame = receiver.node.on_frame  # where a frame goes when nobody captures at the receiver


class Link:
    """A full-duplex point-to-point link between two interfaces."""

    def __init__(self, a: Interface, b: Interface, *, delay_ns: int, bandwidth_bps: int, mtu: int = 1500,
                 queue_limit: int = 100, faults: Faults | None = None, faults_ba: Faults | None = None,
                 rng: random.Random, clock: Clock) -> None:
        if a.link is not None or b.link is not None:
            used = a if a.link is not None else b
            raise LayersimError(f"interface {used.full_name} is already linked")
        if mtu < 68:
            raise LayersimError(f"link MTU {mtu} is below IPv4's minimum of 68 bytes")
        if queue_limit < 1:
            raise LayersimError(f"link queue limit {queue_limit} must be at least 1 frame")
        self.a, self.b = a, b
        self.frames = 0  # frames put on the wire (both directions), lost ones included: the link's packet-hops
        self.delay_ns = delay_ns
        self.bandwidth_bps = bandwidth_bps
        self.mtu = mtu
        self.queue_limit = queue_limit
        forward = faults or Faults()
        self.clock = clock
        self._ab = _Direction(forward, random.Random(rng.getrandbits(64)), b)
        self._ba = _Direction(faults_ba or forward, random.Random(rng.getrandbits(64)), a)
        a.link = self
        b.link = self

    def peer(self, interface: Interface) -> Interface:
        """The interface at the other end."""
        return self.b if interface is self.a else self.a

    def serialization_ns(self, size: int) -> int:
        """Time to put `size` bytes on the wire at this link's bandwidth (rounded up)."""
        return -(-size * 8 * 1_000_000_000 // self.bandwidth_bps)

    def transmit(self, sender: Interface, frame: bytes, packet_id: int | None = None,
                 checksum_unnecessary: bool = False) -> None:
        """Queue a frame from `sender` for the other end; drops are traced with their reason.

        `checksum_unnecessary` travels with the frame to the receiving node, unless the link flips a bit in it.
        """
        clock = self.clock
        now = clock.now
        direction = self._ab if sender is self.a else self._ba
        if len(frame) - 14 > self.mtu:
            sender.node.drop(sender, frame, DropReason.MTU_EXCEEDED, packet_id, mtu=self.mtu)
            return
        departures = direction.departures
        busy = direction.busy_until
        if busy <= now:  # the wire is idle: every queued frame has left
            if departures:
                departures.clear()
            busy = now
        else:
            while departures[0] <= now:  # the last departure is `busy`, still ahead: the loop stops there
                departures.popleft()
            if len(departures) >= self.queue_limit:
                sender.node.drop(sender, frame, DropReason.QUEUE_FULL, packet_id, queued=len(departures))
                return
        self.frames += 1
        depart = busy - (-len(frame) * 8_000_000_000 // self.bandwidth_bps)
        direction.busy_until = depart
        departures.append(depart)
        if not direction.faulty:
            receiver = direction.receiver
            if receiver.taps:
                clock.schedule(depart + self.delay_ns, receiver.deliver, frame, packet_id, checksum_unnecessary)
            else:  # nobody captures there: straight to the node (a capture started later sees later frames)
                clock.schedule(depart + self.delay_ns, direction.on_frame, receiver, frame, packet_id,
                               checksum_unnecessary)
            return
        node = sender.node
        faults, rng = direction.faults, direction.rng
        if faults.loss and rng.random() < faults.loss:
            node.drop(sender, frame, DropReason.LINK_LOSS, packet_id)
            return
        arrive = depart + self.delay_ns
        receiver = direction.receiver
        deliver = receiver.deliver
        if faults.corrupt and rng.random() < faults.corrupt:
            bit = rng.randrange(len(frame) * 8)
            damaged = bytearray(frame)
            damaged[bit // 8] ^= 0x80 >> (bit % 8)
            frame = bytes(damaged)
            checksum_unnecessary = False  # with "pass", the receiver must find the damage (or miss it)
            node.event(EventKind.LINK, sender, frame, packet_id, ("corrupt", bit))
            if faults.corrupt_fcs == "drop":  # one flipped bit always changes the CRC-32 (IEEE 802.3 §3.2.9)
                deliver = receiver.discard_bad_fcs
        if faults.reorder and rng.random() < faults.reorder:
            arrive += self.delay_ns + self.serialization_ns(len(frame)) * 2
            node.event(EventKind.LINK, sender, frame, packet_id, ("reorder", None, arrive))
        clock.schedule(arrive, deliver, frame, packet_id, checksum_unnecessary)
        if faults.duplicate and rng.random() < faults.duplicate:
            node.event(EventKind.LINK, sender, frame, packet_id, ("duplicate",))
            clock.schedule(arrive + self.serialization_ns(len(frame)), deliver, frame, packet_id,
                           checksum_unnecessary)

    def __repr__(self) -> str:
        return (f"Link({self.a.full_name} <-> {self.b.full_name}, delay={self.delay_ns}ns, "
                f"bandwidth={self.bandwidth_bps}bit/s, mtu={self.mtu})")
