"""The segments a connection emits, encoded under IPv4, are byte-identical to scapy's build of the same fields."""

from __future__ import annotations

from ipaddress import IPv4Address

from scapy.layers.inet import IP
from scapy.layers.inet import TCP as STCP
from scapy.packet import Raw as SRaw

from layersim.tcp import Segment
from layersim.wire import IPv4, IPv4Flags
from layersim.wire.tcp_options import MSS, NOP, SACK, SACKPermitted, Timestamps, WindowScale
from tests.tcp.pair import CLIENT, MS, SERVER, TCPPair, drop_where


def scapy_options(options) -> list:
    out = []
    for o in options:
        kind = type(o)
        if kind is MSS:
            out.append(("MSS", o.value))
        elif kind is NOP:
            out.append(("NOP", None))
        elif kind is WindowScale:
            out.append(("WScale", o.shift))
        elif kind is SACKPermitted:
            out.append(("SAckOK", b""))
        elif kind is Timestamps:
            out.append(("Timestamp", (o.tsval, o.tsecr)))
        elif kind is SACK:
            out.append(("SAck", tuple(edge for block in o.blocks for edge in block)))
        else:
            raise AssertionError(o)
    return out


def both(seg: Segment, direction: str) -> tuple[bytes, bytes]:
    src, dst = (CLIENT, SERVER) if direction == "c>s" else (SERVER, CLIENT)
    ident = 0 if seg.ip_id_zero else 4321
    ours = (IPv4(src=src[0], dst=dst[0], identification=ident, flags=IPv4Flags.DF if seg.df else IPv4Flags(0))
            / seg.tcp / seg.payload).encode()
    t = seg.tcp
    theirs = bytes(IP(src=str(IPv4Address(src[0])), dst=str(IPv4Address(dst[0])), id=ident,
                      flags="DF" if seg.df else 0)
                   / STCP(sport=t.sport, dport=t.dport, seq=t.seq, ack=t.ack, flags=int(t.flags), window=t.window,
                          options=scapy_options(t.options))
                   / SRaw(seg.payload))
    return ours, theirs


def test_every_segment_of_a_lossy_exchange_matches_scapy():
    """Handshake, data with timestamps, SACK blocks, retransmissions, FINs: all the same bytes as scapy's."""
    p = TCPPair().open()
    p.rules.append(drop_where(lambda d, i, s: d == "c>s" and len(s.payload) > 0, times=1))
    p.send("c", bytes(range(256)) * 30)
    p.run_for(100 * MS)
    p.call("c", "close")
    p.call("s", "close")
    p.run_for(100 * MS)
    kinds = set()
    for sent in p.log:
        ours, theirs = both(sent.segment, sent.direction)
        assert ours == theirs, sent
        kinds.update(type(o) for o in sent.segment.tcp.options)
        kinds.add(sent.flags)
    assert {SACK, Timestamps, WindowScale, "S", "S.", "F."} <= kinds


def test_rst_matches_scapy():
    p = TCPPair().open()
    p.call("c", "abort")
    ours, theirs = both(p.log[-1].segment, "c>s")
    assert ours == theirs and p.log[-1].flags == "R."
