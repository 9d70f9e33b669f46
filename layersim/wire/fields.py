"""Header field tables and the compiler that turns one table into struct-based encode/decode and a value class.

A header is declared once as a `HeaderSpec` (an ordered list of `Field`s). `Layer.__init_subclass__` compiles
it into: a tuple-backed immutable value class with one property per field, a validating constructor, and
`struct` pack/unpack functions generated for the fixed-size part. Everything else (show, hexdump, JSON, diff)
reads the same table.
"""

from __future__ import annotations

import difflib
import enum
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from operator import itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from layersim.errors import FieldValueError, UnknownFieldError
from layersim.wire.addresses import MAC, to_ipv4, to_ipv6

__all__ = ["Addr", "Bits", "Field", "HeaderSpec", "Layer", "UInt", "Var", "unknown_field"]


@dataclass(frozen=True, slots=True)
class Field:
    """One header field: its name, width in bits (None for variable-length data), default and kind."""

    name: str
    bits: int | None
    default: Any = 0
    kind: Any = int  # int, an IntEnum/IntFlag class, MAC, IPv4Address, bytes, or a Python type for Var
    hex: bool = False  # show in hex first (checksums, ethertypes)
    coerce: Callable[[Any], Any] | None = None  # converts user input (e.g. "PA" -> TCPFlags)
    computed: bool = False  # None means "compute on encode" (lengths, checksums)

    @property
    def fixed(self) -> bool:
        """True when the field lives in the fixed-size, struct-packed part of the header."""
        return self.bits is not None


def Bits(name: str, bits: int, default: Any = 0, *, kind: Any = int, hex: bool = False,
         coerce: Callable[[Any], Any] | None = None) -> Field:
    """A field of `bits` bits packed with its neighbours (flags, version, fragment offset)."""
    return Field(name, bits, default, kind, hex, coerce, computed=default is None)


def UInt(name: str, bits: int, default: Any = 0, *, kind: Any = int, hex: bool = False,
         coerce: Callable[[Any], Any] | None = None) -> Field:
    """A byte-aligned unsigned integer field of 8, 16, 32 or 64 bits."""
    return Field(name, bits, default, kind, hex, coerce, computed=default is None)


def Addr(name: str, kind: type, default: Any = None) -> Field:
    """An address field: MAC (48 bits), IPv4Address (32 bits) or IPv6Address (128 bits)."""
    bits = 48 if kind is MAC else 128 if kind is IPv6Address else 32
    if default is None:
        default = 0
    return Field(name, bits, kind(default), kind)


def Var(name: str, default: Any = b"", *, kind: Any = bytes, coerce: Callable[[Any], Any] | None = None) -> Field:
    """A variable-length field (options, message bodies) encoded by the layer's own code."""
    return Field(name, None, default, kind, False, coerce, computed=False)


_WIDTH_CODES = {8: "B", 16: "H", 32: "I", 64: "Q"}


class HeaderSpec:
    """An ordered table of fields for one header, with the struct layout of its fixed part derived once."""

    def __init__(self, name: str, fields: list[Field], *, byte_order: str = "!") -> None:
        self.name = name
        self.fields = tuple(fields)
        self.names = tuple(f.name for f in fields)
        self.by_name = {f.name: f for f in fields}
        fixed = [f for f in fields if f.fixed]
        if fields[: len(fixed)] != fixed:
            raise TypeError(f"{name}: fixed-width fields must come before variable ones")
        self.fixed_fields = tuple(fixed)
        self.bit_offsets: dict[str, int] = {}
        offset = 0
        for f in fixed:
            self.bit_offsets[f.name] = offset
            offset += f.bits or 0
        if offset % 8:
            raise TypeError(f"{name}: fixed part is {offset} bits, not whole bytes")
        self.fixed_length = offset // 8
        self.groups = _group_fields(name, fixed)
        if byte_order not in ("!", "<"):
            raise TypeError(f"{name}: byte_order must be '!' (network order) or '<' (little-endian)")
        if byte_order == "<" and any(len(group) > 1 for _, group in self.groups):
            raise TypeError(f"{name}: little-endian headers cannot pack bit fields")  # bit order would be ambiguous
        self.struct = struct.Struct(byte_order + "".join(code for code, _ in self.groups))

    def byte_span(self, field_name: str) -> tuple[int, int]:
        """First and last+1 byte a fixed field touches, relative to the header start."""
        start = self.bit_offsets[field_name]
        bits = self.by_name[field_name].bits or 0
        return start // 8, (start + bits + 7) // 8


