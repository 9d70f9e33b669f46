"""HTTP/1.1 layers checked against real curl / http.server traffic, scapy's HTTP layer and tshark."""

import itertools
import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.http import HTTP as SHTTP
from scapy.layers.http import HTTPRequest as SHTTPRequest
from scapy.layers.http import HTTPResponse as SHTTPResponse
from scapy.layers.inet import IP
from scapy.layers.inet import TCP as STCP
from scapy.layers.l2 import Ether

from layersim.capture.pcap import write_pcap
from layersim.errors import FieldValueError
from layersim.wire.http import HTTPMessage, HTTPRequest, HTTPResponse
from layersim.wire.packet import Packet, decode
from layersim.wire.payload import Raw
from tests.wire import golden

# Real loopback traffic: `python3 -m http.server 80 --bind 127.0.0.1` (Python 3.11.7) serving a 31-byte
# index.html, fetched with curl 7.88.1 (`curl http://127.0.0.1/index.html`, then `curl -d name=layersim
# http://127.0.0.1/form`), captured with `tcpdump -i lo -w` (Debian 12). Frame numbers are tshark's. On lo the
# kernel leaves TCP checksums partial (offload), so they read as incorrect: these tests do not check them.
# Frame 4: curl's GET.
CURL_GET = bytes.fromhex(
    "0000000000000000000000000800450000874aeb40004006f1837f0000017f000001841800500532ac0121a8262e8018"
    "0040fe7b00000101080a5e681a4bb7dde838474554202f696e6465782e68746d6c20485454502f312e310d0a486f7374"
    "3a203132372e302e302e310d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f"
    "2a0d0a0d0a")
# Frame 6: http.server's status line and headers, sent as a segment of their own.
SERVER_HEAD = bytes.fromhex(
    "0000000000000000000000000800450000edb6fb40004006850d7f0000017f0000010050841821a8262e0532ac548018"
    "0040fee100000101080ab7dde83a5e681a4b485454502f312e3020323030204f4b0d0a5365727665723a2053696d706c"
    "65485454502f302e3620507974686f6e2f332e31312e370d0a446174653a205765642c203235204e6f76203230323620"
    "31353a35393a343520474d540d0a436f6e74656e742d747970653a20746578742f68746d6c0d0a436f6e74656e742d4c"
    "656e6774683a2033310d0a4c6173742d4d6f6469666965643a205765642c203235204e6f7620323032362031353a3539"
    "3a333720474d540d0a0d0a")
# Frame 8: the body in the next segment (a continuation, not a message: stays Raw).
SERVER_BODY = bytes.fromhex(
    "000000000000000000000000080045000053b6fc4000400685a67f0000017f0000010050841821a826e70532ac548018"
    "0040fe4700000101080ab7dde83a5e681a4d3c68746d6c3e3c626f64793e68656c6c6f3c2f626f64793e3c2f68746d6c"
    "3e")
# Frame 16: curl's POST, head and 13-byte form body in one segment.
CURL_POST = bytes.fromhex(
    "0000000000000000000000000800450000d49e96400040069d8b7f0000017f00000184200050ba46d2e5728b52488018"
    "0040fec800000101080ae16e557abf4c97db504f5354202f666f726d20485454502f312e310d0a486f73743a20313237"
    "2e302e302e310d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a436f"
    "6e74656e742d4c656e6774683a2031330d0a436f6e74656e742d547970653a206170706c69636174696f6e2f782d7777"
    "772d666f726d2d75726c656e636f6465640d0a0d0a6e616d653d6c6179657273696d")
# Frame 18: http.server refusing the POST: a reason phrase with spaces, parentheses and quotes.
SERVER_501 = bytes.fromhex(
    "0000000000000000000000000800450000fab060400040068b9b7f0000017f00000100508420728b5248ba46d3858018"
    "0040feee00000101080abf4c97dde16e557a485454502f312e302035303120556e737570706f72746564206d6574686f"
    "64202827504f535427290d0a5365727665723a2053696d706c65485454502f302e3620507974686f6e2f332e31312e37"
    "0d0a446174653a205765642c203235204e6f7620323032362031353a35393a343520474d540d0a436f6e6e656374696f"
    "6e3a20636c6f73650d0a436f6e74656e742d547970653a20746578742f68746d6c3b636861727365743d7574662d380d"
    "0a436f6e74656e742d4c656e6774683a203335370d0a0d0a")

CURL_HEADERS = (("Host", "127.0.0.1"), ("User-Agent", "curl/7.88.1"), ("Accept", "*/*"))
SERVER_HEADERS = (("Server", "SimpleHTTP/0.6 Python/3.11.7"), ("Date", "Wed, 25 Nov 2026 15:59:45 GMT"),
                  ("Content-type", "text/html"), ("Content-Length", "31"),
                  ("Last-Modified", "Wed, 25 Nov 2026 15:59:37 GMT"))


