"""Same seed, same scenario: byte-identical captures and identical traces. Another seed changes only what the random
generator chooses (echo identifiers, IP identification, ephemeral ports) and what depends on it (checksums)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from layersim.app import ping, traceroute
from layersim.capture import read_capture
from layersim.net.network import Network
from layersim.wire import decode, diff

from .conftest import SERVER_IP, build_chain

ROOT = Path(__file__).parents[2]  # the repository, so that tests.net imports

# (layer position, layer, field) a different seed may change: outer IPv4 / ICMP or UDP, and the quoted IPv4 / UDP
# inside ICMP errors.
RANDOM_FIELDS = {
    (1, "IPv4", "identification"), (1, "IPv4", "header_checksum"),
    (2, "ICMP", "rest_of_header"), (2, "ICMP", "checksum"),
    (2, "UDP", "sport"), (2, "UDP", "checksum"),
    (3, "IPv4", "identification"), (3, "IPv4", "header_checksum"),
    (4, "UDP", "sport"), (4, "UDP", "checksum"),
    (4, "ICMP", "rest_of_header"), (4, "ICMP", "checksum"),
}


def scenario(seed: int, directory: Path) -> Network:
    """Ping, a UDP datagram from an ephemeral port, a traceroute: captured on every interface and on one as pcap."""
    chain = build_chain(seed)
    net = chain.net
    net.capture(directory / "all.pcapng")
    net.capture(directory / "r1.pcap", interfaces=["r1:eth1"])
    ping(chain.client, SERVER_IP, count=2)
    chain.server.udp_socket(9999)
    chain.client.udp_socket().sendto(b"hello", (SERVER_IP, 9999))
    traceroute(chain.client, SERVER_IP, probes=1)
    ping(chain.client, "10.0.99.1", count=1)
    net.run_until_idle()
    net.close()
    return net


def test_same_seed_gives_identical_captures_and_traces(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = scenario(7, tmp_path / "one"), scenario(7, tmp_path / "two")
    for name in ("all.pcapng", "r1.pcap"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert len(first.trace) > 100
    assert first.trace.events == second.trace.events


def test_another_seed_changes_only_the_random_choices(tmp_path: Path) -> None:
    (tmp_path / "seven").mkdir()
    (tmp_path / "eight").mkdir()
    seven, eight = scenario(7, tmp_path / "seven"), scenario(8, tmp_path / "eight")
    ours = list(read_capture(tmp_path / "seven" / "all.pcapng"))
    theirs = list(read_capture(tmp_path / "eight" / "all.pcapng"))
    assert len(ours) == len(theirs) > 50
    changed = set()
    for a, b in zip(ours, theirs, strict=True):
        assert (a.time_ns, len(a.data), a.interface) == (b.time_ns, len(b.data), b.interface)
        for change in diff(decode(a.data), decode(b.data)):
            changed.add((change.index, change.layer, change.field))
            if change.field == "rest_of_header":  # echo: identifier (random) then sequence (not)
                assert change.old & 0xFFFF == change.new & 0xFFFF
    assert changed <= RANDOM_FIELDS
    assert {(1, "IPv4", "identification"), (2, "ICMP", "rest_of_header"), (2, "UDP", "sport")} <= changed
    assert [(e.time_ns, e.node, e.interface, e.kind) for e in seven.trace.events] == \
        [(e.time_ns, e.node, e.interface, e.kind) for e in eight.trace.events]


def test_captures_do_not_depend_on_the_python_process(tmp_path: Path) -> None:
    """Two interpreters with different string hash seeds (set and dict order of str keys) write the same bytes."""
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        out.mkdir()
        code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.net.test_determinism import scenario; " \
               f"from pathlib import Path; scenario(7, Path({str(out)!r}))"
        proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": hash_seed},
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "1" / "all.pcapng").read_bytes() == (tmp_path / "2" / "all.pcapng").read_bytes()
