"""Run a scenario's applications and tell what happened: each tool's output, the first packet hop by hop, drops.

`run_scenario` starts every [[run]] at its time and runs the network; `narrative` turns the outcome into the
text `layersim run` prints, and `narrative_json` into its `--json` form, a stable dict:

    {"seed": int, "source": str,
     "nodes": [{"name", "kind", "interfaces": [{"name", "mac", "address" ("10.0.1.1/24" or null)}]}],
     "runs": [{"index", "kind", "from" (the host, `on` for a script), "to" (address; null for a script),
               "target" (`to` as written; a script's path), "at_ns",
               "started_ns" (null if skipped), "skipped" (null, or why it did not start),
               "running" (null, or where it still waits at the end: "blocked in accept() at server.py:20"),
               "stderr" (what its program wrote to stderr),
               "result": ping {"destination", "transmitted", "received", "loss_percent",
                               "replies": [{"seq", "rtt_ms" (null: none), "error" (null or ICMP text)}],
                               "rtt_ms": {"min", "avg", "max"} or null}
                         traceroute {"destination", "reached", "path": [address or null],
                                     "hops": [{"ttl", "probes": [{"address", "rtt_ms"}]}]}
                         udp {"destination", "port", "source_port", "bytes", "sent", "delivered",
                              "latency_ms" (null if not delivered), "error" (null or ICMP text)}
                         script {"path", "stdout", "error" (null, the exception that ended it, or
                                 "exited with status N"), "traceback": ["server.py:20 in <module>: code", ...]
                                 (its innermost frames in the script's file)}
                         http_server {"port", "serving", "requests": [{"method", "target", "status", "bytes"}]}
                         dns_server {"origin", "records", "port", "queries"}
                         http_get {"url", "status", "reason", "header_bytes", "body_bytes", "seconds", "error"}
                         bulk {"destination", "port", "bytes", "sent", "seconds", "mbit_per_s", "error"},
               "hops": [{"node", "in", "out", "next" (the node at the far end of `out`), "arrived_ns",
                         "left_ns", "changes": ["IPv4.ttl: 64 -> 63", ...],
                         "outcome": "sent" | "forwarded" | "switched" | "delivered" | "dropped: <reason>"}],
               "tcp": [{"connection": "10.0.1.10:50147-10.0.2.20:80",
                        "changes": [{"state": "SYN_SENT", "time_ns"}, ...]}]}],
     "drops": {"<DropReason value>": count}, "events": int (trace events), "end_ns": int (simulated end time),
     "capture": null, or {"path", "frames", "interfaces": ["client:eth0", ...]} when a capture was written}

`hops` follows the run's first packet (the first echo request, the first traceroute probe, the datagram; for a
script or a service, the first packet from one of its own sockets' ports), and `tcp` the connections of its
own sockets: another run on the same host is not mixed in.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layersim.app.ping import PingResult, ping
from layersim.app.run_programs import PROGRAMS, start_sinks
from layersim.app.run_watch import Watch, blocked_in, script_frames
from layersim.app.traceroute import FIRST_PORT, TracerouteResult, traceroute
from layersim.app.udp_tool import UdpResult, udp_send
from layersim.app.wording import DROP_MEANINGS, change_text, hop_rows, hop_where
from layersim.errors import LayersimError
from layersim.net.engine.capture import CaptureSession
from layersim.net.engine.process import Process, current_process
from layersim.net.host.host import Host
from layersim.net.network import Network
from layersim.net.topology import RunSpec, Scenario, TopologyError
from layersim.net.topology_runs import SERVER_KINDS
from layersim.net.trace.details import flag_text
from layersim.net.trace.log import DropReason, EventKind
from layersim.wire.addresses import MAC
from layersim.wire.icmp import ICMP
from layersim.wire.ipv4 import IPv4
from layersim.wire.packet import Packet, decode
from layersim.wire.tcp import TCP
from layersim.wire.udp import UDP

__all__ = ["RunOutcome", "UdpResult", "first_packet", "narrative", "narrative_json", "run_scenario"]

_NO_LISTENER = {  # what a host does with a packet for a port nobody listens on, by protocol
    "UDP": "no socket on the UDP port: the host answers ICMP port unreachable (RFC 1122 §4.1.3.1; "
           "traceroute's last hop does this on purpose)",
    "TCP": "a TCP segment for no connection or listener: the host answers it with RST (RFC 9293 §3.10.7.1), "
           "e.g. data still arriving after the application closed its socket",
}


@dataclass(slots=True)
class ScriptResult:
    """What a script run printed, and the exception that ended it, if any."""

    path: str
    stdout: str = ""
    error: str | None = None
    traceback: list[str] = field(default_factory=list)  # its innermost frames in the script's file (file:line)

    def __str__(self) -> str:
        text = self.stdout.rstrip("\n")
        if self.traceback:
            text += f"\nTraceback (innermost last, in {Path(self.path).name}):\n" + "\n".join(
                f"  {frame}" for frame in self.traceback)
        text += f"\n{self.error}" if self.error else ""
        return text.strip("\n") or "(printed nothing)"


@dataclass(slots=True)
class RunOutcome:
    """What one [[run]] did: when it started, its result, and where its packets begin in the trace."""

    spec: RunSpec
    started_ns: int | None = None
    result: PingResult | TracerouteResult | UdpResult | ScriptResult | None = None
    trace_mark: int = 0
    skipped: str | None = None
    process: Process | None = None
    watch: Watch | None = None  # its sockets' ports and its stderr
    running: str | None = None  # still running at the end: where it is blocked ("accept() at server.py:19")

    @property
    def failed(self) -> bool:
        """Whether its program ended with an error (a script's exception, or a non-zero exit status)."""
        return isinstance(self.result, ScriptResult) and self.result.error is not None


def run_scenario(scenario: Scenario, until_ns: int | None = None) -> list[RunOutcome]:
    """Start each run as a process at its `at` time, run the network until idle or `until_ns`; file order out.

    Runs overlap freely: a traceroute still probing does not hold back a ping due meanwhile.
    """
    net = scenario.network
    for spec in scenario.runs:
        listener = spec.options.get("listen")
        if listener is not None and not _bound(net.nodes[listener], spec.options["port"]):  # type: ignore[arg-type]
            net.nodes[listener].udp_socket(spec.options["port"])  # type: ignore[attr-defined]
    start_sinks(net, scenario.runs)
    outcomes = []
    for spec in sorted(scenario.runs, key=lambda s: s.at_ns):
        outcome = RunOutcome(spec)
        outcomes.append(outcome)
        if until_ns is not None and spec.at_ns > until_ns:
            outcome.skipped = f"at {spec.at_ns / 1e9:g} s is after the end, {until_ns / 1e9:g} s"
            continue
        host: Host = net.nodes[spec.source]  # type: ignore[assignment]
        outcome.watch = Watch(host)
        outcome.process = host.spawn(_program, net, spec, outcome, at=max(spec.at_ns, net.now),
                                     name=spec.kind)
        outcome.watch.follow(outcome.process)
    net.run(until=until_ns)
    for outcome in outcomes:
        proc = outcome.process
        if proc is not None and not proc.done:
            script = outcome.spec.options["path"] if outcome.spec.kind == "script" else None
            outcome.running = f"blocked in {blocked_in(proc, script)}"
            if isinstance(outcome.result, ScriptResult):
                outcome.result.stdout = proc.stdout  # what it printed so far
        if proc is not None and proc.exception is not None:
            if isinstance(proc.exception, LayersimError):
                raise TopologyError(f"{scenario.source}: [[run]] #{outcome.spec.index}: {proc.exception}") from None
            raise proc.exception
        if isinstance(outcome.result, UdpResult):
            _finish_udp(net, outcome.spec, outcome.result)
    return sorted(outcomes, key=lambda o: o.spec.index)


def _bound(host: Host, port: int) -> bool:
    return any(key[1] == port for key in host.sockets.udp)


def _program(net: Network, spec: RunSpec, outcome: RunOutcome) -> None:
    """The body of one run's process: note where its packets start in the trace, then run the tool."""
    outcome.trace_mark, outcome.started_ns = net.trace.recorded, net.now
    host: Host = net.nodes[spec.source]  # type: ignore[assignment]
    options = spec.options
    if spec.kind == "script":
        from layersim.net.host.socketapi.scripts import run_file

        path = spec.options["path"]
        result = outcome.result = ScriptResult(path)
        me = current_process()
        try:
            code = compile(Path(path).read_text(encoding="utf-8"), path, "exec")
            run_file(code, path, spec.options["args"])
        except SyntaxError as exc:
            result.error = f"SyntaxError: {exc.msg} ({Path(path).name}:{exc.lineno})"
        except SystemExit as exc:  # run_file lets through only a non-zero status (sys.exit(3), sys.exit("msg"))
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)  # CPython prints a non-integer status to stderr, exits 1
            result.error = f"exited with status {exc.code if isinstance(exc.code, int) else 1}"
        except Exception as exc:
            result.traceback = script_frames(exc.__traceback__, path)
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            result.stdout = me.stdout if me is not None else ""
    elif spec.kind == "ping":
        outcome.result = ping(host, spec.address, **options)
    elif spec.kind == "traceroute":
        outcome.result = traceroute(host, spec.address, **options)
    elif spec.kind in PROGRAMS:
        assert outcome.watch is not None
        try:
            PROGRAMS[spec.kind](host, spec, outcome.watch, lambda result: setattr(outcome, "result", result))
        except OSError as exc:  # a service that cannot bind its port (another run holds it): the file's mistake
            raise LayersimError(f"{spec.kind} on {host.name}: {exc}") from None
    else:
        outcome.result = udp_send(host, spec.address, options["port"], options["data"].encode(),
                                  sport=options["sport"], ttl=options["ttl"])


