"""A small interpreter for a script's back-quoted shell lines: what they may hold, and nothing else.

`sysctl [-q] [-w] [-e] net.ipv4.X=Y ...`, `.../set_sysctls.py /proc/sys/net/ipv4/X=Y ...` and
`echo Y > /proc/sys/net/ipv4/X` set profile knobs, `echo Y > /sys/module/tcp_cubic/parameters/X` CUBIC's
(sysctls.py); a shell file named by path (`../common/defaults.sh`) is read, relative to the script's folder as
packetdrill runs it there, and interpreted the same way; `ip tcp_metrics flush`, `tc qdisc ...` and the
`/tmp/sysctl_restore_${PPID}.sh` that set_sysctls.py writes are no-ops (layersim keeps no route metrics, models no
qdisc, and every run starts from its profile). Anything else is refused, naming the command.
"""

from __future__ import annotations

import ast
import operator
import re
import shlex
from pathlib import Path
from types import MappingProxyType

from layersim.errors import LayersimError
from layersim.tcp.profile import Profile
from layersim.tcpcheck.sysctls import apply_cubic_parameter, apply_sysctl

__all__ = ["NO_OP_COMMANDS", "ShellRefused", "run_shell"]

# command -> why it changes nothing layersim models.
NO_OP_COMMANDS = MappingProxyType({
    "ip tcp_metrics": "layersim keeps no per-destination TCP metrics to flush",
    "tc qdisc": "layersim models no queueing discipline on the script's interface (frames leave at once)",
    "sysctl_restore": "each run starts from its profile, so there is nothing to restore",
})
_MAX_DEPTH = 8  # shell files that name shell files
_ARITHMETIC = re.compile(r"\$\(\(([^()]*(?:\([^()]*\)[^()]*)*)\)\)")
_OPS = MappingProxyType({ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                         ast.FloorDiv: operator.floordiv, ast.Div: operator.floordiv, ast.Mod: operator.mod,
                         ast.LShift: operator.lshift, ast.RShift: operator.rshift})
# `> /dev/null`, `2>&1`, `2>/dev/null`: output goes nowhere here, so redirections are dropped (a descriptor
# number belongs to one only when written against it)
_REDIRECT = re.compile(r"""(?:(?<=\s)|^)\d?(?:&>|>>|>&|>\||>|<)\s*[^\s;&|"']+""")
_SEPARATORS = frozenset({";", "&&", "||"})
_ECHO_WRITE = re.compile(r'\s*echo\s+(?P<value>"[^"]*"|\S+)\s*>\s*'
                         r"(?P<path>/proc/sys/net/ipv4/\w+|/sys/module/tcp_cubic/parameters/\w+)\s*")
_CUBIC_PARAMETER = "<tcp_cubic parameter>"  # the command word an `echo > /sys/module/tcp_cubic/...` becomes


class ShellRefused(LayersimError):
    """A shell line the interpreter will not run: what, and why."""


def _arithmetic(match: re.Match[str]) -> str:
    """`$((15*1024*1024))`: integer arithmetic as bash does it (+ - * / % << >> and parentheses)."""
    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        raise ShellRefused(f"shell arithmetic $(({match.group(1)})): only integers and + - * / % << >>")
    try:
        tree = ast.parse(match.group(1).strip(), mode="eval")
    except SyntaxError:
        raise ShellRefused(f"shell arithmetic $(({match.group(1)})) does not parse") from None
    return str(value(tree.body))


