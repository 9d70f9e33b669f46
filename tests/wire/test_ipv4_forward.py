"""The router fast paths (forward_frame, rewrite_for_next_hop, decrement_ttl) against scapy and full re-encoding."""

from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether

from layersim import MAC, IPv4, decode
from layersim.wire.ipv4 import forward_frame, rewrite_for_next_hop
from tests.wire import golden

NEW_SRC, NEW_DST = MAC("02:00:00:00:12:01"), MAC("02:00:00:00:12:02")


def scapy_hop(frame: bytes) -> bytes:
    """The same hop done by scapy: new MACs, TTL - 1, header checksum recomputed from scratch."""
    p = Ether(frame)
    p.src, p.dst = str(NEW_SRC), str(NEW_DST)
    p[IP].ttl -= 1
    del p[IP].chksum
    return bytes(p)


def test_forward_frame_equals_scapy_on_real_frames():
    for frame in (golden.HTTP_GET, golden.TCP_SYN, golden.ICMP_ECHO, golden.DNS_QUERY, golden.TIME_EXCEEDED):
        out = forward_frame(frame, NEW_SRC, NEW_DST)
        assert out is not None and bytes(out) == scapy_hop(frame)
        assert bytes(out) == bytes(rewrite_for_next_hop(frame, NEW_SRC, NEW_DST))
        assert decode(bytes(out))[IPv4].checksum_ok


def test_forward_frame_refuses_what_a_router_must_not_forward_blindly():
    ttl_one = bytearray(golden.ICMP_ECHO)
    ttl_one[22] = 1
    bad_checksum = bytearray(golden.ICMP_ECHO)
    bad_checksum[24] ^= 0xFF
    bad_version = bytearray(golden.ICMP_ECHO)
    bad_version[14] = 0x65
    for frame in (bytes(ttl_one), bytes(bad_checksum), bytes(bad_version), golden.ARP_REQUEST,
                  golden.ICMP_ECHO[:40], golden.ICMP_ECHO[:20]):
        assert forward_frame(frame, NEW_SRC, NEW_DST) is None


@settings(max_examples=200, deadline=None)
@given(ttl=st.integers(2, 255), ident=st.integers(0, 0xFFFF), tos=st.integers(0, 255),
       payload=st.binary(max_size=64), options=st.sampled_from([b"", b"\x94\x04\x00\x00"]))
def test_incremental_update_equals_recomputed_checksum(ttl, ident, tos, payload, options):
    frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                  / IP(src="10.0.0.1", dst="10.9.9.9", ttl=ttl, id=ident, tos=tos, proto=17, options=options)
                  / payload)
    out = forward_frame(frame, NEW_SRC, NEW_DST)
    assert out is not None and bytes(out) == scapy_hop(frame)


def test_forward_frame_leaves_the_ethernet_padding_behind():
    # A 60-byte minimum frame carries padding after a short packet; the next hop's frame holds the packet only
    # (its link pads again if it must), and the bytes up to the total length are scapy's hop.
    padded = golden.TCP_SYN + b"\x00" * 10
    out = forward_frame(padded, NEW_SRC, NEW_DST)
    assert out is not None and out == scapy_hop(golden.TCP_SYN)
    assert len(out) == 14 + int.from_bytes(golden.TCP_SYN[16:18], "big")
    assert forward_frame(golden.TCP_SYN[:-1], NEW_SRC, NEW_DST) is None  # a total length past the frame's end