def _finish_udp(net: Network, spec: RunSpec, result: UdpResult) -> None:
    result.collect_error()
    listener = spec.options["listen"]
    if listener is None:
        return
    socks = [s for key, s in net.nodes[listener].sockets.udp.items()  # type: ignore[attr-defined]
             if key[1] == result.port]
    for datagram in (d for sock in socks for d in sock.received):
        if datagram.source[1] == result.source_port and datagram.time_ns >= result.sent_ns:
            result.latency_ns = datagram.time_ns - result.sent_ns
            return


# Following the first packet ----------------------------------------------------------------------------
def first_packet(net: Network, outcome: RunOutcome, claimed: set[Any]) -> tuple[bytes, bool, int] | None:
    """The run's first packet: (its frame as the host sent it, True, id), else (its IPv4 bytes, False, id)."""
    spec = outcome.spec
    events = [e for e in net.trace.events[outcome.trace_mark:] if e.node == spec.source and e.frame is not None]
    for kind in (EventKind.SEND, EventKind.ARP_MISS):
        for event in events:
            data: bytes = event.frame  # type: ignore[assignment]
            if event.kind is not kind or (kind is EventKind.SEND and data[12:14] != b"\x08\x00"):
                continue
            packet = decode(data) if kind is EventKind.SEND else decode(data, IPv4)
            identity = event.packet_id
            if identity not in claimed and _is_first(packet, outcome):
                claimed.add(identity)
                return data, kind is EventKind.SEND, identity
    return None


