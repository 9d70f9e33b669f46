"""Checksums against RFC 1071 and RFC 1624 worked examples and a word-by-word reference sum."""


from hypothesis import given
from hypothesis import strategies as st

from layersim.wire.checksum import (
    VECTOR_FROM,
    internet_checksum,
    ones_complement_sum,
    pseudo_header_sum,
    update_checksum,
)
from tests.tools import rfc1071_sum


def test_rfc1071_section3_example():
    # RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (the example's big-endian result).
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_complement_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D


def test_rfc1624_section4_example():
    # RFC 1624 §4: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285; eqn. 3 gives 0x0000 (eqn. 2 would give 0xFFFF).
    assert update_checksum(0xDD2F, 0x5555, 0x3285) == 0x0000


def test_ipv4_header_from_real_capture_sums_to_zero():
    # The IPv4 header of tests/wire/golden.py ICMP_ECHO (a real Linux packet): a correct header sums to 0xffff.
    header = bytes.fromhex("450000549f354000400184560a00010a0a000214")
    assert internet_checksum(header) == 0
    zeroed = header[:10] + b"\x00\x00" + header[12:]
    assert internet_checksum(zeroed) == 0x8456


def test_pseudo_header_sum_matches_bytes():
    from ipaddress import IPv4Address

    src, dst = IPv4Address("10.0.1.10"), IPv4Address("10.0.2.20")
    pseudo = src.packed + dst.packed + bytes([0, 6]) + (40).to_bytes(2, "big")
    assert ones_complement_sum(b"", pseudo_header_sum(src, dst, 6, 40)) == rfc1071_sum(pseudo)


@given(st.binary(max_size=3000))
def test_fast_sum_equals_reference(data):
    assert ones_complement_sum(data) == (rfc1071_sum(data) if any(data) else 0)


@given(st.integers(VECTOR_FROM - 5, VECTOR_FROM + 1500), st.randoms(use_true_random=False),
       st.integers(0, 1 << 20), st.sampled_from([bytes, bytearray, memoryview]))
def test_vector_sum_equals_reference_at_every_tail_length(size, rng, initial, kind):
    # Both sides of the switch to the numpy sum, every tail length (0-3 bytes after the last 32-bit word), the
    # buffer types the fast paths pass, and an initial (pseudo-header) sum.
    data = bytes(rng.getrandbits(8) for _ in range(size))
    padded = data + b"\x00" * (size & 1)
    total = int.from_bytes(padded, "big") + initial
    expected = total % 0xFFFF or 0xFFFF if total else 0
    assert ones_complement_sum(kind(data), initial) == expected == ones_complement_sum(data[:], initial)
    assert ones_complement_sum(kind(data)) == (rfc1071_sum(data) if any(data) else 0)


def test_vector_sum_of_all_ones_and_zeros():
    # The largest words (no carry lost over 32,000 of them) and an all-zero buffer (the sum 0 stays 0).
    assert ones_complement_sum(b"\xff" * 65534) == 0xFFFF
    assert ones_complement_sum(b"\xff\xfe" * 32767) == rfc1071_sum(b"\xff\xfe" * 32767)
    assert ones_complement_sum(bytes(VECTOR_FROM + 3)) == 0
    assert ones_complement_sum(bytes(VECTOR_FROM + 3), 7) == 7
    assert ones_complement_sum(bytes(VECTOR_FROM) + b"\x01") == 0x0100  # a lone last byte is the high byte


@given(st.binary(min_size=20, max_size=60).filter(lambda b: len(b) % 2 == 0), st.data())
def test_incremental_update_equals_recomputation(header, data):
    header = bytearray(header)
    header[0] = 0x45  # an IPv4 header is never all zero (eqn. 3's one corner case needs that)
    header[10:12] = b"\x00\x00"
    header[10:12] = internet_checksum(header).to_bytes(2, "big")
    word = data.draw(st.sampled_from([i for i in range(2, len(header), 2) if i != 10]))
    new = data.draw(st.integers(0, 0xFFFF))
    old = int.from_bytes(header[word:word + 2], "big")
    updated = update_checksum(int.from_bytes(header[10:12], "big"), old, new)
    header[word:word + 2] = new.to_bytes(2, "big")
    # Both are valid checksums of the new header: they verify to zero (0x0000 and 0xffff are both "zero").
    header[10:12] = updated.to_bytes(2, "big")
    assert internet_checksum(header) == 0


def test_rfc1624_update_needs_the_second_carry():
    """RFC 1624 eqn. 3 when the first fold carries again: HC = 0x0000 (data summing to 0xFFFF), m = 0x0000 -> m' =
    0x0001: ~HC + ~m + m' = 0xFFFF + 0xFFFF + 0x0001 = 0x1FFFF, folded 0xFFFF + 0x1 = 0x10000, folded again 0x0001,
    so HC' = ~0x0001 = 0xFFFE; the same as recomputing over the changed words."""
    assert internet_checksum(bytes.fromhex("0000ffff")) == 0x0000
    assert update_checksum(0x0000, 0x0000, 0x0001) == 0xFFFE == internet_checksum(bytes.fromhex("0001ffff"))
    # and 0x0000 -> 0xFFFF, the largest sum: 0xFFFF + 0xFFFF + 0xFFFF = 0x2FFFD -> 0xFFFF -> HC' = 0x0000
    assert update_checksum(0x0000, 0x0000, 0xFFFF) == 0x0000
