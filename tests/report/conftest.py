"""Run-record fixtures for the report tests, written without the engine.

`make_record` builds a schema-valid record (config from `RunConfig.hashed_dict()`, id from `records.run_id`) with the
evaluations of its protocol; the scenario fixtures write small sweeps whose table cells are computed by hand in the
tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from comma_bench.config import BackboneConfig, RunConfig
from comma_bench.protocols.base2novel import harmonic_mean
from comma_bench.records import SCHEMA, run_id, write_json_atomic

FIXED_TIME = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def make_record(
    method: str,
    dataset: str,
    *,
    protocol: str = "base2novel",
    seed: int = 1,
    shots: int = 16,
    model: str = "world-tiny",
    pretrained: str = "builtin",
    base: float | None = None,
    novel: float | None = None,
    accuracy: float | None = None,
    source: float | None = None,
    targets: dict[str, float] | None = None,
    failed: str | None = None,
    axes: dict[str, Any] | None = None,
    method_config: dict[str, Any] | None = None,
    method_deviations: dict[str, Any] | None = None,
    sweep: str | None = "unit",
    created: str = "2026-01-01T00:00:00Z",
) -> dict[str, Any]:
    """A finished (or, with `failed=reason`, failed) run record of one protocol.

    `method_deviations` (the engine derives it from the method's defaults) is left out unless given, as in the
    records written before the field existed.
    """
    config = RunConfig(
        method=method,
        dataset=dataset,
        protocol=protocol,
        targets=tuple(targets or ()),
        shots=shots,
        seed=seed,
        backbone=BackboneConfig(model=model, pretrained=pretrained),
        method_config=dict(method_config or {}),
        sweep=sweep,
        axes=dict(axes or {}),
    )
    cfg = config.hashed_dict()
    evals: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}

    def ev(ds: str, subset: str, acc: float) -> dict[str, Any]:
        return {"dataset": ds, "subset": subset, "n_classes": 5, "n_images": 50, "accuracy": acc, "macro_f1": acc}

    if failed is None:
        if protocol == "base2novel":
            evals = [ev(dataset, "base", base), ev(dataset, "new", novel)]
            metrics = {"base": base, "novel": novel, "hm": harmonic_mean(base, novel)}
        elif protocol == "few_shot":
            evals = [ev(dataset, "all", accuracy)]
            metrics = {"accuracy": accuracy}
        else:
            evals = [ev(dataset, "all", source)] + [ev(t, "all", a) for t, a in (targets or {}).items()]
            metrics = {"source": source, **(targets or {})}
            metrics["target_mean"] = sum(targets.values()) / len(targets)
    extra = {} if method_deviations is None else {"method_deviations": method_deviations}
    return {
        "schema": SCHEMA,
        "run_id": run_id(cfg),
        "status": "failed" if failed else "finished",
        "kind": "eval" if method == "zeroshot" else "train",
        "config": cfg,
        "context": dataclasses.asdict(config.context),
        "evals": evals,
        "metrics": metrics,
        "higher_is_better": {k: True for k in metrics},
        "train": None if method == "zeroshot" else {"loss_per_epoch": [1.0], "steps": 4, "images_per_s": 10.0},
        "trainable_params": 0 if method == "zeroshot" else 2048,
        **extra,
        "timings": {"wall_s": 1.5, "train_s": 1.0, "eval_s": 0.5},
        "resources": {"device": "cpu", "peak_mem_mb": 10.0},
        "versions": {
            "comma_bench": "0.1.0",
            "torch": "2.14.1",
            "open_clip": "3.0.0",
            "python": "3.11.9",
            "git_commit": "abc123",
        },
        "created": created,
        "failure": {"reason": failed, "traceback_file": "failed/x.traceback.txt"} if failed else None,
    }


def write_records(folder: Path, records: list[dict[str, Any]]) -> Path:
    for rec in records:
        write_json_atomic(folder / f"{rec['run_id']}.json", rec)
    return folder


def b2n_records() -> list[dict[str, Any]]:
    """World-tiny base-to-novel: coop complete; maple with one failed and one missing seed; zero-shot once.

    coop   world/shapes  base 80 82 84  novel 60 60 60
    coop   world/scenes  base 90 90 90  novel 40 50 60
    maple  world/shapes  base 88 90 (seed 3 failed)  novel 70 72
    maple  world/scenes  base 92 94 (seed 3 missing) novel 64 66
    zeroshot (eval only, seed 1)  world/shapes 70/75, world/scenes 60/65
    """
    recs = []
    for seed, b in zip((1, 2, 3), (80, 82, 84)):
        recs.append(make_record("coop", "world/shapes", seed=seed, base=b, novel=60))
    for seed, n in zip((1, 2, 3), (40, 50, 60)):
        recs.append(make_record("coop", "world/scenes", seed=seed, base=90, novel=n))
    recs.append(make_record("maple", "world/shapes", seed=1, base=88, novel=70))
    recs.append(make_record("maple", "world/shapes", seed=2, base=90, novel=72))
    recs.append(make_record("maple", "world/shapes", seed=3, failed="loss is NaN at epoch 2 step 3"))
    recs.append(make_record("maple", "world/scenes", seed=1, base=92, novel=64))
    recs.append(make_record("maple", "world/scenes", seed=2, base=94, novel=66))
    recs.append(make_record("zeroshot", "world/shapes", seed=1, base=70, novel=75))
    recs.append(make_record("zeroshot", "world/scenes", seed=1, base=60, novel=65))
    return recs


def vit_records() -> list[dict[str, Any]]:
    """ViT-B/16 (openai) runs: 16-shot base-to-novel maple on oxford_pets (matches the published setting), the same
    with 8 shots (does not), and a 16-shot cross-dataset coop run from ImageNet to two targets."""
    recs = [
        make_record("maple", "oxford_pets", seed=s, model="ViT-B-16", pretrained="openai", base=b, novel=n, sweep="vit")
        for s, b, n in ((1, 95.0, 97.0), (2, 96.0, 98.0))
    ]
    recs += [
        make_record(
            "maple",
            "oxford_pets",
            seed=1,
            shots=8,
            model="ViT-B-16",
            pretrained="openai",
            base=90.0,
            novel=91.0,
            sweep="vit",
        )
    ]
    recs += [
        make_record(
            "coop",
            "imagenet",
            protocol="cross_dataset",
            seed=s,
            model="ViT-B-16",
            pretrained="openai",
            source=src,
            targets={"caltech101": c, "oxford_pets": p},
            sweep="vit",
        )
        for s, src, c, p in ((1, 71.0, 93.0, 89.0), (2, 72.0, 94.0, 90.0))
    ]
    return recs


def other_records() -> list[dict[str, Any]]:
    """World-tiny few-shot (coop, 1/2/4 shots, seeds 1-2), domain generalisation, and a prompt-depth ablation."""
    recs = []
    for shots, accs in ((1, (50.0, 54.0)), (2, (60.0, 62.0)), (4, (70.0, 70.0))):
        for seed, acc in zip((1, 2), accs):
            recs.append(
                make_record(
                    "coop", "world/shapes", protocol="few_shot", seed=seed, shots=shots, accuracy=acc, sweep="fewshot"
                )
            )
    for seed, src, a, b in ((1, 80.0, 60.0, 40.0), (2, 82.0, 62.0, 44.0)):
        recs.append(
            make_record(
                "maple",
                "world/shapes",
                protocol="domain_generalization",
                seed=seed,
                source=src,
                targets={"world/shapes_sketch": a, "world/shapes_noisy": b},
                sweep="dg",
            )
        )
    for depth, vals in ((1, ((70.0, 60.0), (72.0, 62.0))), (3, ((80.0, 70.0), (84.0, 70.0)))):
        for seed, (b, n) in zip((1, 2), vals):
            recs.append(
                make_record(
                    "comma",
                    "world/colors",
                    seed=seed,
                    base=b,
                    novel=n,
                    sweep="ablation",
                    method_config={"prompt_depth": depth},
                    axes={"method_config.prompt_depth": depth},
                )
            )
    return recs


@pytest.fixture
def b2n_dir(tmp_path: Path) -> Path:
    return write_records(tmp_path / "b2n", b2n_records())


@pytest.fixture
def all_dir(tmp_path: Path) -> Path:
    root = tmp_path / "all"
    write_records(root / "b2n" / "records", b2n_records())
    write_records(root / "vit", vit_records())
    write_records(root / "other", other_records())
    return root
