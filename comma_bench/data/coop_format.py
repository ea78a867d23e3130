"""Readers for the 15 real datasets in the exact CoOp folder layout (CoOp's DATASETS.md), registered on import.

Users of CoOp, CoCoOp, MaPLe and COMMA already have `$DATA` laid out as CoOp's DATASETS.md describes, with the
`split_zhou_*.json` files in place. These readers take that tree unchanged and return the same items, in the same
order, with the same labels and class names as CoOp's `datasets/*.py`, because the few-shot sample drawn from them
(see `comma_bench.data.fewshot`) depends on that order.

Differences from the official readers, all deliberate:
- Folder listings are sorted (Dassl's `listdir_nohidden` keeps file-system order for image files), so every machine
  sees the same order. CoOp's ImageNet reader already sorts class folders; image files are sorted here too.
- Nothing is written next to the data: CoOp creates `split_fewshot/` and ImageNet's `preprocessed.pkl`; an existing
  `preprocessed.pkl` is ignored, the folders are read instead.
- Missing folders, files and unknown class names raise a one-line `UserError` naming the path, instead of a bare
  assertion or `KeyError`.
- ImageNetV2 reads as many class folders as `classnames.txt` has lines (CoOp hard-codes 1000).
- ImageNet-Sketch/-A/-R keep only the class folders listed in `classnames.txt`, which also skips `README.txt`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from comma_bench.data.datum import Datum
from comma_bench.data.paths import MissingPathError, list_dirs, list_files, require_file, require_paths
from comma_bench.data.registry import DatasetInfo, RawSplits, register_dataset
from comma_bench.data.templates import COMMA_KD_TEMPLATES, ZSCLIP_TEMPLATES
from comma_bench.errors import UserError

SPLIT_NAMES = ("train", "val", "test")

# Tags used by protocols to pick datasets: the 11 base-to-novel datasets, the 10 cross-dataset targets, the ImageNet
# source, and the 4 domain-generalisation targets (test-only; see `comma_bench.data.load`).
TAG_BASE2NOVEL = "base2novel"
TAG_XD_TARGET = "xd_target"
TAG_SOURCE = "imagenet_source"
TAG_DG_TARGET = "dg_target"


# --------------------------------------------------------------------------------------------------------------------
# split_zhou JSON datasets


def read_split_json(split_path: Path, prefix: Path) -> RawSplits:
    """Read a `split_zhou_*.json` file: `{"train"|"val"|"test": [[relpath, label, classname], ...]}`.

    Args:
        split_path: the JSON file.
        prefix: the folder the relpaths are relative to (the images dir; the dataset dir for StanfordCars).

    Every listed image must exist, as Dassl's `Datum` asserts; the first missing one is raised.
    """
    require_file(split_path, "the split file")
    try:
        split = json.loads(split_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{split_path}: not a readable JSON split file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(split, dict) or any(not isinstance(split.get(name), list) for name in SPLIT_NAMES):
        raise UserError(f"{split_path}: expected a JSON object with lists 'train', 'val' and 'test'")
    parts = [_convert_entries(split[name], name, split_path, prefix) for name in SPLIT_NAMES]
    return RawSplits(train=parts[0], val=parts[1], test=parts[2])


def _convert_entries(entries: list, part: str, split_path: Path, prefix: Path) -> list[Datum]:
    items = []
    for i, entry in enumerate(entries):
        if (
            not isinstance(entry, list | tuple)
            or len(entry) != 3
            or not isinstance(entry[0], str)
            or isinstance(entry[1], bool)
            or not isinstance(entry[1], int)
            or not isinstance(entry[2], str)
        ):
            raise UserError(f"{split_path}: entry {i} of {part!r} is {entry!r}; expected [relpath, label, classname]")
        impath = prefix / entry[0]
        if not impath.is_file():
            raise MissingPathError(impath, f"image listed in {split_path.name} ({part!r} entry {i}) does not exist")
        items.append(Datum(impath=str(impath), label=entry[1], classname=entry[2]))
    return items


@dataclass(frozen=True)
class _JsonLayout:
    """Where one split_zhou dataset keeps its split file and images (CoOp's DATASETS.md)."""

    image_dirs: tuple[str, ...]  # image folders inside the dataset dir; checked in this order after the split file
    split_file: str  # split_zhou_<NAME>.json inside the dataset dir
    relative_to_dataset_dir: bool = False  # StanfordCars: relpaths start at the dataset dir, not an images dir


def _read_json_dataset(layout: _JsonLayout, dataset_dir: Path) -> RawSplits:
    require_paths(dataset_dir, (layout.split_file, *layout.image_dirs))
    prefix = dataset_dir if layout.relative_to_dataset_dir else dataset_dir / layout.image_dirs[0]
    return read_split_json(dataset_dir / layout.split_file, prefix)


# --------------------------------------------------------------------------------------------------------------------
# FGVCAircraft: variants.txt + images_variant_{train,val,test}.txt


def _read_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, stripped line) for the non-blank lines of a text file."""
    require_file(path, "a text file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable text file ({exc.__class__.__name__})") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def read_fgvc_aircraft(dataset_dir: Path) -> RawSplits:
    """FGVCAircraft as CoOp reads it: labels follow the line order of `variants.txt`.

    Each line of `images_variant_<split>.txt` is "<imageid> <variant name...>"; the image is `images/<imageid>.jpg`.
    """
    list_files_ = tuple(f"images_variant_{s}.txt" for s in SPLIT_NAMES)
    require_paths(dataset_dir, ("variants.txt", *list_files_, "images"))
    classnames = [line for _, line in _read_lines(dataset_dir / "variants.txt")]
    cname2lab = {c: i for i, c in enumerate(classnames)}
    image_dir = dataset_dir / "images"
    parts = []
    for name in list_files_:
        path = dataset_dir / name
        items = []
        for lineno, line in _read_lines(path):
            fields = line.split(" ")
            imid, classname = fields[0], " ".join(fields[1:])
            if classname not in cname2lab:
                raise UserError(f"{path}:{lineno}: variant {classname!r} is not listed in variants.txt")
            impath = image_dir / f"{imid}.jpg"
            if not impath.is_file():
                raise MissingPathError(impath, f"image listed in {name} (line {lineno}) does not exist")
            items.append(Datum(impath=str(impath), label=cname2lab[classname], classname=classname))
        parts.append(items)
    return RawSplits(train=parts[0], val=parts[1], test=parts[2])


# --------------------------------------------------------------------------------------------------------------------
# ImageNet and its variants: classnames.txt + class folders


def read_classnames(path: Path) -> dict[str, str]:
    """`classnames.txt`: one "<wnid> <class name...>" per line, in label order -> {wnid: name} (insertion-ordered)."""
    classnames: dict[str, str] = {}
    for _, line in _read_lines(path):
        fields = line.split(" ")
        classnames[fields[0]] = " ".join(fields[1:])
    if not classnames:
        raise UserError(f"{path}: no class names found; expected lines '<wnid> <class name>'")
    return classnames


def _read_class_folders(split_dir: Path, folders: list[str], classnames: dict[str, str]) -> list[Datum]:
    """Every file of each folder, label = position of the folder in `folders`."""
    items = []
    for label, folder in enumerate(folders):
        classname = classnames[folder]
        for name in list_files(split_dir / folder):
            items.append(Datum(impath=str(split_dir / folder / name), label=label, classname=classname))
    return items


def read_imagenet(dataset_dir: Path) -> RawSplits:
    """ImageNet: `images/train/<wnid>/` and `images/val/<wnid>/`, labels = sorted wnid order; val is the test split.

    CoOp's ImageNet has no validation split: `val` is the test list, as `DatasetBase(val=test)` in the official code.
    """
    require_paths(dataset_dir, ("classnames.txt", "images/train", "images/val"))
    names_path = dataset_dir / "classnames.txt"
    classnames = read_classnames(names_path)
    parts = {}
    for split in ("train", "val"):
        split_dir = dataset_dir / "images" / split
        folders = list_dirs(split_dir)
        unknown = [f for f in folders if f not in classnames]
        if unknown:
            raise UserError(f"{split_dir / unknown[0]}: class folder {unknown[0]!r} is not listed in {names_path}")
        if not folders:
            raise UserError(f"{split_dir}: no class folders found; expected one folder per wnid")
        parts[split] = (folders, _read_class_folders(split_dir, folders, classnames))
    if parts["train"][0] != parts["val"][0]:
        missing = sorted(set(parts["train"][0]) ^ set(parts["val"][0]))[0]
        raise UserError(
            f"{dataset_dir / 'images'}: images/train and images/val must hold the same class folders; "
            f"{missing!r} is in only one of them"
        )
    test = parts["val"][1]
    return RawSplits(train=parts["train"][1], val=test, test=test)


def read_imagenetv2(dataset_dir: Path) -> RawSplits:
    """ImageNetV2 matched-frequency: folder `<i>` holds class i of `classnames.txt`; every image is train and test."""
    image_dir_name = "imagenetv2-matched-frequency-format-val"
    require_paths(dataset_dir, ("classnames.txt", image_dir_name))
    classnames = read_classnames(dataset_dir / "classnames.txt")
    image_dir = dataset_dir / image_dir_name
    names = list(classnames.values())
    items = []
    for label, classname in enumerate(names):
        class_dir = image_dir / str(label)
        if not class_dir.is_dir():
            raise MissingPathError(class_dir, f"expected class folder {label} ({len(names)} classes in classnames.txt)")
        for name in list_files(class_dir):
            items.append(Datum(impath=str(class_dir / name), label=label, classname=classname))
    return RawSplits(train=items, val=items, test=items)


def _read_wnid_test_set(image_dir_name: str, dataset_dir: Path) -> RawSplits:
    """ImageNet-Sketch/-A/-R: sorted wnid folders listed in `classnames.txt`; every image is train and test.

    -A and -R hold 200 of the 1000 classes; their labels are 0..199 in sorted wnid order, and the class names (and so
    the prompts) cover only those 200.
    """
    require_paths(dataset_dir, ("classnames.txt", image_dir_name))
    classnames = read_classnames(dataset_dir / "classnames.txt")
    image_dir = dataset_dir / image_dir_name
    folders = [f for f in list_dirs(image_dir) if f in classnames]
    if not folders:
        raise UserError(f"{image_dir}: no class folder named by a wnid of classnames.txt")
    items = _read_class_folders(image_dir, folders, classnames)
    return RawSplits(train=items, val=items, test=items)


# --------------------------------------------------------------------------------------------------------------------
# Registration


def _info(
    key: str,
    name: str,
    folder: str,
    read: Callable[[Path], RawSplits],
    check_paths: tuple[str, ...],
    description: str,
    **kw: Any,
) -> DatasetInfo:
    return DatasetInfo(
        key=key,
        name=name,
        folder=folder,
        template=ZSCLIP_TEMPLATES[name],
        kd_template=COMMA_KD_TEMPLATES[name],
        read=read,
        check_paths=check_paths,
        description=description,
        **kw,
    )


# key, CoOp NAME, folder, layout, description (CoOp's DATASETS.md)
_JSON_DATASETS = (
    ("caltech101", "Caltech101", "caltech-101", _JsonLayout(("101_ObjectCategories",), "split_zhou_Caltech101.json"),
     "Caltech-101, 100 object classes (BACKGROUND_Google and Faces_easy dropped)"),
    ("oxford_pets", "OxfordPets", "oxford_pets", _JsonLayout(("images",), "split_zhou_OxfordPets.json"),
     "Oxford-IIIT Pets, 37 cat and dog breeds"),
    ("stanford_cars", "StanfordCars", "stanford_cars",
     _JsonLayout(("cars_train", "cars_test"), "split_zhou_StanfordCars.json", relative_to_dataset_dir=True),
     "Stanford Cars, 196 make/model/year classes"),
    ("oxford_flowers", "OxfordFlowers", "oxford_flowers", _JsonLayout(("jpg",), "split_zhou_OxfordFlowers.json"),
     "Oxford Flowers-102, 102 flower species"),
    ("food101", "Food101", "food-101", _JsonLayout(("images",), "split_zhou_Food101.json"),
     "Food-101, 101 dishes"),
    ("sun397", "SUN397", "sun397", _JsonLayout(("SUN397",), "split_zhou_SUN397.json"),
     "SUN397, 397 scene categories"),
    ("dtd", "DescribableTextures", "dtd", _JsonLayout(("images",), "split_zhou_DescribableTextures.json"),
     "Describable Textures (DTD), 47 texture attributes"),
    ("eurosat", "EuroSAT", "eurosat", _JsonLayout(("2750",), "split_zhou_EuroSAT.json"),
     "EuroSAT RGB, 10 land-use classes from Sentinel-2"),
    ("ucf101", "UCF101", "ucf101", _JsonLayout(("UCF-101-midframes",), "split_zhou_UCF101.json"),
     "UCF101 middle frames, 101 human actions"),
)  # fmt: skip

_FINE_GRAINED_TAGS = (TAG_BASE2NOVEL, TAG_XD_TARGET)


def _register_all() -> None:
    register_dataset(
        _info(
            "imagenet", "ImageNet", "imagenet", read_imagenet, ("classnames.txt", "images/train", "images/val"),
            "ImageNet-1k; val is the test split, no validation split", has_val=False, tags=(TAG_BASE2NOVEL, TAG_SOURCE),
        )
    )  # fmt: skip
    for key, name, folder, layout, description in _JSON_DATASETS:
        read = partial(_read_json_dataset, layout)
        checks = (layout.split_file, *layout.image_dirs)
        register_dataset(_info(key, name, folder, read, checks, description, tags=_FINE_GRAINED_TAGS))
    fgvc_checks = ("variants.txt", *(f"images_variant_{s}.txt" for s in SPLIT_NAMES), "images")
    register_dataset(
        _info(
            "fgvc_aircraft", "FGVCAircraft", "fgvc_aircraft", read_fgvc_aircraft, fgvc_checks,
            "FGVC-Aircraft 2013b, 100 aircraft variants", tags=_FINE_GRAINED_TAGS,
        )
    )  # fmt: skip
    dg = {"has_val": False, "tags": (TAG_DG_TARGET,)}
    v2_dir = "imagenetv2-matched-frequency-format-val"
    register_dataset(
        _info("imagenetv2", "ImageNetV2", "imagenetv2", read_imagenetv2, ("classnames.txt", v2_dir),
              "ImageNetV2 matched-frequency, 1000 classes (test only)", **dg)
    )  # fmt: skip
    for key, name, folder, image_dir, description in (
        ("imagenet_sketch", "ImageNetSketch", "imagenet-sketch", "images", "ImageNet-Sketch, 1000 classes"),
        ("imagenet_a", "ImageNetA", "imagenet-adversarial", "imagenet-a", "ImageNet-A, 200 classes"),
        ("imagenet_r", "ImageNetR", "imagenet-rendition", "imagenet-r", "ImageNet-R, 200 classes"),
    ):
        read = partial(_read_wnid_test_set, image_dir)
        register_dataset(
            _info(key, name, folder, read, ("classnames.txt", image_dir), f"{description} (test only)", **dg)
        )


_register_all()

# The registry keys, in CoOp's usual table order; tests and docs use this to cover every real dataset.
COOP_DATASETS = (
    "imagenet", "caltech101", "oxford_pets", "stanford_cars", "oxford_flowers", "food101", "fgvc_aircraft",
    "sun397", "dtd", "eurosat", "ucf101", "imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r",
)  # fmt: skip