def _is_first(packet: Packet, outcome: RunOutcome) -> bool:
    """Whether a packet its host sent is this run's: a script's or a service's by its own sockets' ports (another
    run on the same host is not it), a tool's by what it sends."""
    spec, result = outcome.spec, outcome.result
    if spec.kind == "script" or spec.kind in PROGRAMS:
        ports = outcome.watch.ports if outcome.watch is not None else set()
        for layer, protocol in ((TCP, 6), (UDP, 17)):
            if layer in packet:
                return (protocol, packet[layer].sport) in ports
        return False
    if IPv4 not in packet or packet[IPv4].dst != spec.address:
        return False
    if spec.kind == "ping":
        return ICMP in packet and packet[ICMP].type == 8
    if spec.kind == "traceroute":
        return UDP in packet and packet[UDP].dport == FIRST_PORT
    return (UDP in packet and isinstance(result, UdpResult)
            and (packet[UDP].sport, packet[UDP].dport) == (result.source_port, spec.options["port"]))


def _tcp_states(net: Network, outcome: RunOutcome) -> list[dict[str, Any]]:
    """The state changes of each TCP connection the run's own sockets opened or accepted."""
    proc = outcome.process
    end = proc.ended_ns if proc is not None and proc.ended_ns is not None else net.now
    start = outcome.started_ns if outcome.started_ns is not None else 0
    connections: dict[str, list[dict[str, Any]]] = {}
    watch = outcome.watch
    for event in net.trace.select(EventKind.TCP, node=outcome.spec.source):
        info = event.info
        if info.what != "state" or not start <= event.time_ns:
            continue
        if watch is None or not watch.owns_connection(info.connection):
            continue  # another run's connection on the same host
        facts = dict(info.facts)
        if info.connection not in connections and event.time_ns > end:
            continue  # a connection opened after the run ended belongs to something else
        connections.setdefault(info.connection, []).append({"state": str(facts.get("new")),
                                                            "time_ns": event.time_ns})
    return [{"connection": name, "changes": changes} for name, changes in connections.items()]


