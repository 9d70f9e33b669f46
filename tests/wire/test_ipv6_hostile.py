"""Hostile IPv6 input: mutated and cut real frames decode or raise DecodeError, and what decodes re-encodes exactly."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.capture import read_capture
from layersim.errors import DecodeError
from layersim.wire import decode
from layersim.wire.ipv6 import IPv6

DATA = Path(__file__).parents[1] / "data"
# One frame of each kind in the recorded capture: MLDv2, DAD, RS, RA, the extension-header chain, NS, NA, ESP,
# errors quoting a chain and ESP, echo, Packet Too Big, fragments, TCP and HTTP.
FRAMES = tuple(record.data for record in read_capture(DATA / "ipv6_golden.pcap"))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_ipv6_frames_decode_or_raise_decode_error(data):
    frame = data.draw(st.sampled_from(FRAMES))
    at = data.draw(st.integers(0, len(frame) - 1))
    patch = data.draw(st.binary(min_size=1, max_size=4))
    mutated = (frame[:at] + patch + frame[at + len(patch):])[: data.draw(st.integers(1, len(frame) + 4))]
    for first in (None, IPv6):
        bytes_in = mutated if first is None else mutated[14:]
        if not bytes_in:
            continue
        for truncated in (False, True):
            try:
                packet = decode(bytes_in, first, truncated=truncated)
            except DecodeError as exc:
                assert "internal decoder error" not in str(exc)  # decode() wraps a decoder bug: none here
                continue
            assert packet.encode() == bytes_in
            packet.show_text(), packet.to_dict(), packet.summary()  # the views read what decoded, too
