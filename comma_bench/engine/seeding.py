"""Seeding as Dassl does it (Dassl.pytorch): python, numpy and torch (all devices) from one SEED.

Dassl then sets `cudnn.benchmark = True`, which makes GPU runs non-deterministic. We leave cuDNN's autotuner off
(the default): the few percent of speed it may buy are not worth runs that cannot be repeated.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def rng_state() -> dict:
    """Everything a resumed run needs to continue the same random stream (sampler order, augmentations)."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
