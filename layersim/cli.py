"""The `layersim` command: build a frame (encap), decode a capture (inspect), run a scenario or a TCP script."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from layersim import __version__
from layersim.errors import CaptureError, LayersimError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="layersim", description="See what really happens on the wire, "
                                     "layer by layer, with real bytes.")
    parser.add_argument("--version", action="version", version=f"layersim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the whole story of requests.get(\"http://example.com/\") on a small "
                          "simulated internet, every byte captured",
                          epilog="example: layersim demo --out demo-out --loss 0.02")
    demo.add_argument("--seed", type=int, default=1, help="the random seed (same seed, same bytes); default 1")
    demo.add_argument("--out", type=Path, default=Path("demo-out"),
                      help="where demo.pcapng (the laptop's view), all-interfaces.pcapng and the per-link"
                      " pcaps go (default demo-out)")
    demo.add_argument("--loss", type=float, default=0.0, help="loss probability on the ISP links (0 to 0.5)")
    demo.add_argument("--json", action="store_true", help="print the story as JSON data")
    demo.add_argument("--https", action="store_true",
                      help="the HTTPS version: requests.get(\"https://example.com/\") with verification, the TLS "
                      "handshake, what an ISP observer sees; the capture decrypts in Wireshark")
    demo.add_argument("--quiet", action="store_true", help="print only where the files went")
    demo.add_argument("--figures", type=Path, help="also draw the story's pictures (PNG and SVG) into this folder")
    _add_page_options(demo)
    encap = sub.add_parser("encap", help="build the example HTTP request frame and show its layers and bytes",
                           epilog="example: layersim encap --dst-ip 192.0.2.80 --ttl 3 --pcap get.pcapng")
    encap.add_argument("--src-mac", default="02:00:00:00:01:10")
    encap.add_argument("--dst-mac", default="02:00:00:00:01:01")
    encap.add_argument("--src-ip", default="10.0.1.10")
    encap.add_argument("--dst-ip", default="93.184.216.34")
    encap.add_argument("--sport", type=int, default=50512)
    encap.add_argument("--dport", type=int, default=80)
    encap.add_argument("--ttl", type=int, default=64)
    encap.add_argument("--method", default="GET")
    encap.add_argument("--path", default="/")
    encap.add_argument("--host", default="example.com")
    encap.add_argument("--json", action="store_true", help="print the frame as JSON (to_dict)")
    encap.add_argument("--pcap", type=Path, help="also write the frame to this pcap (.pcap) or pcapng file")
    inspect = sub.add_parser("inspect", help="decode every packet of a pcap or pcapng file",
                             epilog="example: layersim inspect captures/http_get.pcapng --hexdump")
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--json", action="store_true", help="print a JSON list of packets")
    inspect.add_argument("--hexdump", action="store_true", help="also print each packet's annotated bytes")
    run = sub.add_parser("run", help="build a network from a TOML topology file, run its applications, "
                         "and tell what happened",
                         epilog="example: layersim run examples/tutorial.toml --pcap run.pcapng --figures figs")
    run.add_argument("topology", type=Path, help="the topology file (see layersim.net.topology)")
    run.add_argument("--pcap", type=Path, help="capture every interface to this pcapng file")
    run.add_argument("--seed", type=int, help="override the file's seed")
    run.add_argument("--json", action="store_true", help="print the documented JSON form instead of the story")
    run.add_argument("--quiet", action="store_true", help="print only the files written (capture, figures)")
    run.add_argument("--until", help="stop at this simulated time (e.g. 10s); default: when nothing is left to do")
    run.add_argument("--figures", type=Path, help="also draw each program's path and every TCP connection's "
                     "ladder and cwnd (PNG and SVG) into this folder")
    _add_page_options(run)
    view = sub.add_parser("view", help="write the page of a run (the demo, or a topology file): one HTML file to "
                          "step through in a browser, no server or network needed",
                          epilog="example: layersim view demo --out demo.html --json demo-view.json")
    view.add_argument("run", help="'demo', or a TOML topology file to run")
    view.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    view.add_argument("--json", type=Path, help="also write the page's data (the README's schema) to this file")
    view.add_argument("--seed", type=int, help="the random seed (default: the demo's 1, or the file's)")
    view.add_argument("--until", help="stop a topology run at this simulated time (e.g. 10s)")
    _add_tcpcheck(sub)
    from layersim.sweep.command import add_parser as add_sweep

    add_sweep(sub)
    return parser


def _add_page_options(command: Any) -> None:
    """--html and --html-json: the run's page, as `layersim view` writes it."""
    command.add_argument("--html", type=Path, help="also write the run's page (layersim view) to this HTML file")
    command.add_argument("--html-json", type=Path, help="also write the page's data (JSON) to this file")


