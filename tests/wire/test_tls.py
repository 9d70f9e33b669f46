"""TLS records and hellos as TCP port 443 carries them: built from fields and read back, the same bytes read by
scapy's independent TLS dissector, records cut by a segment's end, bytes that start no record, and hostile input
that gives only DecodeError and re-encodes exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layersim.errors import DecodeError
from layersim.wire import TCP, Ethernet, IPv4
from layersim.wire.packet import decode
from layersim.wire.payload import Raw
from layersim.wire.tls import (
    TLSClientHello,
    TLSContentType,
    TLSExtension,
    TLSHandshake,
    TLSHandshakeType,
    TLSRecord,
    TLSServerHello,
)

X25519 = 0x001D
KEY = bytes(range(32))


def _sni(name: str) -> bytes:
    entry = b"\x00" + len(name).to_bytes(2, "big") + name.encode()
    return len(entry).to_bytes(2, "big") + entry


def _alpn(*names: str) -> bytes:
    body = b"".join(bytes((len(n),)) + n.encode() for n in names)
    return len(body).to_bytes(2, "big") + body


CLIENT_EXTENSIONS = (
    (TLSExtension.SERVER_NAME, _sni("example.com")),
    (TLSExtension.ALPN, _alpn("h2", "http/1.1")),
    (TLSExtension.SUPPORTED_VERSIONS, b"\x04\x03\x04\x03\x03"),  # RFC 8446 §4.2.1: TLS 1.3, 1.2
    (TLSExtension.KEY_SHARE, b"\x00\x24" + X25519.to_bytes(2, "big") + b"\x00\x20" + KEY),  # §4.2.8 one share
)


def _client_hello() -> TLSClientHello:
    return TLSClientHello(random=bytes(range(100, 132)), session_id=bytes(32), cipher_suites=(0x1301, 0x1302, 0xC02F),
                          extensions=CLIENT_EXTENSIONS)


def _frame(*records: TLSRecord | bytes) -> bytes:
    base = (Ethernet(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv4(src="10.0.0.2", dst="93.184.216.34")
            / TCP(sport=40000, dport=443, flags="PA"))
    for record in records:
        base = base / record
    return base.encode()


def test_a_client_hello_built_from_fields_reads_back_sni_alpn_versions_and_key_share() -> None:
    hello = _client_hello()
    body = hello.encode_layer(b"", None, None)
    record = TLSRecord(version=0x0301, fragment=TLSHandshake(msg_type=TLSHandshakeType.CLIENT_HELLO, body=body)
                       .encode_layer(b"", None, None))
    data = _frame(record)
    packet = decode(data)
    assert packet.encode() == data
    (got,) = [layer for layer in packet.layers if isinstance(layer, TLSRecord)]
    assert (got.content_type, got.version, got.length) == (TLSContentType.HANDSHAKE, 0x0301, len(body) + 4)
    (message,) = got.handshake
    assert message.msg_type is TLSHandshakeType.CLIENT_HELLO and message.length == len(body)
    assert message.message == hello
    assert (hello.server_name, hello.alpn, hello.supported_versions, hello.key_share_groups) == (
        "example.com", ("h2", "http/1.1"), (0x0304, 0x0303), (X25519,))
    assert got.info()["handshake"][0]["server_name"] == "example.com"


def test_scapy_reads_our_client_hello_as_we_do() -> None:
    from scapy.layers.tls.all import TLS

    hello = _client_hello()
    fragment = TLSHandshake(body=hello.encode_layer(b"", None, None)).encode_layer(b"", None, None)
    theirs = TLS(TLSRecord(fragment=fragment).encode_layer(b"", None, None))
    ch = theirs.msg[0]
    assert ch.ciphers == [0x1301, 0x1302, 0xC02F] and bytes(ch.random_bytes) == hello.random[4:]
    names = {type(ext).__name__: ext for ext in ch.ext}
    assert names["TLS_Ext_ServerName"].servernames[0].servername == b"example.com"
    assert [p.protocol for p in names["TLS_Ext_ALPN"].protocols] == [b"h2", b"http/1.1"]


def test_a_server_hello_gives_the_chosen_version_and_group() -> None:
    hello = TLSServerHello(random=bytes(32), cipher_suite=0x1302, extensions=(
        (TLSExtension.SUPPORTED_VERSIONS, b"\x03\x04"), (TLSExtension.KEY_SHARE, b"\x00\x1d\x00\x20" + KEY)))
    body = hello.encode_layer(b"", None, None)
    fragment = TLSHandshake(msg_type=TLSHandshakeType.SERVER_HELLO, body=body).encode_layer(b"", None, None)
    packet = decode(_frame(TLSRecord(fragment=fragment), TLSRecord(TLSContentType.CHANGE_CIPHER_SPEC,
                                                                    fragment=b"\x01")))
    records = [layer for layer in packet.layers if isinstance(layer, TLSRecord)]
    assert [r.content_type for r in records] == [TLSContentType.HANDSHAKE, TLSContentType.CHANGE_CIPHER_SPEC]
    got = records[0].handshake[0].message
    assert got == hello and got.supported_versions == (0x0304,) and got.key_share_groups == (X25519,)
    assert got.cipher_suite == 0x1302 and got.alpn == () and got.server_name is None


@pytest.mark.parametrize("cut", [0, 1, 60])
def test_a_record_cut_by_the_segment_end_keeps_its_length_and_opaque_bytes(cut: int) -> None:
    whole = TLSRecord(TLSContentType.APPLICATION_DATA, fragment=bytes(range(61))).encode_layer(b"", None, None)
    data = _frame(whole[:5 + cut])
    packet = decode(data)
    record = packet[TLSRecord]
    assert (record.length, record.fragment, record.complete, record.handshake) == (61, bytes(range(cut)), False, ())
    assert packet.encode() == data


@pytest.mark.parametrize("payload", [b"\x17\x03", b"\x99\x03\x03\x00\x01x", b"\x17\x04\x03\x00\x01x",
                                     b"GET / HTTP/1.1\r\n\r\n"])
def test_bytes_that_start_no_record_stay_raw(payload: bytes) -> None:
    data = _frame(payload)
    packet = decode(data)
    assert packet[Raw].data == payload and packet.get(TLSRecord) is None and packet.encode() == data


@pytest.mark.parametrize(("length", "message"), [(-1, "24-bit"), (1 << 24, "24-bit")])
def test_a_handshake_length_must_fit_24_bits(length: int, message: str) -> None:
    from layersim.errors import FieldValueError

    with pytest.raises((FieldValueError, ValueError), match=message):
        TLSHandshake(length=length)


RECORD_HEADS = st.tuples(st.sampled_from([20, 21, 22, 23, 24]), st.integers(0, 4), st.integers(0, 0xFFFF))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(RECORD_HEADS, st.binary(max_size=80)), max_size=4), st.binary(max_size=40))
def test_hostile_records_decode_or_raise_decode_error_and_round_trip(records: list, tail: bytes) -> None:
    payload = b"".join(bytes((kind, 3, minor)) + length.to_bytes(2, "big") + body
                       for (kind, minor, length), body in records) + tail
    data = _frame(payload)
    try:
        packet = decode(data)
    except DecodeError:
        return
    assert packet.encode() == data
    for layer in packet.layers:
        if isinstance(layer, TLSRecord):
            layer.info()
            for message in layer.handshake:
                message.certificates  # noqa: B018 - reading it must not raise
                if message.message is not None:
                    message.message.info()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_hello_body_parses_exactly_or_raises_decode_error(body: bytes) -> None:
    for cls in (TLSClientHello, TLSServerHello):
        try:
            hello = cls.parse(body, 0, len(body))
        except DecodeError:
            continue
        assert hello.encode_layer(b"", None, None) == body
        hello.info()
