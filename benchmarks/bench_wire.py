"""Packets per second of layersim, scapy, dpkt and hand-written struct code on one HTTP-over-TCP frame.

Run by hand, not by pytest:

    python benchmarks/bench_wire.py [--seconds S] [--repeats N] [--json]
    python benchmarks/bench_wire.py --profile build|build-parsed|decode|router|router-object [--iterations N]

Every implementation works on the same frame (Ethernet / IPv4 / TCP PA with NOP NOP Timestamps / an HTTP GET,
89 bytes of IP), and the script checks that they all produce the same bytes and field values before it times
anything. Each cell is the best of three runs (`--repeats`) of at least `--seconds` each, taken in rounds over
all cells, with the garbage collector on.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import inspect
import json
import pstats
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

import dpkt
from benchenv import environment
from scapy.layers.inet import IP as ScapyIP
from scapy.layers.inet import TCP as ScapyTCP
from scapy.layers.l2 import Ether
from scapy.packet import Raw as ScapyRaw

from layersim.wire import MAC, TCP, Ethernet, IPv4, IPv4Flags, Packet, Raw, TCPFlags, decode
from layersim.wire.ipv4 import forward_frame, rewrite_for_next_hop
from layersim.wire.tcp_options import NOP, Timestamps

IMPLEMENTATIONS = ("layersim", "scapy", "dpkt", "struct")
Op = Callable[[], Any]


# The frame ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """The field values every implementation builds from, and the next hop's MACs for the router case."""

    src_mac: str = "02:00:00:00:00:01"
    dst_mac: str = "02:00:00:00:00:02"
    src_ip: str = "192.0.2.10"
    dst_ip: str = "198.51.100.20"
    identification: int = 0x1C46
    ttl: int = 64
    sport: int = 49152
    dport: int = 80
    seq: int = 1000
    ack: int = 2000
    window: int = 502
    tsval: int = 1
    tsecr: int = 2
    payload: bytes = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    hop_src_mac: str = "02:00:00:00:00:fe"
    hop_dst_mac: str = "02:00:00:00:00:03"


FRAME = Frame()


# build+encode ---------------------------------------------------------------------------------------------
# Each build takes the addresses (and for layersim the flags) as arguments, so every implementation can be
# timed twice: from text ("02:00:...", "192.0.2.10", "DF", "PA") converted inside the timed call, and from
# values already in its own form (MAC / IPv4Address / IntFlag for layersim, bytes for dpkt and struct).

_TS_OPTION = struct.Struct("!BBII")


def layersim_build(src_mac: Any, dst_mac: Any, src_ip: Any, dst_ip: Any, ip_flags: Any, tcp_flags: Any,
                   f: Frame = FRAME) -> bytes:
    """Layer values from field values, stacked with `/`, encoded with both checksums computed."""
    return (Ethernet(src=src_mac, dst=dst_mac)
            / IPv4(src=src_ip, dst=dst_ip, identification=f.identification, flags=ip_flags, ttl=f.ttl)
            / TCP(sport=f.sport, dport=f.dport, seq=f.seq, ack=f.ack, flags=tcp_flags, window=f.window,
                  options=[NOP(), NOP(), Timestamps(f.tsval, f.tsecr)])
            / f.payload).encode()


def layersim_build_ops(f: Frame = FRAME) -> tuple[Op, Op]:
    """layersim's build from text, and from parsed values (MAC, IPv4Address, IPv4Flags, TCPFlags)."""
    text = (f.src_mac, f.dst_mac, f.src_ip, f.dst_ip, "DF", "PA")
    parsed = (MAC(f.src_mac), MAC(f.dst_mac), IPv4Address(f.src_ip), IPv4Address(f.dst_ip), IPv4Flags.DF,
              TCPFlags.PSH | TCPFlags.ACK)
    return (lambda: layersim_build(*text)), (lambda: layersim_build(*parsed))