def _commands(text: str) -> list[list[str]]:
    """The simple commands in `text`: words, with comments, redirections and separators taken out."""
    text = re.sub(r"\\\n", " ", text)  # line continuations
    commands: list[list[str]] = []
    for line in text.split("\n"):
        if "$(" in line and not _ARITHMETIC.search(line):
            raise ShellRefused(f"shell command substitution in {line.strip()!r}")
        line = _ARITHMETIC.sub(_arithmetic, line)
        write = _ECHO_WRITE.fullmatch(line)
        if write is not None:  # `echo V > /proc/sys/...` is a sysctl; `... > /sys/module/tcp_cubic/...` a parameter
            value, path = write.group("value").strip('"'), write.group("path")
            commands.append(["sysctl", f"{path}={value}"] if path.startswith("/proc/sys/")
                            else [_CUBIC_PARAMETER, path.rsplit("/", 1)[-1], value])
            continue
        line = _REDIRECT.sub(" ", line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError as exc:
            raise ShellRefused(f"shell line {line.strip()!r}: {exc}") from None
        words: list[str] = []
        for token in tokens:
            if token in _SEPARATORS:
                if words:
                    commands.append(words)
                words = []
            elif token in ("|", "&"):
                raise ShellRefused(f"shell pipes and background jobs are not interpreted: {line.strip()!r}")
            else:
                words.append(token)
        if words:
            commands.append(words)
    return commands


def _sysctl(profile: Profile, words: list[str]) -> Profile:
    """`sysctl [-q] [-w] [-e] name=value ...`."""
    assignments = [w for w in words[1:] if not w.startswith("-")]
    flags = [w for w in words[1:] if w.startswith("-")]
    for flag in flags:
        if flag not in ("-q", "-w", "-e", "-qw", "-wq"):
            raise ShellRefused(f"sysctl option {flag} is not interpreted (-q, -w, -e are)")
    if not assignments:
        raise ShellRefused("sysctl without name=value (reading a sysctl prints it, which a script cannot use)")
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals:
            raise ShellRefused(f"sysctl {assignment}: reading a sysctl is not interpreted (write name=value)")
        profile = apply_sysctl(profile, name, value)
    return profile


def run_shell(command: str, profile: Profile, folder: Path, depth: int = 0) -> Profile:
    """The profile after the shell text `command` runs; files it names are read relative to `folder`."""
    for words in _commands(command):
        name = words[0]
        base = name.rsplit("/", 1)[-1]
        if name == "sysctl":
            profile = _sysctl(profile, words)
        elif name == _CUBIC_PARAMETER:
            profile = apply_cubic_parameter(profile, words[1], words[2])
        elif base == "set_sysctls.py":
            profile = _sysctl(profile, ["sysctl", *words[1:]])
        elif "sysctl_restore_" in name:
            continue
        elif name in ("ip", "tc") and len(words) > 1 and f"{name} {words[1]}" in NO_OP_COMMANDS:
            if name == "ip" and words[2:3] != ["flush"]:
                raise ShellRefused(f"shell command {' '.join(words)!r} is not interpreted (only 'ip tcp_metrics "
                                   "flush')")
            if name == "tc" and "limit" in words and words[words.index("limit") + 1:][:1] == ["0"]:
                # a qdisc that holds no packet: every send fails locally (Linux then retries every
                # TCP_RESOURCE_PROBE_INTERVAL), which layersim does not model, so it cannot be a no-op
                raise ShellRefused(f"shell command {' '.join(words)!r}: a qdisc that drops every packet (local "
                                   "congestion) is not modelled")
            continue
        elif "/" in name or name.endswith(".sh"):
            path = folder / name
            if depth >= _MAX_DEPTH:
                raise ShellRefused(f"shell file {name}: files name each other more than {_MAX_DEPTH} deep")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ShellRefused(f"shell file {name}: cannot read {path}: {exc}") from None
            try:
                profile = run_shell(text, profile, folder, depth + 1)
            except ShellRefused as exc:
                raise ShellRefused(f"{name}: {exc}") from None
            except LayersimError as exc:
                raise ShellRefused(f"{name}: {exc}") from None
        else:
            raise ShellRefused(f"shell command {' '.join(words)!r} is not interpreted (layersim runs sysctl, shell "
                               "files, 'ip tcp_metrics flush' and 'tc qdisc')")
    return profile
