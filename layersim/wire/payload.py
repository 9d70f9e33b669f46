"""Payload layers that are just bytes: Raw data and the Padding that trails a shorter inner length."""

from __future__ import annotations

from typing import Any

from layersim.wire.fields import HeaderSpec, Layer, Var

__all__ = ["Padding", "Raw"]


class Raw(Layer):
    """Bytes that are not (or cannot be) decoded as a protocol: payloads, fragments, unknown headers."""

    __slots__ = ()
    spec = HeaderSpec("Raw", [Var("data", b"")])
    data: bytes

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The data followed by whatever comes after it."""
        return self.data + payload


class Padding(Layer):
    """Bytes past the end an inner length field gives (e.g. Ethernet padding to 60 bytes): kept, not lost."""

    __slots__ = ()
    spec = HeaderSpec("Padding", [Var("data", b"")])
    data: bytes

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """The padding bytes (a packet appends them after everything else)."""
        return self.data + payload
