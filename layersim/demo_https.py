"""The HTTPS version of the demo's story: DNS, TCP, the TLS handshake (what each side sends, what an observer on
the ISP links reads, what only the two ends know), and the GET inside TLS.

`https_story(run)` returns it as data (`layersim demo --https --json`); `render_https(data)` as text. The keys:
seed, url, dns, handshake, tls (one entry per frame that carries TLS: t_ms, direction, records), observer,
endpoints, response, key_log, nondeterminism, failures, files. OpenSSL draws its own random numbers (the hello
randoms, key shares, session tickets), so TLS bytes differ from run to run; their sizes and times, and every other
byte of the captures, are the same per seed.
"""

from __future__ import annotations

from typing import Any

from layersim.demo import CERTIFICATE_NAMES, HTTPS_URL, WEB_ADDRESS, DemoRun
from layersim.demo_story import _Connection, _dns, _inbound, _ms, _sightings
from layersim.net.trace.log import EventKind
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import decode
from layersim.wire.tcp import TCP
from layersim.wire.tls import TLSContentType, TLSRecord

__all__ = ["NONDETERMINISM", "https_story", "render_https"]

NONDETERMINISM = ("OpenSSL draws its own random numbers (hello randoms, key shares, session tickets), so the TLS "
                  "bytes differ from run to run; their sizes and times, and every other byte, are the same per seed.")
OBSERVER_LINK = ("isp1", "eth1")  # isp1's side of the isp1-isp2 link: the ISP's view, after the home NAT
_HANDSHAKE_WORDS = {"CLIENT_HELLO": "ClientHello", "SERVER_HELLO": "ServerHello"}


def _records(packet: Any) -> list[dict[str, Any]]:
    """Each TLS record of a frame as an observer reads it."""
    out = []
    for layer in packet.layers:
        if not isinstance(layer, TLSRecord):
            continue
        item: dict[str, Any] = {"type": layer.content_type.name.lower(), "length": layer.length}
        messages = []
        for message in layer.handshake:
            hello = message.message
            messages.append({"message": _HANDSHAKE_WORDS.get(message.msg_type.name, message.msg_type.name),
                             **(hello.info() if hello is not None else {})})
        if messages:
            item["handshake"] = messages
        elif layer.content_type == TLSContentType.APPLICATION_DATA:
            item["opaque"] = True
        out.append(item)
    return out


def _observer(run: DemoRun) -> dict[str, Any]:
    """What isp1 forwards towards the web server and back: addresses, ports, SNI, ALPN, record sizes; nothing more."""
    net = run.network
    node, iface = OBSERVER_LINK
    seen: dict[str, Any] = {"link": "isp1-isp2", "frames": 0, "tls_bytes": 0, "server_name": None, "alpn": [],
                            "addresses": None, "record_types": []}
    for event in net.trace.events:
        if (event.node, event.interface) != (node, iface) or event.kind is not EventKind.SEND or event.frame is None:
            continue
        packet = decode(event.frame)
        if TCP not in packet or 443 not in (packet[TCP].sport, packet[TCP].dport):
            continue
        ip, tcp = packet[IPv4], packet[TCP]
        seen["frames"] += 1
        if seen["addresses"] is None and tcp.dport == 443:
            seen["addresses"] = f"{ip.src}:{tcp.sport} -> {ip.dst}:{tcp.dport}"
        seen["tls_bytes"] += len(packet.payload_of(TCP))
        for record in _records(packet):
            if record["type"] not in seen["record_types"]:
                seen["record_types"].append(record["type"])
            for message in record.get("handshake", []):
                seen["server_name"] = seen["server_name"] or message.get("server_name")
                if message["message"] == "ServerHello" or not seen["alpn"]:  # the server's choice wins
                    seen["alpn"] = message.get("alpn", [])
    return seen