def _group_fields(name: str, fixed: list[Field]) -> list[tuple[str, list[Field]]]:
    """Split fixed fields into struct items: whole-byte fields alone, sub-byte fields packed into 8/16/32 bits."""
    groups: list[tuple[str, list[Field]]] = []
    pending: list[Field] = []
    pending_bits = 0
    for f in fixed:
        bits = f.bits or 0
        if not pending and f.kind in (MAC, IPv6Address):
            groups.append(("6s" if f.kind is MAC else "16s", [f]))
        elif not pending and bits in _WIDTH_CODES:
            groups.append((_WIDTH_CODES[bits], [f]))
        else:
            pending.append(f)
            pending_bits += bits
            if pending_bits in _WIDTH_CODES:
                groups.append((_WIDTH_CODES[pending_bits], pending))
                pending, pending_bits = [], 0
            elif pending_bits > 32:
                raise TypeError(f"{name}: bit fields {[p.name for p in pending]} do not fill 8, 16 or 32 bits")
    if pending:
        raise TypeError(f"{name}: bit fields {[p.name for p in pending]} do not end on a byte boundary")
    return groups


def _enum_lookup(kind: type, bits: int) -> Any:
    """A fast int -> member mapping for decoding: a tuple for small IntFlags, the value map for IntEnums."""
    if issubclass(kind, enum.IntFlag) and bits <= 12:
        return tuple(kind(v) for v in range(1 << bits))
    return kind._value2member_map_


def _coerce_value(spec: HeaderSpec, f: Field, value: Any) -> Any:
    """Validate and convert one user-supplied field value, raising FieldValueError with the field's name."""
    try:
        return _convert(f, value)
    except FieldValueError as exc:
        raise FieldValueError(f"{spec.name}.{f.name}: {exc}") from None


