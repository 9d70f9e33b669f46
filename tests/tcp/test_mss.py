"""Segment sizes at the bottom of the range: the send MSS never goes below 48 (Linux TCP_MIN_SND_MSS: 40 bytes of
options and 8 of data), every segment carries data however many option bytes it has, and a nonsensical MSS is a
clear ValueError."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from layersim.tcp import LINUX, RFC, Connection, Listener, Profile, State
from layersim.tcp.options import options_length
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import MSS, NOP, Timestamps
from tests.tcp.pair import CLIENT, SERVER, TCPPair, lossy

S = 1_000_000_000


@pytest.mark.parametrize("mss", [0, -1, -1460, 65536])
def test_impossible_mss_is_a_value_error_naming_it(mss: int) -> None:
    with pytest.raises(ValueError, match=rf"mss must be 1-65535 .*got {mss}"):
        Connection.connect(CLIENT, SERVER, iss=1, mss=mss, now=0)
    with pytest.raises(ValueError, match=r"mss must be 1-65535"):
        Listener(SERVER, mss=mss)


@pytest.mark.parametrize("path_mss", [0, -5])
def test_impossible_path_mss_is_a_value_error_naming_it(path_mss: int) -> None:
    with pytest.raises(ValueError, match=rf"path_mss must be 1-65535 .*got {path_mss}"):
        Connection.connect(CLIENT, SERVER, iss=1, mss=1460, path_mss=path_mss, now=0)


def test_mss_must_be_an_integer() -> None:
    with pytest.raises(TypeError, match="mss must be an int"):
        Connection.connect(CLIENT, SERVER, iss=1, mss=1460.0, now=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("mss", "payload"), [(1, 36), (47, 36), (48, 36), (49, 37), (88, 76)])
@pytest.mark.parametrize("profile", [LINUX, RFC], ids=["linux", "rfc"])
def test_tiny_mss_is_raised_to_48_and_data_flows(profile: Profile, mss: int, payload: int) -> None:
    """mss=1 used to give a negative cwnd (1 - 12 bytes of timestamps); now both ends send at least 48 - 12 bytes
    per segment, cwnd is positive, 20 kB cross each way intact and both FIN handshakes finish."""
    p = TCPPair(client_profile=profile, server_profile=profile, mss=mss).open()
    assert p.client.cwnd > 0 and p.server.cwnd > 0
    rng = random.Random(mss)
    up, down = rng.randbytes(20_000), rng.randbytes(20_000)
    assert p.transfer(up, down) == (up, down)
    sizes = {len(s.segment.payload) for s in p.log if s.segment.payload}
    assert max(sizes) == payload
    p.call("c", "close")
    p.call("s", "close")
    p.run_for(600 * S)
    assert p.client.state is State.CLOSED and p.server.state is State.CLOSED
    assert p.client.error is None and p.server.error is None


def test_options_never_leave_a_segment_without_data() -> None:
    """With timestamps and up to three SACK blocks (40 option bytes) a 48-byte MSS leaves 8 bytes of data: every
    data segment has payload and fits the MSS with its options (RFC 9293 §3.7.1: the MSS counts data only, the
    options come out of it). Both ends send, through loss and reordering, so data segments carry SACK blocks."""
    p = TCPPair(mss=48, rules=[lossy(random.Random(4), loss=0.1, reorder=0.2)]).open()
    rng = random.Random(1)
    up, down = rng.randbytes(30_000), rng.randbytes(30_000)
    assert p.transfer(up, down) == (up, down)
    data_segments = [s.segment for s in p.log if s.segment.payload]
    assert all(len(seg.payload) + options_length(seg.tcp.options) <= 48 for seg in data_segments)
    # new data fills the 8 bytes; a retransmission may be smaller, filling just a hole between SACKed bytes
    assert min(len(seg.payload) for seg in data_segments
               if options_length(seg.tcp.options) == 40 and not seg.retransmission) == 8


def test_a_peer_advertising_mss_1_gets_48_byte_segments() -> None:
    """A forged SYN offering MSS 1 to a profile that takes the peer's MSS as given: the segments still carry
    48 - 12 bytes (Linux clamps after the peer's mss_clamp, in __tcp_mtu_to_mss)."""
    trusting = replace(LINUX, min_peer_mss=1)
    syn = TCP(sport=CLIENT[1], dport=SERVER[1], seq=100, flags="S", window=65535,
              options=(MSS(1), NOP(), NOP(), Timestamps(1, 0)))
    conn, _ = Listener(SERVER, profile=trusting, mss=1460).receive(syn, b"", CLIENT, 0, iss=9)
    assert conn is not None and conn.peer_mss == 1
    ack = TCP(sport=CLIENT[1], dport=SERVER[1], seq=101, ack=10, flags="A", window=65535,
              options=(NOP(), NOP(), Timestamps(2, conn.ts_offset)))
    conn.receive(ack, b"", 1_000_000)
    assert conn.state is State.ESTABLISHED and conn.cwnd > 0
    _, out = conn.send(bytes(1000), 2_000_000)
    assert out and {len(seg.payload) for seg in out} == {36}
