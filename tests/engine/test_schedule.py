"""Dassl's per-epoch LR schedule (Dassl.pytorch)."""

from __future__ import annotations

import pytest
import torch

from comma_bench.engine.schedule import dassl_scheduler, lr_at_epoch


def test_five_epochs_at_0035_match_dassl():
    lrs = [lr_at_epoch(e, 0.0035, 5) for e in range(5)]
    assert [float(f"{v:.4g}") for v in lrs] == [1e-5, 3.5e-3, 3.166e-3, 2.291e-3, 1.209e-3]


def test_scheduler_steps_once_per_epoch_and_never_reaches_zero():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.002, momentum=0.9)
    sched = dassl_scheduler(opt, 0.002, 10)
    seen = []
    for _ in range(10):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([lr_at_epoch(e, 0.002, 10) for e in range(10)], rel=1e-12)
    assert seen[0] == 1e-5 and seen[1] == pytest.approx(0.002) and min(seen[1:]) > 0