def _describe_packet(data: bytes, is_frame: bool) -> str:
    packet = decode(data) if is_frame else decode(data, IPv4)
    ip = packet[IPv4]
    if ICMP in packet:
        icmp = packet[ICMP]
        what = f"ICMP echo request {ip.src} -> {ip.dst}, id {icmp.identifier:#06x} seq {icmp.sequence}"
    elif UDP in packet:
        what = f"UDP {ip.src}:{packet[UDP].sport} -> {ip.dst}:{packet[UDP].dport}"
    elif TCP in packet:
        tcp = packet[TCP]
        what = f"TCP {ip.src}:{tcp.sport} -> {ip.dst}:{tcp.dport} [{flag_text(int(tcp.flags))}]"
    else:
        what = f"IPv4 {ip.src} -> {ip.dst}"
    return f"{what}, TTL {ip.ttl}, {len(data)}-byte {'frame' if is_frame else 'packet (never framed)'}"


def _hop_text(hop: dict[str, Any], frame: bytes) -> str:
    time_ns = hop["left_ns"] if hop["arrived_ns"] is None else hop["arrived_ns"]
    when = "" if time_ns is None else f"{time_ns / 1e6:10.3f} ms"
    where = hop_where(hop)
    if hop["next"]:
        where += f" -> {hop['next']}"
    changes = [change_text(c) for c in hop["changes"]]
    if hop["outcome"] == "sent":
        changes = [f"dst MAC {MAC(frame[0:6])}"]
    detail = f", {', '.join(changes)}" if changes else ""
    return f"  {when:>13}  {hop['node']} {where}: {hop['outcome']}{detail}"


