"""A run config with every default filled in: what the run id hashes, computed without torch.

The engine hashes the resolved config to name a run, and the sweep planner hashes it to name a planned run before
anything executes; both call `resolved_config`, so the two ids agree by construction. Nothing here imports torch
(the engine's device handling does): planning a sweep that names its device needs no GPU library to hash a run.
The method's settings and official optimiser defaults come from the method registry.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from comma_bench.config.schema import RunConfig


def resolve_precision(precision: str, device_kind: str) -> str:
    """auto: fp32 on CPU, bf16 autocast on CUDA (fp16 is the official pure-half mode, opt-in)."""
    if precision == "auto":
        return "bf16" if device_kind == "cuda" else "fp32"
    return precision


def _local_device_kind(device: str) -> str:
    """What `device` (auto, cpu, cuda[:N]) is on this machine; imports torch only for `auto`."""
    if device != "auto":
        return "cuda" if device.startswith("cuda") else device.split(":")[0]
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolved_config(config: RunConfig, device_kind: str | None = None) -> dict[str, Any]:
    """The config with every default filled in (method settings, optimiser values, the effective precision).

    `precision: auto` is resolved for `device_kind` ("cpu" or "cuda"; default: what `config.device` is here), so
    that a CPU run (fp32) and a GPU run (bf16) of one config get different ids, while `auto` and the precision it
    stands for share one. The device itself is not hashed: it changes where a run computes, not what.
    """
    from comma_bench.methods import get_method_spec, make_config

    precision = config.precision
    if precision == "auto":
        precision = resolve_precision(precision, device_kind or _local_device_kind(config.device))
    spec = get_method_spec(config.method)
    method_cfg = dataclasses.asdict(make_config(config.method, config.method_config))
    optim = dataclasses.asdict(config.optim)
    for key, value in spec.default_optim.items():
        if optim.get(key) is None:
            optim[key] = value
    d = config.to_dict()
    d["method_config"] = method_cfg
    d["optim"] = optim
    d["precision"] = precision
    return d
