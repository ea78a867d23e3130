"""The Ray Tune backend, on the session's shared Ray instance (2 CPUs, 1 logical GPU).

Kept to a few tests because each Tune `fit()` costs seconds on 2 cores: the reduced quickstart through the real
engine (with one run made to fail and one made to diverge to NaN), fractional GPU packing, and kill -9 + resume of a
driver that joined the cluster with --address.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from comma_bench.cli import main
from comma_bench.records import read_record
from tests.sweep.conftest import REPO, SMALL, subprocess_env, write_sweep

pytestmark = pytest.mark.ray


def records(root: Path) -> dict[str, dict]:
    return {p.stem: read_record(p).to_json() for p in sorted((root / "runs").glob("*.json"))}


def test_quickstart_through_ray_with_failing_diverging_and_dying_runs(ray_address, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        "run", str(REPO / "sweeps/quickstart.yaml"), "--output", str(out),
        "--executor", "tests.sweep.executors:real_or_fail",  # the real engine; seed 2 raises, seed 3 dies
        "--set", "datasets=[world/shapes]",
        "--set", "seeds=[1, 2, 3]",
        "--set", "methods.comma.optim.epochs=1",
        "--set", "exclude=[{method: [cocoop, maple]}, {seed: [2, 3], method: [coop, comma]}]",
        # CoOp diverges: a huge LR blows the context up to inf after the first step, so the loss becomes NaN.
        "--set", "rules=[{when: {method: coop}, set: {optim.warmup_lr: 1.0e+38, optim.batch_size: 4}}]",
    ]  # fmt: skip
    assert main(argv) == 1  # some runs failed
    text = capsys.readouterr().out
    root = out / "quickstart"
    recs = records(root)
    by = {(r["config"]["method"], r["config"]["seed"]): r for r in recs.values()}
    assert set(by) == {("coop", 1), ("comma", 1), ("zeroshot", 1), ("zeroshot", 2), ("zeroshot", 3)}
    for key in (("zeroshot", 1), ("comma", 1)):
        rec = by[key]
        assert rec["status"] == "finished" and rec["context"]["sweep"] == "quickstart"
        assert [e["subset"] for e in rec["evals"]] == ["base", "new"]
        assert all(0.0 <= rec["metrics"][k] <= 100.0 for k in ("base", "novel", "hm"))
    assert by["comma", 1]["kind"] == "train" and len(by["comma", 1]["train"]["loss_per_epoch"]) == 1
    assert by["coop", 1]["status"] == "failed"
    assert by["coop", 1]["failure"]["reason"].startswith("NonFiniteLossError: training loss is nan")
    assert by["zeroshot", 2]["failure"]["reason"] == "RuntimeError: made to fail"
    # A trial whose process died (no record of its own) gets a failed record from the driver.
    assert by["zeroshot", 3]["status"] == "failed"
    assert by["zeroshot", 3]["failure"]["reason"].startswith("TrialDiedError: the trial's process died")
    for key in (("coop", 1), ("zeroshot", 2), ("zeroshot", 3)):
        assert (root / "runs" / by[key]["failure"]["traceback_file"]).is_file()
    # Each epoch's checkpoint was handed to Tune as well as kept beside the records.
    comma_id = by["comma", 1]["run_id"]
    assert (root / "checkpoints" / comma_id / "meta.json").is_file()
    assert list((root / "ray").glob(f"*/{comma_id}/checkpoint_*/meta.json"))
    assert "5/5 done (3 failed)" in text and "summary: 5 runs: 2 finished, 3 failed" in text
    assert (root / "report" / "report.md").is_file()


def test_fractional_gpus_pack_two_trials_per_gpu(ray_address, tmp_path):
    text = SMALL.replace("seeds: [1, 2]", "seeds: [1, 2, 3]").replace("gpus: 0", "gpus: 0.5")
    text = text.replace("cpus: 1", "cpus: 0.5")  # CPUs would allow 3 at once; the one (logical) GPU allows 2
    path = write_sweep(tmp_path, text)
    argv = ["run", str(path), "--no-report", "--output", str(tmp_path / "out"), "--set", "methods=[coop]",
            "--executor", "tests.sweep.executors:gpu_probe"]  # fmt: skip
    assert main(argv) == 0
    recs = list(records(tmp_path / "out" / "small").values())
    assert len(recs) == 3
    for rec in recs:
        assert rec["resources"]["gpu_ids"] == ["0"] and rec["resources"]["cuda_visible_devices"] == "0"
    events = sorted([(r["resources"]["start"], 1) for r in recs] + [(r["resources"]["end"], -1) for r in recs])
    running, peak = 0, 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 2


def test_kill_9_then_rerun_resumes_without_recomputing(ray_address, tmp_path):
    text = SMALL.replace("seeds: [1, 2]", "seeds: [1, 2, 3]").replace("epochs: 2", "epochs: 12")
    text += "rules: [{when: {seed: 1}, set: {optim.epochs: 1}}]\n"  # seed 1 finishes first; the others take ~5 s
    path = write_sweep(tmp_path, text)
    out = tmp_path / "out"
    root = out / "small"
    cmd = [sys.executable, "-m", "comma_bench", "run", str(path), "--address", ray_address, "--no-report",
           "--output", str(out), "--set", "methods=[coop]", "--executor", "tests.sweep.executors:sleepy"]  # fmt: skip
    log = (tmp_path / "first.log").open("w")
    driver = subprocess.Popen(cmd, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO)

    def mid_run() -> bool:
        done = {p.stem for p in (root / "runs").glob("*.json")}
        started = [p for p in (root / "checkpoints").glob("*/epoch.json") if p.parent.name not in done]
        return bool(done) and any(json.loads(p.read_text())["epoch"] >= 1 for p in started)

    deadline = time.time() + 90
    while not (root / "runs").is_dir() or not mid_run():
        assert driver.poll() is None, (tmp_path / "first.log").read_text()
        assert time.time() < deadline, "no record and no mid-run checkpoint within 90 s"
        time.sleep(0.1)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    before = {p.stem: (p.stat().st_mtime_ns, p.read_bytes()) for p in (root / "runs").glob("*.json")}
    interrupted = {p.parent.name for p in (root / "checkpoints").glob("*/epoch.json")} - set(before)
    assert 1 <= len(before) < 3 and interrupted

    rerun = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=180, cwd=REPO)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    recs = records(root)
    assert len(recs) == 3 and all(r["status"] == "finished" for r in recs.values())
    for run_id, (mtime, content) in before.items():  # no finished run was recomputed or rewritten
        assert (root / "runs" / f"{run_id}.json").stat().st_mtime_ns == mtime
        assert (root / "runs" / f"{run_id}.json").read_bytes() == content
    for run_id in interrupted:  # resumed from its last checkpoint, not restarted
        assert recs[run_id]["train"]["resumed_from"] >= 1, recs[run_id]["train"]


def test_a_trial_larger_than_the_local_cluster_is_one_error(ray_address, tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL.replace("cpus: 1", "cpus: 4"))
    assert main(["run", str(path), "--no-report", "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "resources.cpus=4 per trial but the Ray cluster has 2 CPUs" in err[0]
    assert not list((tmp_path / "out" / "small" / "runs").glob("*.json"))