def https_story(run: DemoRun) -> dict[str, Any]:
    """The HTTPS demo as data (see the module docstring for the keys)."""
    net = run.network
    sightings = _sightings(net)
    data: dict[str, Any] = {"seed": run.seed, "url": HTTPS_URL, "dns": _dns(sightings)}
    web = [s for s in sightings if TCP in s[1] and 443 in (s[1][TCP].sport, s[1][TCP].dport)]
    port = next((p[TCP].sport for e, p, _ in web if not _inbound(e)), None)
    conn = _Connection([s for s in web if port in (s[1][TCP].sport, s[1][TCP].dport)])
    segments = conn.segments
    shake = next((i + 1 for i, s in enumerate(segments) if s["direction"] == "out" and s["flags"] == "."), 0)
    data["handshake"] = segments[:shake]
    data["tls"] = [{"t_ms": _ms(e.time_ns), "direction": "in" if _inbound(e) else "out", "records": _records(p)}
                   for e, p, _ in conn.items if _records(p)]
    data["observer"] = _observer(run)
    fetched = run.requests_process.result
    tls = getattr(fetched, "tls", None) or {}
    certificate = tls.get("certificate") or {}
    data["endpoints"] = {
        "version": tls.get("version"), "cipher": tls.get("cipher"), "alpn": tls.get("alpn"),
        "certificate": {"subject": dict(x[0] for x in certificate.get("subject", ())).get("commonName"),
                        "issuer": dict(x[0] for x in certificate.get("issuer", ())).get("commonName"),
                        "names": [v for _, v in certificate.get("subjectAltName", ())] or None,
                        "expected_names": CERTIFICATE_NAMES},
        "request": None if fetched is None else f"{fetched.request.method} {fetched.request.path_url} HTTP/1.1",
        "host": None if fetched is None else fetched.request.headers.get("Host", "example.com")}
    data["response"] = {"status": None if fetched is None else f"{fetched.status_code} {fetched.reason}",
                        "body_bytes": len(fetched.content) if fetched is not None else 0}
    data["key_log"] = sorted({line.split()[0] for chunk in net._tls_secrets for line in chunk.decode().splitlines()
                              if line.strip()})
    data["nondeterminism"] = NONDETERMINISM
    data["failures"] = run.failures
    data["files"] = [str(path) for path in run.files]
    return data


def _record_text(record: dict[str, Any]) -> str:
    if "handshake" in record:
        parts = []
        for m in record["handshake"]:
            facts = [f"SNI {m['server_name']}" if m.get("server_name") else "",
                     f"ALPN {','.join(m['alpn'])}" if m.get("alpn") else "",
                     f"versions {','.join(m.get('supported_versions', []))}" if m.get("supported_versions") else "",
                     f"key share {','.join(m.get('key_share_groups', []))}" if m.get("key_share_groups") else ""]
            parts.append(f"{m['message']} ({'; '.join(f for f in facts if f)})")
        return f"handshake {record['length']} bytes: " + ", ".join(parts)
    return f"{record['type']} {record['length']} bytes" + (" (encrypted)" if record.get("opaque") else "")


def render_https(data: dict[str, Any]) -> str:
    """The story as text."""
    lines = [f"requests.get(\"{data['url']}\") on the laptop, seed {data['seed']}, certificate verification on", "",
             "1. DNS: the name is looked up in the clear, as for http://"]
    lines += [f"  {d['t_ms']:9.3f} ms  {'->' if d['direction'] == 'out' else '<-'} "
              + (f"query {', '.join(d['question'])}" if d["direction"] == "out" else
                 f"answer {', '.join(d['answers'])}") for d in data["dns"]]
    lines += ["", f"2. TCP three-way handshake with {WEB_ADDRESS}:443"]
    lines += [f"  {s['t_ms']:9.3f} ms  {'->' if s['direction'] == 'out' else '<-'} {s['flags']:<4} seq={s['seq']} "
              f"ack={s['ack']}" for s in data["handshake"]]
    lines += ["", "3. TLS 1.3 handshake and the GET inside it (records per frame; -> laptop to server)"]
    for item in data["tls"]:
        arrow = "->" if item["direction"] == "out" else "<-"
        for i, record in enumerate(item["records"]):
            lines.append(f"  {item['t_ms']:9.3f} ms  {arrow if i == 0 else '  '} {_record_text(record)}")
    seen, ends = data["observer"], data["endpoints"]
    lines += ["", f"4. What an observer on the ISP link {seen['link']} reads ({seen['frames']} frames)",
              f"  addresses and ports {seen['addresses']} (after the home router's NAT)",
              f"  the name asked for, in the ClientHello's SNI: {seen['server_name']}; ALPN {','.join(seen['alpn'])}",
              f"  record types {', '.join(seen['record_types'])}; {seen['tls_bytes']} bytes of TLS, each segment's "
              "size and time", "  not the certificate (encrypted in TLS 1.3), the URL path, the headers or the page",
              "", "5. What only the two ends know",
              f"  {ends['version']} with {ends['cipher']}, ALPN {ends['alpn']}",
              f"  the certificate: {ends['certificate']['subject']} (names "
              f"{', '.join(ends['certificate']['names'] or [])}) issued by {ends['certificate']['issuer']}, which the "
              "laptop trusts",
              f"  the request: {ends['request']} Host: {ends['host']}; the answer: {data['response']['status']}, "
              f"{data['response']['body_bytes']} bytes of page",
              "", "6. Decrypting the capture",
              f"  the key log ({', '.join(data['key_log'])})",
              "  is in demo.pcapng and all-interfaces.pcapng as a Decryption Secrets Block before the records it opens",
              "  (classic pcap has no place for it): Wireshark and `tshark -r demo.pcapng -Y http` show the GET",
              f"  {data['nondeterminism']}"]
    if data["failures"]:
        lines += ["", "failed: " + "; ".join(f"{k}: {v}" for k, v in data["failures"].items())]
    if data["files"]:
        lines += ["", "files: " + ", ".join(data["files"])]
    return "\n".join(lines)
