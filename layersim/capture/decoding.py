"""Decode captured frames by their file's link type: Ethernet, Linux cooked (SLL, SLL2), raw IP and loopback."""

from __future__ import annotations

from layersim.capture.records import CaptureRecord
from layersim.wire.dispatch import BY_LINKTYPE
from layersim.wire.linktype import linktype_name
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Raw

__all__ = ["decode_record", "undecoded_reason"]


def undecoded_reason(record: CaptureRecord) -> str | None:
    """Why `decode_record` shows this frame as Raw bytes (its link type), or None when it decodes it."""
    linktype = record.linktype
    if linktype not in BY_LINKTYPE:
        return f"link type {linktype_name(linktype)} is not decoded; packets shown as Raw"
    return None


def decode_record(record: CaptureRecord) -> Packet:
    """The frame decoded from its link type's first header up; Raw when `undecoded_reason` gives a reason.

    Raises only DecodeError, like `decode`. A frame cut at the capture's snap length decodes as far as it goes.
    """
    if undecoded_reason(record) is not None:
        return Packet([Raw(record.data)])
    return decode(record.data, BY_LINKTYPE[record.linktype], truncated=len(record.data) < record.orig_len)
