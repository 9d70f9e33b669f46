"""`layersim inspect`: timestamps printed exactly from integer nanoseconds, link types named or decoded."""

import json
import struct
from pathlib import Path

import pytest

from layersim.capture import Direction, Interface, PcapngWriter, format_time, write_pcap
from layersim.cli import main
from tests.wire import golden

# 2026-01-01T00:00:00Z plus 10 ms: as a float, 1767225600010000000 / 1e9 prints as ...009999990.
TEN_MS_PAST = 1_767_225_600_010_000_000


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_us_pcap(path: Path, seconds: int, microseconds: int, frame: bytes, linktype: int = 1) -> None:
    """A little-endian microsecond pcap with one frame (layersim writes only ns pcaps)."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    path.write_bytes(header + struct.pack("<IIII", seconds, microseconds, len(frame), len(frame)) + frame)


@pytest.mark.parametrize(("time_ns", "text"), [
    (TEN_MS_PAST, "1767225600.010000000"),
    (0, "0.000000000"),
    (999_999_999, "0.999999999"),
    (1_000_000_000, "1.000000000"),
    ((1 << 64) - 1, "18446744073.709551615"),  # the largest pcapng timestamp: floats lose the last digits
    (-1, "-0.000000001"),  # pcapng if_tsoffset can put a time before 1970
])
def test_format_time_is_exact(time_ns, text):
    assert format_time(time_ns) == text


def test_inspect_prints_nanosecond_time_as_stored(capsys, tmp_path):
    path = tmp_path / "ten_ms.pcap"
    write_pcap(path, [(TEN_MS_PAST, golden.HTTP_GET)])
    code, out, _ = run(capsys, "inspect", str(path))
    assert code == 0
    assert "time 1767225600.010000000\n" in out


def test_inspect_prints_microsecond_time_as_stored(capsys, tmp_path):
    path = tmp_path / "ten_ms_us.pcap"
    write_us_pcap(path, 1_767_225_600, 10_000, golden.HTTP_GET)
    code, out, _ = run(capsys, "inspect", str(path))
    assert code == 0
    assert "time 1767225600.010000000\n" in out
    write_us_pcap(path, 1_767_225_600, 999_999, golden.HTTP_GET)  # the last microsecond of a second
    _, out, _ = run(capsys, "inspect", str(path))
    assert "time 1767225600.999999000\n" in out


def test_inspect_json_time_is_exact(capsys, tmp_path):
    path = tmp_path / "ten_ms.pcap"
    write_pcap(path, [(TEN_MS_PAST, golden.HTTP_GET)])
    code, out, _ = run(capsys, "inspect", "--json", str(path))
    assert code == 0
    (packet,) = json.loads(out)
    assert packet["time_ns"] == TEN_MS_PAST and packet["time"] == "1767225600.010000000"


def test_inspect_shows_packet_id_and_direction_when_the_file_has_them(capsys, tmp_path):
    path = tmp_path / "options.pcapng"
    with PcapngWriter(path, [Interface("laptop:eth0")]) as writer:
        writer.write(0, 1, golden.HTTP_GET, packet_id=7, direction=Direction.OUTBOUND)
        writer.write(0, 2, golden.HTTP_GET, packet_id=2**64 - 1, direction=Direction.INBOUND)
        writer.write(0, 3, golden.HTTP_GET, packet_id=0)
        writer.write(0, 4, golden.HTTP_GET)
    code, out, _ = run(capsys, "inspect", "--json", str(path))
    assert code == 0
    packets = json.loads(out)
    assert [(p.get("packet_id"), p.get("direction")) for p in packets] == [
        (7, "outbound"), (2**64 - 1, "inbound"), (0, None), (None, None)]
    assert "packet_id" not in packets[3] and "direction" not in packets[2]
    _, out, _ = run(capsys, "inspect", str(path))
    heads = [line for line in out.splitlines() if line.startswith("Frame ")]
    assert [head.split(" wire) on ", 1)[1].rsplit(", time", 1)[0] for head in heads] == [
        "laptop:eth0 (outbound), packet id 7", f"laptop:eth0 (inbound), packet id {2**64 - 1}",
        "laptop:eth0, packet id 0", "laptop:eth0"]
