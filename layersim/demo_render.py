"""The demo's story as text, from `layersim.demo_story.story`'s data, in the order things happened."""

from __future__ import annotations

from typing import Any

from layersim.app.wording import change_text, hop_where
from layersim.demo import DNS_ADDRESS, WEB_ADDRESS

__all__ = ["render"]


def _arrow(direction: str) -> str:
    return "->" if direction == "out" else "<-"


def _marks(item: dict[str, Any]) -> str:
    """What happened to a frame beyond being sent: "  retransmission", "  LOST on isp1-isp2", both or nothing."""
    marks = (["retransmission"] if item.get("retransmission") else []) + \
        ([item["lost"]["text"]] if item.get("lost") else [])
    return "".join(f"  {mark}" for mark in marks)


def _segment_line(s: dict[str, Any]) -> str:
    return (f"  {s['t_ms']:9.3f} ms  {_arrow(s['direction'])} {s['flags']:<4} seq={s['seq']} ack={s['ack']} "
            f"len={s['len']} win={s['window_bytes']}  ({s['frame_bytes']}-byte frame){_marks(s)}")


def _dns_line(d: dict[str, Any]) -> str:
    what = f"query {', '.join(d['question'])}" if d["direction"] == "out" else \
        f"answer {', '.join(d['answers']) or 'none'}"
    return f"  {d['t_ms']:9.3f} ms  {_arrow(d['direction'])} id {d['id']:#06x} {what} ({d['bytes']}-byte frame)" \
        + _marks(d)


def _scale_line(scale: dict[str, int]) -> list[str]:
    """Say once how windows are counted (RFC 7323 §2.3: the field is shifted left by the sender's scale)."""
    if len(scale) != 2:
        return []
    laptop, web = scale["laptop"], scale["web"]
    how = f"{laptop} both ways" if laptop == web else f"{laptop} from the laptop, {web} from the server"
    unit = f"{1 << laptop}" if laptop == web else "2^scale"
    return [f"  window scale {how}: after the SYNs, win= is the window field x {unit}, in bytes"]


def _why_no_lookup(dns: list[dict[str, Any]]) -> list[str]:
    """Why requests.get had no address: every query or its answer was lost."""
    if any(d["direction"] == "in" and not d["lost"] for d in dns):
        return []
    queries = [d for d in dns if d["direction"] == "out"]
    fates = [f"the {'query' if d['direction'] == 'out' else 'answer'} at {d['t_ms']:.3f} ms {d['lost']['text']}"
             for d in dns if d["lost"]]
    return [f"  no DNS answer reached the laptop: {len(queries)} queries sent; " + "; ".join(fates or ["none lost"])]


def _request_sections(data: dict[str, Any]) -> list[str]:
    """Sections 3 to 7: the requests.get connection, as far as it went."""
    lines: list[str] = []
    if data["handshake"]:
        lines.append(f"3. TCP three-way handshake with {WEB_ADDRESS}:80")
        lines += [_segment_line(s) for s in data["handshake"]] + _scale_line(data["window_scale"])
    get = data.get("get")
    if get:
        layers = " | ".join(f"{x['layer']} {x['bytes']} B" for x in get["layers"])
        lines += [f"4. The GET, layer by layer: {get['request_line']}", f"  {layers} = {get['frame_bytes']} bytes",
                  "  hop by hop:"]
        for hop in get["hops"]:
            lines.append(f"    {hop['node']} ({hop_where(hop)}) {hop['outcome']}")
            lines += [f"        {change_text(change)}" for change in hop["changes"]]
    response = data["response"]
    if response["exchange"]:
        lines.append(f"5. The response: {response['status']}, {response['body_bytes']} bytes of body in "
                     f"{len(response['segments'])} segments; the GET, the data and the ACKs in time order")
        lines += [_segment_line(s) for s in response["exchange"]]
    if data["netstat"]["text"]:
        lines += ["6. netstat -tan on the laptop during the transfer"
                  + (f" (at {data['netstat']['t_ms']:.3f} ms)" if data["netstat"]["t_ms"] is not None else "")]
        lines += [f"  {line}" for line in data["netstat"]["text"].splitlines()]
    if data["close"]:
        lines.append("7. Closing: FIN and ACK")
        lines += [_segment_line(s) for s in data["close"]]
    return lines


def _ending(data: dict[str, Any]) -> list[str]:
    """The summary: retransmissions, drops, and why the simulated time runs on past the last frame."""
    drops = ", ".join(f"{reason} {count}" for reason, count in sorted(data["drops"].items())) or "none"
    lines = [f"retransmissions: {data['retransmissions']}; drops: {drops}; "
             f"simulated time {data['simulated_ms'] / 1000:.3f} s"]
    wait, last = data["time_wait"], data["last_frame_ms"]
    if wait is None and last is not None:
        lines.append(f"  (the last frame, where the captures end, is at {last / 1000:.3f} s)")
    elif wait is not None and last is not None:
        lines.append(f"  (the last frame, where the captures end, is at {last / 1000:.3f} s; the clock then ran on so "
                     f"each connection's {wait['timer_s']:g} s TIME_WAIT timer could run out, the last at "
                     f"{wait['left_ms'] / 1000:.3f} s)")
    if data["files"]:
        first, every, *links = data["files"]
        lines += [f"captures: {first} (the laptop's eth0, each frame once: open this one first)",
                  f"  {every} (every interface: a frame once per end of each link, copies share frame.packet_id)",
                  f"  and {len(links)} per-link pcaps beside them (one link each, as classic pcap)"]
    return lines


def render(data: dict[str, Any]) -> str:
    """The story as text, in the order things happened."""
    lines = [f"layersim demo: requests.get({data['url']!r}) on the laptop (seed {data['seed']}, loss {data['loss']})",
             f"  laptop 10.0.0.2 -> home (NAT, 198.51.100.2) -> isp1 -> isp2 -> web {WEB_ADDRESS}; "
             f"dns {DNS_ADDRESS} on isp1", ""]
    lines.append("1. ARP: the laptop asks who has its gateway, 10.0.0.1")
    lines += [f"  {a['t_ms']:9.3f} ms  {_arrow(a['direction'])} {a['what']}" for a in data["arp"]]
    lines.append("2. DNS: the stub resolver asks for example.com (UDP port 53)")
    lines += [_dns_line(d) for d in data["dns"]]
    lines += _request_sections(data)
    failed = data["failures"].get("requests.get")
    if failed is not None:
        lines += [f"requests.get failed: {failed}", *_why_no_lookup(data["dns"])]
    tutorial = data["tutorial_client"]
    if tutorial["error"] is not None:
        verdict = f"it failed: {tutorial['error']}"
    elif not tutorial["bytes_received"]:
        verdict = "it got no reply: its first recv returned b'' (the connection was closed), so its loop ended"
    elif tutorial["short_read"]:
        verdict = (f"it stopped at the first short read and kept {tutorial['body_bytes_received']} of "
                   f"{tutorial['content_length']} body bytes: the tail was still on its way")
    else:
        verdict = f"{tutorial['status']}, body {tutorial['body']!r}: one segment, so its loop got all of it"
    lines += [f"8. The tutorial's socket-only client asks {tutorial['host']} for / (it reads until a recv returns "
              "under 4096 bytes)", f"  {verdict}",
              "  (with a page of several segments that loop stops early: layersim run examples/tutorial_long.toml)"]
    lines += ["", "NAT on the home router (conntrack -L):"] + [f"  {line}" for line in
                                                                data["nat_table"].splitlines() or ["(no mappings)"]]
    return "\n".join(lines + _ending(data))