def http_build_op(f: Frame = FRAME) -> Op | None:
    """Build from text with layersim's HTTPRequest layer instead of raw bytes, when layersim has one.

    The request is rebuilt from the field values HTTPRequest.parse gives for the payload, so this does not
    depend on the constructor's argument names. None when there is no such layer (yet).
    """
    try:
        from layersim.wire.http import HTTPRequest  # type: ignore[import-not-found]

        fields = HTTPRequest.parse(f.payload).fields()
    except Exception:  # not written yet, or a different API: the row is left out
        return None
    ip = {"identification": f.identification, "flags": "DF", "ttl": f.ttl}
    tcp = {"sport": f.sport, "dport": f.dport, "seq": f.seq, "ack": f.ack, "flags": "PA", "window": f.window}

    def build() -> bytes:
        return (Ethernet(src=f.src_mac, dst=f.dst_mac) / IPv4(src=f.src_ip, dst=f.dst_ip, **ip)
                / TCP(**tcp, options=[NOP(), NOP(), Timestamps(f.tsval, f.tsecr)])
                / HTTPRequest(**fields)).encode()

    return build


def scapy_build(f: Frame = FRAME) -> bytes:
    """scapy layers from field values (addresses as text, as scapy takes them); bytes() adds the checksums."""
    return bytes(Ether(src=f.src_mac, dst=f.dst_mac)
                 / ScapyIP(src=f.src_ip, dst=f.dst_ip, id=f.identification, flags="DF", ttl=f.ttl)
                 / ScapyTCP(sport=f.sport, dport=f.dport, seq=f.seq, ack=f.ack, flags="PA", window=f.window,
                            options=[("NOP", None), ("NOP", None), ("Timestamp", (f.tsval, f.tsecr))])
                 / ScapyRaw(f.payload))


def address_bytes(f: Frame = FRAME) -> tuple[bytes, bytes, bytes, bytes]:
    """Source and destination MAC, source and destination IPv4 address: the bytes dpkt and struct take."""
    return (bytes.fromhex(f.src_mac.replace(":", "")), bytes.fromhex(f.dst_mac.replace(":", "")),
            socket.inet_aton(f.src_ip), socket.inet_aton(f.dst_ip))


