"""The demo's story, read from the trace: DNS, ARP, the handshake, the GET layer by layer and hop by hop (with
the home router's NAT), the response segments and ACKs, netstat, the close, and the tutorial's socket-only client.

It is the run narrator's wording (`layersim.app.wording`: field labels, hops, drops, lost frames) plus the demo's
own text. Frames lost on a link appear where they happened ("LOST on isp1-isp2"), and segments or queries sent
again are marked "retransmission". A request that fails under loss is a result: the story goes up to the failure.

`story(run)` returns it as data (what `layersim demo --json` prints); `render(data)` as text. The data's keys:
seed, loss, url, nodes, arp, dns, handshake, window_scale, get, response, close, netstat, tutorial_client, nat,
nat_table, retransmissions, drops, failures, files, last_frame_ms, time_wait, simulated_ms. A segment is
{t_ms, direction ("out" from the laptop, "in" towards it), src, dst, flags, seq, ack (relative), len, window (the
field), window_bytes (scaled by the window scale, RFC 7323 §2.3), frame_bytes, retransmission, lost}; a DNS
message has t_ms, direction, id, question, answers, bytes, retransmission, lost. `lost` is null, or {t_ms, node,
link, reason, text} where the frame ended; a lost frame towards the laptop is listed at the time it was lost.
"""

from __future__ import annotations

from typing import Any

from layersim.app.wording import hop_rows, link_name, loss_text
from layersim.demo import HELLO, DemoRun
from layersim.demo_render import render
from layersim.errors import DecodeError
from layersim.net.network import Network
from layersim.net.trace.details import flag_text
from layersim.net.trace.log import EventKind, TraceEvent
from layersim.wire.arp import ARP
from layersim.wire.dns import DNS
from layersim.wire.http import HTTPRequest, HTTPResponse
from layersim.wire.icmp import ICMP
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode
from layersim.wire.tcp import TCP
from layersim.wire.tcp_options import WindowScale
from layersim.wire.udp import UDP

__all__ = ["render", "story"]

_LAPTOP_IF = ("laptop", "eth0")
_SYN, _FIN, _RST, _ACK = 0x02, 0x01, 0x04, 0x10


def _ms(ns: int) -> float:
    return round(ns / 1e6, 3)


def _decode(data: bytes) -> Packet | None:
    """A frame (or, as most drops keep it, an IPv4 packet) decoded; None if it does not decode."""
    try:
        return decode(data) if data[12:14] == b"\x08\x06" or (data[12:14] == b"\x08\x00" and len(data) > 14
                                                                and data[14] >> 4 == 4) else decode(data, IPv4)
    except DecodeError:
        return None


def _sightings(net: Network) -> list[tuple[TraceEvent, Packet, dict[str, Any] | None]]:
    """Every frame the laptop sent or received, and every frame lost on its way to the laptop, in time order:
    (event, packet, lost), where `lost` says where a frame ended that never reached its destination."""
    trace = net.trace
    drops = {e.packet_id: e for e in trace.drops() if e.packet_id is not None}
    out: list[tuple[TraceEvent, Packet, dict[str, Any] | None]] = []
    sent = set()
    for event in trace.events:
        if (event.node, event.interface) == _LAPTOP_IF and event.kind in (EventKind.SEND, EventKind.RECEIVE) \
                and event.frame is not None:
            packet = decode(event.frame)
            drop = drops.get(event.packet_id) if event.kind is EventKind.SEND else None
            sent.add(event.packet_id)
            if ICMP not in packet:  # an ICMP error quotes a segment or datagram; it is not one
                out.append((event, packet, None if drop is None else _lost(net, drop)))
    for packet_id, drop in drops.items():
        packet = _decode(drop.frame) if packet_id not in sent and drop.frame is not None else None
        if packet is not None and IPv4 in packet and ICMP not in packet and (
                (UDP in packet and packet[UDP].sport == 53) or (TCP in packet and packet[TCP].sport == 80)):
            out.append((drop, packet, _lost(net, drop)))
    return sorted(out, key=lambda item: item[0].time_ns)


def _lost(net: Network, drop: TraceEvent) -> dict[str, Any]:
    return {"t_ms": _ms(drop.time_ns), "node": drop.node, "link": link_name(net, drop.node, drop.interface),
            "reason": drop.reason.value if drop.reason is not None else None, "text": loss_text(net, drop)}


def _inbound(event: TraceEvent) -> bool:
    return event.kind is not EventKind.SEND


