"""`layersim sweep`: running a SPEC from the command line, its errors, and `--plot` with the Mathis model."""

from __future__ import annotations

import math

import pytest

from layersim.cli import main
from layersim.sweep.plot import mathis_mbps
from tests.sweep.tiny import SPEC, write_sweep

pytest.importorskip("pandas")


def test_mathis_is_mss_over_rtt_times_c_over_root_p():
    # 1448-byte segments, 20 ms, 1 % loss: 1448 * 8 / 0.02 * sqrt(1.5) / 0.1 = 7.094 Mbit/s
    assert mathis_mbps(1448, 0.02, 0.01) == pytest.approx(579_200 * math.sqrt(1.5) * 10 / 1e6)
    assert mathis_mbps(1448, 0.02, 0.04) == pytest.approx(mathis_mbps(1448, 0.02, 0.01) / 2)  # 1 / sqrt(p)
    assert mathis_mbps(1448, 0.1, 0.01) == pytest.approx(mathis_mbps(1448, 0.02, 0.01) / 5)  # 1 / RTT


def test_run_then_plot_from_the_command_line(tmp_path, capsys):
    spec = write_sweep(tmp_path / "spec", SPEC.replace("[0.0, 0.03]", "[0.02, 0.05]"))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--serial"]) == 0
    assert "4 cells (2 grid points x 2 seeds): 4 run, 0 already done, 0 failed" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--out", str(out), "--serial"]) == 0
    assert "0 run, 4 already done" in capsys.readouterr().out
    assert main(["sweep", "--plot", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (out / "goodput.png").stat().st_size > 0 and (out / "goodput.svg").exists()
    header, first, second = printed.splitlines()[:3]
    assert header.split() == ["link#2.loss", "goodput", "n", "rtt_ms", "mss", "mathis", "ratio"]
    assert first.split()[0] == "0.02" and second.split()[0] == "0.05" and first.split()[2] == "2"


@pytest.mark.parametrize(("argv", "message"), [
    (["sweep", "--plot", "{tmp}"], "no results.parquet here"),
    (["sweep", "{spec}"], "give a SPEC file and --out DIR"),
    (["sweep", "{spec}", "--out", "{tmp}/o", "--workers", "0"], "--workers 0: give at least 1"),
    (["sweep", "{spec}", "--out", "{tmp}/o", "--scheduler", "tcp://127.0.0.1:1", "--serial"], "--scheduler sends"),
    (["sweep", "{spec}", "--plot", "{tmp}"], "--plot DIR draws a finished sweep"),
])
def test_bad_command_lines_exit_2_with_one_line(tmp_path, capsys, argv, message):
    spec = write_sweep(tmp_path / "spec")
    argv = [a.format(tmp=tmp_path, spec=spec) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("layersim: error: ") and message in err and err.count("\n") == 1


def test_a_bad_spec_key_from_the_command_line_names_file_and_line(tmp_path, capsys):
    spec = write_sweep(tmp_path, SPEC + '"node:client.congestin" = ["cubic"]\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:6: [grid] 'node:client.congestin' = 'cubic': " in err and "did you mean 'congestion'?" in err
    assert not (tmp_path / "o").exists()  # nothing is started before the SPEC is known to be good


def test_a_bug_in_a_cell_is_a_row_with_its_traceback_and_strict_mode_prints_it(tmp_path, capsys, monkeypatch):
    import layersim.sweep.cell as cell

    def broken(scenario, outcomes):
        raise ZeroDivisionError("a bug while measuring")

    monkeypatch.setattr(cell, "_measure", broken)
    monkeypatch.setenv("LAYERSIM_STRICT", "1")
    spec = write_sweep(tmp_path / "spec")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--serial"]) == 1
    captured = capsys.readouterr()
    assert "4 run, 0 already done, 4 failed" in captured.out
    assert "failed: cell " in captured.err and "ZeroDivisionError: a bug while measuring" in captured.err
    assert "Traceback (most recent call last)" in captured.err and "in broken" in captured.err
