"""Run Linux's upstream packetdrill TCP scripts (a folder given on the command line) through `layersim tcpcheck`.

Not part of the suite, and the scripts are not in this repository (they are GPL): fetch google/packetdrill and
point this at its `gtests/net/tcp` folder (or a copy of it), e.g.

    python benchmarks/tcpcheck_upstream.py /tmp/packetdrill/gtests/net/tcp [--category cubic ...] [--json]

Each script is parsed and run as written under the linux profile; it ends as `pass`, `fail` (with the first
failing line and why), `refused` (what layersim does not model or the interpreter cannot take) or `error` (the
script does not parse). The totals and the most common causes are printed last.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from layersim.errors import LayersimError
from layersim.tcpcheck import RunConfig, ScriptParseError, UnsupportedScriptError, parse_file, run_script

# The categories a simulated TCP with a socket API can serve (issue 17).
CATEGORIES = ("blocking", "close", "cubic", "cwnd_moderation", "ecn", "fast_recovery", "fast_retransmit",
              "limited_transmit", "mss", "mtu_probe", "nagle", "sack", "shutdown", "slow_start", "syscall_bad_arg",
              "ts_recent", "user_timeout", "validate")


def _cause(message: str) -> str:
    """A failure message with its numbers taken out, so that like causes count together."""
    text = re.sub(r"(?<![A-Za-z_])[-+]?\d[\d.:]*", "N", message)
    return text[:110]


def run_one(path: Path, extras: str) -> tuple[str, str]:
    """(outcome, first reason) for one script."""
    try:
        script = parse_file(path)
        result = run_script(script, RunConfig(profile="linux", extras=extras))
    except UnsupportedScriptError as exc:
        return "refused", "; ".join(what for _line, what in exc.problems[:1])
    except ScriptParseError as exc:
        return "error", exc.detail
    except LayersimError as exc:
        return "error", str(exc)
    if result.passed:
        return "pass", ""
    failed = next(line for line in result.lines if not line.passed)
    return "fail", f"line {failed.event.line}: {failed.message}"


def main(argv: list[str] | None = None) -> int:
    """Run every script in the chosen categories; print one line each, then the totals and the top causes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="packetdrill's gtests/net/tcp folder (or a copy)")
    parser.add_argument("--category", action="append", choices=CATEGORIES, help="only these (default: all 18)")
    parser.add_argument("--json", action="store_true", help="one JSON object: {script: [outcome, reason]}")
    parser.add_argument("--extras", choices=("packetdrill", "strict"), default="packetdrill",
                        help="unexpected segments as packetdrill treats them (default) or layersim's strict check")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    paths = sorted(p for c in (args.category or CATEGORIES) for p in (args.folder / c).glob("*.pkt"))
    outcomes: dict[str, tuple[str, str]] = {}
    for path in paths:
        name = str(path.relative_to(args.folder))
        outcomes[name] = run_one(path, args.extras)
        if not args.json:
            outcome, reason = outcomes[name]
            print(f"{outcome:8} {name}" + (f"  {reason}" if reason else ""), flush=True)
    if args.json:
        print(json.dumps(outcomes, indent=1, sort_keys=True))
        return 0
    totals = Counter(outcome for outcome, _ in outcomes.values())
    print(f"\n{len(outcomes)} scripts: " + ", ".join(f"{totals[k]} {k}" for k in ("pass", "fail", "refused", "error")))
    causes = Counter(_cause(reason) for outcome, reason in outcomes.values() if outcome != "pass")
    print("top causes:")
    for cause, count in causes.most_common(12):
        print(f"  {count:3}  {cause}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
