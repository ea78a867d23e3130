"""`load_dataset`: one call from a registry key to the train/val/test lists a run uses, the CoOp way.

The steps are those of every CoOp `datasets/*.py` constructor, in the same order:
1. read the full splits (the registered reader; a missing path is a one-line error naming it);
2. few-shot sample train (K per class) and val (min(K, 4) per class) from one seeded stream, or reuse a Dassl
   pickle / our JSON cache (`comma_bench.data.fewshot`);
3. keep the base or new half of the classes and relabel (`comma_bench.data.subsample`);
4. class names from the train split, index = label.

ImageNet has no validation split: val is its test split, never sampled. The domain-generalisation targets
(ImageNetV2, -Sketch, -A, -R; tag `dg_target`) are test-only: CoOp reads every image as both train and test and
never samples them, so `shots` does not apply to them and their train list is the whole set (it only supplies the
class names).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from comma_bench.data.coop_format import TAG_DG_TARGET
from comma_bench.data.datum import Datum
from comma_bench.data.fewshot import load_fewshot
from comma_bench.data.fingerprint import split_fingerprint
from comma_bench.data.images import open_rgb
from comma_bench.data.paths import MissingPathError, require_paths
from comma_bench.data.registry import DatasetInfo, RawSplits, get_dataset_info, list_datasets, require_root
from comma_bench.data.subsample import SUBSAMPLES, classnames_from, subsample_classes
from comma_bench.errors import UserError, unknown_name


@dataclass(frozen=True)
class DatasetSplits:
    """The splits of one dataset as a run sees them: few-shot sampled, subsampled and relabelled."""

    key: str  # registry key, e.g. "oxford_pets"
    info: DatasetInfo  # the registry entry (CoOp NAME, folder, reader, tags)
    train: list[Datum]  # few-shot train split (all items when shots <= 0 or for test-only sets)
    val: list[Datum]  # few-shot val split; the test split for datasets without val (ImageNet, DG sets)
    test: list[Datum]  # full test split of the chosen classes
    classnames: list[str]  # index = label; underscores kept (prompt builders replace them)
    template: str  # zero-shot CLIP template (CoOp/MaPLe `CUSTOM_TEMPLATES`)
    kd_template: str  # COMMA's KD-reference template (CoOp/MaPLe `CUSTOM_TEMPLATES`)
    dataset_dir: Path | None = None  # local dataset folder; None for built-in datasets
    shots: int = 16  # K requested (<= 0: all)
    seed: int = 1  # seed of the few-shot sample
    subsample: str = "all"  # "all", "base" or "new"
    fewshot_source: str = "sampled"  # "dassl-pickle:<path>", "cache:<path>", "sampled", "all" or "test-only"
    split_fingerprint: str = ""  # hash of the few-shot train selection and the class halves (data/fingerprint.py)

    @property
    def num_classes(self) -> int:
        return len(self.classnames)

    def load_image(self, datum: Datum) -> Image.Image:
        """The RGB image of an item: rendered for built-in datasets, else opened with PIL."""
        if self.info.image_loader is not None:
            return self.info.image_loader(datum.impath)
        return open_rgb(datum.impath)


def dataset_dir_of(info: DatasetInfo, root: str | Path | None) -> Path | None:
    """The dataset folder under the data root (None for built-in datasets); the root must exist."""
    if info.builtin:
        return None
    return require_root(root, info.key).absolute() / info.folder


def read_raw(info: DatasetInfo, root: str | Path | None) -> tuple[Path | None, RawSplits]:
    """The full splits of a dataset, after checking its required paths in order (first missing one is raised)."""
    dataset_dir = dataset_dir_of(info, root)
    if dataset_dir is None:
        # Built-in readers render their items and ignore the path; they get the root if one was given.
        return None, info.read(Path(root) if root is not None else Path())
    require_paths(dataset_dir, info.check_paths)
    return dataset_dir, info.read(dataset_dir)


def load_dataset(
    key: str,
    root: str | Path | None = None,
    *,
    shots: int = 16,
    seed: int = 1,
    subsample: str = "all",
) -> DatasetSplits:
    """Load a registered dataset the way CoOp's loaders do.

    Args:
        key: registry key (`list_datasets()`).
        root: the CoOp `$DATA` folder; not needed for built-in datasets.
        shots: K images per class for train (val gets min(K, 4)); <= 0 keeps every train image.
        seed: seed of the few-shot sample (Dassl's SEED).
        subsample: "all", "base" (first ceil(n/2) classes) or "new" (the rest), relabelled to 0..k-1.
    """
    info = get_dataset_info(key)
    if subsample not in SUBSAMPLES:
        raise unknown_name("subsample", subsample, SUBSAMPLES)
    if isinstance(shots, bool) or not isinstance(shots, int) or isinstance(seed, bool) or not isinstance(seed, int):
        raise UserError(f"dataset {key!r}: shots and seed must be integers, got shots={shots!r} seed={seed!r}")
    dataset_dir, raw = read_raw(info, root)

    if TAG_DG_TARGET in info.tags:
        train, val, source = list(raw.train), list(raw.val), "test-only"
    else:
        image_dirs = ()
        if dataset_dir is not None:
            image_dirs = tuple(p for p in info.check_paths if (dataset_dir / p).is_dir())
        subset = load_fewshot(
            raw.train,
            raw.val,
            shots=shots,
            seed=seed,
            has_val=info.has_val,
            dataset_dir=dataset_dir,
            image_dirs=image_dirs,
            key=key,
        )
        train, val, source = subset.train, subset.val, subset.source
    # Before the base/novel split: the selection as the Dassl pickle and our cache hold it, whatever the subsample.
    fingerprint = split_fingerprint(train, dataset_dir)

    test = raw.test
    if not info.has_val:
        train, test = subsample_classes(train, test, subsample=subsample)
        val = test
    else:
        train, val, test = subsample_classes(train, val, test, subsample=subsample)

    classnames = classnames_from(train, source=key)
    for name, split in (("val", val), ("test", test)):
        bad = next((d for d in split if not 0 <= d.label < len(classnames)), None)
        if bad is not None:
            raise UserError(f"{bad.impath}: {name} label {bad.label} has no train image in dataset {key!r}")

    return DatasetSplits(
        key=key,
        info=info,
        train=train,
        val=val,
        test=test,
        classnames=classnames,
        template=info.template,
        kd_template=info.kd_template,
        dataset_dir=dataset_dir,
        shots=shots,
        seed=seed,
        subsample=subsample,
        fewshot_source=source,
        split_fingerprint=fingerprint,
    )


@dataclass(frozen=True)
class DatasetCheck:
    """What `datasets check` found for one dataset."""

    key: str  # registry key
    status: str  # "found", "missing" (a required path is absent) or "error" (present but unreadable)
    counts: tuple[int, int, int] | None = None  # full train/val/test sizes when found
    has_val: bool = True  # False: the val count is the test split
    path: Path | None = None  # the first missing path, when missing
    message: str = ""  # the one-line error, when missing or error


def check_datasets(root: str | Path, keys: list[str] | None = None) -> list[DatasetCheck]:
    """Read each dataset's full splits under `root` and say what was found.

    Args:
        root: the data root; it must exist (else `UserError`).
        keys: datasets to check; default every real (non built-in) registered dataset.
    """
    require_root(root, "(check)")
    if keys is None:
        keys = [k for k in list_datasets() if not get_dataset_info(k).builtin]
    results = []
    for key in keys:
        info = get_dataset_info(key)
        try:
            _, raw = read_raw(info, root)
        except MissingPathError as exc:
            results.append(DatasetCheck(key, "missing", path=exc.path, message=str(exc)))
            continue
        except UserError as exc:
            results.append(DatasetCheck(key, "error", message=str(exc)))
            continue
        counts = (len(raw.train), len(raw.val), len(raw.test))
        results.append(DatasetCheck(key, "found", counts=counts, has_val=info.has_val))
    return results
