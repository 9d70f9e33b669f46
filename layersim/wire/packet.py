"""A packet as a stack of layers: building with `/`, encoding bottom-up, and decoding bytes back into layers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from layersim.errors import DecodeError, LayersimError
from layersim.wire.dispatch import start_class
from layersim.wire.fields import Layer
from layersim.wire.payload import Padding, Raw

__all__ = ["DecodeState", "Packet", "decode"]

L = TypeVar("L", bound=Layer)


@dataclass(slots=True)
class DecodeState:
    """What the decoder passes up the stack: tolerance for cut-off data and the IPv4 pseudo-header addresses."""

    truncated: bool = False
    ip: Any = None  # the nearest IPv4 layer below, for pseudo-header checksums


class Packet:
    """An ordered stack of layers, outermost first; decoded packets also keep their bytes and layer offsets."""

    __slots__ = ("_data", "_layers", "_lazy", "_spans")

    def __init__(self, layers: Iterable[Layer] = (), *, _data: bytes | None = None,
                 _spans: list[tuple[int, int]] | None = None, _lazy: Any = None) -> None:
        self._layers: list[Layer] = list(layers)
        for layer in self._layers:
            if not isinstance(layer, Layer):
                raise LayersimError(f"a packet holds layers, not {type(layer).__name__} {layer!r}")
        self._data = _data
        self._spans = _spans
        self._lazy = _lazy  # (payload class, start, end): an application payload not parsed yet

    @classmethod
    def of(cls, value: object) -> Packet:
        """A packet from a Packet, a Layer, or bytes (which become a Raw payload)."""
        if isinstance(value, Packet):
            return value
        if isinstance(value, Layer):
            return cls((value,))
        if isinstance(value, bytes | bytearray | memoryview):
            return cls((Raw(bytes(value)),))
        raise LayersimError(f"cannot stack {type(value).__name__} {value!r} onto a packet")

    @classmethod
    def _stack(cls, layers: list[Layer]) -> Packet:
        """A packet from layers already known to be Layers (the `/` fast path)."""
        packet = object.__new__(cls)
        packet._layers, packet._data, packet._spans, packet._lazy = layers, None, None, None
        return packet

    # Building ------------------------------------------------------------------------------------------
    def __truediv__(self, other: object) -> Packet:
        if isinstance(other, Layer):
            return Packet._stack([*self.layers, other])
        return Packet._stack([*self.layers, *Packet.of(other).layers])

    def __rtruediv__(self, other: object) -> Packet:
        return Packet.of(other) / self

    # Access --------------------------------------------------------------------------------------------
    @property
    def layers(self) -> tuple[Layer, ...]:
        """Every layer, outermost first (parses a pending application payload)."""
        self._resolve()
        return tuple(self._layers)

    def _resolve(self) -> None:
        if self._lazy is not None:
            payload_cls, start, end = self._lazy
            self._lazy = None
            assert self._data is not None and self._spans is not None
            try:
                layer = payload_cls.parse(self._data[start:end])
            except Exception:  # a parser bug must not lose the bytes: they stay Raw, as unparsed payloads do
                layer = None
            at = len(self._layers) - (1 if self._layers and type(self._layers[-1]) is Padding else 0)
            self._layers.insert(at, layer if layer is not None else Raw(self._data[start:end]))
            self._spans.insert(at, (start, end))

    def __getitem__(self, key: type[L] | int) -> L:
        if isinstance(key, int):
            return self.layers[key]  # type: ignore[return-value]
        for layer in self._layers:
            if type(layer) is key:
                return layer  # type: ignore[return-value]
        if self._lazy is not None:
            self._resolve()
            return self[key]
        for layer in self._layers:  # subclasses and base classes (e.g. Layer) match too
            if isinstance(layer, key):
                return layer  # type: ignore[return-value]
        names = " / ".join(layer.name for layer in self._layers) or "nothing"
        raise KeyError(f"no {key.__name__} layer in this packet (it has {names})")

    def get(self, key: type[L], default: Any = None) -> L | Any:
        """The first layer of type `key`, or `default`."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, type) and self.get(key) is not None

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        """The packet's length in bytes: as decoded, or as it encodes (lengths and checksums computed)."""
        return len(self.data)

    def __bool__(self) -> bool:
        return True  # a packet is never "empty"; truth must not encode it (as __len__ would)

    @property
    def layer_names(self) -> tuple[str, ...]:
        """The layers' names, outermost first: ('Ethernet', 'IPv4', 'TCP', 'HTTPRequest')."""
        return tuple(layer.name for layer in self.layers)

    def summary(self) -> str:
        """One line in scapy's style: "Ethernet / IPv4 10.0.1.10 > 93.184.216.34 / TCP 50512 > 80 PA / ..."."""
        from layersim.wire.summary import packet_summary

        return packet_summary(self.layers)

    def replace(self, key: type[Layer] | int, **changes: Any) -> Packet:
        """A new packet with one layer's fields changed: the first layer of type `key`, or the layer at that index.

        Fields are validated as by the constructor. The new packet encodes afresh: lengths and checksums that are
        None are computed, explicit values (all of them, in a decoded packet) are kept; give `checksum=None`
        (`header_checksum=None` for IPv4) to have one computed again.
        """
        layers = list(self.layers)
        index = key if isinstance(key, int) else layers.index(self[key])
        layers[index] = layers[index].replace(**changes)
        return Packet._stack(layers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Packet) and self.layers == other.layers

    def __hash__(self) -> int:
        return hash(self.layers)

    def __repr__(self) -> str:
        return " / ".join(repr(layer) for layer in self.layers)

    @property
    def data(self) -> bytes:
        """The packet's bytes: as decoded, or freshly encoded for a built packet."""
        return self._data if self._data is not None else self.encode()

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """(start, end) byte offsets of each layer's own bytes (header, or whole payload for payloads)."""
        if self._spans is None:
            again = decode_like(self)
            self._spans = list(again.spans)
        self._resolve()
        assert self._spans is not None
        return tuple(self._spans)

    def payload_of(self, key: type[Layer]) -> bytes:
        """The bytes that follow the header of the first `key` layer (its payload, padding excluded)."""
        layers = self._layers
        index = 0
        for layer in layers:
            if type(layer) is key:
                break
            index += 1
        else:
            layer = self[key]  # a subclass match, or the KeyError that names the layers present
            index = self.layers.index(layer)
        if self._data is None or self._spans is None:
            return Packet(self.layers[index + 1:]).encode()
        if self._lazy is not None:
            end = self._lazy[2]
        else:
            last_start, end = self._spans[-1]
            if type(layers[-1]) is Padding:
                end = last_start
        return self._data[self._spans[index][1]:end]

    # Encoding ------------------------------------------------------------------------------------------
    def encode(self) -> bytes:
        """The packet's bytes: every field as given, None-valued lengths and checksums computed."""
        layers = self.layers
        count = len(layers)
        trailer = b""
        while count and type(layers[count - 1]) is Padding:
            count -= 1
            trailer = layers[count].data + trailer
        ips: list[Layer | None] = []
        ip = None
        for layer in layers[:count]:
            ips.append(ip)
            if getattr(layer, "pseudo_header_source", False):
                ip = layer
        payload = b""
        upper = None
        for i in range(count - 1, -1, -1):
            layer = layers[i]
            payload = layer.encode_layer(payload, upper, ips[i])
            upper = layer
        return payload + trailer

    def __bytes__(self) -> bytes:
        return self.encode()

    # Views (implemented in show.py / interop.py) -------------------------------------------------------
    def show(self, *, file: Any = None) -> None:
        """Print a Wireshark-like tree of layers and fields (to `file`, stdout by default); `show_text()` returns it."""
        from layersim.wire.show import show

        show(self, file=file)

    def show_text(self) -> str:
        """The tree that `show()` prints, as text."""
        from layersim.wire.show import show_text

        return show_text(self)

    def hexdump(self, *, file: Any = None, color: bool | None = None) -> None:
        """Print the bytes coloured by the field they belong to, with a legend; `hexdump_text()` returns it."""
        from layersim.wire.show import hexdump

        hexdump(self, file=file, color=color)

    def hexdump_text(self) -> str:
        """The hex dump that `hexdump()` prints, as plain text (fields separated by "|")."""
        from layersim.wire.show import hexdump_text

        return hexdump_text(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: {"layers": [{"name", "fields", "checksum_ok"?}, ...], "length"}."""
        from layersim.wire.show import packet_to_dict

        return packet_to_dict(self)

    def _repr_html_(self) -> str:
        from layersim.wire.show import hexdump_html

        return hexdump_html(self)

    def to_scapy(self) -> Any:
        """The same bytes as a scapy packet (Ether, or IP when the packet starts at IPv4)."""
        from layersim.wire.interop import to_scapy

        return to_scapy(self)

    @classmethod
    def from_scapy(cls, scapy_packet: Any) -> Packet:
        """Decode a scapy packet's bytes into layersim layers."""
        from layersim.wire.interop import from_scapy

        return from_scapy(scapy_packet)


def decode(data: bytes | bytearray | memoryview, first: type[Layer] | None = None, *,
           truncated: bool = False, until: type[Layer] | None = None) -> Packet:
    """Decode bytes into a Packet, starting with `first` (Ethernet by default).

    Raises only DecodeError. With `truncated=True` (a capture cut at its snap length, or the datagram quoted in
    an ICMP error) lengths that point past the end are accepted and a header cut short becomes Raw. With
    `until=IPv4` decoding stops after that layer and what follows stays Raw (a router needs no more).
    """
    if type(data) is not bytes:
        data = bytes(data)
    cls: Any = start_class(first)
    if not data:
        raise DecodeError(cls.spec.name, 0, "no bytes to decode")
    layers: list[Layer] = []
    spans: list[tuple[int, int]] = []
    state = DecodeState(truncated=truncated)
    start, end = 0, len(data)
    lazy = None
    try:
        while start < end:
            if cls.lazy:
                lazy = (cls, start, end)
                break
            if cls is Raw:
                layers.append(Raw(data[start:end]))
                spans.append((start, end))
                break
            try:
                layer, header_end, payload_end, following = cls.decode_layer(data, start, end, state)
            except DecodeError:
                if not state.truncated:
                    raise
                layers.append(Raw(data[start:end]))
                spans.append((start, end))
                break
            layers.append(layer)
            spans.append((start, header_end))
            start, end = header_end, payload_end
            cls = Raw if following is None or cls is until else following
    except DecodeError:
        raise
    except Exception as exc:  # a decoder bug must still surface as DecodeError, naming where it happened
        name = getattr(cls, "__name__", str(cls))
        raise DecodeError(name, start, f"internal decoder error {type(exc).__name__}: {exc}") from exc
    if end < len(data):
        layers.append(Padding(data[end:]))
        spans.append((end, len(data)))
    packet = Packet._stack(layers)
    packet._data, packet._spans, packet._lazy = data, spans, lazy
    return packet


def decode_like(packet: Packet) -> Packet:
    """Decode a built packet's encoding, starting with the same first layer."""
    layers = packet.layers
    return decode(packet.encode(), type(layers[0]) if layers else Raw)
