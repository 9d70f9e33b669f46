"""The `layersim tcpcheck` subcommand: its arguments, and running one script to an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main"]


def add_parser(sub: Any) -> None:
    """Register `tcpcheck` on the `layersim` subcommand parsers."""
    parser = sub.add_parser("tcpcheck", help="run a packetdrill-format script (.pkt) against layersim's TCP",
                            epilog="example: layersim tcpcheck tests/tcpcheck/scripts/active_open.pkt --verbose")
    parser.add_argument("script", type=Path, help="the script file")
    parser.add_argument("--profile", choices=("linux", "rfc"), default="linux",
                        help="TCP profile to run (default linux)")
    parser.add_argument("--options", choices=("exact", "loose"), default="exact",
                        help="compare TCP options in order (exact) or as a set ignoring nop/eol (loose)")
    parser.add_argument("--extras", choices=("strict", "packetdrill"), default="strict",
                        help="a segment the script does not expect fails at once (strict, default), or only when it "
                             "is compared with the next '>' line, as packetdrill does")
    parser.add_argument("--verbose", action="store_true", help="print every line, not only the one that fails")
    parser.add_argument("--seed", type=int, default=0, help="seed for our ISNs and timestamp offsets")


def main(args: argparse.Namespace) -> int:
    """Parse and run the script; print the report. 0 passed, 1 failed; parse errors raise (the CLI exits 2)."""
    from layersim.tcpcheck.parser import parse_file
    from layersim.tcpcheck.report import render
    from layersim.tcpcheck.runner import RunConfig, run_script

    script = parse_file(args.script)
    if not script.events:  # an empty file (or only comments) checks nothing: passing it would say nothing true
        from layersim.tcpcheck.errors import ScriptParseError

        raise ScriptParseError(str(args.script), 1, 1, "nothing to check: the script has no packet or call lines")
    result = run_script(script, RunConfig(profile=args.profile, options=args.options, seed=args.seed,
                                                 extras=args.extras))
    print(render(result, verbose=args.verbose))
    return 0 if result.passed else 1