def dpkt_build(src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, f: Frame = FRAME,
               payload: bytes | None = None) -> bytes:
    """dpkt objects from field values; IP.__bytes__ fills in the length and both checksums (sum left 0)."""
    opts = b"\x01\x01" + _TS_OPTION.pack(8, 10, f.tsval, f.tsecr)
    tcp = dpkt.tcp.TCP(sport=f.sport, dport=f.dport, seq=f.seq, ack=f.ack, off=5 + len(opts) // 4,
                       flags=dpkt.tcp.TH_PUSH | dpkt.tcp.TH_ACK, win=f.window, opts=opts,
                       data=f.payload if payload is None else payload)
    ip = dpkt.ip.IP(src=src_ip, dst=dst_ip, id=f.identification, df=1, ttl=f.ttl, p=dpkt.ip.IP_PROTO_TCP,
                    data=tcp)
    return bytes(dpkt.ethernet.Ethernet(src=src_mac, dst=dst_mac, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def dpkt_http_build_op(f: Frame = FRAME) -> Op:
    """dpkt's build with its HTTP layer: http.Request from the request's fields, then the frame as dpkt_build."""
    request = dpkt.http.Request(f.payload)
    method, uri, version = request.method, request.uri, request.version
    head = f.payload.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    headers = dict(line.split(": ", 1) for line in head)  # as written (dpkt's parser lowercases the names)

    def build() -> bytes:
        message = dpkt.http.Request(method=method, uri=uri, version=version, headers=headers)
        return dpkt_build(*address_bytes(), f, payload=bytes(message))

    return build


_HEADERS = struct.Struct("!6s6sH BBHHHBBH4s4s HHIIBBHHH")  # Ethernet, IPv4, TCP without options


def rfc1071(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """RFC 1071 checksum: the 16-bit one's complement sum is the buffer's big-endian value mod 0xffff.

    Since 2**16 = 1 (mod 0xffff), int.from_bytes does the word sum in C. On a 110-byte segment this took
    0.28 us, against 0.90 us for array('H') + byteswap + sum() and 1.13 us for a struct-unpacked word sum.
    """
    if len(data) & 1:
        data = bytes(data) + b"\x00"
    total = int.from_bytes(data, "big") + initial
    if not total:
        return 0xFFFF
    return ~(total % 0xFFFF or 0xFFFF) & 0xFFFF


def struct_build(src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, f: Frame = FRAME) -> bytes:
    """All three headers in one struct.pack, then both checksums computed in place over memoryview slices."""
    opts = b"\x01\x01" + _TS_OPTION.pack(8, 10, f.tsval, f.tsecr)
    tcp_length = 20 + len(opts) + len(f.payload)
    buf = bytearray(_HEADERS.pack(dst_mac, src_mac, 0x0800,
                                  0x45, 0, 20 + tcp_length, f.identification, 0x4000, f.ttl, 6, 0,
                                  src_ip, dst_ip,
                                  f.sport, f.dport, f.seq, f.ack, (5 + len(opts) // 4) << 4, 0x18, f.window,
                                  0, 0)
                    + opts + f.payload)
    view = memoryview(buf)
    struct.pack_into("!H", buf, 24, rfc1071(view[14:34]))
    s, d = int.from_bytes(src_ip, "big"), int.from_bytes(dst_ip, "big")
    pseudo = (s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF) + 6 + tcp_length
    struct.pack_into("!H", buf, 50, rfc1071(view[34:], pseudo))
    view.release()
    return bytes(buf)


def build_ops() -> tuple[dict[str, Op], dict[str, Op]]:
    """Every implementation's build from text (converted in the timed call), and from parsed values."""
    layersim_text, layersim_parsed = layersim_build_ops()
    addresses = address_bytes()
    text = {"layersim": layersim_text, "scapy": scapy_build,
            "dpkt": lambda: dpkt_build(*address_bytes()), "struct": lambda: struct_build(*address_bytes())}
    parsed = {"layersim": layersim_parsed, "scapy": scapy_build,
              "dpkt": lambda: dpkt_build(*addresses), "struct": lambda: struct_build(*addresses)}
    return text, parsed


# decode+field access --------------------------------------------------------------------------------------

Fields = tuple[str, int, int, bytes]  # IP source (as text), TCP destination port, TCP sequence, TCP payload


def decode_ops(data: bytes) -> dict[str, Callable[[], Fields]]:
    """For each implementation: decode `data`, then read IP source, TCP dport, TCP seq and the TCP payload."""

    def with_layersim() -> Fields:
        pkt = decode(data)
        return pkt[IPv4].src, pkt[TCP].dport, pkt[TCP].seq, pkt.payload_of(TCP)  # type: ignore[return-value]

    def with_scapy() -> Fields:
        p = Ether(data)
        return p[ScapyIP].src, p[ScapyTCP].dport, p[ScapyTCP].seq, p[ScapyRaw].load

    def with_dpkt() -> Fields:
        ip = dpkt.ethernet.Ethernet(data).data
        tcp = ip.data
        return ip.src, tcp.dport, tcp.seq, tcp.data

    unpack_ports = struct.Struct("!HHI").unpack_from

    def with_struct() -> Fields:
        if data[12:14] != b"\x08\x00" or data[23] != 6:
            raise ValueError("not IPv4 / TCP")
        tcp_at = 14 + (data[14] & 0x0F) * 4
        _, dport, seq = unpack_ports(data, tcp_at)
        end = 14 + int.from_bytes(data[16:18], "big")
        return data[26:30], dport, seq, data[tcp_at + (data[tcp_at + 12] >> 4) * 4:end]  # type: ignore[return-value]

    return {"layersim": with_layersim, "scapy": with_scapy, "dpkt": with_dpkt, "struct": with_struct}


def normalise(fields: Fields) -> Fields:
    """The same four values whatever form the IP source came in (IPv4Address, dotted text, 4 bytes)."""
    src: Any = fields[0]
    text = socket.inet_ntoa(src) if isinstance(src, bytes) else str(src)
    return text, fields[1], fields[2], bytes(fields[3])


# router hop -----------------------------------------------------------------------------------------------

def decode_until_ipv4() -> tuple[Callable[[bytes], Packet], str]:
    """decode(data, until=IPv4) when layersim supports it, else a full decode; and a note saying which."""
    if "until" in inspect.signature(decode).parameters:
        return (lambda data: decode(data, until=IPv4)), "decode(data, until=IPv4)"  # type: ignore[call-arg]
    return decode, "decode(data) (no `until` yet: full decode)"


def router_ops(data: bytes, decode_l3: Callable[[bytes], Packet]) -> dict[str, Op]:
    """For each implementation: decode to IPv4, new MACs, TTL - 1, header checksum updated, bytes out."""
    f = FRAME
    new_src, new_dst = MAC(f.hop_src_mac), MAC(f.hop_dst_mac)

    def layersim_fast() -> bytes | bytearray:
        pkt = decode_l3(data)
        if pkt[IPv4].ttl <= 1:
            raise ValueError("TTL exceeded")
        return rewrite_for_next_hop(data, new_src, new_dst)

    def layersim_one_step() -> bytes:
        out = forward_frame(data, new_src, new_dst)
        if out is None:
            raise ValueError("not forwardable on the fast path")
        return out

    def layersim_object() -> bytes:
        pkt = decode_l3(data)
        eth, ip = pkt[Ethernet], pkt[IPv4]
        if ip.ttl <= 1:
            raise ValueError("TTL exceeded")
        return Packet((eth.replace(src=new_src, dst=new_dst),
                       ip.replace(ttl=ip.ttl - 1, header_checksum=None),
                       Raw(pkt.payload_of(IPv4)))).encode()

    def with_scapy() -> bytes:
        p = Ether(data)
        if p[ScapyIP].ttl <= 1:
            raise ValueError("TTL exceeded")
        p.src, p.dst = f.hop_src_mac, f.hop_dst_mac
        p[ScapyIP].ttl -= 1
        del p[ScapyIP].chksum
        return bytes(p)

    dpkt_src, dpkt_dst = bytes(new_src), bytes(new_dst)

    def with_dpkt() -> bytes:
        eth = dpkt.ethernet.Ethernet(data)
        ip = eth.data
        if ip.ttl <= 1:
            raise ValueError("TTL exceeded")
        eth.src, eth.dst = dpkt_src, dpkt_dst
        ip.ttl -= 1
        ip.sum = 0
        return bytes(eth)

    macs = bytes(new_dst) + bytes(new_src)

    def with_struct() -> bytearray:
        out = bytearray(data)
        ttl = out[22]
        if out[12:14] != b"\x08\x00" or ttl <= 1:
            raise ValueError("not IPv4, or TTL exceeded")
        out[0:12] = macs
        out[22] = ttl - 1
        # RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for the word holding TTL and protocol.
        old = ttl << 8 | out[23]
        total = (~(out[24] << 8 | out[25]) & 0xFFFF) + (~old & 0xFFFF) + old - 0x100
        total = (total & 0xFFFF) + (total >> 16)
        total = ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF
        out[24], out[25] = total >> 8, total & 0xFF
        return out

    return {"layersim": layersim_fast, "layersim (object path)": layersim_object,
            "layersim (one step)": layersim_one_step, "scapy": with_scapy, "dpkt": with_dpkt, "struct": with_struct}


# Checks and timing ----------------------------------------------------------------------------------------

def check_same(what: str, results: dict[str, Any]) -> None:
    """Stop with a message naming the odd one out when implementations disagree."""
    reference = results["layersim"]
    for name, value in results.items():
        if value != reference:
            raise SystemExit(f"{what}: {name} gives {value!r}\n  but layersim gives {reference!r}")


def batch_size(op: Op) -> int:
    """How many calls of `op` take about 10 ms, so that the clock is read rarely."""
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            op()
        if time.perf_counter() - start > 0.01:
            return batch
        batch *= 2


def rate(op: Op, batch: int, seconds: float) -> float:
    """Calls per second over one run that calls `op` in batches for at least `seconds`."""
    gc.collect()  # start each run with the same garbage; the collector stays on during it
    calls = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            op()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def best_rates(ops: dict[str, Op], seconds: float, repeats: int,
               progress: Callable[[str], None]) -> dict[str, float]:
    """The best of `repeats` runs of each op, taken in rounds over all ops so a burst of load elsewhere on
    the machine spoils one run of several cells rather than every run of one cell."""
    batches = {label: batch_size(op) for label, op in ops.items()}
    best = dict.fromkeys(ops, 0.0)
    for round_ in range(1, repeats + 1):
        for label, op in ops.items():
            progress(f"round {round_}/{repeats}: {label}")
            best[label] = max(best[label], rate(op, batches[label], seconds))
    return best


@dataclass
class Row:
    """One operation's rates in packets per second, by implementation."""

    operation: str
    rates: dict[str, float]
    note: str = ""

    def ratios(self) -> dict[str, float]:
        """layersim/scapy and layersim/dpkt (above 1: layersim faster), struct/layersim (the gap to close)."""
        r = self.rates
        return {"layersim/scapy": r["layersim"] / r["scapy"], "layersim/dpkt": r["layersim"] / r["dpkt"],
                "struct/layersim": r["struct"] / r["layersim"]}


def check_frame(data: bytes) -> None:
    """Stop unless the frame has 89 bytes of IP and both checksums verify (RFC 1071: the sum is then 0)."""
    if len(data) - 14 != 89:
        raise SystemExit(f"the frame has {len(data) - 14} bytes of IP, expected 89")
    s, d = int.from_bytes(data[26:30], "big"), int.from_bytes(data[30:34], "big")
    pseudo = (s >> 16) + (s & 0xFFFF) + (d >> 16) + (d & 0xFFFF) + 6 + len(data) - 34
    if rfc1071(data[14:34]) != 0 or rfc1071(data[34:], pseudo) != 0:
        raise SystemExit("the built frame's IPv4 or TCP checksum does not verify")


def plan() -> list[tuple[str, dict[str, Op], str]]:
    """Every (operation, implementations, note) to time, after checking all give the same result."""
    builds, parsed_builds = build_ops()
    data = builds["layersim"]()
    check_same("build+encode", {name: op() for name, op in builds.items()})
    check_same("build+encode, parsed values", {name: op() for name, op in parsed_builds.items()})
    check_frame(data)
    decodes = decode_ops(data)
    check_same("decode+field access", {name: normalise(op()) for name, op in decodes.items()})
    decode_l3, decode_note = decode_until_ipv4()
    routers = router_ops(data, decode_l3)
    check_same("router hop", {name: bytes(op()) for name, op in routers.items()})
    if routers["layersim"]() == data:
        raise SystemExit("router hop: the output frame is the input frame")
    work: list[tuple[str, dict[str, Op], str]] = [
        ("build+encode", builds, "addresses and flags from text, converted in the timed call"),
        ("build+encode, parsed values", parsed_builds,
         "layersim given MAC, IPv4Address, IPv4Flags, TCPFlags; dpkt and struct given bytes; scapy as above"),
    ]
    http = http_build_op()
    if http is not None:
        check_same("build+encode (HTTPRequest)", {"layersim": http(), "struct": data})
        work.append(("build+encode, HTTPRequest layer", {**builds, "layersim": http},
                     "others as in build+encode (raw payload)"))
        dpkt_http = dpkt_http_build_op()
        check_same("build+encode (HTTP from fields)", {"layersim": http(), "dpkt": dpkt_http()})
        work.append(("build+encode, HTTP from fields", {**builds, "layersim": http, "dpkt": dpkt_http},
                     "layersim's HTTPRequest and dpkt's http.Request from method, target, version and headers; "
                     "scapy and struct as in build+encode"))
    work.append(("decode+field access", dict(decodes), ""))
    fast = {name: routers[name] for name in IMPLEMENTATIONS}
    work.append(("router hop, rewrite_for_next_hop", fast, decode_note))
    work.append(("router hop, object path", {**fast, "layersim": routers["layersim (object path)"]},
                 "replace() + Packet.encode(); others as in the row above"))
    work.append(("router hop, forward_frame", {**fast, "layersim": routers["layersim (one step)"]},
                 "forward_frame(): reads EtherType, version, IHL, length, checksum, TTL with one struct unpack, "
                 "then the RFC 1624 patch"))
    return work


def run(seconds: float, repeats: int, progress: Callable[[str], None]) -> list[Row]:
    """Time every cell; cells shared by several rows (scapy, dpkt, struct) are timed once."""
    work = plan()
    unique: dict[int, tuple[str, Op]] = {}
    for operation, ops, _ in work:
        for name in IMPLEMENTATIONS:
            unique.setdefault(id(ops[name]), (f"{operation}: {name}", ops[name]))
    rates = best_rates(dict(unique.values()), seconds, repeats, progress)
    by_op = {id(op): rates[label] for label, op in unique.values()}
    return [Row(operation, {name: by_op[id(ops[name])] for name in IMPLEMENTATIONS}, note)
            for operation, ops, note in work]


# Reporting ------------------------------------------------------------------------------------------------

def markdown(rows: list[Row]) -> str:
    """The results table in Markdown: rates in packets per second, then the three ratios."""
    columns = [*IMPLEMENTATIONS, "layersim/scapy", "layersim/dpkt", "struct/layersim"]
    lines = [f"| operation | {' | '.join(columns)} |", "|---|" + "---:|" * len(columns)]
    for row in rows:
        rates = " | ".join(f"{row.rates[name]:,.0f}" for name in IMPLEMENTATIONS)
        ratios = " | ".join(f"{value:.2f}x" for value in row.ratios().values())
        lines.append(f"| {row.operation} | {rates} | {ratios} |")
    notes = [f"- {row.operation}: {row.note}" for row in rows if row.note]
    return "\n".join([*lines, "", *notes] if notes else lines)


def as_json(env: dict[str, str], seconds: float, repeats: int, rows: list[Row]) -> str:
    """The numbers as JSON: environment, seconds, repeats, unit, rows of {operation, rates, ratios, note}."""
    return json.dumps({"environment": env, "seconds": seconds, "repeats": repeats,
                       "unit": "packets per second",
                       "rows": [{"operation": r.operation, "rates": r.rates, "ratios": r.ratios(),
                                 "note": r.note} for r in rows]}, indent=2)


def profile(operation: str, iterations: int) -> None:
    """cProfile one layersim operation for `iterations` calls and print the top functions by own time."""
    builds, parsed_builds = build_ops()
    data = builds["layersim"]()
    ops = {"build": builds["layersim"], "build-parsed": parsed_builds["layersim"],
           "decode": decode_ops(data)["layersim"]}
    routers = router_ops(data, decode_until_ipv4()[0])
    ops["router"], ops["router-object"] = routers["layersim"], routers["layersim (object path)"]
    profiler = cProfile.Profile()
    op = ops[operation]
    profiler.enable()
    for _ in range(iterations):
        op()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(20)


def show_progress(text: str) -> None:
    """Overwrite one terminal line with what is being timed."""
    print(f"\r\033[Ktiming {text}", end="", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, check the implementations agree, time them, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="minimum time of each run of one cell (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell, the best is kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of text")
    parser.add_argument("--profile", choices=("build", "build-parsed", "decode", "router", "router-object"),
                        help="cProfile one layersim operation instead of timing")
    parser.add_argument("--iterations", type=int, default=5000, help="calls to profile (default 5000)")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile, args.iterations)
        return 0
    env = environment(("layersim", "scapy", "dpkt"))
    if not args.json:
        for key, value in env.items():
            print(f"{key}: {value}")
        print(f"{args.seconds:g} s per run, best of {args.repeats}, gc on; rates in packets per second",
              flush=True)
    rows = run(args.seconds, args.repeats, progress=show_progress if sys.stderr.isatty() else lambda _: None)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    print(as_json(env, args.seconds, args.repeats, rows) if args.json else "\n" + markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