# Output --------------------------------------------------------------------------------------------------
def _result_dict(result: Any) -> dict[str, Any] | None:
    if hasattr(result, "to_dict"):
        return result.to_dict()  # type: ignore[no-any-return]
    if isinstance(result, PingResult):
        rtts = result.rtts_ms
        return {"destination": str(result.destination), "transmitted": result.sent, "received": result.received,
                "loss_percent": round(100 * (result.sent - result.received) / result.sent, 3) if result.sent else 0,
                "replies": [{"seq": seq, "rtt_ms": None if rtt is None else round(rtt / 1e6, 6),
                             "error": result.errors.get(seq)} for seq, rtt in result.rtts_ns.items()],
                "rtt_ms": {"min": round(min(rtts), 6), "avg": round(sum(rtts) / len(rtts), 6),
                           "max": round(max(rtts), 6)} if rtts else None}
    if isinstance(result, TracerouteResult):
        return {"destination": str(result.destination), "reached": result.reached,
                "path": [None if a is None else str(a) for a in result.path],
                "hops": [{"ttl": hop.ttl, "probes": [{"address": None if a is None else str(a),
                                                      "rtt_ms": None if r is None else round(r / 1e6, 6)}
                                                     for a, r in hop.probes]} for hop in result.hops]}
    if isinstance(result, ScriptResult):
        return {"path": result.path, "stdout": result.stdout, "error": result.error,
                "traceback": result.traceback}
    if isinstance(result, UdpResult):
        return {"destination": str(result.destination), "port": result.port, "source_port": result.source_port,
                "bytes": result.size, "sent": result.sent, "delivered": result.delivered,
                "latency_ms": None if result.latency_ns is None else round(result.latency_ns / 1e6, 6),
                "error": result.error}
    return None


def _drops(net: Network) -> Counter[DropReason]:
    return Counter(e.reason for e in net.trace.drops() if e.reason is not None)


def narrative_json(scenario: Scenario, outcomes: list[RunOutcome],
                   capture: CaptureSession | None = None) -> dict[str, Any]:
    """The documented JSON form of a finished run (see the module docstring)."""
    net = scenario.network
    claimed: set[Any] = set()
    runs = []
    for outcome in outcomes:
        spec = outcome.spec
        first = first_packet(net, outcome, claimed) if outcome.skipped is None else None
        runs.append({"index": spec.index, "kind": spec.kind, "from": spec.source, "to": _text(spec.address),
                     "target": spec.target, "at_ns": spec.at_ns, "started_ns": outcome.started_ns,
                     "skipped": outcome.skipped, "result": _result_dict(outcome.result),
                     "running": outcome.running, "stderr": _stderr(outcome),
                     "hops": hop_rows(net, first[2]) if first is not None else [],
                     "tcp": _tcp_states(net, outcome) if outcome.skipped is None else []})
    nodes = [{"name": node.name, "kind": node.kind,
              "interfaces": [{"name": i.name, "mac": str(i.mac), "address": None if i.address is None
                              else str(i.address)} for i in node.interfaces.values()]}
             for node in net.nodes.values()]
    drops = _drops(net)
    return {"seed": net.seed, "source": scenario.source, "nodes": nodes, "runs": runs,
            "drops": {reason.value: drops[reason] for reason in sorted(drops, key=lambda r: r.value)},
            "events": len(net.trace), "end_ns": net.now,
            "capture": None if capture is None else {"path": str(capture.path), "frames": capture.count,
                                                     "interfaces": [i.full_name for i in capture.interfaces]}}


