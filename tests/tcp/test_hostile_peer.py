"""A hostile-peer campaign: seeded forged segments of every kind (any flags, sequence and acknowledgement numbers in
and out of the window and wrapped around 2**32, garbage options, RSTs and SYNs in every state, zero and huge
windows, data beyond the window, replayed duplicates) injected into a pair carrying a real transfer both ways.

The attacker knows the ports and reads both ends' sequence state. Forged bytes that could be accepted are the true
bytes of the stream at their place (duplicates, re-cut retransmissions); forged garbage is placed where no
correct TCP may take it (wholly below RCV.NXT, beyond any window the receiver will ever offer, or acknowledging
data the other end will never send). Invariants: no exception, what each application reads is a prefix of what
the other end wrote, buffers stay within their sizes, the run ends in bounded simulated time, and once the attack
stops the ends do not keep answering each other (ACKs per second stay within the rate limit's bound)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import pytest

from layersim.tcp import LINUX, RFC, Connection, IllegalTransition, Profile, Segment, State
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import MSS, NOP, SACK, SACKPermitted, TCPOption, Timestamps, WindowScale
from tests.tcp.pair import TCPPair

S = 1_000_000_000
MS = 1_000_000
MOD = 1 << 32
HANDSHAKE = frozenset({State.SYN_SENT, State.SYN_RECEIVED, State.LISTEN, State.CLOSED})


@dataclass
class Campaign:
    """One seeded run: the pair, the streams, what each side read, and what the attacker injected."""

    seed: int
    profile: Profile
    pair: TCPPair
    data: dict[str, bytes]
    # what each connection's application read, by connection: a forged SYN after the server's connection closed
    # makes a new one at the listener, which reads from the start of the stream again
    got: dict[Connection, tuple[str, bytearray]] = field(default_factory=dict)
    forged: Counter[int] = field(default_factory=Counter)  # forged segments per simulated second
    forged_ids: set[int] = field(default_factory=set)
    attack_end: int = 0


def _u32(value: int) -> int:
    return value % MOD


def _options(rng: random.Random, conn_ts: int) -> tuple[TCPOption, ...]:
    """Up to four options, valid in form and hostile in content (MSS 0, shift 255, SACK blocks anywhere)."""
    makers = [
        lambda: MSS(rng.choice([0, 1, 47, 48, 88, 536, 1460, 65535])),
        lambda: NOP(),
        lambda: WindowScale(rng.choice([0, 1, 14, 15, 255])),
        lambda: SACKPermitted(),
        lambda: Timestamps(rng.choice([rng.getrandbits(32), _u32(conn_ts + rng.randrange(-5, 5000))]),
                           rng.getrandbits(32)),
        lambda: SACK(tuple((_u32(a), _u32(a + rng.randrange(-100, 5000)))
                           for a in (rng.getrandbits(32) for _ in range(rng.randint(1, 3))))),
    ]
    return tuple(rng.choice(makers)() for _ in range(rng.randint(0, 4)))


def _forge(c: Campaign, rng: random.Random, direction: str) -> Segment | None:
    """A forged segment put on the link as if the sending end of `direction` had sent it."""
    p = c.pair
    sender, target = (p.client, p.server) if direction == "c>s" else (p.server, p.client)
    side = "c" if direction == "c>s" else "s"
    if sender is None:
        return None
    if rng.random() < 0.1:  # a replayed duplicate of a real segment of this direction
        real = [s.segment for s in p.log if s.direction == direction and id(s.segment) not in c.forged_ids]
        return rng.choice(real) if real else None
    stream = c.data[side]
    start = _u32(sender.iss + 1)  # sequence number of the sender's first data byte
    end = _u32(start + len(stream) + 1)  # past its data and FIN: nothing the sender will ever send
    handshake = target is None or target.state in HANDSHAKE or sender.state in HANDSHAKE
    rcv_nxt = target.rcv_nxt if target is not None and not handshake else start
    window = _u32(target.rcv_adv - rcv_nxt) if target is not None and not handshake else 0
    snd_una = target.snd_una if target is not None else 0
    snd_max = target.snd_max if target is not None else 0
    flags = rng.choice([rng.randrange(256), 0x10, 0x18, 0x11, 0x04, 0x14, 0x02, 0x12, 0x01, 0x00])
    seq = rng.choice([
        rcv_nxt, _u32(rcv_nxt + rng.randrange(max(window, 1))), _u32(rcv_nxt - rng.randrange(1, 70_000)),
        _u32(rcv_nxt + window + rng.randrange(70_000)), _u32(rcv_nxt + (1 << 31) + rng.randrange(-2, 3)),
        rng.getrandbits(32)])
    ack = rng.choice([
        snd_una, snd_max, _u32(snd_una + rng.randrange(max(_u32(snd_max - snd_una), 1))),
        _u32(snd_max + rng.randrange(1, 1 << 30)), _u32(snd_una - rng.randrange(1, 1 << 31)),
        _u32(snd_una + (1 << 31)), 0, rng.getrandbits(32)])
    payload = b""
    if handshake:
        # Before both ends are synchronized a SYN carries the pretended sender's true ISN, and no data, so the
        # attacker's numbering never becomes the connection's (the campaign is about robustness, not about blind
        # hijacking, which TCP cannot prevent)
        if flags & 0x02:
            seq = sender.iss
    else:
        kind = rng.choice(["none", "none", "true", "true", "garbage"])
        if kind == "true":  # the real bytes at their place: a duplicate, a re-cut or a beyond-window copy
            offset = rng.randrange(len(stream)) if stream else 0
            seq = _u32(start + offset)
            payload = stream[offset:offset + rng.choice([1, 100, 1448, 3000, 70_000])]
        elif kind == "garbage":  # never acceptable: wholly old, beyond every future window, or unacceptable ACK
            n = rng.choice([1, 50, 1448, 3000])
            payload = rng.randbytes(n)
            where = rng.choice(["old", "beyond", "bad_ack"])
            if where == "old":
                seq = _u32(rcv_nxt - n - rng.randrange(0, 60_000))
            elif where == "beyond":
                seq = _u32(end + target.rcvq.capacity + (1 << 15) + rng.randrange(1 << 29))
            else:
                ack = _u32(_u32(target.iss + 1) + len(c.data["s" if side == "c" else "c"]) + 1
                           + rng.randrange(1, 1 << 29))
                flags |= 0x10
    if flags & 0x04 and seq == rcv_nxt and rng.random() < 0.95:
        seq = _u32(seq + rng.randint(1, max(window, 1)))  # an exact RST ends the connection: rarely, or no campaign
    window_field = rng.choice([0, 0, 1, rng.randrange(65536), 65535])
    tcp = TCP(sport=sender.local[1], dport=sender.remote[1], seq=seq, ack=ack, flags=flags, window=window_field,
              options=_options(rng, target.ts_recent if target is not None else 0))
    return Segment(tcp, payload, False, False, False)


def _check_buffers(c: Campaign) -> None:
    """Receive data and held out-of-order bytes stay within the buffer (plus the scaled window's rounding), the
    send buffer within its size, the SACK scoreboard within the flight."""
    for conn in (c.pair.client, c.pair.server):
        if conn is None:
            continue
        rcvq = conn.rcvq
        assert len(rcvq.data) + rcvq.ooo_bytes <= rcvq.capacity + (1 << conn.rcv_scale), conn
        assert len(conn.sndq.data) <= conn.sndq.capacity, conn
        assert len(conn.scoreboard.blocks) <= 64, conn


def _apps(c: Campaign, done: dict[str, bool], sent: dict[str, int]) -> None:
    """Both applications write their stream, read everything, half-close when written, close at EOF."""
    p = c.pair
    for side, conn in (("c", p.client), ("s", p.server)):
        if conn is None:
            continue
        c.got.setdefault(conn, (side, bytearray()))[1].extend(p.recv(side))
        data = c.data[side]
        try:
            if sent[side] < len(data) and conn.state in (State.ESTABLISHED, State.CLOSE_WAIT):
                sent[side] += p.send(side, data[sent[side]:sent[side] + 65536])
            if sent[side] == len(data) and not done[side] and conn.state in (State.ESTABLISHED,
                                                                              State.CLOSE_WAIT):
                p.call(side, "shutdown")
                done[side] = True
        except IllegalTransition:
            done[side] = True  # the connection went away under the application (a reset): it stops writing
        if conn.at_eof and conn.state is not State.CLOSED and done[side]:
            p.call(side, "close")


def run_campaign(seed: int, profile: Profile, *, forgeries: int, attack_ns: int, size: int) -> Campaign:
    """Run one campaign to its end and check the invariants on the way."""
    rng = random.Random(seed)
    p = TCPPair(client_profile=profile, server_profile=profile, client_iss=rng.getrandbits(32),
                server_iss=rng.getrandbits(32), delay_ns=rng.choice([1, 5, 20]) * MS, mss=rng.choice([48, 536, 1460]),
                server_kwargs={"rcvbuf": rng.choice([4096, 16384, 131072])})
    c = Campaign(seed, profile, p, {"c": rng.randbytes(size), "s": rng.randbytes(rng.randrange(size + 1))})
    # half the forgeries while the data flows (the first twentieth of the attack), half spread over the rest:
    # the closing states, TIME-WAIT and CLOSED get theirs too
    times = sorted([rng.randrange(attack_ns // 20) for _ in range(forgeries // 2)]
                   + [rng.randrange(attack_ns) for _ in range(forgeries - forgeries // 2)])
    c.attack_end = attack_ns
    p.open(establish=False)
    done, sent = {"c": False, "s": False}, {"c": 0, "s": 0}
    horizon = attack_ns + 3 * 3600 * S  # every timer (TIME-WAIT, 15 backed-off retries) ends well before
    for _ in range(400_000):
        _apps(c, done, sent)
        at = p._next_time()
        if times and (at is None or times[0] <= at):
            p.now = max(p.now, times.pop(0))
            direction = rng.choice(["c>s", "s>c"])
            seg = _forge(c, rng, direction)
            if seg is not None:
                c.forged[p.now // S] += 1
                c.forged_ids.add(id(seg))
                p.transmit(direction, [seg])
            continue
        if at is None:
            break
        assert at <= horizon, f"seed {seed}: still busy at {at / S:.0f} s: {p.client!r} {p.server!r}"
        p.step()
        _check_buffers(c)
    else:
        pytest.fail(f"seed {seed}: no end after 400000 steps: {p.client!r} {p.server!r}")
    _apps(c, done, sent)
    for side, got in c.got.values():  # each reader got a prefix of the other's stream
        other = c.data["s" if side == "c" else "c"]
        assert bytes(got) == other[:len(got)], f"seed {seed}: {side} read bytes its peer never wrote there"
    return c


def quiet_after_attack(c: Campaign) -> None:
    """After the attack, the pure ACKs in any simulated second stay within what the transfer left to do and the
    rate limit allow (an ACK loop would send one per round trip, 100 to 1000 a second here)."""
    p = c.pair
    acks = Counter(s.time // S for s in p.log
                   if s.time >= c.attack_end + S and not s.segment.payload and int(s.segment.tcp.flags) == 0x10)
    left = sum(len(d) for d in c.data.values()) // (max(c.pair.mss, 48) - 12) + 8  # segments the data needs
    bound = 2 * (S // c.profile.invalid_ratelimit_ns) + left
    assert not acks or max(acks.values()) <= bound, (c.seed, acks.most_common(3), bound)


@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
@pytest.mark.parametrize("seed", range(4))
def test_hostile_peer_campaign(seed: int, profile: Profile) -> None:
    c = run_campaign(seed, profile, forgeries=150, attack_ns=2 * S, size=30_000)
    quiet_after_attack(c)
    assert sum(c.forged.values()) > 100


@pytest.mark.slow
@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
@pytest.mark.parametrize("seed", range(100, 140))
def test_hostile_peer_campaign_long(seed: int, profile: Profile) -> None:
    c = run_campaign(seed, profile, forgeries=1500, attack_ns=20 * S, size=100_000)
    quiet_after_attack(c)
