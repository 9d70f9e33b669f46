"""The project's own packetdrill-format scripts, run against layersim.tcp under each profile they name.

Each script's first line says which profiles it is written for (`// profiles: linux rfc`). Scripts under
must_fail/ say on their second line where and how they must fail (`// fails at line N: message`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layersim.tcpcheck.parser import parse_file
from layersim.tcpcheck.report import render
from layersim.tcpcheck.runner import RunConfig, run_script

SCRIPTS = Path(__file__).parent / "scripts"

# Correct scripts that layersim.tcp does not pass yet: (script, profile) -> why. Run with strict xfail, so a
# fix in layersim.tcp turns them into failures here until they are taken off this list.
KNOWN_TCP_GAPS: dict[tuple[str, str], str] = {}


def _profiles(path: Path) -> list[str]:
    """The profiles a script's first line names."""
    match = re.match(r"// profiles:((?: \w+)+)\s*$", path.read_text().splitlines()[0])
    assert match, f"{path.name}: first line must be '// profiles: ...'"
    return match.group(1).split()


def _cases() -> list:
    """(script, profile) for every script that must pass."""
    cases = []
    for path in sorted(SCRIPTS.glob("*.pkt")):
        for profile in _profiles(path):
            reason = KNOWN_TCP_GAPS.get((path.name, profile))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(path, profile, id=f"{path.stem}-{profile}", marks=marks))
    return cases


@pytest.mark.parametrize(("path", "profile"), _cases())
def test_script_passes(path: Path, profile: str) -> None:
    result = run_script(parse_file(path), RunConfig(profile=profile))
    assert result.passed, render(result)
    assert [line.event.line for line in result.lines] == [e.line for e in parse_file(path).events]


def _failing() -> list:
    """(script, profile, line, message) for every script that must fail."""
    cases = []
    for path in sorted((SCRIPTS / "must_fail").glob("*.pkt")):
        second = path.read_text().splitlines()[1]
        match = re.match(r"// fails at line (\d+): (.+)$", second)
        assert match, f"{path.name}: second line must be '// fails at line N: message'"
        for profile in _profiles(path):
            cases.append(pytest.param(path, profile, int(match.group(1)), match.group(2),
                                      id=f"{path.stem}-{profile}"))
    return cases


@pytest.mark.parametrize(("path", "profile", "line", "message"), _failing())
def test_script_fails_with_the_right_message(path: Path, profile: str, line: int, message: str) -> None:
    result = run_script(parse_file(path), RunConfig(profile=profile))
    assert not result.passed
    failure = result.failure
    assert failure is not None
    assert failure.event.line == line, render(result)
    assert message in (failure.message or ""), render(result)
    assert all(earlier.passed for earlier in result.lines[:-1])
