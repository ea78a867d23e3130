"""Deterministic inputs for the benchmarks: class names of realistic BPE length and a CoOp-layout JPEG dataset.

Why realistic lengths matter: the text tower's exact truncation runs max(EOT)+1 positions instead of 77, so its gain
depends on the longest prompt of the batch. Real class lists mix one-word names ("tench") with long multi-word
ones ("2012 Mercedes-Benz Sprinter Van", "Herbaceous Vegetation Land"); the names here combine one to four words,
some of them rare (several BPE tokens each), so "a photo of a {name}." prompts have ImageNet-like lengths. The
benchmarks record the resulting truncated length next to every number.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WORDS = (
    "red", "tailed", "hawk", "golden", "retriever", "great", "white", "shark", "tiger", "cat", "barn", "owl",
    "spotted", "salamander", "common", "newt", "fire", "engine", "garbage", "truck", "sports", "car", "convertible",
    "airliner", "container", "ship", "mountain", "bike", "unicycle", "espresso", "maker", "dining", "table",
    "grand", "piano", "acoustic", "guitar", "electric", "fan", "rocking", "chair", "swimming", "trunks", "wool",
    "sweater", "apple", "pie", "baby", "back", "ribs", "baklava", "beef", "carpaccio", "tartare", "bruschetta",
    "eggs", "benedict", "hot", "sour", "soup", "annual", "crop", "land", "herbaceous", "vegetation", "industrial",
    "buildings", "river", "sea", "lake", "banded", "blotchy", "braided", "bubbly", "bumpy", "chequered",
    "crystalline", "honeycombed", "abbey", "airplane", "cabin", "bakery", "shop", "ballroom", "bamboo", "forest",
    "apply", "eye", "makeup", "lipstick", "archery", "balance", "beam", "basketball", "dunk", "playing", "cello",
    "axolotl", "chickadee", "weimaraner", "schipperke", "bernese", "leonberger", "ptarmigan", "hammerhead",
    "mercedes", "benz", "sprinter", "van", "hyundai", "tucson", "suv", "boeing", "cessna", "falcon", "globe",
    "thistle", "canterbury", "bells", "hard", "leaved", "pocket", "orchid", "primrose", "snapdragon", "colt",
    "foxglove", "bishop", "llandaff", "gazania", "bougainvillea", "anthurium", "frangipani", "passion", "flower",
)  # fmt: skip

WORDS_PER_NAME = (1, 1, 2, 2, 2, 3, 3, 4)  # drawn uniformly: mostly 1-3 words, sometimes 4


def classnames(n: int, seed: int = 0) -> list[str]:
    """`n` distinct class names of 1-4 words (a few with a model year), the same for every call with this seed."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        words = rng.sample(WORDS, rng.choice(WORDS_PER_NAME))
        if rng.random() < 0.05:
            words.insert(0, str(rng.randint(1990, 2012)))  # Stanford Cars style: "2012 Tesla Model S"
        name = "_".join(words) if rng.random() < 0.3 else " ".join(words)  # some with underscores, as pets/food
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def jpeg_image(rng: np.random.Generator, size: int) -> Image.Image:
    """A size x size RGB picture with texture and shapes, so that JPEG decoding costs what a photo costs."""
    coarse = rng.integers(0, 256, size=(size // 16, size // 16, 3), dtype=np.uint8)
    base = Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC)  # smooth colour regions
    pixels = np.asarray(base, dtype=np.int16) + rng.integers(-24, 25, size=(size, size, 3), dtype=np.int16)
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = (int(v) for v in rng.integers(0, size - 8, size=2))
        x1, y1 = x0 + int(rng.integers(8, size // 2)), y0 + int(rng.integers(8, size // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), outline=colour, width=3)
    return img


def write_flowers_tree(root: Path, *, n_test: int, n_classes: int = 10, size: int = 256, seed: int = 0) -> Path:
    """An Oxford Flowers CoOp tree (`oxford_flowers/jpg/*.jpg` + `split_zhou_OxfordFlowers.json`) under `root`.

    The test split holds `n_test` JPEGs (quality 90); train and val hold one image per class, enough for the reader.
    Returns `root` (the `$DATA` folder `load_dataset("oxford_flowers", root)` expects).
    """
    rng = np.random.default_rng(seed)
    dataset_dir = root / "oxford_flowers"
    (dataset_dir / "jpg").mkdir(parents=True, exist_ok=True)
    names = classnames(n_classes, seed)
    split: dict[str, list] = {"train": [], "val": [], "test": []}
    number = 0
    counts = {"train": n_classes, "val": n_classes, "test": n_test}
    for part, count in counts.items():
        for i in range(count):
            number += 1
            label = i % n_classes
            rel = f"image_{number:05d}.jpg"
            jpeg_image(rng, size).save(dataset_dir / "jpg" / rel, format="JPEG", quality=90)
            split[part].append([rel, label, names[label]])
    (dataset_dir / "split_zhou_OxfordFlowers.json").write_text(json.dumps(split))
    return root