def _write_page(network: Any, html: Path | None, data: Path | None, title: str) -> list[str]:
    """Write the page and/or its JSON of a run; the files written."""
    from layersim.view import write_html, write_json

    written = []
    if data is not None:
        written.append(str(write_json(network, data, title=title)))
    if html is not None:
        written.append(str(write_html(network, html, title=title)))
    return written


def _view(args: argparse.Namespace) -> int:
    """`layersim view RUN`: run the demo or a topology file and write its page (and its JSON)."""
    _check_output("--out", args.out)
    _check_output("--json", args.json)
    if args.run == "demo":
        from layersim.demo import run

        if args.until is not None:
            raise LayersimError("--until: only for a topology file; the demo runs until its story is told")
        outcome = run(seed=1 if args.seed is None else args.seed)
        network, title = outcome.network, 'requests.get("http://example.com/") on a small internet'
        status = 1 if outcome.failures else 0
    else:
        from layersim.app.narrative import run_scenario
        from layersim.net.topology import load_topology

        scenario = load_topology(Path(args.run), seed=args.seed)
        network, title = scenario.network, f"layersim run {Path(args.run).name}"
        try:
            status = _run_status(run_scenario(scenario, _until(args.until)))
        finally:
            network.close()
    for path in _write_page(network, args.out, args.json, title):
        print(path)
    return status


def _until(text: str | None) -> int | None:
    """--until as nanoseconds (None: until nothing is left to do)."""
    from layersim.net.topology_table import duration_ns

    if text is None:
        return None
    try:
        return duration_ns(text)
    except LayersimError as exc:
        raise LayersimError(f"--until: {exc}") from None


def _add_tcpcheck(sub: Any) -> None:
    """`layersim tcpcheck SCRIPT.pkt`: its arguments and logic live in layersim.tcpcheck.command."""
    from layersim.tcpcheck.command import add_parser

    add_parser(sub)


def _demo(args: argparse.Namespace) -> int:
    """Run the demo, write its captures, print its story (or its JSON, or nothing but the files)."""
    from layersim.demo import run
    from layersim.demo_story import render, story
    from layersim.terminal import print_story

    _check_output("--out", args.out, folder=True)
    _check_output("--figures", args.figures, folder=True, made=args.out)  # e.g. demo-out/figures
    _check_output("--html", args.html)
    _check_output("--html-json", args.html_json)
    if args.https and args.figures is not None:
        raise LayersimError("--figures draws the HTTP story's pictures; run it without --https")
    outcome = run(seed=args.seed, loss=args.loss, out=args.out, https=args.https)
    if args.https:
        from layersim.demo_https import https_story, render_https

        data = https_story(outcome)
        pages = _write_page(outcome.network, args.html, args.html_json,
                            'requests.get("https://example.com/") on a small internet')
        if pages:
            data["pages"] = pages
        print(json.dumps(data, indent=2) if args.json else "\n".join(data["files"] + pages) if args.quiet else
              render_https(data) + (f"\npage: {', '.join(pages)}" if pages else ""))
        return 1 if data["failures"] else 0
    data = story(outcome)
    pages = _write_page(outcome.network, args.html, args.html_json,
                        'requests.get("http://example.com/") on a small internet')
    if pages:
        data["pages"] = pages
    if args.figures is not None and data.get("get") is not None:  # no GET was sent when the lookup failed
        from layersim.viz.figures import demo_figures

        data["figures"] = [str(path) for path in demo_figures(outcome, args.figures)]
    if args.json:
        print(json.dumps(data, indent=2))
    elif args.quiet:
        print("\n".join(data["files"] + data.get("figures", []) + pages))
    else:
        text = render(data)
        if args.figures is not None:
            text += f"\nfigures: {len(data.get('figures', []))} files (PNG and SVG) in {args.figures}"
        if pages:
            text += f"\npage: {', '.join(pages)} (open in a browser: layersim view)"
        print_story(text)
    return 1 if data["failures"] else 0  # a request that failed under loss is a result, not bad input


