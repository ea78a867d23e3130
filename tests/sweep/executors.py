"""Executors injected into the sweep runner by the tests, with the engine's signature (`execute_run`).

They let the runner's machinery (records, failure isolation, resume, locks, Ray placement) be tested without
training speed in the way: `instant` finishes at once, `sleepy` takes a fixed time per epoch and checkpoints like the
engine, `failing` raises for chosen seeds, `gpu_probe` reports what Ray gave the trial. `real_or_fail` runs the real
engine except for seed 2, which raises, and seed 3, whose process dies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from comma_bench.protocols.base2novel import harmonic_mean
from comma_bench.record_schema import EvalResult, RunRecord
from comma_bench.records import utc_now

EPOCH_S = 0.4  # sleepy: seconds per epoch


def record(config: Any, metrics: dict[str, float], **extra: Any) -> RunRecord:
    """A finished record with the evaluations its base-to-novel metrics summarise (a report can read it)."""
    evals = [
        EvalResult(dataset=config.dataset, subset="base", accuracy=metrics["base"]),
        EvalResult(dataset=config.dataset, subset="new", accuracy=metrics["novel"]),
    ]
    return RunRecord(
        run_id="set-by-the-runner",
        status="finished",
        kind="train",
        config=config.hashed_dict(),
        context=dataclasses.asdict(config.context),
        evals=evals,
        metrics=metrics,
        higher_is_better={k: True for k in metrics},
        trainable_params=0,
        timings={"wall_s": 0.0},
        created=utc_now(),
        **extra,
    )


def _metrics(config: Any) -> dict[str, float]:
    base, novel = 50.0 + config.seed, 40.0 + config.shots
    return {"base": base, "novel": novel, "hm": harmonic_mean(base, novel)}


def instant(config: Any, *, checkpoint_dir: Path, progress: bool, on_epoch: Any) -> RunRecord:
    epochs = config.optim.epochs or 1
    for epoch in range(1, epochs + 1):
        (Path(checkpoint_dir) / "epoch.json").write_text(json.dumps({"epoch": epoch}))
        if on_epoch is not None:
            on_epoch(epoch, {"loss": 1.0 / epoch, "lr": 0.1})
    return record(config, _metrics(config))


def sleepy(config: Any, *, checkpoint_dir: Path, progress: bool, on_epoch: Any) -> RunRecord:
    """EPOCH_S per epoch; resumes from `epoch.json` in the checkpoint folder as the engine resumes from its own."""
    ckpt = Path(checkpoint_dir) / "epoch.json"
    start = json.loads(ckpt.read_text())["epoch"] if ckpt.exists() else 0
    epochs = config.optim.epochs or 1
    ran = []
    for epoch in range(start + 1, epochs + 1):
        time.sleep(EPOCH_S)
        tmp = ckpt.with_name(f".epoch.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"epoch": epoch}))
        os.replace(tmp, ckpt)
        ran.append(epoch)
        if on_epoch is not None:
            on_epoch(epoch, {"loss": 1.0 / epoch, "lr": 0.1})
    return record(config, _metrics(config), train={"resumed_from": start, "epochs_run": ran})


def failing(config: Any, *, checkpoint_dir: Path, progress: bool, on_epoch: Any) -> RunRecord:
    """Seed 2 raises an ordinary error, seed 3 the engine's NaN-loss error; other seeds finish."""
    from comma_bench.engine.errors import NonFiniteLossError

    if config.seed == 2:
        raise RuntimeError("made to fail")
    if config.seed == 3:
        raise NonFiniteLossError("training loss is nan in epoch 1 (made to diverge)")
    return instant(config, checkpoint_dir=checkpoint_dir, progress=progress, on_epoch=on_epoch)


def real_or_fail(config: Any, *, checkpoint_dir: Path, progress: bool, on_epoch: Any) -> RunRecord:
    """The real engine, except that seed 2 raises before training and seed 3 kills its own process (an OOM kill)."""
    if config.seed == 2:
        raise RuntimeError("made to fail")
    if config.seed == 3:
        os._exit(17)
    from comma_bench.engine.run import execute_run

    return execute_run(config, checkpoint_dir=checkpoint_dir, progress=progress, on_epoch=on_epoch)


def gpu_probe(config: Any, *, checkpoint_dir: Path, progress: bool, on_epoch: Any) -> RunRecord:
    """Holds its resources for a while and records the GPU ids Ray assigned and when it ran."""
    import ray

    start = time.time()
    time.sleep(2.5)
    resources = {
        "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "start": start,
        "end": time.time(),
    }
    return record(config, _metrics(config), resources=resources)
