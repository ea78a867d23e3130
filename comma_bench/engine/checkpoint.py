"""Prompt-only checkpoints: the method's own parameters (never CLIP), optimiser state and RNG state, per epoch.

Layout of a checkpoint directory (one per run):
    prompt.safetensors   the method's state dict (ctx, proj, deep prompts, generator, meta-net ...) in fp32/fp16
    optim.safetensors    SGD momentum buffers and the RNG states of torch (and CUDA)
    meta.json            run id, finished epoch, loss history, python/numpy RNG state, the method config

safetensors holds no code, so loading a checkpoint cannot execute anything (unlike pickle-based `.pth` files).
Files are written to temporary names and renamed, meta.json last: a checkpoint is complete iff meta.json exists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from comma_bench.records import write_json_atomic

PROMPT_FILE, OPTIM_FILE, META_FILE = "prompt.safetensors", "optim.safetensors", "meta.json"


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, path)


def save_prompt_weights(method: torch.nn.Module, path: str | Path) -> None:
    """Only the method's own parameters (CLIP is not a submodule of a method)."""
    _save_tensors(dict(method.state_dict()), Path(path))


def load_prompt_weights(method: torch.nn.Module, path: str | Path) -> None:
    state = load_file(str(path), device=str(next(iter(method.parameters()), torch.empty(0)).device))
    method.load_state_dict(state, strict=True)


def save_checkpoint(
    directory: str | Path,
    *,
    method: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    meta: dict[str, Any],
    rng: dict[str, Any],
) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_prompt_weights(method, directory / PROMPT_FILE)
    optim_tensors: dict[str, torch.Tensor] = {"rng.torch": rng["torch"]}
    for i, cuda_state in enumerate(rng.get("cuda") or []):
        optim_tensors[f"rng.cuda.{i}"] = cuda_state
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        buf = optimizer.state.get(p, {}).get("momentum_buffer")
        if buf is not None:
            optim_tensors[f"momentum.{i}"] = buf
    _save_tensors(optim_tensors, directory / OPTIM_FILE)
    py_version, py_state, py_gauss = rng["python"]
    np_state = rng["numpy"]
    write_json_atomic(
        directory / META_FILE,
        {
            **meta,
            "epoch": epoch,
            "rng_python": [py_version, list(py_state), py_gauss],
            "rng_numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        },
    )


def load_checkpoint(directory: str | Path) -> dict[str, Any] | None:
    """The checkpoint's meta, tensors and RNG state, or None when the directory holds no complete checkpoint."""
    directory = Path(directory)
    if not (directory / META_FILE).is_file():
        return None
    meta = json.loads((directory / META_FILE).read_text())
    optim = load_file(str(directory / OPTIM_FILE))
    py = meta.pop("rng_python")
    npy = meta.pop("rng_numpy")
    cuda = [optim[k] for k in sorted(k for k in optim if k.startswith("rng.cuda."))]
    rng = {
        "python": (py[0], tuple(py[1]), py[2]),
        "numpy": (npy[0], np.asarray(npy[1], dtype=np.uint32), npy[2], npy[3], npy[4]),
        "torch": optim["rng.torch"],
        "cuda": cuda,
    }
    momentum = {int(k.split(".")[1]): v for k, v in optim.items() if k.startswith("momentum.")}
    return {"meta": meta, "rng": rng, "momentum": momentum, "prompt_path": directory / PROMPT_FILE}


def restore_optimizer(optimizer: torch.optim.Optimizer, momentum: dict[int, torch.Tensor]) -> None:
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, buf in momentum.items():
        optimizer.state[params[i]]["momentum_buffer"] = buf.to(params[i].device, params[i].dtype)
