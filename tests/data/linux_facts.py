"""Read the Linux golden captures (record_linux_facts.sh) into the facts LINUX_FACTS.md lists, using layersim.

Every helper takes a capture path and, where it matters, the pcapng interface name ("client:eth0", "r1:eth1",
"server:eth0"). TCP sequence and acknowledgment numbers come out relative to the sender's / the peer's SYN, so
nothing depends on the random ISNs or timestamps of one recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from layersim import ICMP, TCP, UDP, IPv4, IPv4Flags, Packet, decode
from layersim.capture import read_capture
from layersim.wire.tcp_options import MSS, SACKPermitted, Timestamps, WindowScale

DATA = Path(__file__).resolve().parent
TCP_HTTP = DATA / "tcp_http.pcapng"
TCP_BULK = DATA / "tcp_bulk.pcapng"
PMTU = DATA / "pmtu.pcapng"
HOST_BEHAVIOUR = DATA / "host_behaviour.pcapng"
CLIENT_IF, MIDDLE_IF, SERVER_IF = "client:eth0", "r1:eth1", "server:eth0"
CLIENT_IP, SERVER_IP = "10.0.1.10", "10.0.2.20"

_FLAG_LETTERS = "FSRPAUEC"  # scapy's order: FIN SYN RST PSH ACK URG ECE CWR


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame, decoded: its place in the file, the interface it was seen on, time and packet."""

    index: int
    interface: str
    time_ns: int
    data: bytes
    packet: Packet

    @property
    def ip(self) -> IPv4:
        """The outer IPv4 header (KeyError if the frame has none)."""
        return self.packet[IPv4]


class Segment(NamedTuple):
    """A TCP segment with ISN-free numbers: who sent it, flags ("SA", "PA"...), rel. seq, rel. ack, length."""

    sender: str  # "client" (sent the first SYN) or "server"
    flags: str
    seq: int
    ack: int
    length: int


def flag_letters(flags: int) -> str:
    """TCP flags as scapy-style letters in FSRPAUEC order: 0x12 -> "SA", 0x18 -> "PA", 0x11 -> "FA"."""
    return "".join(letter for bit, letter in enumerate(_FLAG_LETTERS) if flags & (1 << bit))


def frames(path: Path | str, iface: str | None = None) -> list[Frame]:
    """Every frame of a capture decoded by layersim, or only those seen on interface `iface`."""
    return [Frame(r.index, r.interface or "", r.time_ns, r.data, decode(r.data, truncated=len(r.data) < r.orig_len))
            for r in read_capture(path) if iface is None or r.interface == iface]


def ipv4_frames(path: Path | str, iface: str | None = None) -> list[Frame]:
    """The frames that carry IPv4 (ARP left out)."""
    return [f for f in frames(path, iface) if IPv4 in f.packet]


def phases(path: Path | str, gap_s: float = 1.5) -> list[list[Frame]]:
    """The frames split where nothing was captured for `gap_s` seconds (the recorder's phases)."""
    out: list[list[Frame]] = []
    last = None
    for frame in frames(path):
        if last is None or frame.time_ns - last > gap_s * 1e9:
            out.append([])
        out[-1].append(frame)
        last = frame.time_ns
    return out


def df(frame: Frame) -> bool:
    """Whether the outer IPv4 header has Don't Fragment set."""
    return bool(frame.ip.flags & IPv4Flags.DF)


def tcp_frames(path: Path | str, iface: str, port: int | None = None) -> list[Frame]:
    """The TCP frames of one connection seen on `iface`: server port `port`, else the first connection."""
    found = [f for f in ipv4_frames(path, iface) if TCP in f.packet and f.packet.layers[2].name == "TCP"]
    if not found:
        return []
    if port is None:
        first = found[0].packet[TCP]
        port = first.dport if first.flags & 0x02 and not first.flags & 0x10 else first.sport
    conn = [f for f in found if port in (f.packet[TCP].sport, f.packet[TCP].dport)]
    client_port = next(f.packet[TCP].sport for f in conn if f.packet[TCP].dport == port)
    return [f for f in conn if client_port in (f.packet[TCP].sport, f.packet[TCP].dport)]


def _isns(conn: list[Frame]) -> dict[int, int]:
    """Source port -> the ISN of the side using it (seq of its SYN), for the sides that sent a SYN."""
    return {f.packet[TCP].sport: f.packet[TCP].seq for f in conn if f.packet[TCP].flags & 0x02}


