"""One run from config to record: seed, data, backbone, method, training, protocol evaluation.

`execute_run(config)` is what `comma-bench train` / `eval` and every sweep trial call. The order follows Dassl
(Dassl.pytorch): seed everything, build the dataset (including the few-shot sample), then build the model, train on
the training split with the last-epoch model, and evaluate once per protocol target.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from comma_bench.clip.backbone import load_backbone
from comma_bench.config.resolve import resolved_config
from comma_bench.config.schema import CONTEXT_FIELDS, RunConfig
from comma_bench.data import load_dataset
from comma_bench.data.transforms import ImageDataset, build_transform
from comma_bench.engine.evaluate import evaluate
from comma_bench.engine.loop import fit
from comma_bench.engine.seeding import set_seed
from comma_bench.errors import UserError
from comma_bench.methods import build, get_method_spec, setting_deviations
from comma_bench.protocols import get_protocol
from comma_bench.record_schema import RunRecord
from comma_bench.records import run_id, utc_now, versions


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {device!r} requested but CUDA is not available on this machine")
    return torch.device(device)


def _num_workers(device: torch.device, builtin: bool) -> int:
    env = os.environ.get("COMMA_BENCH_NUM_WORKERS")
    if env is not None:
        return int(env)
    if builtin or device.type == "cpu":
        return 0  # rendering/decoding in the main process: trials already run in parallel on small machines
    return min(8, os.cpu_count() or 1)


def data_source_id(split_data) -> str:
    """Where a split's pixels come from: the dataset folder, or the code that renders a built-in dataset."""
    if split_data.info.builtin:
        import comma_bench.world as world

        h = hashlib.sha256()
        for f in sorted(Path(world.__file__).parent.glob("*.py")):
            h.update(f.read_bytes())
        return f"{split_data.key}:builtin:{h.hexdigest()[:16]}"
    return f"{split_data.key}:{Path(split_data.dataset_dir).resolve()}"


def check_data_root(config: RunConfig) -> None:
    """A data root that no dataset of the run reads is an error, not a field recorded beside rendered images."""
    if config.data_root is None:
        return
    from comma_bench.data import get_dataset_info

    keys = (config.dataset, *config.targets)
    if all(get_dataset_info(k).builtin for k in keys):
        raise UserError(ignored_data_root(keys[0], config.data_root))


def ignored_data_root(key: str, data_root: str) -> str:
    files = "world-files/" + key.removeprefix("world/")
    return (
        f"--data-root {data_root}: dataset {key!r} is built in (its images are rendered, no file is read), so the "
        f"data root would be ignored; drop it, or read a `comma-bench world export` folder as files with "
        f"--dataset {files} --data-root DIR"
    )


