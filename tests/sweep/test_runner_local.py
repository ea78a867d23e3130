"""The runner without Ray (`--local`): records, resume, failure isolation, retries and locks.

The Ray backend shares all of this code path (`trial.run_one`); test_ray.py checks the Ray-specific parts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comma_bench.cli import main
from comma_bench.records import read_record
from comma_bench.sweep.layout import SweepLayout
from comma_bench.sweep.locks import RunLocks
from comma_bench.sweep.plan import expand
from comma_bench.sweep.spec import load_sweep
from tests.sweep.conftest import SMALL, write_sweep

EXEC = "tests.sweep.executors"


def run(path: Path, out: Path, executor: str, *extra: str) -> int:
    return main(["run", str(path), "--local", "--no-report", "--output", str(out), "--executor", f"{EXEC}:{executor}",
                 *extra])  # fmt: skip


def records(out: Path, sweep: str = "small") -> dict[str, dict]:
    return {p.stem: read_record(p).to_json() for p in sorted((out / sweep / "runs").glob("*.json"))}


def mtimes(out: Path, sweep: str = "small") -> dict[str, int]:
    return {p.stem: p.stat().st_mtime_ns for p in (out / sweep / "runs").glob("*.json")}


def test_local_run_writes_one_record_per_run_and_resumes(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "out"
    assert run(path, out, "instant") == 0
    recs = records(out)
    planned = {r.run_id: r for r in expand(load_sweep(path))}
    assert set(recs) == set(planned)
    for rid, rec in recs.items():
        assert rec["run_id"] == rid and rec["status"] == "finished"
        assert rec["context"]["sweep"] == "small" and rec["config"]["method"] == planned[rid].config.method
        assert rec["metrics"]["base"] == 50.0 + rec["config"]["seed"]
    plan = json.loads((out / "small/sweep.json").read_text())
    assert [r["run_id"] for r in plan["runs"]] == list(planned)
    text = capsys.readouterr().out
    assert "4 to run now" in text and "4/4 done (0 failed)" in text and "summary: 4 runs: 4 finished" in text

    before = mtimes(out)
    assert run(path, out, "instant") == 0
    assert mtimes(out) == before  # finished records are never rewritten
    assert "4 finished, 0 failed earlier, 0 without a record; 0 to run now" in capsys.readouterr().out


def test_failures_are_isolated_recorded_and_retried(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL.replace("seeds: [1, 2]", "seeds: [1, 2, 3]"))
    out = tmp_path / "out"
    assert run(path, out, "failing") == 1
    recs = records(out)
    by_seed = {(r["config"]["method"], r["config"]["seed"]): r for r in recs.values()}
    assert len(by_seed) == 6
    for method in ("coop", "maple"):
        assert by_seed[method, 1]["status"] == "finished"
        for seed, reason in ((2, "RuntimeError: made to fail"), (3, "NonFiniteLossError: training loss is nan")):
            rec = by_seed[method, seed]
            assert rec["status"] == "failed" and rec["failure"]["reason"].startswith(reason)
            assert rec["evals"] == [] and rec["metrics"] == {} and rec["kind"] == "train"
            tb = out / "small/runs" / rec["failure"]["traceback_file"]
            assert tb.parent.name == "failed" and reason.split(": ")[1] in tb.read_text()
            assert "Traceback (most recent call last)" in tb.read_text()
    err_text = capsys.readouterr().out
    assert err_text.count("  FAILED ") == 4 and "summary: 6 runs: 2 finished, 4 failed" in err_text

    # --no-retry-failed leaves them alone; the exit code still says that runs failed.
    before = mtimes(out)
    assert run(path, out, "instant", "--no-retry-failed") == 1
    assert mtimes(out) == before
    # A plain rerun retries the failed runs only; their earlier tracebacks are kept.
    tracebacks = set((out / "small/runs/failed").iterdir())
    finished_before = {k: v for k, v in before.items() if recs[k]["status"] == "finished"}
    assert run(path, out, "instant") == 0
    after = mtimes(out)
    assert {k: after[k] for k in finished_before} == finished_before
    assert all(r["status"] == "finished" for r in records(out).values())
    assert set((out / "small/runs/failed").iterdir()) == tracebacks


def test_a_run_locked_by_another_driver_is_skipped(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "out"
    planned = expand(load_sweep(path))
    layout = SweepLayout.create(out, "small")
    other = RunLocks(layout)  # stands for a second driver working on the same output folder
    assert other.try_acquire(planned[1].run_id)
    try:
        assert run(path, out, "instant") == 3  # incomplete: one run is running elsewhere
    finally:
        other.release_all()
    assert set(records(out)) == {r.run_id for r in planned} - {planned[1].run_id}
    assert f"running elsewhere: {planned[1].run_id}" in capsys.readouterr().out
    assert run(path, out, "instant") == 0
    assert set(records(out)) == {r.run_id for r in planned}


def test_a_finished_record_is_never_replaced(tmp_path):
    from comma_bench.sweep.trial import run_one

    path = write_sweep(tmp_path, SMALL)
    run0 = expand(load_sweep(path))[0]
    layout = SweepLayout.create(tmp_path / "out", "small")
    assert run_one(run0.run_id, run0.config, layout, f"{EXEC}:instant").status == "finished"
    first = layout.record(run0.run_id).read_bytes()
    outcome = run_one(run0.run_id, run0.config, layout, f"{EXEC}:failing")  # seed 1 finishes: metrics equal
    assert outcome.status == "finished" and layout.record(run0.run_id).read_bytes() == first


def test_real_datasets_need_a_data_root_and_a_bad_executor_is_one_error(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL.replace("[world/shapes]", "[dtd]"))
    assert run(path, tmp_path / "out", "instant") == 2
    assert "datasets dtd need a data root: pass --data-root DIR" in capsys.readouterr().err
    assert run(path, tmp_path / "out", "instant", "--data-root", str(tmp_path / "missing")) == 2
    assert "does not exist" in capsys.readouterr().err
    path = write_sweep(tmp_path, SMALL)
    assert run(path, tmp_path / "out", "no_such_function") == 2
    assert "has no function 'no_such_function'" in capsys.readouterr().err


def test_dry_run_lists_every_run_and_writes_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "out"
    assert main(["run", str(path), "--dry-run", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    for r in expand(load_sweep(path)):
        assert r.run_id in text
    assert "4 to run now" in text and not out.exists()


@pytest.mark.parametrize("flag", [["--max-concurrent", "0"]])
def test_bad_flags(tmp_path, capsys, flag):
    path = write_sweep(tmp_path, SMALL)
    assert main(["run", str(path), "--dry-run", "--output", str(tmp_path), *flag]) == 2
    assert "--max-concurrent: expected an integer >= 1" in capsys.readouterr().err


def test_a_data_root_no_dataset_reads_is_refused(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL)  # world/shapes only: rendered, reads no file
    data = tmp_path / "data"
    data.mkdir()
    assert run(path, tmp_path / "out", "instant", "--data-root", str(data)) == 2
    assert "would be ignored" in capsys.readouterr().err
    # Beside a real dataset the root is used, and the built-in runs do not record it.
    mixed = expand(load_sweep(write_sweep(tmp_path, SMALL.replace("[world/shapes]", "[world/shapes, dtd]"))),
                   data_root=str(data))  # fmt: skip
    assert {(r.config.dataset, r.config.data_root) for r in mixed} == {("world/shapes", None), ("dtd", str(data))}
