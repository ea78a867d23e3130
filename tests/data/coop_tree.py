"""Tiny CoOp-layout data roots for tests: every one of the 15 real datasets, with 8x8 generated images.

`build_coop_tree(root)` writes the exact folder layout of CoOp's DATASETS.md (split_zhou JSON files, FGVCAircraft text
lists, ImageNet class folders and `classnames.txt`, the ImageNet variants) and returns, per dataset key, what a
correct reader must produce. Other test suites (the engine's end-to-end `comma-bench eval`) import it too:

    from tests.data.coop_tree import build_coop_tree
    expected = build_coop_tree(tmp_path)            # or build_coop_tree(tmp_path, ["oxford_pets"])

Every dataset has 3 classes (an odd count, so base/new is 2/1), unequal class sizes (one class has a single train
image, so few-shot sampling keeps it whole), and split files listed in an order that is not grouped by label (the
few-shot grouping follows first appearance). Each class has its own colour, so a model can in principle tell them
apart. Special files: a grayscale JPEG (oxford_pets), an RGBA PNG (dtd), class names with underscores
(oxford_pets, food101, ucf101), multi-word FGVC variants, hidden files and a README.txt that readers must skip.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

ALL_KEYS = (
    "imagenet", "caltech101", "oxford_pets", "stanford_cars", "oxford_flowers", "food101", "fgvc_aircraft",
    "sun397", "dtd", "eurosat", "ucf101", "imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r",
)  # fmt: skip

# Per-label image counts of the full splits: label 2 has one train image; label 0 has 6 val images (> 4 shots).
TRAIN_COUNTS = (5, 4, 1)
VAL_COUNTS = (6, 2, 1)
TEST_COUNTS = (2, 2, 3)
DG_COUNTS = (2, 1, 2)  # the test-only ImageNet variants
LIST_ORDER = (1, 0, 2)  # split files interleave labels starting with label 1, so first appearance != sorted order

COLOURS = ((220, 40, 40), (40, 200, 60), (50, 70, 230))

WNIDS = (
    ("n01440764", "tench"),
    ("n01443537", "goldfish"),
    ("n01484850", "great white shark"),
    ("n01491361", "tiger shark"),
    ("n01494475", "hammerhead"),
)


@dataclass
class ExpectedDataset:
    """What the reader of one generated dataset must return."""

    key: str  # registry key
    folder: str  # dataset folder under the root
    classnames: list[str]  # index = label
    train: list[tuple[str, int]] = field(default_factory=list)  # (path relative to the dataset dir, label), in order
    val: list[tuple[str, int]] = field(default_factory=list)  # the test list for ImageNet and the DG sets
    test: list[tuple[str, int]] = field(default_factory=list)

    @property
    def dataset_dir_name(self) -> str:
        return self.folder


_IMAGE_CACHE: dict[tuple[int, str, str], bytes] = {}


def image_bytes(label: int, mode: str = "RGB", fmt: str = "JPEG", size: int = 8) -> bytes:
    """An encoded size x size image in the colour of `label` (cached: thousands of files cost one encode each)."""
    key = (label, mode, fmt)
    if key not in _IMAGE_CACHE:
        rgb = COLOURS[label % len(COLOURS)]
        img = Image.new("RGB", (size, size), rgb)
        img.putpixel((0, 0), (255, 255, 255))  # not a flat image, so crops and flips change something
        if mode == "L":
            img = img.convert("L")
        elif mode == "RGBA":
            img = img.convert("RGBA")
            img.putalpha(128)
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        _IMAGE_CACHE[key] = buf.getvalue()
    return _IMAGE_CACHE[key]


def _write_image(path: Path, label: int, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "PNG" if path.suffix.lower() == ".png" else "JPEG"
    path.write_bytes(image_bytes(label, mode, fmt))


def _interleave(counts: tuple[int, ...]) -> list[tuple[int, int]]:
    """(label, index within label) in the split-file order: round robin over LIST_ORDER."""
    out, seen = [], dict.fromkeys(range(len(counts)), 0)
    while any(seen[c] < counts[c] for c in seen):
        for label in LIST_ORDER:
            if seen[label] < counts[label]:
                out.append((label, seen[label]))
                seen[label] += 1
    return out


# ---------------------------------------------------------------------------------------------------------------------
# split_zhou JSON datasets

# A namer maps (class folder, split, label, index, running number) to the path relative to the JSON prefix.
Namer = Callable[[str, str, int, int, int], str]

_JSON_SPECS: dict[str, dict] = {
    "caltech101": {
        "folder": "caltech-101",
        "image_dir": "101_ObjectCategories",
        "split": "split_zhou_Caltech101.json",
        "classes": [("accordion", "accordion"), ("airplanes", "airplane"), ("Faces", "face")],
        "namer": lambda d, s, y, i, n: f"{d}/image_{n:04d}.jpg",
    },
    "oxford_pets": {
        "folder": "oxford_pets",
        "image_dir": "images",
        "split": "split_zhou_OxfordPets.json",
        "classes": [
            ("Abyssinian", "abyssinian"),
            ("american_pit_bull_terrier", "american_pit_bull_terrier"),
            ("basset_hound", "basset_hound"),
        ],
        "namer": lambda d, s, y, i, n: f"{d}_{n}.jpg",
        "extra_dirs": ["annotations"],
        "grayscale_first": True,
    },
    "stanford_cars": {
        "folder": "stanford_cars",
        "image_dir": "",
        "split": "split_zhou_StanfordCars.json",
        "classes": [("", "2012 Tesla Model S"), ("", "2012 BMW M3 coupe"), ("", "2007 Ford Focus")],
        # train and val come from cars_train, test from cars_test; numbering restarts, so 00001.jpg is in both
        "namer": lambda d, s, y, i, n: f"{'cars_test' if s == 'test' else 'cars_train'}/{n:05d}.jpg",
        "extra_dirs": ["devkit"],
        "restart_numbering_for_test": True,
    },
    "oxford_flowers": {
        "folder": "oxford_flowers",
        "image_dir": "jpg",
        "split": "split_zhou_OxfordFlowers.json",
        "classes": [("", "pink primrose"), ("", "hard-leaved pocket orchid"), ("", "canterbury bells")],
        "namer": lambda d, s, y, i, n: f"image_{n:05d}.jpg",
    },
    "food101": {
        "folder": "food-101",
        "image_dir": "images",
        "split": "split_zhou_Food101.json",
        "classes": [("apple_pie", "apple_pie"), ("baby_back_ribs", "baby_back_ribs"), ("baklava", "baklava")],
        "namer": lambda d, s, y, i, n: f"{d}/{100000 + n}.jpg",
        "extra_dirs": ["meta"],
    },
    "sun397": {
        "folder": "sun397",
        "image_dir": "SUN397",
        "split": "split_zhou_SUN397.json",
        "classes": [("a/abbey", "abbey"), ("a/airplane_cabin", "airplane cabin"), ("b/bakery/shop", "shop bakery")],
        "namer": lambda d, s, y, i, n: f"{d}/sun_{n:010d}.jpg",
    },
    "dtd": {
        "folder": "dtd",
        "image_dir": "images",
        "split": "split_zhou_DescribableTextures.json",
        "classes": [("banded", "banded"), ("blotchy", "blotchy"), ("braided", "braided")],
        # the first image of "blotchy" is an RGBA PNG
        "namer": lambda d, s, y, i, n: f"{d}/{d}_{n:04d}.{'png' if (y, i, s) == (1, 0, 'train') else 'jpg'}",
    },
    "eurosat": {
        "folder": "eurosat",
        "image_dir": "2750",
        "split": "split_zhou_EuroSAT.json",
        "classes": [
            ("AnnualCrop", "Annual Crop Land"),
            ("Forest", "Forest"),
            ("HerbaceousVegetation", "Herbaceous Vegetation Land"),
        ],
        "namer": lambda d, s, y, i, n: f"{d}/{d}_{n}.jpg",
    },
    "ucf101": {
        "folder": "ucf101",
        "image_dir": "UCF-101-midframes",
        "split": "split_zhou_UCF101.json",
        "classes": [("Apply_Eye_Makeup",) * 2, ("Apply_Lipstick",) * 2, ("Archery",) * 2],
        "namer": lambda d, s, y, i, n: f"{d}/v_{d}_g{n:02d}_c01.jpg",
    },
}


def _build_json_dataset(root: Path, key: str) -> ExpectedDataset:
    spec = _JSON_SPECS[key]
    dataset_dir = root / spec["folder"]
    prefix = dataset_dir / spec["image_dir"] if spec["image_dir"] else dataset_dir
    classes = spec["classes"]
    exp = ExpectedDataset(key, spec["folder"], [c[1] for c in classes])
    split: dict[str, list] = {}
    number = 0
    for part, counts in (("train", TRAIN_COUNTS), ("val", VAL_COUNTS), ("test", TEST_COUNTS)):
        if part == "test" and spec.get("restart_numbering_for_test"):
            number = 0
        entries = []
        for label, index in _interleave(counts):
            number += 1
            rel = spec["namer"](classes[label][0], part, label, index, number)
            mode = "RGB"
            if spec.get("grayscale_first") and (part, label, index) == ("train", 0, 0):
                mode = "L"
            if rel.endswith(".png"):
                mode = "RGBA"
            _write_image(prefix / rel, label, mode)
            entries.append([rel, label, classes[label][1]])
            getattr(exp, part).append((str((prefix / rel).relative_to(dataset_dir)), label))
        split[part] = entries
    for extra in spec.get("extra_dirs", []):
        (dataset_dir / extra).mkdir(parents=True, exist_ok=True)
    if key == "stanford_cars":
        (dataset_dir / "cars_test").mkdir(parents=True, exist_ok=True)
    (dataset_dir / spec["split"]).write_text(json.dumps(split, indent=4))
    return exp


# ---------------------------------------------------------------------------------------------------------------------
# FGVCAircraft

FGVC_VARIANTS = ("707-320", "Falcon 2000", "F-16A/B")


def _build_fgvc(root: Path) -> ExpectedDataset:
    dataset_dir = root / "fgvc_aircraft"
    dataset_dir.mkdir(parents=True, exist_ok=True)
    (dataset_dir / "variants.txt").write_text("".join(f"{v}\n" for v in FGVC_VARIANTS))
    exp = ExpectedDataset("fgvc_aircraft", "fgvc_aircraft", list(FGVC_VARIANTS))
    number = 1000000
    for part, counts in (("train", TRAIN_COUNTS), ("val", VAL_COUNTS), ("test", TEST_COUNTS)):
        lines = []
        for label, _ in _interleave(counts):
            number += 7
            imid = f"{number:07d}"
            _write_image(dataset_dir / "images" / f"{imid}.jpg", label)
            lines.append(f"{imid} {FGVC_VARIANTS[label]}\n")
            getattr(exp, part).append((f"images/{imid}.jpg", label))
        (dataset_dir / f"images_variant_{part}.txt").write_text("".join(lines))
    return exp


# ---------------------------------------------------------------------------------------------------------------------
# ImageNet and variants


def _write_classnames(path: Path, wnids: Iterable[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} {name}\n" for w, name in wnids))


def _class_folders(split_dir: Path, wnids: list[str], counts: tuple[int, ...], name: Callable[[str, int], str]):
    """Write sorted-wnid class folders; returns [(path relative to split_dir, label)] in sorted file order."""
    out = []
    for label, wnid in enumerate(wnids):
        files = sorted(name(wnid, i) for i in range(counts[label]))
        for fname in files:
            _write_image(split_dir / wnid / fname, label)
        out.extend((f"{wnid}/{fname}", label) for fname in files)
    return out


def _build_imagenet(root: Path) -> ExpectedDataset:
    dataset_dir = root / "imagenet"
    wnids = WNIDS[:3]
    _write_classnames(dataset_dir / "classnames.txt", wnids)
    exp = ExpectedDataset("imagenet", "imagenet", [n for _, n in wnids])
    names = [w for w, _ in wnids]
    train = _class_folders(dataset_dir / "images" / "train", names, TRAIN_COUNTS, lambda w, i: f"{w}_{10 + i}.JPEG")
    val = _class_folders(dataset_dir / "images" / "val", names, TEST_COUNTS, lambda w, i: f"ILSVRC2012_{w}_{i}.JPEG")
    (dataset_dir / "images" / "train" / names[0] / ".DS_Store").write_bytes(b"hidden")  # must be skipped
    exp.train = [(f"images/train/{p}", y) for p, y in train]
    exp.test = [(f"images/val/{p}", y) for p, y in val]
    exp.val = exp.test
    return exp


def _build_imagenetv2(root: Path) -> ExpectedDataset:
    dataset_dir = root / "imagenetv2"
    wnids = WNIDS[:3]
    _write_classnames(dataset_dir / "classnames.txt", wnids)
    image_dir = "imagenetv2-matched-frequency-format-val"
    exp = ExpectedDataset("imagenetv2", "imagenetv2", [n for _, n in wnids])
    for label in range(3):
        files = sorted(f"{label:x}{i}f3a9.jpeg" for i in range(DG_COUNTS[label]))
        for fname in files:
            _write_image(dataset_dir / image_dir / str(label) / fname, label)
        exp.test.extend((f"{image_dir}/{label}/{f}", label) for f in files)
    exp.train = exp.val = exp.test
    return exp


# key -> (folder, image dir, wnids present as folders)
_DG_SPECS = {
    "imagenet_sketch": ("imagenet-sketch", "images", [w for w, _ in WNIDS[:3]]),
    "imagenet_a": ("imagenet-adversarial", "imagenet-a", ["n01443537", "n01491361", "n01494475"]),
    "imagenet_r": ("imagenet-rendition", "imagenet-r", ["n01440764", "n01484850", "n01494475"]),
}


def _build_dg(root: Path, key: str) -> ExpectedDataset:
    folder, image_dir, present = _DG_SPECS[key]
    dataset_dir = root / folder
    listed = WNIDS if key != "imagenet_sketch" else WNIDS[:3]  # -A/-R: classnames.txt lists more than the folders
    _write_classnames(dataset_dir / "classnames.txt", listed)
    lookup = dict(WNIDS)
    exp = ExpectedDataset(key, folder, [lookup[w] for w in present])
    files = _class_folders(dataset_dir / image_dir, present, DG_COUNTS, lambda w, i: f"{w}_{i}.jpg")
    exp.test = [(f"{image_dir}/{p}", y) for p, y in files]
    exp.train = exp.val = exp.test
    if key == "imagenet_a":
        (dataset_dir / image_dir / "README.txt").write_text("ImageNet-A readme; not a class\n")
    return exp


def build_coop_tree(root: str | Path, keys: Iterable[str] | None = None) -> dict[str, ExpectedDataset]:
    """Write tiny CoOp-layout datasets under `root` (default: all 15) and return what each reader must produce."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for key in ALL_KEYS if keys is None else keys:
        if key in _JSON_SPECS:
            out[key] = _build_json_dataset(root, key)
        elif key == "fgvc_aircraft":
            out[key] = _build_fgvc(root)
        elif key == "imagenet":
            out[key] = _build_imagenet(root)
        elif key == "imagenetv2":
            out[key] = _build_imagenetv2(root)
        elif key in _DG_SPECS:
            out[key] = _build_dg(root, key)
        else:
            raise KeyError(f"no tiny CoOp tree for dataset {key!r}; known: {', '.join(ALL_KEYS)}")
    return out
