"""The exception hierarchy: every error layersim raises on purpose derives from LayersimError."""

from __future__ import annotations


class LayersimError(Exception):
    """Base of every error layersim raises on purpose; the CLI prints its message without a traceback."""


class DecodeError(LayersimError):
    """Bytes that cannot be decoded: the message names the layer, byte offset and field."""

    def __init__(self, layer: str, offset: int, message: str) -> None:
        super().__init__(f"{layer} at byte {offset}: {message}")
        self.layer = layer
        self.offset = offset
        self.detail = message


class FieldValueError(LayersimError, ValueError):
    """A value given for a header field that it cannot hold (wrong type, out of range)."""


class UnknownFieldError(FieldValueError, TypeError):
    """A keyword that names no field of the layer: a TypeError, as Python's own for an unexpected keyword."""


class CaptureError(LayersimError):
    """A pcap or pcapng file that cannot be read or written: the message names the file and byte offset."""
