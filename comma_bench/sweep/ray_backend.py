"""The Ray Tune backend: each planned run is one trial of a function trainable.

Scheduling, packing several trials per GPU (fractional `gpu` resources) and joining an existing cluster are Ray's
job; this module only maps runs to trials. Notes that shaped it (backbone-and-sweeps.md §3):

- Only `ray.tune.*` is used inside the trainable (`tune.report`, `tune.get_checkpoint`, `tune.Checkpoint`);
  `ray.train.report` raises inside Tune functions in Ray 2.60.
- Resume does not rely on `Tuner.restore`: a rerun plans the sweep again, skips runs whose record is finished, and
  the engine resumes unfinished ones from `checkpoints/<run_id>/`. Tune's own checkpoint (handed over at every
  epoch) serves Tune-level retries (`ray.max_failures`) on a node that lost the checkpoint folder.
- The record is written by the trial itself; a trial whose process died before writing one (OOM kill, segfault)
  gets a failed record from the driver.
- On more than one node, OUTPUT must be shared storage: trials write records and checkpoints there, and Tune's
  `storage_path` must be shared since Ray 2.7.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

from comma_bench.errors import UserError
from comma_bench.sweep.layout import SweepLayout
from comma_bench.sweep.locks import RunLocks
from comma_bench.sweep.plan import PlannedRun
from comma_bench.sweep.progress import Progress
from comma_bench.sweep.spec import Resources
from comma_bench.sweep.trial import Outcome, failed_record, run_one, write_record

# Set before Ray is imported: no boxed banner with verbose=0, no Train V2 migration warnings, no usage stats.
QUIET_ENV = {
    "RAY_AIR_NEW_OUTPUT": "0",
    "RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}


class TrialDiedError(RuntimeError):
    """A trial's worker process died (killed for memory, segfault) before the trial could record anything."""


def resolve_gpus(requested: float | None, cluster_gpus: float) -> float:
    """GPUs per trial: `auto` (None) is one whole GPU where the cluster has any, else CPU-only."""
    if requested is None:
        return 1.0 if cluster_gpus >= 1 else 0.0
    return float(requested)


def check_fits(cpus: float, gpus: float, cluster: dict[str, float], joined: bool) -> str | None:
    """A message when one trial cannot fit on the cluster (Tune would otherwise wait for it forever)."""
    have_cpu, have_gpu = cluster.get("CPU", 0.0), cluster.get("GPU", 0.0)
    problems = []
    if cpus > have_cpu:
        hint = "" if joined else f" (set resources.cpus, e.g. --set resources.cpus={max(1.0, have_cpu):g})"
        problems.append(f"resources.cpus={cpus:g} per trial but the Ray cluster has {have_cpu:g} CPUs{hint}")
    if gpus > have_gpu:
        hint = "" if joined else " (set resources.gpus, e.g. --set resources.gpus=0)"
        problems.append(f"resources.gpus={gpus:g} per trial but the Ray cluster has {have_gpu:g} GPUs{hint}")
    return "; ".join(problems) if problems else None


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def trainable(config: dict[str, Any], plan: dict[str, dict[str, Any]], root: str, executor: str) -> None:
    """The Tune function trainable: one trial = one planned run (runs in a Ray worker process)."""
    from ray import tune

    run_id = config["run_id"]
    layout = SweepLayout(Path(root))
    checkpoint_dir = layout.checkpoint(run_id)
    restored = tune.get_checkpoint()
    if restored is not None and not (checkpoint_dir.is_dir() and any(checkpoint_dir.iterdir())):
        restored.to_directory(str(checkpoint_dir))  # a Tune retry on a node without our checkpoint folder

    def on_epoch(epoch: int, metrics: dict[str, Any]) -> None:
        tune.report({"epoch": epoch, **_numeric(metrics)}, checkpoint=tune.Checkpoint.from_directory(checkpoint_dir))

    outcome = run_one(run_id, plan[run_id], layout, executor, on_epoch=on_epoch)
    tune.report({"done": 1, "failed": int(outcome.status == "failed"), **_numeric(outcome.metrics)})


