"""The demo's story, read from the trace: DNS, ARP, the handshake, the GET layer by layer and hop by hop (with
the home router's NAT), the response segments and ACKs, netstat, the close, and the tutorial's socket-only client.

`story(run)` returns it as data (what `layersim demo --json` prints); `render(data)` as text.
"""

from __future__ import annotations

from typing import Any

from layersim.demo import DNS_ADDRESS, HELLO, WEB_ADDRESS, DemoRun
from layersim.net.trace.details import flag_text
from layersim.net.trace.log import EventKind, TraceEvent
from layersim.wire.arp import ARP
from layersim.wire.dns import DNS
from layersim.wire.http import HTTPRequest, HTTPResponse
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode
from layersim.wire.tcp import TCP
from layersim.wire.udp import UDP

__all__ = ["render", "story"]

_LAPTOP_IF = ("laptop", "eth0")


def _frames(run: DemoRun) -> list[tuple[TraceEvent, Packet]]:
    """Every frame the laptop sent or received, decoded, in order."""
    out = []
    for event in run.network.trace.events:
        if (event.node, event.interface) == _LAPTOP_IF and event.kind in (EventKind.SEND, EventKind.RECEIVE) \
                and event.frame is not None:
            out.append((event, decode(event.frame)))
    return out


def _rtype(value: int) -> str:
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else str(value)


def _ms(ns: int) -> float:
    return round(ns / 1e6, 3)


def _segment(event: TraceEvent, packet: Packet, isn: dict[str, int]) -> dict[str, Any]:
    """One segment as the laptop saw it; seq and ack relative to each side's initial sequence number."""
    ip, tcp = packet[IPv4], packet[TCP]
    payload = len(packet.payload_of(TCP))
    out = event.kind is EventKind.SEND
    mine, theirs = isn.get("laptop", 0), isn.get("web", 0)
    seq = (tcp.seq - (mine if out else theirs)) & 0xFFFFFFFF
    ack = (tcp.ack - (theirs if out else mine)) & 0xFFFFFFFF if int(tcp.flags) & 0x10 else 0
    return {"t_ms": _ms(event.time_ns), "direction": "out" if out else "in", "src": f"{ip.src}:{tcp.sport}",
            "dst": f"{ip.dst}:{tcp.dport}", "flags": flag_text(int(tcp.flags)), "seq": seq, "ack": ack,
            "len": payload, "window": tcp.window, "frame_bytes": len(event.frame or b"")}


def _layers(packet: Packet) -> list[dict[str, Any]]:
    """Each layer of a frame with its size in bytes (the top layer's size is its payload)."""
    ip, tcp = packet[IPv4], packet[TCP]
    sizes = [("Ethernet", 14), ("IPv4", ip.header_length), ("TCP", tcp.header_length),
             ("HTTP", len(packet.payload_of(TCP)))]
    return [{"layer": name, "bytes": size} for name, size in sizes]


_LABELS = {"Ethernet.dst": "dst MAC", "Ethernet.src": "src MAC", "IPv4.ttl": "TTL",
           "IPv4.header_checksum": "IP checksum", "IPv4.src": "src address (NAT)", "IPv4.dst": "dst address (NAT)",
           "TCP.sport": "src port (NAT)", "TCP.dport": "dst port (NAT)", "TCP.checksum": "TCP checksum"}


def _friendly(change: str) -> str:
    name, _, rest = change.partition(": ")
    return f"{_LABELS.get(name, name)} {rest}"


def _hops(run: DemoRun, packet_id: int) -> list[dict[str, Any]]:
    return [{"node": hop.node, "in": hop.in_interface, "out": hop.out_interface, "outcome": hop.outcome,
             "changes": [str(c) for c in hop.changes]} for hop in run.network.trace.hops(packet_id)]


