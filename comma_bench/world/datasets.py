"""The built-in downstream datasets: procedural stand-ins for the eleven CoOp datasets and ImageNet's DG variants.

| key                   | plays the role of           | classes                | zero-shot template                 |
|-----------------------|-----------------------------|------------------------|------------------------------------|
| world/objects         | ImageNet (source)           | 100 colour x shape     | a photo of a {}.                   |
| world/shapes          | Caltech101 (coarse)         | 13 shapes              | a photo of a {}.                   |
| world/patterns        | DTD (textures)              | 12 fill patterns       | {} texture.                        |
| world/badges          | Pets/Cars (fine-grained)    | 20 pattern x shape     | a photo of a {}, a type of badge.  |
| world/colors          | Flowers (fine-grained)      | 18 colour names        | a photo of a {} object.            |
| world/objects-sketch  | ImageNet-Sketch (DG)        | = world/objects        | a photo of a {}.                   |
| world/objects-palette | ImageNet-R-like style (DG)  | = world/objects        | a photo of a {}.                   |
| world/objects-noise   | corruption shift (DG)       | = world/objects        | a photo of a {}.                   |

Images are never stored: a `Datum.impath` is an address `world://<name>/<split>/<index>` and the image loader
renders it on demand from a seed derived from that address, so every split is identical on every machine. Item
`index` of a split has label `index % n_classes`, classes are in sorted (alphabetical) order like CoOp's folder
listings, and the base/novel halves of the official CoOp code (README, "Datasets") follow from that order.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from comma_bench.data.coop_format import TAG_BASE2NOVEL, TAG_DG_TARGET, TAG_SOURCE, TAG_XD_TARGET
from comma_bench.data.datum import Datum
from comma_bench.data.registry import DatasetInfo, RawSplits, register_dataset
from comma_bench.errors import UserError, unknown_name
from comma_bench.world.concepts import COLOURS, PATTERNS, SHAPES
from comma_bench.world.render import IMAGE_SIZE, Scene, WorldObject, render
from comma_bench.world.scenes import (
    background,
    make_object,
    paper_background,
    pick,
    texture_scene,
)

SCHEME = "world://"
SPLITS = ("train", "val", "test")
DATASET_STREAM = 0xDA7A_5E75  # namespaces dataset seeds away from the pretraining corpus (corpus.CORPUS_STREAM)

Sampler = Callable[[np.random.Generator, str], Scene]


@dataclass(frozen=True)
class WorldDataset:
    name: str  # key suffix: the dataset is registered as `world/<name>`
    title: str  # CoOp-style DATASET.NAME recorded in run records
    classnames: tuple[str, ...]  # label order (sorted); underscores become spaces only when prompts are built
    template: str  # zero-shot template (the zsclip.py role)
    kd_template: str  # COMMA's KD reference template
    sampler: Sampler  # (rng, classname) -> scene; the whole image is a function of the rng
    per_class: tuple[int, int, int]  # train / val / test per class; test >= 1,000 per half: SE <= ~1.5 points a run
    description: str
    tags: tuple[str, ...] = ()
    has_val: bool = True  # DG targets, like ImageNet-Sketch, are a single test set served as every split

    @property
    def key(self) -> str:
        return f"world/{self.name}"

    def split_size(self, split: str) -> int:
        return self.per_class[SPLITS.index(split)] * len(self.classnames)


# ---------------------------------------------------------------------------------------------------------------------
# Samplers: what one image of a class looks like. Nuisance factors (colour, background, size, position, distractors)
# are what zero-shot CLIP has to see through and what few-shot prompt learning can adapt to.


def _distractor(rng: np.random.Generator, main: WorldObject, **kw) -> WorldObject:
    # A small second object on the opposite side of the main one.
    cx = float(np.clip(1.0 - main.cx + rng.uniform(-0.1, 0.1), 0.15, 0.85))
    cy = float(np.clip(1.0 - main.cy + rng.uniform(-0.1, 0.1), 0.15, 0.85))
    return make_object(rng, size="small", centre=(cx, cy), **kw)


def _shapes(rng: np.random.Generator, cls: str) -> Scene:
    main = make_object(rng, shape=cls, sizes=("medium", "large"), p_pattern=0.4)
    objs = [main]
    if rng.random() < 0.25:
        objs.append(_distractor(rng, main, shape=pick(rng, tuple(SHAPES), exclude=(cls,)), pattern="plain"))
    bg = background(rng, [o.rgb for o in objs], p_neutral=0.55, p_pattern=0.1)
    return Scene(objects=tuple(objs), **bg)


def _patterns(rng: np.random.Generator, cls: str) -> Scene:
    extra = dict(noise=float(rng.uniform(6, 16))) if rng.random() < 0.2 else {}
    return texture_scene(rng, cls, **extra)


BADGE_SHAPES = ("circle", "heart", "square", "star", "triangle")
BADGE_PATTERNS = ("checkered", "dotted", "plain", "striped")


def _badges(rng: np.random.Generator, cls: str) -> Scene:
    pattern, shape = cls.split("_")
    centre = (float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.4, 0.6)))
    obj = make_object(rng, shape=shape, pattern=pattern, size="large", centre=centre)
    return Scene(objects=(obj,), **background(rng, [obj.rgb, obj.pattern_rgb], p_neutral=0.8))


def _colors(rng: np.random.Generator, cls: str) -> Scene:
    # The class is the object's main colour. Nuisances: a second colour in 40% of fills, small objects, coloured
    # backgrounds, a colour cast and lowered contrast, against near shades (maroon/red, navy/blue, teal/cyan, ...).
    obj = make_object(rng, colour=cls, p_pattern=0.4)
    tint = tuple(float(t) for t in rng.uniform(0.8, 1.2, 3))
    bg = background(rng, [obj.rgb], p_neutral=0.5, min_dist=90.0)
    return Scene(objects=(obj,), **bg, tint=tint, contrast=float(rng.uniform(0.7, 1.0)))


OBJECT_COLOURS = ("black", "blue", "brown", "green", "orange", "pink", "purple", "red", "white", "yellow")
OBJECT_SHAPES = ("circle", "crescent", "cross", "diamond", "heart", "hexagon", "ring", "square", "star", "triangle")
_NEUTRAL_PATTERN_COLOURS = ("white", "black", "gray")


def _object_of(rng: np.random.Generator, cls: str, **kw) -> WorldObject:
    colour, shape = cls.split("_")
    return make_object(
        rng, shape=shape, colour=colour, sizes=("medium", "large"), pattern_colours=_NEUTRAL_PATTERN_COLOURS, **kw
    )


def _objects(rng: np.random.Generator, cls: str) -> Scene:
    main = _object_of(rng, cls, p_pattern=0.2)
    objs = [main]
    if rng.random() < 0.2:
        objs.append(_distractor(rng, main, pattern="plain"))
    return Scene(objects=tuple(objs), **background(rng, [o.rgb for o in objs], p_neutral=0.7))


def _objects_sketch(rng: np.random.Generator, cls: str) -> Scene:
    main = _object_of(rng, cls, pattern="plain")
    return Scene(
        objects=(main,), **paper_background(rng, [main.rgb]), style="sketch", line_width=float(rng.uniform(1.0, 1.8))
    )


def _objects_palette(rng: np.random.Generator, cls: str) -> Scene:
    # Shifted lighting: a strong random colour cast and flattened contrast, on saturated backgrounds.
    main = _object_of(rng, cls, p_pattern=0.2)
    bg = background(rng, [main.rgb], p_neutral=0.2, min_dist=100.0)
    tint = tuple(float(t) for t in rng.uniform(0.7, 1.25, 3))
    return Scene(objects=(main,), **bg, tint=tint, contrast=float(rng.uniform(0.55, 0.75)))


def _objects_noise(rng: np.random.Generator, cls: str) -> Scene:
    main = _object_of(rng, cls, p_pattern=0.2)
    bg = background(rng, [main.rgb], p_neutral=0.7)
    return Scene(objects=(main,), **bg, noise=float(rng.uniform(25, 45)), blur=float(rng.uniform(0.5, 1.0)))


_OBJECT_CLASSES = tuple(sorted(f"{c}_{s}" for c in OBJECT_COLOURS for s in OBJECT_SHAPES))

WORLD_DATASETS: dict[str, WorldDataset] = {
    d.name: d
    for d in (
        WorldDataset(
            name="objects",
            title="WorldObjects",
            classnames=_OBJECT_CLASSES,
            template="a photo of a {}.",
            kd_template="a photo of a {}.",
            sampler=_objects,
            per_class=(50, 10, 30),
            description="100 colour-shape classes; the source dataset of cross-dataset and DG (ImageNet's role)",
            tags=(TAG_BASE2NOVEL, TAG_SOURCE, "source"),
        ),
        WorldDataset(
            name="shapes",
            title="WorldShapes",
            classnames=tuple(sorted(SHAPES)),
            template="a photo of a {}.",
            kd_template="a photo of a {}.",
            sampler=_shapes,
            per_class=(60, 20, 170),
            description="13 coarse shape classes in any colour, fill and background, some with a distractor",
            tags=(TAG_BASE2NOVEL, TAG_XD_TARGET, "coarse"),
        ),
        WorldDataset(
            name="patterns",
            title="WorldPatterns",
            classnames=tuple(sorted(PATTERNS)),
            template="{} texture.",
            kd_template="a photo of a {}, a type of texture.",
            sampler=_patterns,
            per_class=(60, 20, 170),
            description="12 full-frame texture classes in random colour pairs (DTD's role)",
            tags=(TAG_BASE2NOVEL, TAG_XD_TARGET, "texture"),
        ),
        WorldDataset(
            name="badges",
            title="WorldBadges",
            classnames=tuple(sorted(f"{p}_{s}" for p in BADGE_PATTERNS for s in BADGE_SHAPES)),
            template="a photo of a {}, a type of badge.",
            kd_template="a photo of a {}, a type of badge.",
            sampler=_badges,
            per_class=(60, 20, 100),
            description="20 fine-grained fill-pattern x shape classes (colour irrelevant, patterns similar at 32 px)",
            tags=(TAG_BASE2NOVEL, TAG_XD_TARGET, "fine_grained"),
        ),
        WorldDataset(
            name="colors",
            title="WorldColors",
            classnames=tuple(sorted(COLOURS)),
            template="a photo of a {} object.",
            kd_template="a photo of a {} object.",
            sampler=_colors,
            per_class=(60, 20, 120),
            description="18 fine-grained colour classes with near shades, colour casts and two-colour fills",
            tags=(TAG_BASE2NOVEL, TAG_XD_TARGET, "fine_grained"),
        ),
        WorldDataset(
            name="objects-sketch",
            title="WorldObjectsSketch",
            classnames=_OBJECT_CLASSES,
            template="a photo of a {}.",
            kd_template="a photo of a {}.",
            sampler=_objects_sketch,
            per_class=(0, 0, 30),
            description="world/objects as coloured outline sketches on paper (ImageNet-Sketch's role)",
            tags=(TAG_DG_TARGET,),
            has_val=False,
        ),
        WorldDataset(
            name="objects-palette",
            title="WorldObjectsPalette",
            classnames=_OBJECT_CLASSES,
            template="a photo of a {}.",
            kd_template="a photo of a {}.",
            sampler=_objects_palette,
            per_class=(0, 0, 30),
            description="world/objects under a strong colour cast with low contrast on saturated backgrounds",
            tags=(TAG_DG_TARGET,),
            has_val=False,
        ),
        WorldDataset(
            name="objects-noise",
            title="WorldObjectsNoise",
            classnames=_OBJECT_CLASSES,
            template="a photo of a {}.",
            kd_template="a photo of a {}.",
            sampler=_objects_noise,
            per_class=(0, 0, 30),
            description="world/objects with heavy pixel noise and blur (a corruption shift)",
            tags=(TAG_DG_TARGET,),
            has_val=False,
        ),
    )
}


# ---------------------------------------------------------------------------------------------------------------------
# Addresses, items and images.


def get_world_dataset(name: str) -> WorldDataset:
    """A built-in dataset by name (`shapes`) or key (`world/shapes`)."""
    short = name.removeprefix("world/")
    if short not in WORLD_DATASETS:
        raise unknown_name("built-in dataset", name, [d.key for d in WORLD_DATASETS.values()])
    return WORLD_DATASETS[short]


def address(name: str, split: str, index: int) -> str:
    return f"{SCHEME}{name}/{split}/{index}"


def parse_address(impath: str) -> tuple[WorldDataset, str, int]:
    """`world://<name>/<split>/<index>` -> (dataset, split, index); bad addresses raise UserError."""
    expected = "expected world://<dataset>/<train|val|test>/<index>"
    if not impath.startswith(SCHEME):
        raise UserError(f"{impath!r}: {expected}")
    parts = impath[len(SCHEME) :].split("/")
    if len(parts) != 3 or parts[1] not in SPLITS or not parts[2].isdigit():
        raise UserError(f"{impath!r}: {expected}")
    ds = get_world_dataset(parts[0])
    split = parts[1] if ds.has_val else "test"
    index = int(parts[2])
    if index >= ds.split_size(split):
        raise UserError(f"{impath!r}: index out of range, the {split} split has {ds.split_size(split)} images")
    return ds, split, index


def items(ds: WorldDataset, split: str) -> list[Datum]:
    """The full list of one split, in index order (labels cycle through the classes)."""
    split = split if ds.has_val else "test"
    n = len(ds.classnames)
    return [Datum(address(ds.name, split, i), i % n, ds.classnames[i % n]) for i in range(ds.split_size(split))]


def scene_for(ds: WorldDataset, split: str, index: int) -> tuple[Scene, np.random.Generator]:
    """The scene of one item and the generator positioned to render it (so pattern phases are reproducible too)."""
    rng = np.random.default_rng([DATASET_STREAM, zlib.crc32(ds.name.encode()), SPLITS.index(split), index])
    return ds.sampler(rng, ds.classnames[index % len(ds.classnames)]), rng


@lru_cache(maxsize=32768)
def _pixels(name: str, split: str, index: int) -> bytes:
    ds = WORLD_DATASETS[name]
    scene, rng = scene_for(ds, split, index)
    return render(scene, rng).tobytes()


def render_item(impath: str) -> np.ndarray:
    """uint8 [32, 32, 3] pixels of a `world://` address (cached: epochs revisit the same few-shot images)."""
    ds, split, index = parse_address(impath)
    return np.frombuffer(_pixels(ds.name, split, index), dtype=np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE, 3)


def load_image(impath: str) -> Image.Image:
    """The dataset registry's image loader for built-in datasets: a PIL RGB image rendered from the address."""
    return Image.fromarray(render_item(impath).copy(), mode="RGB")


def read_splits(ds: WorldDataset) -> RawSplits:
    if not ds.has_val:
        test = items(ds, "test")
        return RawSplits(train=test, val=test, test=test)
    return RawSplits(train=items(ds, "train"), val=items(ds, "val"), test=items(ds, "test"))


def _register(ds: WorldDataset) -> None:
    register_dataset(
        DatasetInfo(
            key=ds.key,
            name=ds.title,
            folder="",
            template=ds.template,
            kd_template=ds.kd_template,
            read=lambda _dataset_dir, ds=ds: read_splits(ds),
            has_val=ds.has_val,
            builtin=True,
            image_loader=load_image,
            description=ds.description,
            tags=ds.tags,
        )
    )


for _ds in WORLD_DATASETS.values():
    _register(_ds)