def _init_ray(address: str | None) -> bool:
    """Connect to (or start) Ray unless the caller already did; True if this call started the connection."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")  # ray.init would read it too, but reject our local options
    common = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address:
        ray.init(address=address, **common)
    else:
        try:
            # A small object store: trials exchange only metrics, and Docker's 64 MB /dev/shm is then enough.
            ray.init(include_dashboard=False, object_store_memory=256 * 2**20, **common)
        except ValueError as exc:  # ray.init found a cluster started with `ray start` on this node: use it
            if "existing cluster" not in str(exc):
                raise
            ray.init(address="auto", **common)
    return True


def _progress_callback(progress: Progress, labels: dict[str, str], layout: SweepLayout) -> Any:
    """A Tune callback (defined here so that Ray is imported only when a sweep runs on it)."""
    from ray import tune

    class ProgressCallback(tune.Callback):
        """Feeds Tune's trial events (in the driver) to the sweep's progress lines."""

        def __init__(self, progress: Progress, labels: dict[str, str], layout: SweepLayout) -> None:
            self.progress = progress
            self.labels = labels
            self.layout = layout

        def __getstate__(self) -> dict[str, Any]:
            return {}  # Tune pickles its callbacks with the experiment state; the progress stream stays behind

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            run_id = trial.config["run_id"]
            self.progress.start(run_id, self.labels.get(run_id, run_id))

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            run_id = trial.config["run_id"]
            rec = self.layout.read(run_id) or {}
            status = "finished" if rec.get("status") == "finished" else "failed"
            reason = (rec.get("failure") or {}).get("reason") or (None if rec else "no record was written")
            wall = float((rec.get("timings") or {}).get("wall_s") or 0.0)
            self.progress.end(Outcome(run_id, status, reason, wall, dict(rec.get("metrics") or {})))

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            run_id = trial.config["run_id"]
            self.progress.end(Outcome(run_id, "failed", "the trial's process died (see the failed record)", 0.0))

    return ProgressCallback(progress, labels, layout)


def run_ray(
    runs: list[PlannedRun],
    layout: SweepLayout,
    executor: str,
    progress: Progress,
    *,
    resources: Resources,
    address: str | None = None,
    max_concurrent: int | None = None,
    max_failures: int = 0,
) -> list[str]:
    """Execute `runs` as Ray Tune trials; returns the ids found running in another driver."""
    owns = _init_ray(address)
    address = address or os.environ.get("RAY_ADDRESS")
    import ray
    from ray import tune

    # Tune logs every trial error with Ray's internal traceback; the failed record and its traceback file say it.
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    locks = RunLocks(layout)
    RunLocks.raise_fd_limit(len(runs))
    elsewhere: list[str] = []
    try:
        todo = []
        for run in runs:
            if not locks.try_acquire(run.run_id):
                elsewhere.append(run.run_id)
            elif layout.status(run.run_id) == "finished":  # finished by another driver since planning
                locks.release(run.run_id)
            else:
                todo.append(run)
        progress.total = len(todo)
        if not todo:
            return elsewhere

        cluster = ray.cluster_resources()
        gpus = resolve_gpus(resources.gpus, cluster.get("GPU", 0.0))
        problem = check_fits(resources.cpus, gpus, cluster, joined=bool(address))
        if problem and not address:
            raise UserError(problem)
        if problem:
            print(f"warning: {problem}; trials wait until the cluster provides it", flush=True)
        plan = {run.run_id: run.config.to_dict() for run in todo}
        labels = {run.run_id: run.label for run in todo}
        fn = tune.with_parameters(trainable, plan=plan, root=str(layout.root), executor=executor)
        fn = tune.with_resources(fn, {"cpu": resources.cpus, "gpu": gpus})
        t0 = time.time()
        tuner = tune.Tuner(
            fn,
            param_space={"run_id": tune.grid_search([run.run_id for run in todo])},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=max_concurrent,
                # One worker process runs trial after trial: torch, open_clip and the backbone's caches are loaded
                # once per worker instead of once per run (seconds each, as long as a small world run).
                reuse_actors=True,
                trial_name_creator=lambda t: t.config["run_id"],
                trial_dirname_creator=lambda t: t.config["run_id"],
            ),
            run_config=tune.RunConfig(
                name=f"{layout.root.name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}",
                storage_path=str(layout.ray),
                verbose=0,
                callbacks=[_progress_callback(progress, labels, layout)],
                failure_config=tune.FailureConfig(max_failures=max_failures),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            ),
        )
        results = tuner.fit()
        errors = {(r.config or {}).get("run_id"): r.error for r in results if r.error is not None}
        # Every planned run must end with a record of its own. One without is a trial whose process died (an OOM
        # kill, a segfault): it is recorded as failed from its absence, not only when Tune's result names it, since
        # Tune may report a dead actor's trial without its config.
        for run in todo:
            rec_path = layout.record(run.run_id)
            if rec_path.exists() and rec_path.stat().st_mtime >= t0:
                continue  # the trial wrote its own record (finished, or failed with its own traceback)
            error = errors.get(run.run_id)
            detail = (str(error).strip().splitlines() or [""])[0] if error is not None else "Tune reported no error"
            exc = TrialDiedError(f"the trial's process died before writing a record ({detail})")
            record = failed_record(run.config, run.run_id, exc, str(error or detail), 0.0, layout)
            write_record(layout, run.run_id, record)
    finally:
        locks.release_all()
        if owns:
            ray.shutdown()
    return elsewhere


def packing(gpus: float) -> int:
    """How many trials share one GPU at a fractional setting (for the plan printout)."""
    return max(1, math.floor(1 / gpus)) if 0 < gpus < 1 else 1