def story(run: DemoRun) -> dict[str, Any]:
    """The demo as data (see the README for the format)."""
    frames = _frames(run)
    net = run.network
    data: dict[str, Any] = {"seed": run.seed, "loss": run.loss, "url": "http://example.com/",
                            "nodes": {name: [str(i.address) for i in node.interfaces.values() if i.address]
                                      for name, node in net.nodes.items()}}
    arp = [(e, p) for e, p in frames if ARP in p]
    data["arp"] = [{"t_ms": _ms(e.time_ns), "direction": "out" if e.kind is EventKind.SEND else "in",
                    "what": f"who has {p[ARP].target_ip}? tell {p[ARP].sender_ip}" if p[ARP].opcode == 1
                    else f"{p[ARP].sender_ip} is at {p[ARP].sender_mac}"} for e, p in arp[:2]]
    dns = [(e, p) for e, p in frames if UDP in p and 53 in (p[UDP].sport, p[UDP].dport) and DNS in p]
    data["dns"] = [{"t_ms": _ms(e.time_ns), "direction": "out" if e.kind is EventKind.SEND else "in",
                    "id": p[DNS].id, "question": [str(q.name) for q in p[DNS].questions],
                    "answers": [f"{r.name} {_rtype(r.rtype)} {r.value} (TTL {r.ttl})" for r in p[DNS].answers],
                    "bytes": len(e.frame or b"")} for e, p in dns[:2]]
    web = [(e, p) for e, p in frames if TCP in p and 80 in (p[TCP].sport, p[TCP].dport)]
    first_port = next((p[TCP].sport for e, p in web if e.kind is EventKind.SEND), None)
    conn = [(e, p) for e, p in web if first_port in (p[TCP].sport, p[TCP].dport)]
    isn = {("laptop" if e.kind is EventKind.SEND else "web"): p[TCP].seq for e, p in conn if int(p[TCP].flags) & 0x02}

    def segment(event: TraceEvent, packet: Packet) -> dict[str, Any]:
        return _segment(event, packet, isn)

    data["handshake"] = [segment(e, p) for e, p in conn[:3]]
    get = next(((e, p) for e, p in conn if HTTPRequest in p), None)
    if get is not None:
        event, packet = get
        request = packet[HTTPRequest]
        data["get"] = {"t_ms": _ms(event.time_ns), "request_line": f"{request.method} {request.target} "
                       f"{request.version}", "frame_bytes": len(event.frame or b""),
                       "layers": _layers(packet), "hops": _hops(run, event.packet_id or 0)}
    response = [(e, p) for e, p in conn if e.kind is EventKind.RECEIVE and len(p.payload_of(TCP)) > 0]
    status = next((p[HTTPResponse] for _, p in response if HTTPResponse in p), None)
    data["response"] = {"status": None if status is None else f"{status.status} {status.reason}",
                        "segments": [segment(e, p) for e, p in response],
                        "acks": [segment(e, p) for e, p in conn if e.kind is EventKind.SEND
                                 and not len(p.payload_of(TCP)) and int(p[TCP].flags) == 0x10][1:],
                        "body_bytes": len(run.requests_process.result.content) if run.requests_process.result
                        is not None else 0}
    data["close"] = [segment(e, p) for e, p in conn if int(p[TCP].flags) & 0x05]
    last_fin = max((i for i, (_, p) in enumerate(conn) if int(p[TCP].flags) & 0x01), default=None)
    if last_fin is not None and last_fin + 1 < len(conn):
        data["close"].append(segment(*conn[last_fin + 1]))
    data["netstat"] = {"t_ms": None if run.netstat_ns is None else _ms(run.netstat_ns), "text": run.netstat}
    got = run.tutorial_process.result or b""
    head, _, body = got.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), len(body))
    data["tutorial_client"] = {"host": HELLO, "status": head.split(b"\r\n")[0].decode(errors="replace"),
                               "bytes_received": len(got), "body": body.decode(errors="replace"),
                               "body_bytes_received": len(body), "content_length": length,
                               "short_read": len(body) < length}
    nat = net.nodes["home"].nat  # type: ignore[attr-defined]
    data["nat"] = [e.details for e in net.trace.select(EventKind.NAT, node="home")][:4]
    data["nat_table"] = nat.table() if nat is not None else ""
    data["retransmissions"] = len([e for e in net.trace.select(EventKind.TCP) if e.info.what == "retransmit"])
    drops: dict[str, int] = {}
    for event in net.trace.drops():
        drops[event.reason.value] = drops.get(event.reason.value, 0) + 1  # type: ignore[union-attr]
    data["drops"] = drops
    data["files"] = [str(path) for path in run.files]
    data["simulated_ms"] = _ms(net.now)
    return data


