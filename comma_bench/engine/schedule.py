"""Dassl's learning-rate schedule: a constant warm-up, then cosine annealing, stepped once per epoch (Dassl.pytorch).

With WARMUP_EPOCH=W, WARMUP_CONS_LR=w and WARMUP_RECOUNT=True, the LR in (0-based) epoch e is w for e < W and
LR * (1 + cos(pi * (e - W) / MAX_EPOCH)) / 2 afterwards. The cosine is over MAX_EPOCH (not MAX_EPOCH - W), so it
never reaches 0: 5 epochs at 0.0035 give 1e-5, 3.5e-3, 3.166e-3, 2.291e-3, 1.209e-3.
"""

from __future__ import annotations

import math

import torch


def lr_at_epoch(epoch: int, base_lr: float, max_epoch: int, warmup_epochs: int = 1, warmup_lr: float = 1e-5) -> float:
    if epoch < warmup_epochs:
        return warmup_lr
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup_epochs) / max_epoch))


def dassl_scheduler(
    optimizer: torch.optim.Optimizer, base_lr: float, max_epoch: int, warmup_epochs: int = 1, warmup_lr: float = 1e-5
) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR whose epoch-e LR is `lr_at_epoch(e, ...)`; call `.step()` after the last batch of each epoch."""

    def factor(epoch: int) -> float:
        return lr_at_epoch(epoch, base_lr, max_epoch, warmup_epochs, warmup_lr) / base_lr if base_lr else 0.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