def unknown_field(spec: HeaderSpec, names: Iterable[str]) -> UnknownFieldError:
    """The error for keywords that are not fields: names the first, suggests a close match, lists the fields."""
    name = next(iter(names))
    close = difflib.get_close_matches(name, spec.names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UnknownFieldError(f"{spec.name} has no field {name!r}{hint} (fields: {', '.join(spec.names)})")


def _convert(f: Field, value: Any) -> Any:
    """The value converted to the field's kind; errors say what is wrong, the caller adds where."""
    if value is None:
        if f.computed:
            return None
        raise FieldValueError("None is only allowed for computed fields")
    if f.coerce is not None:
        value = f.coerce(value)
    kind = f.kind
    if kind is MAC:
        return MAC(value)
    if kind is IPv4Address:
        return to_ipv4(value)
    if kind is IPv6Address:
        return to_ipv6(value)
    if f.bits is None:
        if kind is bytes and isinstance(value, bytearray | memoryview):
            return bytes(value)
        if not isinstance(value, kind):
            raise FieldValueError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        return value
    is_enum = isinstance(kind, type) and issubclass(kind, enum.Enum)
    if is_enum and type(value) is kind:  # a member of the field's own enum is in range by construction
        return value
    if isinstance(value, str) and is_enum:
        try:
            return kind[value]
        except KeyError:
            names = ", ".join(m.name for m in kind if m.name)
            raise FieldValueError(f"{value!r} is not one of {names}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldValueError(f"expected an integer, got {type(value).__name__} {value!r}")
    if not 0 <= value < 1 << f.bits:
        raise FieldValueError(f"{value} does not fit in {f.bits} bits")
    if is_enum and type(value) is int:
        return kind._value2member_map_.get(value, value)
    return value


def _compile(cls: type[Layer], spec: HeaderSpec) -> None:
    """Generate the value class's properties, constructor and struct pack/unpack from its spec."""
    n = len(spec.fields)
    ns: dict[str, Any] = {"_tnew": tuple.__new__, "_S": spec.struct, "_coerce": _coerce_value, "_type": type,
                          "_unknown_field": unknown_field,
                          "_spec": spec, "_bnew": bytes.__new__, "MAC": MAC, "IPv4Address": IPv4Address,
                          "IPv6Address": IPv6Address}
    # Constructor: fast path for values already of the right type, full coercion otherwise.
    params, items = [], []
    for i, f in enumerate(spec.fields):
        ns[f"_f{i}"] = f
        ns[f"_d{i}"] = f.default
        params.append(f"{f.name}=_d{i}")
        if f.bits is not None and f.kind is int and f.coerce is None:
            ok = f"_type({f.name}) is int and 0 <= {f.name} < {1 << f.bits}"
            if f.computed:
                ok = f"{f.name} is None or ({ok})"
        elif f.kind is MAC:
            ok = f"_type({f.name}) is MAC"
        elif f.kind in (IPv4Address, IPv6Address):
            ok = f"_type({f.name}) is {f.kind.__name__}"
        elif (f.bits is None and f.coerce is None) or (isinstance(f.kind, type) and issubclass(f.kind, enum.Enum)):
            ok = f"_type({f.name}) is _f{i}.kind"  # enum members are in range by construction
            if f.computed:
                ok = f"{f.name} is None or {ok}"
        else:
            ok = "False"
        items.append(f"({f.name} if {ok} else _coerce(_spec, _f{i}, {f.name}))")
    src = (f"def _new(cls, {', '.join(params)}, _src=None, **_unknown):\n"
           f"    if _unknown:\n"
           f"        raise _unknown_field(_spec, _unknown)\n"
           f"    return _tnew(cls, ({', '.join(items)}, _src))\n")
    # Unpack: struct items -> field values (bit groups split with shifts and masks, kinds converted).
    names = [f"_g{i}" for i in range(len(spec.groups))]
    out = []
    for gi, (code, group) in enumerate(spec.groups):
        width = struct.calcsize("!" + code) * 8
        shift = width
        for f in group:
            bits = f.bits or 0
            shift -= bits
            expr = names[gi] if len(group) == 1 else f"(({names[gi]} >> {shift}) & {(1 << bits) - 1})"
            idx = spec.fields.index(f)
            if f.kind is MAC:
                expr = f"_bnew(MAC, {expr})"
            elif f.kind in (IPv4Address, IPv6Address):
                expr = f"{f.kind.__name__}({expr})"
            elif isinstance(f.kind, type) and issubclass(f.kind, enum.Enum):
                lookup = _enum_lookup(f.kind, bits)
                ns[f"_e{idx}"] = lookup
                expr = f"_e{idx}[{expr}]" if isinstance(lookup, tuple) else f"_e{idx}.get({expr}, {expr})"
            out.append(expr)
    unpacked = f"    {', '.join(names)}{',' if len(names) == 1 else ''} = _S.unpack_from(data, off)\n" if names else ""
    src += (f"def _unpack(data, off):\n{unpacked}"
            f"    return ({', '.join(out)}{',' if len(out) == 1 else ''})\n")
    # Pack: field values -> bytes of the fixed part.
    args = [f"v{i}" for i in range(len(spec.fixed_fields))]
    packed = []
    for code, group in spec.groups:
        width = struct.calcsize("!" + code) * 8
        shift, parts = width, []
        for f in group:
            shift -= f.bits or 0
            v = f"v{spec.fields.index(f)}"
            if f.kind is IPv4Address:
                v = f"int({v})"
            elif f.kind is IPv6Address:
                v = f"{v}.packed"
            parts.append(f"{v} << {shift}" if shift else v)
        packed.append(" | ".join(parts))
    src += (f"def _pack({', '.join(args)}):\n"
            f"    return _S.pack({', '.join(packed)})\n")
    exec(compile(src, f"<layersim {spec.name} header>", "exec"), ns)
    cls._new = staticmethod(ns["_new"])
    if "__new__" not in cls.__dict__:
        cls.__new__ = ns["_new"]
    cls._unpack = staticmethod(ns["_unpack"])
    cls._pack = staticmethod(ns["_pack"])
    cls._n = n
    for i, f in enumerate(spec.fields):
        if f.name not in cls.__dict__:
            setattr(cls, f.name, property(itemgetter(i), doc=f"{spec.name} {f.name}"))


class Layer(tuple):
    """Base of every header and payload value: immutable, compared by type and field values."""

    __slots__ = ()
    lazy: ClassVar[bool] = False  # True for application payloads parsed only when a layer is asked for
    # What decodes this layer's payload, by EtherType, protocol number or port: wired once by dispatch.py.
    next_layers: ClassVar[Mapping[int, Any]] = MappingProxyType({})
    spec: ClassVar[HeaderSpec]
    _n: ClassVar[int]
    _new: ClassVar[Callable[..., Any]]
    _unpack: ClassVar[Callable[[Any, int], tuple[Any, ...]]]
    _pack: ClassVar[Callable[..., bytes]]

    if TYPE_CHECKING:  # the real constructor is generated from the spec, with one keyword per field
        def __new__(cls, *args: Any, **fields: Any) -> Self: ...

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            _compile(cls, spec)

    @classmethod
    def _from_fields(cls, values: tuple[Any, ...], src: Any = None) -> Self:
        """Build a value from already-validated field values (the decode fast path)."""
        return tuple.__new__(cls, (*values, src))

    @property
    def name(self) -> str:
        """The layer's display name (e.g. "IPv4")."""
        return self.spec.name

    @property
    def _src(self) -> Any:
        """What the decoder kept beside the value (bytes and offsets for checksum checks), or None."""
        return self[-1]

    def fields(self) -> dict[str, Any]:
        """The field values by name, in header order."""
        return dict(zip(self.spec.names, self, strict=False))

    def items(self) -> Iterator[tuple[Field, Any]]:
        """(Field, value) pairs in header order."""
        return zip(self.spec.fields, self, strict=False)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated like the constructor)."""
        unknown = [name for name in changes if name not in self.spec.by_name]
        if unknown:
            raise unknown_field(self.spec, unknown)
        return type(self)(**{**self.fields(), **changes})

    def __len__(self) -> int:
        """The layer's own bytes as encoded (header with options; all of a payload layer), not what it carries.

        A computed field left None is counted at its width, so `len(TCP())` is 20 without an IPv4 layer below.
        """
        filled = tuple.__new__(type(self), (*(0 if v is None else v for v in self[:-1]), None))
        return len(filled.encode_layer(b"", None, None))

    def __bool__(self) -> bool:
        return True  # a layer is a value, never "empty" (tuple truth would count its fields, __len__ encodes)

    def summary(self) -> str:
        """One line in scapy's style: "TCP 50512 > 80 PA", "IPv4 10.0.1.10 > 93.184.216.34"."""
        from layersim.wire.summary import layer_summary

        return layer_summary(self)

    @property
    def checksum_ok(self) -> bool | None:
        """Whether the decoded checksum is right (None when the layer has none or was not decoded)."""
        return None

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self[:-1] == other[:-1]  # type: ignore[index]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self), self[:-1]))

    def __repr__(self) -> str:
        shown = [f"{f.name}={_repr_value(v, f.hex)}" for f, v in self.items()
                 if v != f.default or (f.bits is None and v)]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __truediv__(self, other: object) -> Any:
        from layersim.wire.packet import Packet

        return Packet._stack([self]) / other

    def __rtruediv__(self, other: object) -> Any:
        from layersim.wire.packet import Packet

        return Packet.of(other) / self

    # Subclass hooks ------------------------------------------------------------------------------------
    def field_spans(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """(field name, first byte, end byte) of each field, for a header that occupies bytes [start, end).

        Bit fields that share a byte report the same bytes. Layers whose variable part holds several fields
        (options, message parts) override this to report them one by one.
        """
        spans = [(f.name, start + a, start + b) for f in self.spec.fixed_fields
                 for a, b in [self.spec.byte_span(f.name)]]
        rest = start + self.spec.fixed_length
        variable = [f.name for f in self.spec.fields if not f.fixed]
        if variable and end > rest:
            spans.append((variable[0], rest, end))
        return spans

    def info(self) -> dict[str, Any]:
        """Values derived from the fields that a reader wants to see (e.g. ICMP echo identifier); JSON-ready."""
        return {}

    @classmethod
    def decode_layer(cls, data: bytes, start: int, end: int, state: Any) -> tuple[Layer, int, int, Any]:
        """Decode this layer from data[start:end]: (the layer, where its payload starts, where the payload ends,
        the class of the next layer or None).

        Part of every header layer's contract, with `encode_layer`: the packet decoder calls it for each layer in
        turn (layers decoded lazily, Raw and Padding excepted). It raises only DecodeError, naming the layer and
        the byte offset, and keeps the bytes (`state`) so checksums can be verified and re-encoding is exact.
        """
        raise NotImplementedError(f"{cls.__name__} does not define decode_layer")

    def encode_layer(self, payload: bytes, upper: Layer | None, ip: Any) -> bytes:
        """This layer's bytes followed by `payload`, with computed fields filled in.

        `upper` is the layer above (for EtherType/protocol defaults), `ip` the nearest IPv4 layer below (for
        pseudo-header checksums): the packet encoder passes them so no layer walks the stack itself.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define encode_layer")


def _repr_value(value: Any, as_hex: bool = False) -> str:
    if as_hex and type(value) is int:
        return hex(value)
    if isinstance(value, enum.Enum):
        return str(value.name) if value.name else repr(int(value))
    if isinstance(value, MAC | IPv4Address | IPv6Address):
        return repr(str(value))
    return repr(value)
