"""The training loop, written once for every method (Dassl's `TrainerX`, COMMA's `forward_backward`).

Per step: `out = method(images)`, loss = CE(out.logits, y) + sum(out.losses), zero_grad, backward, SGD step. The LR
is stepped after the last batch of each epoch. Methods contribute only their module and extra loss terms.

Only the method's parameters that require grad are given to SGD (momentum 0.9, weight decay 5e-4, no nesterov):
the frozen CLIP is outside the method, and parameters whose `.grad` stays None (COMMA's faithful generator) are
skipped by SGD entirely, exactly as in the official code.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from comma_bench.engine.checkpoint import load_checkpoint, load_prompt_weights, restore_optimizer, save_checkpoint
from comma_bench.engine.errors import NonFiniteLossError
from comma_bench.engine.evaluate import autocast_for
from comma_bench.engine.schedule import dassl_scheduler
from comma_bench.engine.seeding import rng_state, set_rng_state
from comma_bench.methods.base import PromptMethod


@dataclass
class TrainHistory:
    loss_per_epoch: list[float] = field(default_factory=list)  # mean total loss of each epoch
    ce_per_epoch: list[float] = field(default_factory=list)
    aux_per_epoch: dict[str, list[float]] = field(default_factory=dict)  # e.g. {"kd": [...]} (weighted)
    lr_per_epoch: list[float] = field(default_factory=list)  # LR used during each epoch
    steps: int = 0
    images: int = 0
    train_s: float = 0.0
    resumed_from_epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss_per_epoch": self.loss_per_epoch,
            "ce_per_epoch": self.ce_per_epoch,
            "aux_per_epoch": self.aux_per_epoch,
            "lr_per_epoch": self.lr_per_epoch,
            "steps": self.steps,
            "images": self.images,
            "train_s": self.train_s,
            "images_per_s": self.images / self.train_s if self.train_s > 0 else None,
            "resumed_from_epoch": self.resumed_from_epoch,
        }


def fit(
    method: PromptMethod,
    loader: torch.utils.data.DataLoader,
    *,
    epochs: int,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    warmup_epochs: int = 1,
    warmup_lr: float = 1e-5,
    device: torch.device,
    precision: str = "fp32",
    checkpoint_dir: Path | None = None,
    checkpoint_meta: dict[str, Any] | None = None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
    progress: bool = True,
) -> TrainHistory:
    """Train `method` in place; resume from `checkpoint_dir` when it holds a checkpoint of the same run."""
    params = method.trainable_parameters()
    optimizer = torch.optim.SGD(
        params, lr=lr, momentum=momentum, weight_decay=weight_decay, dampening=0, nesterov=False
    )
    scheduler = dassl_scheduler(optimizer, lr, epochs, warmup_epochs, warmup_lr)
    history = TrainHistory()
    start = 0
    meta_base = dict(checkpoint_meta or {})
    if checkpoint_dir is not None:
        ckpt = load_checkpoint(checkpoint_dir)
        if ckpt is not None and ckpt["meta"].get("run_id") == meta_base.get("run_id"):
            load_prompt_weights(method, ckpt["prompt_path"])
            restore_optimizer(optimizer, ckpt["momentum"])
            start = int(ckpt["meta"]["epoch"]) + 1
            with warnings.catch_warnings():  # fast-forwarding the schedule before any optimizer.step() is intended
                warnings.simplefilter("ignore", UserWarning)
                for _ in range(start):
                    scheduler.step()
            saved = ckpt["meta"].get("history", {})
            for key in ("loss_per_epoch", "ce_per_epoch", "lr_per_epoch"):
                setattr(history, key, list(saved.get(key, [])))
            history.aux_per_epoch = {k: list(v) for k, v in saved.get("aux_per_epoch", {}).items()}
            history.steps, history.images = int(saved.get("steps", 0)), int(saved.get("images", 0))
            history.train_s = float(saved.get("train_s", 0.0))
            history.resumed_from_epoch = start
            set_rng_state(ckpt["rng"])

    method.train()
    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        lr_now = optimizer.param_groups[0]["lr"]
        total = torch.zeros((), device=device, dtype=torch.float64)  # accumulated on device: no per-step sync
        ce_sum = torch.zeros((), device=device, dtype=torch.float64)
        aux_sum: dict[str, torch.Tensor] = {}
        n_batches = 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for images, labels in bar:
            images = images.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            with autocast_for(device, precision):
                out = method(images)
                ce = F.cross_entropy(out.logits.float(), labels)
                loss = ce + sum((v.float() for v in out.losses.values()), torch.zeros((), device=device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach().double()
            ce_sum += ce.detach().double()
            for k, v in out.losses.items():
                aux_sum[k] = aux_sum.get(k, torch.zeros((), device=device, dtype=torch.float64)) + v.detach().double()
            n_batches += 1
            history.images += images.shape[0]
        scheduler.step()
        history.steps += n_batches
        history.train_s += time.perf_counter() - t0
        mean_loss = float(total) / max(n_batches, 1)  # one host sync per epoch
        if n_batches and not torch.isfinite(torch.tensor(mean_loss)):
            raise NonFiniteLossError(f"training loss is {mean_loss} in epoch {epoch + 1} (precision {precision})")
        history.loss_per_epoch.append(mean_loss)
        history.ce_per_epoch.append(float(ce_sum) / max(n_batches, 1))
        for k, v in aux_sum.items():
            history.aux_per_epoch.setdefault(k, []).append(float(v) / max(n_batches, 1))
        history.lr_per_epoch.append(lr_now)
        if checkpoint_dir is not None:
            save_checkpoint(
                checkpoint_dir,
                method=method,
                optimizer=optimizer,
                epoch=epoch,
                meta={**meta_base, "history": history.to_dict()},
                rng=rng_state(),
            )
        if on_epoch is not None:
            on_epoch(epoch, {"loss": mean_loss, "lr": lr_now, "epoch": epoch + 1, "epochs": epochs})
    method.eval()
    return history
