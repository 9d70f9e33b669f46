"""The `layersim` command line: encap and inspect on real files, JSON output, and clear errors."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from layersim.cli import main
from tests.wire import golden


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_encap_prints_layers_and_bytes(capsys):
    code, out, _ = run(capsys, "encap")
    assert code == 0
    assert "Internet Protocol Version 4" in out and "GET / HTTP/1.1" in out


def test_encap_json_matches_options(capsys):
    code, out, _ = run(capsys, "encap", "--json", "--dst-ip", "10.9.8.7", "--path", "/index.html", "--ttl", "9")
    assert code == 0
    layers = {layer["name"]: layer for layer in json.loads(out)["layers"]}
    assert layers["IPv4"]["fields"]["dst"] == "10.9.8.7" and layers["IPv4"]["fields"]["ttl"] == 9
    assert layers["IPv4"]["checksum_ok"] is True and layers["TCP"]["checksum_ok"] is True
    http = next(layer for name, layer in layers.items() if name.startswith("HTTP"))
    assert http["fields"]["target"] == "/index.html"


def test_encap_pcap_then_inspect_json(capsys, tmp_path):
    for name in ("frame.pcap", "frame.pcapng"):
        path = tmp_path / name
        code, _, _ = run(capsys, "encap", "--pcap", str(path))
        assert code == 0
        code, out, _ = run(capsys, "inspect", str(path), "--json")
        assert code == 0
        packets = json.loads(out)
        assert len(packets) == 1 and packets[0]["index"] == 0 and packets[0]["time_ns"] == 0
        assert [layer["name"] for layer in packets[0]["layers"]][:3] == ["Ethernet", "IPv4", "TCP"]
        assert packets[0]["interface"] == ("encap" if name.endswith("pcapng") else None)


def test_inspect_real_capture_json(capsys):
    code, out, _ = run(capsys, "inspect", str(golden.GOLDEN_PCAP), "--json")
    assert code == 0
    packets = json.loads(out)
    assert len(packets) == 24
    first = packets[0]
    assert set(first) >= {"index", "time_ns", "interface", "layers"}
    assert first["layers"][1]["name"] == "ARP" and first["layers"][1]["fields"]["target_ip"] == "10.0.1.1"
    syn = packets[12]["layers"]
    assert syn[2]["fields"]["sport"] == 56388 and syn[2]["checksum_ok"] is True


def test_inspect_text_and_hexdump(capsys):
    code, out, _ = run(capsys, "inspect", str(golden.GOLDEN_PCAP), "--hexdump")
    assert code == 0
    assert out.count("Frame ") >= 24 and "Time Exceeded" in out.replace("TIME_EXCEEDED", "Time Exceeded")


def test_inspect_not_a_capture_is_a_clear_error(capsys, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a capture")
    code, _, err = run(capsys, "inspect", str(path))
    assert code == 2
    assert err.startswith("layersim: error: ") and "notes.txt" in err and "Traceback" not in err


def test_inspect_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "inspect", str(tmp_path / "nope.pcap"))
    assert code == 2 and "nope.pcap" in err


def test_inspect_damaged_capture_keeps_earlier_packets(capsys, tmp_path):
    damaged = tmp_path / "cut.pcap"
    damaged.write_bytes(golden.GOLDEN_PCAP.read_bytes()[:-10])
    code, out, err = run(capsys, "inspect", str(damaged), "--json")
    assert code == 2 and "cut.pcap" in err
    assert len(json.loads(out)) == 23


def test_console_script_entry_point():
    proc = subprocess.run([sys.executable, "-m", "layersim.cli", "encap", "--json"], capture_output=True,
                          text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["layers"][0]["name"] == "Ethernet"


def test_version_is_the_packages_version(capsys):
    root = Path(__file__).resolve().parent.parent
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"layersim {version}\n"
    proc = subprocess.run([sys.executable, "-m", "layersim.cli", "--version"], capture_output=True, text=True,
                          check=False, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, f"layersim {version}\n"), proc.stderr


def test_shipped_example_capture_is_what_encap_writes(capsys, tmp_path):
    # captures/http_get.pcapng is `layersim encap --pcap captures/http_get.pcapng`: same command, same bytes.
    shipped = Path(__file__).resolve().parent.parent / "captures" / "http_get.pcapng"
    fresh = tmp_path / "http_get.pcapng"
    assert run(capsys, "encap", "--pcap", str(fresh))[0] == 0
    assert fresh.read_bytes() == shipped.read_bytes()


@pytest.mark.parametrize("command", ["demo", "encap", "inspect", "run", "tcpcheck"])
def test_every_subcommand_help_ends_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last.startswith(f"example: layersim {command}"), last
    example = last.removeprefix("example: layersim ").split()
    for word in example:  # the files an example names are in the repository
        if "/" in word:
            assert (Path(__file__).resolve().parent.parent / word).exists(), word


TOPOLOGY = Path(__file__).resolve().parent.parent / "examples" / "client_r1_r2_server.toml"


@pytest.mark.parametrize(("args", "option"), [
    (["run", str(TOPOLOGY), "--pcap", "{missing}/x.pcapng"], "--pcap"),
    (["run", str(TOPOLOGY), "--figures", "{missing}/figs"], "--figures"),
    (["encap", "--pcap", "{missing}/x.pcap"], "--pcap"),
    (["demo", "--out", "{missing}/out"], "--out"),
    (["demo", "--figures", "{missing}/figs"], "--figures"),
])
def test_a_missing_output_folder_is_refused_not_created(capsys, tmp_path, args, option):
    missing = tmp_path / "no" / "such"
    code, out, err = run(capsys, *(a.format(missing=missing) for a in args))
    assert code == 2 and out == ""
    assert err == (f"layersim: error: {option}: folder {tmp_path / 'no'} does not exist (create it first: {option} "
                   "never creates missing folders)\n")
    assert not (tmp_path / "no").exists()


def test_an_output_folder_is_made_inside_one_that_exists(capsys, tmp_path):
    pcap = tmp_path / "x.pcapng"  # the boundary: the file's folder exists
    assert run(capsys, "run", str(TOPOLOGY), "--pcap", str(pcap), "--quiet")[0] == 0
    assert pcap.stat().st_size > 0
    code, _, err = run(capsys, "encap", "--pcap", str(tmp_path))
    assert code == 2 and err == f"layersim: error: --pcap: {tmp_path} is a folder; give a file name\n"


@pytest.mark.parametrize("text", ["", "\n", "// only a comment\n\n"])
def test_tcpcheck_of_a_script_with_nothing_to_check_exits_2(capsys, tmp_path, text):
    script = tmp_path / "empty.pkt"
    script.write_text(text)
    code, out, err = run(capsys, "tcpcheck", str(script))
    assert (code, out) == (2, "")
    assert err == f"layersim: error: {script}:1:1: nothing to check: the script has no packet or call lines\n"


@pytest.mark.parametrize(("lines", "said"), [(1, "1 line passed"), (2, "2 lines passed")])
def test_tcpcheck_counts_lines_in_the_singular_and_plural(capsys, tmp_path, lines, said):
    script = tmp_path / "one.pkt"
    script.write_text("".join(["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", "+0 close(3) = 0\n"][:lines]))
    code, out, _ = run(capsys, "tcpcheck", str(script))
    assert code == 0 and out.strip().endswith(f"(profile linux): {said}")


def test_inspect_numbers_frames_and_damaged_records_alike(capsys, tmp_path):
    from layersim.capture import write_pcap

    path = tmp_path / "three.pcap"
    write_pcap(path, [(0, bytes(60))] * 3)  # three 60-byte frames
    data = path.read_bytes()
    path.write_bytes(data[:-5])  # the third record's data is cut short
    code, out, err = run(capsys, "inspect", str(path))
    assert code == 2
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("Frame ")] == ["Frame 1", "Frame 2"]
    assert ": record 3 data is truncated" in err


def test_demo_figures_may_go_into_the_out_folder_it_makes(tmp_path):
    from layersim.cli import _check_output
    from layersim.errors import LayersimError

    out = tmp_path / "out"
    _check_output("--figures", out / "figures", folder=True, made=out)  # the demo makes out/ first: accepted
    with pytest.raises(LayersimError, match=r"--figures: folder .*other does not exist"):
        _check_output("--figures", tmp_path / "other" / "figures", folder=True, made=out)
    with pytest.raises(LayersimError, match=r"--figures: folder .*out does not exist"):
        _check_output("--figures", out / "figures", folder=True)  # `run` makes no out/ folder
