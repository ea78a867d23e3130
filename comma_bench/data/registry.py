"""Dataset registry: every dataset, real or built-in, is a `DatasetInfo` entry looked up by its key.

Keys follow CoOp's `configs/datasets/*.yaml` names (`oxford_pets`, `fgvc_aircraft`, ...); built-in procedural
datasets use a `world/` prefix. Adding a dataset means registering one entry with a `read` function that returns the
full train/val/test lists; few-shot sampling, base/new subsampling and caching are shared (`comma_bench.data.load`).
The modules that hold entries (CoOp's datasets, the built-in world's, exported world folders) are found by the generic
registry (`comma_bench.registry`) on first lookup: none is named here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from comma_bench.data.datum import Datum
from comma_bench.errors import UserError
from comma_bench.registry import Registry


@dataclass(frozen=True)
class RawSplits:
    """The full (not yet few-shot sampled) splits exactly as the dataset's split source lists them."""

    train: list[Datum]
    val: list[Datum]  # ImageNet and the DG sets have no val; their reader returns the test list here, as CoOp does
    test: list[Datum]


@dataclass(frozen=True)
class DatasetInfo:
    key: str  # registry key (`oxford_pets`, `world/shapes`)
    name: str  # CoOp's DATASET.NAME (`OxfordPets`); recorded so runs can be matched to the official configs
    folder: str  # dataset directory under the data root (`oxford_pets`), CoOp's DATASETS.md; "" for built-in datasets
    template: str  # zero-shot CLIP template (CoOp/MaPLe `zsclip.py`), CoOp/MaPLe `CUSTOM_TEMPLATES`
    kd_template: str  # COMMA's hand-crafted template for the KD reference, CoOp/MaPLe `CUSTOM_TEMPLATES`
    read: Callable[[Path], RawSplits]  # dataset_dir -> full splits; raises UserError naming the first missing path
    check_paths: tuple[str, ...] = ()  # paths (relative to dataset_dir) that must exist: split file, images dir
    has_val: bool = True  # False: val is the test split (ImageNet, DG sets); few-shot val is then not sampled
    builtin: bool = False  # True: procedural, needs no data root
    image_loader: Callable[[str], Image.Image] | None = None  # None: PIL open + RGB; built-ins render from the path
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("dg_target",) for ImageNet-V2/-Sketch/-A/-R


# Listing order: real datasets first, then the built-in `world/*` ones.
DATASETS: Registry[DatasetInfo] = Registry(
    "dataset", marker="register_dataset", sort_key=lambda k, _info: (k.startswith("world/"), k)
)


def register_dataset(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset. Registering the same key twice is a programming error."""
    return DATASETS.add(info.key, info)


def list_datasets(pattern: str = "*") -> list[str]:
    """Registered dataset keys matching an fnmatch pattern, sorted (real datasets first, then `world/*`)."""
    return DATASETS.names(pattern)


def get_dataset_info(key: str) -> DatasetInfo:
    return DATASETS.get(key)


def require_root(root: str | Path | None, key: str) -> Path:
    """The data root of a real dataset, or a one-line error saying how to pass it."""
    if root is None:
        raise UserError(f"dataset {key!r} needs a data root: pass --data-root DIR (the CoOp `$DATA` folder)")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise UserError(f"data root {str(path)!r} does not exist or is not a directory")
    return path