def wire(layer):
    return Packet([layer]).encode()


def tcp_frame(payload, sport=40000, dport=80):
    """An Ethernet/IPv4/TCP frame built by scapy around `payload`."""
    return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                 / IP(src="10.0.1.10", dst="10.0.2.20")
                 / STCP(sport=sport, dport=dport, seq=1000, ack=2000, flags="PA") / payload)


# Building ---------------------------------------------------------------------------------------------


def test_request_encodes_exactly_what_the_fields_say():
    request = HTTPRequest("GET", "/", headers={"Host": "example.com"})
    assert wire(request) == b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    assert request.headers == (("Host", "example.com"),)
    assert request == HTTPRequest(headers=[("Host", "example.com")])
    assert request == HTTPRequest(headers=[["Host", "example.com"]])
    assert wire(HTTPRequest()) == b"GET / HTTP/1.1\r\n\r\n"  # nothing added: no Host, no Content-Length


def test_response_default_reason_follows_the_status():
    assert wire(HTTPResponse()) == b"HTTP/1.1 200 OK\r\n\r\n"
    assert wire(HTTPResponse(404, body=b"x")) == b"HTTP/1.1 404 Not Found\r\n\r\nx"
    assert HTTPResponse(599).reason == "" and HTTPResponse(418, "Teapot").reason == "Teapot"
    assert HTTPResponse(404).replace(reason="Gone").reason == "Gone"


def test_request_built_with_packet_division_carries_the_payload_after_the_body():
    assert (HTTPRequest("POST", "/f", body=b"ab") / b"cd").encode() == b"POST /f HTTP/1.1\r\n\r\nabcd"


@pytest.mark.parametrize(("fields", "message"), [
    ({"method": "G ET"}, r"HTTPRequest.method: 'G ET' is not a token"),
    ({"method": b"GET"}, r"HTTPRequest.method: expected str, got bytes"),
    ({"target": "/a b"}, r"HTTPRequest.target: '/a b' is not a request target"),
    ({"target": ""}, r"HTTPRequest.target: '' is not a request target"),
    ({"version": "HTTP/1.10"}, r"HTTPRequest.version: 'HTTP/1.10' is not an HTTP version"),
    ({"headers": {"Host": "a\r\nX-Injected: 1"}}, r"HTTPRequest.headers: header .* is not a field value"),
    ({"headers": {"Host": " padded"}}, r"is not a field value"),
    ({"headers": {"Bad Name": "x"}}, r"'Bad Name' is not a token"),
    ({"headers": [("Host",)]}, r"header \('Host',\) is not a \(name, value\) pair"),
    ({"headers": "Host: a"}, r"expected a dict or \(name, value\) pairs, got str"),
    ({"body": "text"}, r"HTTPRequest.body: expected bytes, got str"),
])
def test_request_rejects_values_that_would_not_frame(fields, message):
    with pytest.raises(FieldValueError, match=message):
        HTTPRequest(**fields)


@pytest.mark.parametrize(("status", "message"), [(1000, "1000"), (True, "True"), ("200", "'200'")])
def test_response_status_is_a_three_digit_number(status, message):
    with pytest.raises(FieldValueError, match=rf"HTTPResponse.status: {message} is not a three-digit"):
        HTTPResponse(status)


def test_header_lookup_is_case_insensitive_and_returns_the_first():
    request = HTTPRequest(headers=[("Set-Cookie", "a=1"), ("Host", "h"), ("set-cookie", "b=2")])
    assert request.header("set-cookie") == "a=1" and request.header("HOST") == "h"
    assert request.header("Accept") is None


def test_info_reports_lengths():
    response = HTTPResponse(headers={"Content-Length": "10"}, body=b"12345")
    assert response.info() == {"response": "200 OK", "body_length": 5, "content_length": 10}
    assert HTTPRequest("PUT", "/x", headers={"Content-Length": "²"}).info() == {"request": "PUT /x",
                                                                                 "body_length": 0}


def test_field_spans_cover_every_byte_in_order():
    request = HTTPRequest("GET", "/a", headers=[("Host", "h"), ("Accept", "*/*")], body=b"xy")
    data = wire(request)
    spans = request.field_spans(10, 10 + len(data))
    assert [name for name, _, _ in spans] == ["method", "target", "version", "header:Host", "header:Accept",
                                              "end_of_headers", "body"]
    assert [(a, b) for _, a, b in spans][:3] == [(10, 14), (14, 17), (17, 27)]
    assert b"".join(data[a - 10:b - 10] for _, a, b in spans) == data
    assert all(b == a2 for (_, _, b), (_, a2, _) in itertools.pairwise(spans))
    response = HTTPResponse(404)
    assert [(n, a, b) for n, a, b in response.field_spans(0, 24)][:3] == [
        ("version", 0, 9), ("status", 9, 13), ("reason", 13, 24)]


