"""Running a sweep: Dask worker processes give the serial table; a re-run does only what is missing; failures
are rows."""

from __future__ import annotations

import json
import os

import pytest

from layersim.sweep import load_spec
from layersim.sweep.driver import run_sweep
from layersim.sweep.table import CSV, JOURNAL, read_table
from tests.sweep.tiny import SPEC, write_sweep

pytest.importorskip("distributed")

VARYING = ["wall_s", "pid"]  # the only columns that may differ between two runs of the same cells


def _same(a, b):
    return a.drop(columns=VARYING).equals(b.drop(columns=VARYING))


def test_a_dask_local_cluster_of_two_worker_processes_gives_the_serial_table(tmp_path):
    spec = load_spec(write_sweep(tmp_path / "spec"))
    run_sweep(spec, tmp_path / "serial", serial=True)
    distributed = run_sweep(spec, tmp_path / "dask", workers=2)
    assert (distributed.total, distributed.ran, distributed.skipped, distributed.failed) == (4, 4, 0, [])
    serial, dask = read_table(tmp_path / "serial"), read_table(tmp_path / "dask")
    assert _same(serial, dask)
    assert os.getpid() not in set(dask["pid"])  # every cell ran in a worker process, not here
    assert list(dask["seed"]) == [1, 2, 1, 2] and list(dask["link#2.loss"]) == [0.0, 0.0, 0.03, 0.03]
    lossless, lossy = dask.iloc[0], dask.iloc[2]
    assert dask["error"].isna().all()
    assert lossless["drops"] == lossless["retransmissions"] == 0 and lossless["goodput_mbps"] > 0
    assert lossy["drops_link_loss"] == lossy["drops"] > 0 and lossy["retransmissions"] > 0
    assert (tmp_path / "dask" / CSV).read_text().count("\n") == 5  # a header and 4 rows


def test_an_interrupted_sweep_rerun_runs_only_the_missing_cells(tmp_path):
    spec = load_spec(write_sweep(tmp_path / "spec"))
    out = tmp_path / "out"
    first: list[tuple[str, int]] = []

    def stop_after_three(row):
        first.append((row["cell"], row["seed"]))
        if len(first) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, serial=True, on_row=stop_after_three)
    assert len(read_table(out)) == 3  # the table holds what was done before the stop
    with (out / JOURNAL).open("a") as journal:
        journal.write('{"cell": "a row cut short by the ki')  # killed while writing: ignored
    second: list[tuple[str, int]] = []
    again = run_sweep(spec, out, serial=True, on_row=lambda row: second.append((row["cell"], row["seed"])))
    everything = {(c.cell_id, c.seed) for c in spec.cells()}
    assert (again.ran, again.skipped) == (1, 3) and set(second) == everything - set(first)
    run_sweep(spec, tmp_path / "whole", serial=True)
    assert _same(read_table(out), read_table(tmp_path / "whole"))
    assert run_sweep(spec, out, serial=True).ran == 0  # nothing left


def test_a_failed_cell_is_a_row_with_its_error_and_is_tried_again(tmp_path):
    spec = load_spec(write_sweep(tmp_path / "spec", SPEC.replace('seeds = 2', 'seeds = 1\nuntil = "20ms"')))
    result = run_sweep(spec, tmp_path / "out", serial=True)
    assert result.ran == 2 and len(result.failed) == 2
    table = read_table(tmp_path / "out")
    assert all(error.startswith("blocked in ") for error in table["error"])  # still sending at 20 ms
    assert table["goodput_mbps"].isna().all() and (table["sim_s"] == 0.02).all()
    assert run_sweep(spec, tmp_path / "out", serial=True).ran == 2  # failures are not "done"
    rows = [json.loads(line) for line in (tmp_path / "out" / JOURNAL).read_text().splitlines()]
    assert len(rows) == 4


def test_a_topology_without_a_bulk_run_is_a_failed_row_not_a_crash(tmp_path):
    from tests.sweep.tiny import TOPOLOGY

    spec = load_spec(write_sweep(tmp_path / "spec", topology=TOPOLOGY.split("[[run]]")[0]))
    result = run_sweep(spec, tmp_path / "out", serial=True)
    assert len(result.failed) == 4
    assert 'no [[run]] of kind "bulk" to measure' in result.failed[0]["error"]


def test_the_same_cell_and_seed_measure_the_same_and_another_seed_differs(tmp_path):
    from layersim.sweep.cell import run_cell

    cells = load_spec(write_sweep(tmp_path)).cells()
    a, b, c = run_cell(cells[2]), run_cell(cells[2]), run_cell(cells[3])
    for row in (a, b, c):
        for key in VARYING:
            row.pop(key)
    assert a == b and a != c


def test_a_cell_leaves_no_network_alive_behind_it(tmp_path):
    """A worker runs hundreds of cells: the bulk sink parked in accept() must not keep each Network alive."""
    import gc

    from layersim.net.network import Network
    from layersim.sweep.cell import run_cell

    cells = load_spec(write_sweep(tmp_path)).cells()
    gc.collect()
    before = sum(isinstance(o, Network) for o in gc.get_objects())
    rows = [run_cell(cell) for cell in cells[:2]]
    gc.collect()
    assert all(row["error"] is None for row in rows)
    assert sum(isinstance(o, Network) for o in gc.get_objects()) == before


def test_scheduler_sends_the_cells_to_an_existing_cluster(tmp_path, capsys):
    """`--scheduler tcp://...`: the cells go to a cluster started elsewhere (here: a LocalCluster of its own)."""
    from dask.distributed import LocalCluster

    from layersim.cli import main

    spec_path = write_sweep(tmp_path / "spec")
    run_sweep(load_spec(spec_path), tmp_path / "serial", serial=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        assert main(["sweep", str(spec_path), "--out", str(tmp_path / "remote"), "--scheduler",
                     cluster.scheduler_address]) == 0
    assert "4 run, 0 already done, 0 failed" in capsys.readouterr().out
    remote = read_table(tmp_path / "remote")
    assert _same(read_table(tmp_path / "serial"), remote)
    assert os.getpid() not in set(remote["pid"]) and remote["pid"].nunique() == 1  # the cluster's one worker
