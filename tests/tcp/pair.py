"""tcp_pair(): a client and a server Connection joined by a scripted in-memory link on one fake clock."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from layersim.tcp import LINUX, Connection, Listener, Profile, Segment
from layersim.wire import IPv4, IPv4Flags, decode
from layersim.wire.tcp import TCP

CLIENT = (0x0A000001, 40000)  # 10.0.0.1:40000
SERVER = (0x0A000002, 80)     # 10.0.0.2:80
MS = 1_000_000

# A rule sees every segment put on the link: (direction "c>s" or "s>c", index of that direction's segment,
# segment) and returns None (deliver), "drop", "dup", or ("delay", extra_ns).
Rule = Callable[[str, int, Segment], object]


@dataclass
class Sent:
    """One segment put on the link: when, which way, and what the link did with it."""

    time: int
    direction: str
    segment: Segment
    fate: str = "sent"

    @property
    def flags(self) -> str:
        """Flags as letters in tcpdump's order (S, F, R, P, ., E...)."""
        f = int(self.segment.tcp.flags)
        return "".join(c for bit, c in ((2, "S"), (1, "F"), (4, "R"), (8, "P")) if f & bit) + ("." if f & 16 else "")


@dataclass
class TCPPair:
    """Two endpoints and the link between them; time advances only through `step`/`run`."""

    client_profile: Profile = LINUX
    server_profile: Profile = LINUX
    mss: int = 1460
    server_mss: int | None = None
    delay_ns: int = 5 * MS
    client_iss: int = 1000
    server_iss: int = 5000
    rules: list[Rule] = field(default_factory=list)
    wire: bool = False  # send every segment through real IPv4/TCP bytes and decode it back
    client_kwargs: dict = field(default_factory=dict)
    server_kwargs: dict = field(default_factory=dict)
    now: int = 0

    def __post_init__(self) -> None:
        self.listener = Listener(SERVER, profile=self.server_profile, mss=self.server_mss or self.mss,
                                 **self.server_kwargs)
        self.client: Connection | None = None
        self.server: Connection | None = None
        self.log: list[Sent] = []
        self._queue: list[tuple[int, int, str, Segment]] = []
        self._n = 0
        self._count = {"c>s": 0, "s>c": 0}
        self.events: list = []

    # Link -------------------------------------------------------------------------------------------------
    def transmit(self, direction: str, segments: list[Segment]) -> None:
        """Put segments on the link, applying the rules."""
        for seg in segments:
            index = self._count[direction]
            self._count[direction] += 1
            entry = Sent(self.now, direction, seg)
            self.log.append(entry)
            at = self.now + self.delay_ns
            copies = 1
            for rule in self.rules:
                action = rule(direction, index, seg)
                if action == "drop":
                    copies = 0
                elif action == "dup":
                    copies = 2
                elif isinstance(action, tuple) and action[0] == "delay":
                    at += action[1]
            if copies == 0:
                entry.fate = "dropped"
            for _ in range(copies):
                self._n += 1
                heapq.heappush(self._queue, (at, self._n, direction, seg))

    def _decode(self, direction: str, seg: Segment) -> tuple[TCP, bytes]:
        if not self.wire:
            return seg.tcp, seg.payload
        src, dst = (CLIENT, SERVER) if direction == "c>s" else (SERVER, CLIENT)
        ip = IPv4(src=src[0], dst=dst[0], flags=IPv4Flags.DF if seg.df else IPv4Flags(0),
                  identification=0 if seg.ip_id_zero else 1)
        packet = decode((ip / seg.tcp / seg.payload).encode(), first=IPv4)
        tcp = packet[TCP]
        assert tcp.checksum_ok
        return tcp, packet.payload_of(TCP)

    def _deliver(self, direction: str, seg: Segment) -> None:
        tcp, payload = self._decode(direction, seg)
        if direction == "s>c":
            assert self.client is not None
            self.transmit("c>s", self.client.receive(tcp, payload, self.now))
        elif self.server is None or (self.server.finished and int(tcp.flags) & 2):
            conn, out = self.listener.receive(tcp, payload, CLIENT, self.now, iss=self.server_iss)
            if conn is not None:
                self.server = conn
            self.transmit("s>c", out)
        else:
            self.transmit("s>c", self.server.receive(tcp, payload, self.now))

    # Clock ------------------------------------------------------------------------------------------------
    def _next_time(self) -> int | None:
        times = [self._queue[0][0]] if self._queue else []
        for conn in (self.client, self.server):
            if conn is not None:
                deadline = conn.next_deadline()
                if deadline is not None:
                    times.append(deadline)
        return min(times) if times else None

    def step(self) -> bool:
        """Advance to the next delivery or timer and process it; False when nothing is pending."""
        at = self._next_time()
        if at is None:
            return False
        self.now = max(self.now, at)
        if self._queue and self._queue[0][0] <= self.now:
            _, _, direction, seg = heapq.heappop(self._queue)
            self._deliver(direction, seg)
        else:
            for conn, direction in ((self.client, "c>s"), (self.server, "s>c")):
                if conn is not None:
                    deadline = conn.next_deadline()
                    if deadline is not None and deadline <= self.now:
                        self.transmit(direction, conn.on_timer(self.now))
        self._collect()
        return True

    def _collect(self) -> None:
        for conn in (self.client, self.server):
            if conn is not None:
                self.events.extend(conn.drain_events())

    def run(self, until: int | None = None, max_steps: int = 1_000_000,
            stop: Callable[[], bool] | None = None) -> None:
        """Step until nothing is pending, `until` (ns) is reached, or `stop()` says so."""
        for _ in range(max_steps):
            if stop is not None and stop():
                return
            at = self._next_time()
            if at is None or (until is not None and at > until):
                if until is not None:
                    self.now = max(self.now, until)
                return
            self.step()
        raise AssertionError(f"still running after {max_steps} steps")

    def run_for(self, ns: int) -> None:
        """Run `ns` of simulated time."""
        self.run(until=self.now + ns)

    # Conveniences -------------------------------------------------------------------------------------
    def open(self, *, establish: bool = True) -> TCPPair:
        """Client connects; with `establish`, run until both ends are ESTABLISHED."""
        self.client, syn = Connection.connect(CLIENT, SERVER, iss=self.client_iss, mss=self.mss, now=self.now,
                                              profile=self.client_profile, **self.client_kwargs)
        self.transmit("c>s", syn)
        self._collect()
        if establish:
            from layersim.tcp import State

            self.run(stop=lambda: self.server is not None and self.client.state is State.ESTABLISHED
                     and self.server.state is State.ESTABLISHED)
        return self

    def send(self, side: str, data: bytes) -> int:
        """Application write on 'c' or 's'."""
        conn = self.client if side == "c" else self.server
        assert conn is not None
        n, out = conn.send(data, self.now)
        self.transmit("c>s" if side == "c" else "s>c", out)
        return n

    def recv(self, side: str, n: int = 1 << 30) -> bytes:
        """Application read on 'c' or 's'."""
        conn = self.client if side == "c" else self.server
        assert conn is not None
        data, out = conn.recv(n, self.now)
        self.transmit("c>s" if side == "c" else "s>c", out)
        return data

    def call(self, side: str, method: str) -> None:
        """close / shutdown / abort on one side, sending what it returns."""
        conn = self.client if side == "c" else self.server
        assert conn is not None
        self.transmit("c>s" if side == "c" else "s>c", getattr(conn, method)(self.now))
        self._collect()

    def sent(self, direction: str | None = None) -> list[Sent]:
        """The log of segments put on the link, optionally one direction only."""
        return [s for s in self.log if direction is None or s.direction == direction]

    def transfer(self, c_data: bytes, s_data: bytes, *, max_steps: int = 5_000_000) -> tuple[bytes, bytes]:
        """Both sides write everything and read everything; returns (what the server read, what the client read)."""
        got_s, got_c = bytearray(), bytearray()
        sent = {"c": 0, "s": 0}
        data = {"c": c_data, "s": s_data}
        for _ in range(max_steps):
            for side in ("c", "s"):
                if sent[side] < len(data[side]):
                    sent[side] += self.send(side, data[side][sent[side]:sent[side] + 65536])
            got_s += self.recv("s")
            got_c += self.recv("c")
            if len(got_s) >= len(c_data) and len(got_c) >= len(s_data):
                return bytes(got_s), bytes(got_c)
            if not self.step():
                break
        raise AssertionError(f"transfer stalled: server got {len(got_s)}/{len(c_data)}, client got "
                             f"{len(got_c)}/{len(s_data)}; client {self.client!r} server {self.server!r}")


def lossy(rng: random.Random, loss: float = 0.0, dup: float = 0.0, reorder: float = 0.0,
          reorder_ns: int = 3 * MS) -> Rule:
    """A rule dropping, duplicating and delaying segments at random (seeded)."""
    def rule(direction: str, index: int, seg: Segment) -> object:
        r = rng.random()
        if r < loss:
            return "drop"
        if r < loss + dup:
            return "dup"
        if r < loss + dup + reorder:
            return ("delay", rng.randrange(1, reorder_ns))
        return None
    return rule


def drop_where(predicate: Callable[[str, int, Segment], bool], times: int = 1) -> Rule:
    """A rule dropping the first `times` segments the predicate matches."""
    left = [times]

    def rule(direction: str, index: int, seg: Segment) -> object:
        if left[0] > 0 and predicate(direction, index, seg):
            left[0] -= 1
            return "drop"
        return None
    return rule