# Cross-checks with scapy ------------------------------------------------------------------------------


def test_same_bytes_as_scapy_request():
    theirs = SHTTP() / SHTTPRequest(Method=b"GET", Path=b"/index.html", Http_Version=b"HTTP/1.1",
                                    Host=b"example.com", User_Agent=b"curl/8.5.0", Accept=b"*/*")
    # scapy adds "Content-Length: 0" to a request without a body and orders headers by its field table.
    ours = HTTPRequest("GET", "/index.html", headers=[("Accept", "*/*"), ("Content-Length", "0"),
                                                      ("Host", "example.com"), ("User-Agent", "curl/8.5.0")])
    assert wire(ours) == bytes(theirs)


def test_same_bytes_as_scapy_response_with_body():
    theirs = SHTTP() / SHTTPResponse(Http_Version=b"HTTP/1.1", Status_Code=b"200", Reason_Phrase=b"OK",
                                     Content_Type=b"text/html", Content_Length=b"5",
                                     Date=b"Wed, 25 Nov 2026 15:59:45 GMT") / b"hello"
    ours = HTTPResponse(200, "OK", [("Content-Length", "5"), ("Content-Type", "text/html"),
                                    ("Date", "Wed, 25 Nov 2026 15:59:45 GMT")], b"hello")
    assert wire(ours) == bytes(theirs)


def test_scapy_dissects_our_request_to_the_same_values():
    ours = HTTPRequest("POST", "/form?q=1", headers={"Host": "example.com", "X-Trace": "abc"}, body=b"k=v")
    theirs = SHTTP(wire(ours))
    request = theirs[SHTTPRequest]
    assert (request.Method, request.Path, request.Http_Version) == (b"POST", b"/form?q=1", b"HTTP/1.1")
    assert request.Host == b"example.com" and request.Unknown_Headers == {b"X-Trace": b"abc"}
    assert bytes(request.payload) == b"k=v"


# Real traffic -----------------------------------------------------------------------------------------


def test_real_curl_get_decodes_field_by_field_and_rebuilds():
    pkt = decode(CURL_GET)
    request = pkt.layers[-1]
    assert type(request) is HTTPRequest
    assert (request.method, request.target, request.version) == ("GET", "/index.html", "HTTP/1.1")
    assert request.headers == CURL_HEADERS and request.body == b""
    assert pkt.encode() == CURL_GET
    assert wire(HTTPRequest("GET", "/index.html", CURL_HEADERS)) == pkt.payload_of(type(pkt.layers[-2]))


def test_real_curl_post_keeps_its_body():
    request = decode(CURL_POST).layers[-1]
    assert type(request) is HTTPRequest and request.method == "POST" and request.target == "/form"
    assert request.header("content-type") == "application/x-www-form-urlencoded"
    assert request.body == b"name=layersim" and request.info()["content_length"] == 13
    assert decode(CURL_POST).encode() == CURL_POST


def test_real_server_head_segment_is_a_response_and_its_body_segment_stays_raw():
    response = decode(SERVER_HEAD).layers[-1]
    assert type(response) is HTTPResponse
    assert (response.version, response.status, response.reason) == ("HTTP/1.0", 200, "OK")
    assert response.headers == SERVER_HEADERS and response.body == b""
    assert response.info() == {"response": "200 OK", "body_length": 0, "content_length": 31}
    assert decode(SERVER_HEAD).encode() == SERVER_HEAD
    body = decode(SERVER_BODY)
    assert type(body.layers[-1]) is Raw and body.layers[-1].data == b"<html><body>hello</body></html>"


def test_real_501_reason_phrase_round_trips():
    pkt = decode(SERVER_501)
    response = pkt.layers[-1]
    assert (response.status, response.reason) == (501, "Unsupported method ('POST')")
    assert response.header("Connection") == "close" and pkt.encode() == SERVER_501


def test_golden_linux_capture_urllib_get():
    request = decode(golden.HTTP_GET).layers[-1]
    assert type(request) is HTTPRequest and request.target == "/"
    assert request.headers == (("Accept-Encoding", "identity"), ("Host", "10.0.2.20"),
                               ("User-Agent", "Python-urllib/3.11"), ("Connection", "close"))


