"""Datasets: CoOp-format readers, Dassl-identical few-shot sampling, base/new splits, transforms.

`load_dataset(key, root, shots=, seed=, subsample=)` is the entry point; `list_datasets()` names what is registered.
`build_transform` and `ImageDataset` need torch and are imported on first use, so that `import comma_bench.data`
(which the CLI does to build its parser) stays light.
"""

from __future__ import annotations

from typing import Any

from comma_bench.data.datum import Datum
from comma_bench.data.load import DatasetCheck, DatasetSplits, check_datasets, load_dataset
from comma_bench.data.registry import DatasetInfo, RawSplits, get_dataset_info, list_datasets, register_dataset
from comma_bench.data.templates import COMMA_KD_TEMPLATES, ZSCLIP_TEMPLATES, format_prompt

__all__ = [
    "COMMA_KD_TEMPLATES",
    "ZSCLIP_TEMPLATES",
    "DatasetCheck",
    "DatasetInfo",
    "DatasetSplits",
    "Datum",
    "ImageDataset",
    "RawSplits",
    "build_transform",
    "check_datasets",
    "format_prompt",
    "get_dataset_info",
    "list_datasets",
    "load_dataset",
    "register_dataset",
]

_LAZY = {"build_transform", "ImageDataset", "CLIP_MEAN", "CLIP_STD"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from comma_bench.data import transforms

        return getattr(transforms, name)
    raise AttributeError(f"module 'comma_bench.data' has no attribute {name!r}")