def _dns(sightings: list[tuple[TraceEvent, Packet, dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """The requests.get lookup of example.com: each query (retries marked), each answer, up to the first that
    reached the laptop."""
    out: list[dict[str, Any]] = []
    asked: set[tuple[int, tuple[str, ...]]] = set()
    for event, packet, lost in sightings:
        if DNS not in packet or UDP not in packet or [str(q.name) for q in packet[DNS].questions] != ["example.com"]:
            continue
        dns, inbound = packet[DNS], _inbound(event)
        key = (dns.id, tuple(str(q.name) for q in dns.questions))
        out.append({"t_ms": _ms(event.time_ns), "direction": "in" if inbound else "out", "id": dns.id,
                    "question": list(key[1]), "answers": [f"{r.name} {_rtype(r.rtype)} {r.value} (TTL {r.ttl})"
                                                          for r in dns.answers],
                    "bytes": len(event.frame or b""), "retransmission": not inbound and key in asked, "lost": lost})
        asked.add(key)
        if inbound and lost is None:
            break
    return out


def _rtype(value: int) -> str:
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else str(value)


class _Connection:
    """The requests.get connection as the laptop saw it, with its lost segments: relative numbers, scaled
    windows, retransmissions marked."""

    def __init__(self, items: list[tuple[TraceEvent, Packet, dict[str, Any] | None]]) -> None:
        self.items = items
        self.isn: dict[bool, int] = {}
        self.scale: dict[bool, int] = {}
        for event, packet, _ in items:
            tcp = packet[TCP]
            if int(tcp.flags) & _SYN:
                self.isn.setdefault(_inbound(event), tcp.seq)
                shift = next((o.shift for o in tcp.options if isinstance(o, WindowScale)), None)
                if shift is not None:
                    self.scale.setdefault(_inbound(event), shift)
        self.segments: list[dict[str, Any]] = []
        high: dict[bool, int] = {}
        for event, packet, lost in items:
            self.segments.append(self._segment(event, packet, lost, high))

    def _segment(self, event: TraceEvent, packet: Packet, lost: dict[str, Any] | None,
                 high: dict[bool, int]) -> dict[str, Any]:
        ip, tcp, inbound = packet[IPv4], packet[TCP], _inbound(event)
        flags, payload = int(tcp.flags), len(packet.payload_of(TCP))
        seq = (tcp.seq - self.isn.get(inbound, 0)) & 0xFFFFFFFF
        ack = (tcp.ack - self.isn.get(not inbound, 0)) & 0xFFFFFFFF if flags & _ACK else 0
        length = payload + bool(flags & _SYN) + bool(flags & _FIN)  # sequence space used (RFC 9293 §3.4)
        again = length > 0 and inbound in high and seq < high[inbound]  # re-sends what was sent (tshark's rule)
        if length:
            high[inbound] = max(high.get(inbound, 0), seq + length)
        # RFC 7323 §2.2: a SYN's window is never scaled; scaling holds only when both SYNs carried the option.
        scaled = len(self.scale) == 2 and not flags & _SYN
        return {"t_ms": _ms(event.time_ns), "direction": "in" if inbound else "out", "src": f"{ip.src}:{tcp.sport}",
                "dst": f"{ip.dst}:{tcp.dport}", "flags": flag_text(flags), "seq": seq, "ack": ack, "len": payload,
                "window": tcp.window, "window_bytes": tcp.window << self.scale[inbound] if scaled else tcp.window,
                "frame_bytes": len(event.frame or b""), "retransmission": again, "lost": lost}


def _time_wait(net: Network) -> dict[str, Any] | None:
    """The laptop's last connection to leave TIME_WAIT, when it did, and the timer's length (2*MSL; RFC 9293
    §3.6.1: a retransmitted FIN restarts it)."""
    last = None
    for event in net.trace.select(EventKind.TCP, node="laptop"):
        facts = dict(event.info.facts) if event.info.what == "state" else {}
        if str(facts.get("old")) == "TIME_WAIT":
            last = {"connection": event.info.connection, "left_ms": _ms(event.time_ns),
                    "timer_s": net.nodes["laptop"].tcp.profile.time_wait_ns / 1e9}  # type: ignore[attr-defined]
    return last


def story(run: DemoRun) -> dict[str, Any]:
    """The demo as data (see the module docstring for the keys)."""
    net = run.network
    sightings = _sightings(net)
    data: dict[str, Any] = {"seed": run.seed, "loss": run.loss, "url": "http://example.com/",
                            "nodes": {name: [str(i.address) for i in node.interfaces.values() if i.address]
                                      for name, node in net.nodes.items()}}
    arp = [(e, p) for e, p, _ in sightings if ARP in p and (e.node, e.interface) == _LAPTOP_IF]
    data["arp"] = [{"t_ms": _ms(e.time_ns), "direction": "out" if e.kind is EventKind.SEND else "in",
                    "what": f"who has {p[ARP].target_ip}? tell {p[ARP].sender_ip}" if p[ARP].opcode == 1
                    else f"{p[ARP].sender_ip} is at {p[ARP].sender_mac}"} for e, p in arp[:2]]
    data["dns"] = _dns(sightings)
    web = [s for s in sightings if TCP in s[1] and 80 in (s[1][TCP].sport, s[1][TCP].dport)]
    ended = run.requests_process.ended_ns  # a connection opened later is the tutorial client's
    port = next((p[TCP].sport for e, p, _ in web if not _inbound(e) and (ended is None or e.time_ns <= ended)), None)
    conn = _Connection([s for s in web if port is not None and port in (s[1][TCP].sport, s[1][TCP].dport)])
    segments = conn.segments
    shake = next((i + 1 for i, s in enumerate(segments) if s["direction"] == "out" and s["flags"] == "."
                  and any(x["flags"] == "S." and x["lost"] is None for x in segments[:i])), len(segments))
    fin = next((i for i, s in enumerate(segments) if "F" in s["flags"] or "R" in s["flags"]), len(segments))
    data["handshake"] = segments[:shake]
    data["window_scale"] = {("web" if inbound else "laptop"): shift for inbound, shift in sorted(conn.scale.items())}
    get = next(((e, p) for e, p, lost in conn.items if HTTPRequest in p and not _inbound(e)), None)
    if get is not None:
        event, packet = get
        request = packet[HTTPRequest]
        data["get"] = {"t_ms": _ms(event.time_ns), "request_line": f"{request.method} {request.target} "
                       f"{request.version}", "frame_bytes": len(event.frame or b""),
                       "layers": _layers(packet), "hops": hop_rows(net, event.packet_id or 0)}
    exchange = segments[shake:fin]
    status = next((p[HTTPResponse] for e, p, lost in conn.items if HTTPResponse in p and lost is None
                   and _inbound(e)), None)
    fetched = run.requests_process.result
    data["response"] = {"status": None if status is None else f"{status.status} {status.reason}",
                        "segments": [s for s in segments if s["direction"] == "in" and s["len"] and s["lost"] is None
                                     and not s["retransmission"]],
                        "exchange": exchange,
                        "acks": [s for s in exchange if s["direction"] == "out" and not s["len"] and s["flags"] == "."],
                        "body_bytes": len(fetched.content) if fetched is not None else 0}
    data["close"] = segments[fin:]
    data["netstat"] = {"t_ms": None if run.netstat_ns is None else _ms(run.netstat_ns), "text": run.netstat}
    data["tutorial_client"] = _tutorial(run)
    nat = net.nodes["home"].nat  # type: ignore[attr-defined]
    data["nat"] = [e.details for e in net.trace.select(EventKind.NAT, node="home")][:4]
    data["nat_table"] = nat.table() if nat is not None else ""
    data["retransmissions"] = len([e for e in net.trace.select(EventKind.TCP) if e.info.what == "retransmit"])
    drops: dict[str, int] = {}
    for event in net.trace.drops():
        drops[event.reason.value] = drops.get(event.reason.value, 0) + 1  # type: ignore[union-attr]
    data["drops"] = drops
    data["failures"] = run.failures
    data["files"] = [str(path) for path in run.files]
    frames = [e.time_ns for e in net.trace.events if e.kind in (EventKind.SEND, EventKind.RECEIVE)]
    data["last_frame_ms"] = _ms(max(frames)) if frames else None
    data["time_wait"] = _time_wait(net)
    data["simulated_ms"] = _ms(net.now)
    return data


def _layers(packet: Packet) -> list[dict[str, Any]]:
    """Each layer of a frame with its size in bytes (the top layer's size is its payload)."""
    ip, tcp = packet[IPv4], packet[TCP]
    sizes = [("Ethernet", 14), ("IPv4", ip.header_length), ("TCP", tcp.header_length),
             ("HTTP", len(packet.payload_of(TCP)))]
    return [{"layer": name, "bytes": size} for name, size in sizes]


def _tutorial(run: DemoRun) -> dict[str, Any]:
    """What the tutorial's client got (or the error that ended it)."""
    got = run.tutorial_process.result or b""
    head, _, body = got.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), len(body))
    return {"host": HELLO, "status": head.split(b"\r\n")[0].decode(errors="replace"), "bytes_received": len(got),
            "body": body.decode(errors="replace"), "body_bytes_received": len(body), "content_length": length,
            "short_read": len(body) < length, "error": run.failures.get(run.tutorial_process.name)}