def test_scapy_built_frame_decodes_to_the_same_request():
    request = HTTPRequest("GET", "/", headers={"Host": "example.com", "User-Agent": "layersim"})
    data = tcp_frame(wire(request))
    pkt = decode(data)
    assert pkt.layers[-1] == request and pkt.encode() == data
    assert pkt[HTTPMessage] == request  # the dispatcher class finds either kind of message
    response = HTTPResponse(301, headers={"Location": "https://example.com/"})
    assert decode(tcp_frame(wire(response), sport=80, dport=40000)).layers[-1] == response


def test_decoding_can_start_at_http():
    data = wire(HTTPResponse(204, "No Content"))
    assert decode(data, HTTPMessage).layers == (HTTPResponse(204),)


NOT_HTTP = {
    "partial head": b"GET / HTTP/1.1\r\nHost: example.com\r\n",
    "tls client hello": bytes.fromhex("1603010200010001fc0303") + bytes(40),
    "binary junk": bytes(range(256)),
    "no space after colon": b"GET / HTTP/1.1\r\nHost:example.com\r\n\r\n",
    "two spaces in request line": b"GET  / HTTP/1.1\r\n\r\n",
    "status line without reason separator": b"HTTP/1.1 200\r\n\r\n",
    "two-digit status": b"HTTP/1.1 20 OK\r\n\r\n",
    "bare LF lines": b"GET / HTTP/1.1\nHost: a\n\n",
    "trailing whitespace in value": b"GET / HTTP/1.1\r\nHost: a \r\n\r\n",
    "obsolete line folding": b"GET / HTTP/1.1\r\nX-Long: a\r\n b\r\n\r\n",
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "HTTP/0.9 request": b"GET /\r\n\r\n",
    "header without colon": b"GET / HTTP/1.1\r\nHost\r\n\r\n",
}


@pytest.mark.parametrize("payload", NOT_HTTP.values(), ids=NOT_HTTP.keys())
def test_what_would_not_round_trip_stays_raw(payload):
    assert HTTPMessage.parse(payload) is None
    data = tcp_frame(payload)
    pkt = decode(data)
    assert type(pkt.layers[-1]) is Raw and pkt.layers[-1].data == payload and pkt.encode() == data


# Properties -------------------------------------------------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VCHAR = "".join(map(chr, [*range(0x21, 0x7F), *range(0x80, 0x100)]))
tokens = st.text(TCHAR, min_size=1, max_size=12)
values = st.from_regex(r"(?:[!-~\x80-\xff](?:[\t !-~\x80-\xff]{0,20}[!-~\x80-\xff])?)?", fullmatch=True)
headers = st.lists(st.tuples(tokens, values), max_size=6).map(tuple)
versions = st.sampled_from(["HTTP/1.0", "HTTP/1.1"])
requests = st.builds(HTTPRequest, tokens, st.text(VCHAR, min_size=1, max_size=30), headers,
                     st.binary(max_size=64), versions)
responses = st.builds(HTTPResponse, st.integers(0, 999), st.text(VCHAR + " \t", max_size=20), headers,
                      st.binary(max_size=64), versions)


@settings(max_examples=300, deadline=None)
@given(requests | responses)
def test_any_valid_message_encodes_and_parses_back_equal(message):
    data = wire(message)
    assert HTTPMessage.parse(data) == message
    assert decode(tcp_frame(data)).layers[-1] == message


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([b"", b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n", b"HTTP/"]),
       st.binary(max_size=80), st.sampled_from([b"", b"\r\n\r\n", b"\r\nHost: a\r\n\r\n"]))
def test_random_bytes_parse_to_a_message_or_none_never_raise(prefix, middle, suffix):
    data = prefix + middle + suffix
    message = HTTPMessage.parse(data)
    assert message is None or wire(message) == data


# tshark -----------------------------------------------------------------------------------------------

needs_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None and os.environ.get("LAYERSIM_REQUIRE_TSHARK") != "1",
    reason="tshark not installed")


@pytest.mark.tshark
@needs_tshark
def test_tshark_reads_our_request_and_response_fields(tmp_path):
    request = HTTPRequest("GET", "/index.html", headers={"Host": "example.com", "User-Agent": "layersim/0.1"})
    response = HTTPResponse(404, headers={"Content-Length": "3", "Content-Type": "text/plain"}, body=b"no\n")
    path = tmp_path / "http.pcap"
    write_pcap(path, [(0, tcp_frame(wire(request))), (1000, tcp_frame(wire(response), 80, 40000))])
    fields = ["http.request.method", "http.request.uri", "http.host", "http.user_agent", "http.response.code",
              "http.response.phrase", "http.content_length", "http.content_type"]
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-E", "separator=|",
                          *[arg for f in fields for arg in ("-e", f)]],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    rows = [line.split("|") for line in out.splitlines()]
    assert rows[0][:4] == ["GET", "/index.html", "example.com", "layersim/0.1"]
    assert rows[1][4:] == ["404", "Not Found", "3", "text/plain"]