def _encap(args: argparse.Namespace) -> int:
    from layersim.examples import http_get_frame

    _check_output("--pcap", args.pcap)
    frame = http_get_frame(src_mac=args.src_mac, dst_mac=args.dst_mac, src_ip=args.src_ip, dst_ip=args.dst_ip,
                           sport=args.sport, dport=args.dport, ttl=args.ttl, method=args.method,
                           path=args.path, host=args.host)
    data = frame.encode()
    if args.pcap is not None:
        _write_one(args.pcap, data)
    if args.json:
        print(json.dumps(frame.to_dict(), indent=2))
    else:
        frame.show()
        print()
        frame.hexdump()
        if args.pcap is not None:
            print(f"\nwrote {len(data)}-byte frame to {args.pcap}")
    return 0


def _check_output(option: str, path: Path | None, folder: bool = False, made: Path | None = None) -> None:
    """Refuse an output whose folder is missing, before any work: a file goes into a folder that exists; a folder
    (`--out`, `--figures`) is made, but only inside one that exists (like `mkdir`, never `mkdir -p`) or that the
    command makes itself (`made`: the demo's --out)."""
    if path is None:
        return
    parent = path.parent
    if made is not None and parent.resolve() == made.resolve():
        return
    if folder and path.exists() and not path.is_dir():
        raise LayersimError(f"{option}: {path} exists and is not a folder")
    if not folder and path.is_dir():
        raise LayersimError(f"{option}: {path} is a folder; give a file name")
    if not parent.is_dir():
        missing = parent
        while not missing.parent.is_dir() and missing.parent != missing:
            missing = missing.parent
        raise LayersimError(f"{option}: folder {missing} does not exist (create it first: {option} never creates "
                            "missing folders)")


