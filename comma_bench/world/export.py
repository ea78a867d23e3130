"""Write a built-in dataset to disk in the CoOp layout, so the file-based path can be exercised on real files.

Layout under the target directory (a CoOp "dataset dir", as in CoOp's DATASETS.md):

    images/<classname>/<split>_<index>.png
    split_zhou_<Title>.json      {"train": [[relpath, label, classname], ...], "val": [...], "test": [...]}

relpaths are relative to `images/`, labels are 0-based and the JSON uses indent 4, as CoOp's split files do. A
test-only set (a DG variant) is written once and listed under all three keys, the way CoOp serves those sets.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from comma_bench.data.datum import Datum
from comma_bench.errors import UserError
from comma_bench.world.datasets import SPLITS, WorldDataset, get_world_dataset, items, render_item

IMAGES_DIR = "images"


def split_file_name(ds: WorldDataset) -> str:
    return f"split_zhou_{ds.title}.json"


def _limit(split_items: list[Datum], n_classes: int, per_class: int | None) -> list[Datum]:
    # Items cycle through the labels, so a prefix holds the first `per_class` images of every class.
    return split_items if per_class is None else split_items[: per_class * n_classes]


def export_dataset(key: str, to: str | Path, *, max_per_class: int | None = None) -> Path:
    """Render every image of `key` (or the first `max_per_class` per class and split) as PNG; returns the JSON path."""
    ds = get_world_dataset(key)
    root = Path(to).expanduser()
    if root.exists() and not root.is_dir():
        raise UserError(f"--to {str(root)!r}: expected a directory (it is a file)")
    if max_per_class is not None and max_per_class < 1:
        raise UserError(f"--max-per-class: expected a positive integer, got {max_per_class}")
    images = root / IMAGES_DIR
    for name in ds.classnames:
        (images / name).mkdir(parents=True, exist_ok=True)

    split: dict[str, list[list]] = {}
    for part in SPLITS if ds.has_val else ("test",):
        entries = []
        for d in _limit(items(ds, part), len(ds.classnames), max_per_class):
            index = d.impath.rsplit("/", 1)[1]
            rel = f"{d.classname}/{part}_{index}.png"
            Image.fromarray(render_item(d.impath), mode="RGB").save(images / rel)
            entries.append([rel, d.label, d.classname])
        split[part] = entries
    if not ds.has_val:
        split = {"train": split["test"], "val": split["test"], "test": split["test"]}
    path = root / split_file_name(ds)
    path.write_text(json.dumps(split, indent=4))
    return path