def narrative(scenario: Scenario, outcomes: list[RunOutcome]) -> str:
    """What `layersim run` prints: each run's output like the real tool, its first packet hop by hop, the drops."""
    net = scenario.network
    claimed: set[Any] = set()
    lines = [f"{scenario.source}: {len(net.nodes)} nodes, {len(net.links)} links, seed {net.seed}"]
    for outcome in outcomes:
        spec = outcome.spec
        shown = spec.target if spec.target == str(spec.address) or spec.address is None else \
            f"{spec.target} ({spec.address})"
        what = f"{spec.kind} {spec.target} on {spec.source}" if spec.kind in SERVER_KINDS else \
            f"{spec.kind} from {spec.source} to {shown}"
        lines += ["", f"[[run]] #{spec.index}: {what} at {spec.at_ns / 1e9:g} s"
                  + (f", started at {outcome.started_ns / 1e9:g} s" if outcome.started_ns not in (None, spec.at_ns)
                     else "")]
        if outcome.skipped is not None:
            lines.append(f"  skipped: {outcome.skipped}")
            continue
        lines += [f"  {line}" for line in _told(outcome).splitlines()]
        first = first_packet(net, outcome, claimed)
        if first is None:
            lines.append("  it sent no packet")
            continue
        lines.append(f"  first packet, hop by hop: {_describe_packet(first[0], first[1])}")
        lines += [_hop_text(hop, first[0]) for hop in hop_rows(net, first[2])]
        for connection in _tcp_states(net, outcome):
            path = " -> ".join(f"{c['state']} ({c['time_ns'] / 1e6:.3f} ms)" for c in connection["changes"])
            lines.append(f"  TCP {connection['connection']}: {path}")
    drops = _drops(net)
    lines += ["", "drops by reason:" if drops else "no drops"]
    for reason, count in sorted(drops.items(), key=lambda item: (-item[1], item[0].value)):
        where = Counter(e.node for e in net.trace.drops(reason))
        nodes = ", ".join(f"{node} {n}" for node, n in sorted(where.items()))
        if reason is DropReason.NO_LISTENER:
            lines += _no_listener_lines(net)
            continue
        meaning = f" - {DROP_MEANINGS[reason]}" if reason in DROP_MEANINGS else ""
        lines.append(f"  {reason.value:<22} {count:>4}  ({nodes}){meaning}")
    lines.append(f"{len(net.trace)} trace events, simulated time {net.now / 1e9:.6f} s")
    return "\n".join(lines)


def _no_listener_lines(net: Network) -> list[str]:
    """no_listener drops, one line per protocol ("no_listener/TCP"): hosts answer each differently."""
    by_protocol: dict[str, Counter[str]] = {}
    for event in net.trace.drops(DropReason.NO_LISTENER):
        protocol = dict(getattr(event.info, "facts", ())).get("protocol") or _protocol_name(event.frame)
        by_protocol.setdefault(protocol, Counter())[event.node] += 1
    lines = []
    for protocol, where in sorted(by_protocol.items(), key=lambda item: (-item[1].total(), item[0])):
        nodes = ", ".join(f"{node} {n}" for node, n in sorted(where.items()))
        meaning = _NO_LISTENER.get(protocol, f"no handler for this {protocol} packet's port or protocol")
        lines.append(f"  {'no_listener/' + protocol:<22} {where.total():>4}  ({nodes}) - {meaning}")
    return lines


def _protocol_name(data: bytes | None) -> str:
    """"UDP", "TCP", ... for the IPv4 packet (or Ethernet frame holding one) a drop event kept; "IP" if unknown."""
    if data and data[0] >> 4 == 4 and len(data) > 9:
        number = data[9]
    elif data and len(data) > 23 and data[12:14] == b"\x08\x00":
        number = data[23]
    else:
        return "IP"
    return {1: "ICMP", 6: "TCP", 17: "UDP"}.get(number, f"IP protocol {number}")


def _stderr(outcome: RunOutcome) -> str:
    return outcome.watch.stderr.getvalue() if outcome.watch is not None else ""


def _told(outcome: RunOutcome) -> str:
    """A run's own lines in the story: its output, its stderr, and whether it is still running."""
    text = str(outcome.result) if outcome.result is not None else ""
    if outcome.running is not None and text == "(printed nothing)":
        text = "(printed nothing so far)"
    stderr = _stderr(outcome).rstrip("\n")
    if stderr:
        text += "\nstderr:\n" + "\n".join(f"  {line}" for line in stderr.splitlines())
    if outcome.running is not None:
        text += f"\n(still running at the end, {outcome.running})"
    return text.strip("\n")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
