"""What a script sets before it runs: its `--options` and the shell lines before its first packet or call."""

from __future__ import annotations

from dataclasses import dataclass, replace
from ipaddress import IPv4Address
from pathlib import Path
from types import MappingProxyType

from layersim.errors import LayersimError
from layersim.tcp.profile import Profile
from layersim.tcpcheck.errors import UnsupportedScriptError
from layersim.tcpcheck.model import Script, Shell
from layersim.tcpcheck.shell import run_shell

__all__ = ["Prelude", "prelude", "shell_later"]

# packetdrill's default addresses (its --local_ip, --remote_ip, --gateway_ip): the only ones layersim's harness has.
_ADDRESSES = MappingProxyType({"local_ip": "192.168.0.1", "remote_ip": "192.0.2.1", "gateway_ip": "192.168.0.2",
                               "netmask_ip": "255.255.0.0"})


@dataclass(frozen=True, slots=True)
class Prelude:
    """The profile the script's host starts with, and the packetdrill options that change how it is matched."""

    profile: Profile
    strict_segments: bool = False  # --strict_segments: one sent segment per `>` line, never merged (no TSO view)
    ts_tick_ns: int | None = None  # --tcp_ts_tick_usecs: our TS vals are checked, at this many ns per tick


def _option(path: str, line: int, name: str, value: str, profile: Profile) -> Profile:
    """One `--name=value` option: the profile it leaves (UnsupportedScriptError when layersim cannot honour it)."""
    if name == "tcp_ts_tick_usecs":  # the stack's TS clock: one tick per this many microseconds
        usecs = float(value)
        if usecs <= 0 or 1_000_000 % usecs:
            raise UnsupportedScriptError(path, [(line, f"--tcp_ts_tick_usecs={value}: a TS clock of 1000000/"
                                                       f"{value} Hz is not a whole number of Hz")])
        return replace(profile, ts_hz=int(1_000_000 // usecs))
    if name == "ip_version" and value != "ipv4":
        raise UnsupportedScriptError(path, [(line, f"--ip_version={value}: layersim is IPv4 only")])
    if name in _ADDRESSES:
        try:
            same = IPv4Address(value) == IPv4Address(_ADDRESSES[name])
        except ValueError:
            same = False
        if not same:
            raise UnsupportedScriptError(path, [(line, f"--{name}={value}: the harness uses packetdrill's default "
                                                       f"{_ADDRESSES[name]} only")])
    return profile


def prelude(script: Script, profile: Profile) -> tuple[Prelude, int]:
    """The starting Prelude and the index of the first event after the leading shell lines."""
    strict = False
    tick: int | None = None
    for name, value, line in script.settings:
        if name == "strict_segments":
            strict = True
        else:
            if name == "tcp_ts_tick_usecs":
                tick = int(float(value) * 1000)
            profile = _option(script.path, line, name, value, profile)
    folder = Path(script.path).parent
    start = 0
    for event in script.events:
        if not isinstance(event.action, Shell):
            break
        try:
            profile = run_shell(event.action.command, profile, folder)
        except LayersimError as exc:
            raise UnsupportedScriptError(script.path, [(event.line, str(exc))]) from None
        start += 1
    return Prelude(profile, strict, tick), start


def shell_later(script: Script, line: int, command: str, profile: Profile) -> None:
    """A shell line after the first packet or call: it may run only what changes nothing (no-ops)."""
    try:
        after = run_shell(command, profile, Path(script.path).parent)
    except LayersimError as exc:
        raise UnsupportedScriptError(script.path, [(line, str(exc))]) from None
    if after != profile:
        raise UnsupportedScriptError(script.path, [(line, "a sysctl set after the first packet or call: layersim "
                                                          "fixes the profile when the host is made")])