def _write_one(path: Path, data: bytes) -> None:
    """Write one frame, as pcapng when the name ends in .pcapng, else classic pcap."""
    from layersim.capture import Interface, PcapngWriter, write_pcap

    try:
        if path.suffix == ".pcapng":
            with PcapngWriter(path, [Interface("encap")]) as writer:
                writer.write(0, 0, data, comment="layersim encap")
        else:
            write_pcap(path, [(0, data)])
    except OSError as exc:
        raise LayersimError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _inspect(args: argparse.Namespace) -> int:
    from layersim.capture import decode_record, format_time, read_capture, undecoded_reason
    from layersim.wire.packet import Packet
    from layersim.wire.payload import Raw
    from layersim.wire.show import packet_to_dict

    out: list[dict[str, Any]] = []
    errors = 0
    reasons: set[str] = set()  # why frames are shown as Raw (a link type not decoded), each said once
    capture_error: CaptureError | None = None
    try:
        records = read_capture(args.file)
        for record in records:
            error = None
            reason = undecoded_reason(record)
            if reason is not None and reason not in reasons:
                reasons.add(reason)
                print(f"{args.file}: {reason}", file=sys.stderr)
            try:
                packet = decode_record(record)
            except LayersimError as exc:
                errors += 1
                error = str(exc)
                packet = Packet([Raw(record.data)])
            if args.json:
                item = {"index": record.index, "time_ns": record.time_ns, "time": format_time(record.time_ns),
                        "interface": record.interface,
                        "layers": packet_to_dict(packet)["layers"]}
                if record.comment is not None:
                    item["comment"] = record.comment
                if record.packet_id is not None:
                    item["packet_id"] = record.packet_id
                if record.direction is not None:
                    item["direction"] = record.direction.name.lower()
                if error is not None:
                    item["error"] = error
                out.append(item)
                continue
            where = f" on {record.interface}" if record.interface else ""
            if record.direction is not None:
                where += f" ({record.direction.name.lower()})"
            if record.packet_id is not None:
                where += f", packet id {record.packet_id}"
            print(f"Frame {record.index + 1}: {len(record.data)} bytes captured ({record.orig_len} on the wire)"
                  f"{where}, time {format_time(record.time_ns)}")
            if record.comment:
                print(f"  comment: {record.comment}")
            if error is not None:
                print(f"  could not decode: {error}")
            packet.show()
            if args.hexdump:
                packet.hexdump()
            print()
    except CaptureError as exc:  # a damaged file: still show every packet read before the damage
        capture_error = exc
    except OSError as exc:
        raise LayersimError(f"{args.file}: cannot read: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(out, indent=2))
    if capture_error is not None:
        raise capture_error
    return 1 if errors else 0


def _run(args: argparse.Namespace) -> int:
    """Build the topology, capture if asked, run its applications, and print the story or its JSON."""
    from layersim.app.narrative import narrative, narrative_json, run_scenario
    from layersim.net.topology import load_topology
    from layersim.terminal import print_story, progress

    until = _until(args.until)
    _check_output("--pcap", args.pcap)
    _check_output("--html", args.html)
    _check_output("--html-json", args.html_json)
    _check_output("--figures", args.figures, folder=True)
    scenario = load_topology(args.topology, seed=args.seed)
    network = scenario.network
    capture = network.capture(args.pcap) if args.pcap is not None else None
    try:
        with progress(network):
            outcomes = run_scenario(scenario, until)
    finally:
        network.close()
    pages = _write_page(network, args.html, args.html_json, f"layersim run {args.topology.name}")
    figures: list[str] = []
    if args.figures is not None:
        from layersim.viz.figures import scenario_figures

        figures = [str(path) for path in scenario_figures(scenario, outcomes, args.figures)]
    if args.json:
        data = narrative_json(scenario, outcomes, capture)
        if args.figures is not None:
            data["figures"] = figures
        if pages:
            data["pages"] = pages
        print(json.dumps(data, indent=2))
        return _run_status(outcomes)
    lines = [] if args.quiet else [narrative(scenario, outcomes)]
    if figures:
        lines.append(f"figures: {len(figures)} files written to {args.figures}")
    if pages:
        lines.append(f"page: {', '.join(pages)} (open in a browser)")
    if capture is not None:
        lines.append(f"capture: {capture.count} frames on {len(capture.interfaces)} interfaces written to "
                     f"{args.pcap}")
    if lines:
        print_story("\n".join(lines))
    return _run_status(outcomes)


def _run_status(outcomes: list[Any]) -> int:
    """`layersim run`'s exit status: 1 when a run's program failed (a script raised or exited non-zero), else 0."""
    return 1 if any(outcome.failed for outcome in outcomes) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; errors print one line and exit non-zero (2 for bad input)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "encap":
            return _encap(args)
        if args.command == "run":
            return _run(args)
        if args.command == "sweep":
            from layersim.sweep.command import main as sweep

            return sweep(args)
        if args.command == "view":
            return _view(args)
        if args.command == "tcpcheck":
            from layersim.tcpcheck.command import main as tcpcheck

            return tcpcheck(args)
        return _inspect(args)
    except LayersimError as exc:
        print(f"layersim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