def _peak_memory_mb(device: torch.device) -> dict[str, float]:
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if device.type == "cuda":
        out["peak_cuda_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def execute_run(
    config: RunConfig,
    *,
    checkpoint_dir: Path | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, dict], None] | None = None,
    use_cache: bool = True,
) -> RunRecord:
    """Train (if the method trains) and evaluate per the protocol; return the run record (not yet written)."""
    t_start = time.perf_counter()
    check_data_root(config)
    device = resolve_device(config.device)
    resolved = resolved_config(config, device.type)
    rid = run_id(resolved)
    optim = resolved["optim"]
    precision = resolved["precision"]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    set_seed(config.seed)
    protocol = get_protocol(config.protocol)
    shots = config.shots
    data = load_dataset(
        config.dataset, config.data_root, shots=shots, seed=config.seed, subsample=protocol.train_subsample
    )
    bb = load_backbone(
        config.backbone.model,
        config.backbone.pretrained,
        device=str(device),
        precision="fp16" if precision == "fp16" else "fp32",
        allow_torchscript=config.backbone.allow_torchscript,
    )
    method = build(
        config.method,
        bb,
        data.classnames,
        template=data.template,
        kd_template=data.kd_template,
        **resolved["method_config"],
    ).to(device)
    spec = get_method_spec(config.method)
    workers = _num_workers(device, data.info.builtin)

    history = None
    train_s = 0.0
    if spec.trains and optim["epochs"] > 0:
        train_set = ImageDataset(data.train, data.load_image, build_transform(True, bb.image_size, bb.mean, bb.std))
        if len(train_set) == 0:
            raise UserError(f"dataset {config.dataset!r}: the training split is empty")
        bs = int(optim["batch_size"])
        loader = torch.utils.data.DataLoader(
            train_set,
            batch_size=bs,
            sampler=torch.utils.data.RandomSampler(train_set),
            drop_last=len(train_set) >= bs,  # Dassl: drop_last only when the dataset holds a full batch
            num_workers=workers,
            pin_memory=device.type == "cuda",
        )
        history = fit(
            method,
            loader,
            epochs=int(optim["epochs"]),
            lr=float(optim["lr"]),
            momentum=float(optim["momentum"]),
            weight_decay=float(optim["weight_decay"]),
            warmup_epochs=int(optim["warmup_epochs"]),
            warmup_lr=float(optim["warmup_lr"]),
            device=device,
            precision=precision,
            checkpoint_dir=checkpoint_dir,
            checkpoint_meta={"run_id": rid, "config": resolved},
            on_epoch=on_epoch,
            progress=progress,
        )
        train_s = history.train_s

    t_eval = time.perf_counter()
    eval_kw = dict(
        image_size=bb.image_size,
        mean=bb.mean,
        std=bb.std,
        batch_size=int(optim["test_batch_size"]),
        num_workers=workers,
        device=device,
        precision=precision,
        progress=progress,
    )
    evals: list[dict[str, Any]] = []

    backbone_id = bb.cache_id() if use_cache else None

    def run_eval(split_data, subset: str) -> float:
        method.set_classes(split_data.classnames, split_data.template, kd_template=split_data.kd_template)
        source = data_source_id(split_data) if use_cache else None
        m = evaluate(
            method,
            split_data.test,
            load_image=split_data.load_image,
            source_id=source,
            backbone_id=backbone_id,
            **eval_kw,
        )
        evals.append(
            {
                "dataset": split_data.key,
                "subset": subset,
                "n_classes": split_data.num_classes,
                "n_images": m["n_images"],
                "accuracy": m["accuracy"],
                "macro_f1": m["macro_f1"],
            }
        )
        return m["accuracy"]

    def load(key: str, k: int, subsample: str) -> Any:  # the protocol's other splits / target datasets
        return load_dataset(key, config.data_root, shots=k, seed=config.seed, subsample=subsample)

    metrics = protocol.evaluate(
        data, run_eval=run_eval, load=load, dataset=config.dataset, shots=shots, targets=config.targets
    )
    eval_s = time.perf_counter() - t_eval

    return RunRecord(
        run_id=rid,
        status="finished",
        kind="train" if history is not None else "eval",
        config={k: v for k, v in resolved.items() if k not in CONTEXT_FIELDS},
        context=dataclasses.asdict(config.context),
        evals=evals,
        metrics=metrics,
        higher_is_better={k: True for k in metrics},
        train=history.to_dict() if history is not None else None,
        trainable_params=method.num_trainable(),
        method_deviations=setting_deviations(config.method, resolved["method_config"]),
        timings={"wall_s": time.perf_counter() - t_start, "train_s": train_s, "eval_s": eval_s},
        resources={
            "device": str(device),
            "precision": precision,
            "threads": torch.get_num_threads(),
            **_peak_memory_mb(device),
        },
        data={
            "fewshot_source": data.fewshot_source,
            "split_fingerprint": data.split_fingerprint,  # the images trained on; not in the config, not in the id
            "n_train": len(data.train),
            "n_classes": data.num_classes,
        },
        backbone=bb.describe(),
        versions=versions(),
        created=utc_now(),
    )
