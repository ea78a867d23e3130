"""`world-files/<name>`: a built-in dataset read back from the files `comma-bench world export` wrote.

`world/<name>` renders its images from code and needs no data root. Its export (`world export --dataset
world/<name> --to DIR`) is a real CoOp-layout folder: `DIR/images/<class>/<split>_<index>.png` and
`DIR/split_zhou_<Title>.json`. `world-files/<name>` reads that folder through the CoOp split_zhou reader and PIL,
the path every real dataset takes, with the world dataset's own templates, split semantics and tags:

    comma-bench world export --dataset world/shapes --to DIR
    comma-bench eval --dataset world-files/shapes --data-root DIR

The data root is the exported folder itself (the dataset folder under it is `""`). A full export decodes to the
pixels the renderer produces, so both keys give the same numbers (tests/data/test_world_files.py).
"""

from __future__ import annotations

from pathlib import Path

from comma_bench.data.coop_format import read_split_json
from comma_bench.data.registry import DatasetInfo, RawSplits, register_dataset
from comma_bench.world.datasets import WORLD_DATASETS, WorldDataset
from comma_bench.world.export import IMAGES_DIR, split_file_name

PREFIX = "world-files/"


def _register(ds: WorldDataset) -> None:
    split_file = split_file_name(ds)

    def read(dataset_dir: Path) -> RawSplits:
        return read_split_json(dataset_dir / split_file, dataset_dir / IMAGES_DIR)

    register_dataset(
        DatasetInfo(
            key=PREFIX + ds.name,
            name=ds.title,
            folder="",
            template=ds.template,
            kd_template=ds.kd_template,
            read=read,
            check_paths=(split_file, IMAGES_DIR),
            has_val=ds.has_val,
            description=f"{ds.key} read from a `comma-bench world export` folder (--data-root: that folder)",
            tags=ds.tags,
        )
    )


for _ds in WORLD_DATASETS.values():
    _register(_ds)