def segment_sequence(path: Path | str, iface: str, port: int | None = None) -> list[Segment]:
    """The segments of one connection on `iface` as (sender, flags, rel seq, rel ack, payload length).

    seq is relative to the sender's SYN, ack to the peer's SYN (0 = the SYN itself). A side that never sent a
    SYN (a RST answering a SYN to a closed port) keeps its absolute seq; an ack of 0 without ACK stays 0.
    """
    conn = tcp_frames(path, iface, port)
    if not conn:
        return []
    isn = _isns(conn)
    client_port = conn[0].packet[TCP].sport if conn[0].packet[TCP].flags == 0x02 else conn[0].packet[TCP].dport
    out = []
    for frame in conn:
        tcp = frame.packet[TCP]
        seq = (tcp.seq - isn[tcp.sport]) % 2**32 if tcp.sport in isn else tcp.seq
        ack = (tcp.ack - isn[tcp.dport]) % 2**32 if tcp.flags & 0x10 and tcp.dport in isn else tcp.ack
        length = tcp_length(frame)
        out.append(Segment("client" if tcp.sport == client_port else "server", flag_letters(tcp.flags),
                           seq, ack, length))
    return out


def tcp_length(frame: Frame) -> int:
    """The TCP payload length from the IPv4 total length (right also for frames cut at the snap length)."""
    ip, tcp = frame.ip, frame.packet[TCP]
    return ip.total_length - ip.header_length - tcp.header_length


def tcp_facts(frame: Frame) -> dict[str, Any]:
    """What a segment shows of its sender: flags, window, options (kinds in order, MSS, wscale...), IP id/DF/TTL."""
    tcp, ip = frame.packet[TCP], frame.ip
    options = tcp.options
    ts = next((o for o in options if isinstance(o, Timestamps)), None)
    return {
        "flags": flag_letters(tcp.flags),
        "window": tcp.window,
        "option_kinds": [o.kind for o in options],
        "mss": next((o.value for o in options if isinstance(o, MSS)), None),
        "wscale": next((o.shift for o in options if isinstance(o, WindowScale)), None),
        "sack_permitted": any(isinstance(o, SACKPermitted) for o in options),
        "tsval": ts.tsval if ts else None,
        "tsecr": ts.tsecr if ts else None,
        "header_length": tcp.header_length,
        "ip_id": ip.identification,
        "df": df(frame),
        "ttl": ip.ttl,
        "tos": ip.dscp << 2 | ip.ecn,
    }


def handshake(path: Path | str, iface: str = CLIENT_IF, port: int | None = None) -> dict[str, dict[str, Any]]:
    """tcp_facts of the SYN, the SYN-ACK and the ACK that completes the handshake of one connection."""
    conn = tcp_frames(path, iface, port)
    syn = next(f for f in conn if flag_letters(f.packet[TCP].flags) == "S")
    syn_ack = next(f for f in conn if flag_letters(f.packet[TCP].flags) == "SA")
    ack = next(f for f in conn if flag_letters(f.packet[TCP].flags) == "A"
               and f.packet[TCP].sport == syn.packet[TCP].sport)
    return {"syn": tcp_facts(syn), "syn_ack": tcp_facts(syn_ack), "ack": tcp_facts(ack)}


def ack_pattern(segments: list[Segment], receiver: str = "client") -> list[int]:
    """For each pure ACK the receiver sends while data flows to it: how many new data segments it acknowledges."""
    out, pending = [], 0
    for seg in segments:
        if seg.sender != receiver and seg.length:
            pending += 1
        elif seg.sender == receiver and seg.flags == "A" and not seg.length and pending:
            out.append(pending)
            pending = 0
    return out


def icmp_frames(path: Path | str, iface: str | None = None) -> list[Frame]:
    """The frames whose first header after IPv4 is ICMP (first fragments and whole datagrams)."""
    return [f for f in ipv4_frames(path, iface) if len(f.packet.layers) > 2 and isinstance(f.packet.layers[2], ICMP)]


def quoted(frame: Frame) -> IPv4:
    """The IPv4 header an ICMP error quotes."""
    return frame.packet.layers[3]


def udp_probes(path: Path | str, iface: str = CLIENT_IF) -> list[dict[str, Any]]:
    """The UDP datagrams the client sends on `iface`: TTL, DF, IP id, ports, total length and payload."""
    out = []
    for frame in ipv4_frames(path, iface):
        layers = frame.packet.layers
        if str(frame.ip.src) == CLIENT_IP and len(layers) > 2 and isinstance(layers[2], UDP):
            udp = layers[2]
            out.append({"ttl": frame.ip.ttl, "df": df(frame), "ip_id": frame.ip.identification,
                        "sport": udp.sport, "dport": udp.dport, "total_length": frame.ip.total_length,
                        "payload": frame.packet.payload_of(UDP)})
    return out


def ip_summary(frame: Frame) -> tuple[str, str, int, bool, bool, int]:
    """(src, dst, total length, DF, MF, fragment offset in bytes) of the outer IPv4 header."""
    ip = frame.ip
    return (str(ip.src), str(ip.dst), ip.total_length, bool(ip.flags & IPv4Flags.DF),
            bool(ip.flags & IPv4Flags.MF), ip.fragment_offset * 8)
