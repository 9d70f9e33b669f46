"""The whole HTTP exchange of the real Linux capture, replayed through two connections with the same
application timing: every segment has Linux's flags, length, window, options and relative numbers."""

from __future__ import annotations

from layersim.capture import read_capture
from layersim.wire import TCP, IPv4, decode
from tests.tcp.pair import TCPPair
from tests.wire.golden import GOLDEN_PCAP

US = 1000


def golden_frames() -> list[tuple[int, str, TCP, int]]:
    """(time from the SYN in ns, direction, TCP header, payload length) of every TCP frame in the capture."""
    frames = []
    for record in read_capture(GOLDEN_PCAP):
        packet = decode(record.data)
        tcp = packet.get(TCP)
        if tcp is not None:
            direction = "c>s" if str(packet[IPv4].src) == "10.0.1.10" else "s>c"
            frames.append((record.time_ns, direction, tcp, len(packet.payload_of(TCP))))
    t0 = frames[0][0]
    return [(t - t0, d, tcp, n) for t, d, tcp, n in frames]


def describe(direction: str, tcp: TCP, length: int, iss: dict[str, int]) -> tuple:
    """What must match: direction, flags, relative seq/ack, payload length, window, option kinds."""
    other = "s>c" if direction == "c>s" else "c>s"
    rel_ack = (tcp.ack - iss[other]) % 2**32 if int(tcp.flags) & 0x10 else 0
    return (direction, int(tcp.flags), (tcp.seq - iss[direction]) % 2**32, rel_ack, length, tcp.window,
            [o.kind for o in tcp.options])


def test_replay_of_the_linux_http_exchange():
    golden = golden_frames()
    assert len(golden) == 12
    when = {n: t for n, (t, *_rest) in enumerate(golden)}
    p = TCPPair(mss=1360, delay_ns=4 * US, client_iss=1, server_iss=2)
    # The applications act when the capture shows them acting (server times less the one-way delay).
    actions = [
        (when[3], lambda: p.send("c", b"G" * 113)),                 # urllib writes the request
        (when[5] - 4 * US, lambda: p.send("s", b"H" * 155)),        # http.server writes the headers
        (when[7] - 4 * US, lambda: p.send("s", b"B" * 303)),        # ... then the body
        (when[9] - 4 * US, lambda: p.call("s", "close")),           # and closes (Connection: close)
        (when[10], lambda: p.call("c", "close")),                  # urllib has read it all and closes
    ]
    p.open(establish=False)
    for at, action in actions:
        p.run(until=at)
        action()
        if p.server is not None:
            p.recv("s")
        if p.client is not None:
            p.recv("c")
    p.run(until=when[11] + 1000 * US)
    iss = {"c>s": 1, "s>c": 2}
    golden_iss = {"c>s": golden[0][2].seq, "s>c": golden[1][2].seq}
    ours = [describe(s.direction, s.segment.tcp, len(s.segment.payload), iss) for s in p.log]
    theirs = [describe(d, tcp, n, golden_iss) for _, d, tcp, n in golden]
    assert ours == theirs