def _segment_line(s: dict[str, Any]) -> str:
    arrow = "->" if s["direction"] == "out" else "<-"
    return (f"  {s['t_ms']:9.3f} ms  {arrow} {s['flags']:<4} seq={s['seq']} ack={s['ack']} len={s['len']} "
            f"win={s['window']}  ({s['frame_bytes']}-byte frame)")


def render(data: dict[str, Any]) -> str:
    """The story as text, in the order things happened."""
    lines = [f"layersim demo: requests.get({data['url']!r}) on the laptop (seed {data['seed']}, loss {data['loss']})",
             f"  laptop 10.0.0.2 -> home (NAT, 198.51.100.2) -> isp1 -> isp2 -> web {WEB_ADDRESS}; "
             f"dns {DNS_ADDRESS} on isp1", ""]
    lines.append("1. ARP: the laptop asks who has its gateway, 10.0.0.1")
    lines += [f"  {a['t_ms']:9.3f} ms  {'->' if a['direction'] == 'out' else '<-'} {a['what']}" for a in data["arp"]]
    lines.append("2. DNS: the stub resolver asks for example.com (UDP port 53)")
    for d in data["dns"]:
        what = f"query {', '.join(d['question'])}" if d["direction"] == "out" else \
            f"answer {', '.join(d['answers']) or 'none'}"
        lines.append(f"  {d['t_ms']:9.3f} ms  {'->' if d['direction'] == 'out' else '<-'} id {d['id']:#06x} "
                     f"{what} ({d['bytes']}-byte frame)")
    lines.append(f"3. TCP three-way handshake with {WEB_ADDRESS}:80")
    lines += [_segment_line(s) for s in data["handshake"]]
    get = data.get("get")
    if get:
        layers = " | ".join(f"{x['layer']} {x['bytes']} B" for x in get["layers"])
        lines += [f"4. The GET, layer by layer: {get['request_line']}", f"  {layers} = {get['frame_bytes']} bytes",
                  "  hop by hop:"]
        for hop in get["hops"]:
            where = " -> ".join(x for x in (hop["in"], hop["out"]) if x)
            lines.append(f"    {hop['node']} ({where}) {hop['outcome']}")
            lines += [f"        {_friendly(change)}" for change in hop["changes"]]
    response = data["response"]
    lines.append(f"5. The response: {response['status']}, {response['body_bytes']} bytes of body in "
                 f"{len(response['segments'])} segments, and the laptop's ACKs")
    lines += [_segment_line(s) for s in response["segments"]]
    lines += [_segment_line(s) for s in response["acks"]]
    lines += ["6. netstat -tan on the laptop during the transfer"
              + (f" (at {data['netstat']['t_ms']:.3f} ms)" if data["netstat"]["t_ms"] is not None else "")]
    lines += [f"  {line}" for line in data["netstat"]["text"].splitlines()]
    lines.append("7. Closing: FIN and ACK")
    lines += [_segment_line(s) for s in data["close"]]
    tutorial = data["tutorial_client"]
    verdict = (f"it stopped at the first short read and kept {tutorial['body_bytes_received']} of "
               f"{tutorial['content_length']} body bytes: the tail was still on its way" if tutorial["short_read"]
               else f"{tutorial['status']}, body {tutorial['body']!r}: one segment, so its loop got all of it")
    lines += [f"8. The tutorial's socket-only client asks {tutorial['host']} for / (it reads until a recv returns "
              "under 4096 bytes)", f"  {verdict}",
              "  (with a page of several segments that loop stops early: layersim run examples/tutorial_long.toml)"]
    lines += ["", "NAT on the home router (conntrack -L):"] + [f"  {line}" for line in
                                                                data["nat_table"].splitlines() or ["(no mappings)"]]
    drops = ", ".join(f"{reason} {count}" for reason, count in sorted(data["drops"].items())) or "none"
    lines.append(f"retransmissions: {data['retransmissions']}; drops: {drops}; "
                 f"simulated time {data['simulated_ms'] / 1000:.3f} s")
    if data["files"]:
        first, every, *links = data["files"]
        lines += [f"captures: {first} (the laptop's eth0, each frame once: open this one first)",
                  f"  {every} (every interface: a frame once per end of each link, copies share frame.packet_id)",
                  f"  and {len(links)} per-link pcaps beside them (one link each, as classic pcap)"]
    return "\n".join(lines)
