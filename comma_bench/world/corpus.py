"""The pretraining corpus: an endless, seeded stream of (image, caption) pairs.

Pair `i` of seed `s` is a pure function of `(s, i)`, so any batch can be regenerated without replaying the stream
and two pretraining runs with the same seed see identical data. The mixture covers every concept of the world
(objects alone and in groups, full-frame textures, outline sketches, noisy and faded photos), so zero-shot
classification can transfer to the downstream datasets, whose images come from different seeds.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from comma_bench.world.captions import scene_caption
from comma_bench.world.concepts import COLOURS
from comma_bench.world.render import Scene, render
from comma_bench.world.scenes import (
    COLOUR_NAMES,
    PATTERN_NAMES,
    SHAPE_NAMES,
    background,
    contrasting_colour,
    make_object,
    paper_background,
    pick,
    spread_centres,
    texture_scene,
)

CORPUS_STREAM = 0x5EED_C0DE  # namespaces the pretraining seeds away from the downstream datasets' seeds


def _style(rng: np.random.Generator) -> dict:
    r = rng.random()
    if r < 0.08:
        return dict(style="sketch", line_width=float(rng.uniform(1.0, 2.0)))
    if r < 0.13:
        return dict(noise=float(rng.uniform(12, 35)))
    if r < 0.18:
        return dict(blur=float(rng.uniform(0.6, 1.2)))
    if r < 0.22:
        return dict(contrast=float(rng.uniform(0.5, 0.75)), tint=tuple(float(t) for t in rng.uniform(0.75, 1.2, 3)))
    return {}


def sample_scene(rng: np.random.Generator) -> Scene:
    """One pretraining scene: 70% objects (1-3), 30% full-frame textures."""
    if rng.random() < 0.3:
        extra = dict(noise=float(rng.uniform(8, 25))) if rng.random() < 0.1 else {}
        return texture_scene(rng, pick(rng, PATTERN_NAMES), **extra)
    style = _style(rng)
    n = int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1]))
    if n == 1 and rng.random() < 0.1:
        # A close-up, partly out of frame: the view a random-resized crop of a downstream training image gives.
        obj = make_object(rng, size="large", centre=(float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.35, 0.65))))
        objs = [dataclasses.replace(obj, radius=float(rng.uniform(0.45, 0.75)), size="large")]
        style.setdefault("extras", {})["closeup"] = "yes"
    elif n == 1:
        objs = [make_object(rng)]
    else:
        size = pick(rng, ("small", "medium"))
        centres = spread_centres(rng, n, 0.2 if size == "small" else 0.26)
        if rng.random() < 0.5:  # a group of identical objects: "two red stars"
            shape, colour = pick(rng, SHAPE_NAMES), pick(rng, COLOUR_NAMES)
            objs = [make_object(rng, shape=shape, colour=colour, pattern="plain", size=size, centre=c) for c in centres]
        else:
            objs = [make_object(rng, size=size, centre=c) for c in centres]
    avoid = [o.rgb for o in objs]
    if style.get("style") == "sketch":
        bg = paper_background(rng, avoid)
    else:
        bg = background(rng, avoid, p_neutral=0.75, p_pattern=0.1)
    return Scene(objects=tuple(objs), **bg, **style)


# Hard-negative groups. Contrastive learning only learns what tells the pairs of a batch apart, and colour, fill and
# background alone nearly always do; shape would then be ignored. So consecutive pairs come in groups of GROUP_SIZE
# that share everything except one concept (shape, colour or fill pattern), the way curated web batches contain
# near-duplicates. Every batch (a multiple of GROUP_SIZE consecutive pairs) holds whole groups.
GROUP_SIZE = 4
GROUP_KINDS = ("shape", "colour", "pattern", "free")  # "free": independent scenes from `sample_scene`
GROUP_PROBS = (0.45, 0.15, 0.15, 0.25)


def group_scene(grng: np.random.Generator, rng: np.random.Generator, member: int) -> Scene:
    """Member `member` of the group whose shared facts come from `grng` (identical for all members of a group)."""
    kind = GROUP_KINDS[int(grng.choice(len(GROUP_KINDS), p=GROUP_PROBS))]
    if kind == "free":
        return sample_scene(rng)
    shapes = [SHAPE_NAMES[i] for i in grng.permutation(len(SHAPE_NAMES))]
    colours = [COLOUR_NAMES[i] for i in grng.permutation(len(COLOUR_NAMES))]
    fills = [p for p in (PATTERN_NAMES[i] for i in grng.permutation(len(PATTERN_NAMES))) if p != "plain"]
    shape, colour = shapes[0], colours[0]
    fill = fills[0] if grng.random() < 0.5 else "plain"
    if kind == "pattern" and grng.random() < 0.4:  # full-frame textures in one colour pair, differing in pattern
        return texture_scene(grng_copy(grng), ["plain", *fills][member])
    style = _style(grng)
    if kind == "shape":
        shape = shapes[member]
    elif kind == "colour":
        colour = colours[member]
    else:
        fill = ["plain", *fills][member]
    group_colours = colours[:GROUP_SIZE] if kind == "colour" else [colour]
    avoid = [COLOURS[c] for c in group_colours]
    pattern_colour = contrasting_colour(grng, avoid, min_dist=110.0)
    sketch = style.get("style") == "sketch"
    bg = paper_background(grng, avoid) if sketch else background(grng, avoid, p_neutral=0.75, p_pattern=0.1)
    if kind == "shape" and grng.random() < 0.6:
        fill = "plain"  # clean silhouettes: the shape is the only thing that tells the members apart
    sizes = ("medium", "large") if kind == "shape" else ("small", "medium", "large")
    obj = make_object(rng, shape=shape, colour=colour, pattern=fill, pattern_colours=(pattern_colour,), sizes=sizes)
    return Scene(objects=(obj,), **bg, **style)


def grng_copy(grng: np.random.Generator) -> np.random.Generator:
    """An independent copy of a group generator, so members draw identical shared colours from it."""
    copy = np.random.default_rng()
    copy.bit_generator.state = grng.bit_generator.state
    return copy


def sample(seed: int, index: int, fine_rate: float = 1.0, pattern_rate: float = 0.8) -> tuple[Scene, np.ndarray, str]:
    """Pair `index` of the stream with seed `seed`, with the scene it was drawn from: (scene, image, caption).

    `fine_rate` and `pattern_rate` set the captions' vocabulary (`captions.Words`); they change captions only.
    """
    group, member = divmod(index, GROUP_SIZE)
    grng = np.random.default_rng([CORPUS_STREAM, seed, group])
    rng = np.random.default_rng([CORPUS_STREAM, seed, group, member])
    scene = group_scene(grng, rng, member)
    # The caption has a generator of its own, so the caption design can change without changing any image.
    caption = scene_caption(
        np.random.default_rng([CORPUS_STREAM, seed, group, member, 1]),
        scene,
        fine_rate=fine_rate,
        pattern_rate=pattern_rate,
    )
    return scene, render(scene, rng), caption


def example(seed: int, index: int, fine_rate: float = 1.0) -> tuple[np.ndarray, str]:
    """Pair `index` of the stream with seed `seed`: (uint8 image [32, 32, 3], caption)."""
    _, image, caption = sample(seed, index, fine_rate)
    return image, caption


IGNORE = -100  # label value for "not defined for this scene" (cross-entropy ignore_index)


def scene_labels(scene: Scene) -> tuple[int, int, int]:
    """(shape, colour, fill pattern) class ids of what a scene shows, IGNORE where it shows none or several.

    Used only by the image-tower warm-up stage of pretraining (`comma_bench.world.pretrain`).
    """
    if not scene.objects:  # a full-frame texture: its pattern and its first colour
        return IGNORE, COLOUR_NAMES.index(scene.background), PATTERN_NAMES.index(scene.background_pattern)

    def common(values: list[str], names: tuple[str, ...]) -> int:
        return names.index(values[0]) if len(set(values)) == 1 else IGNORE

    objs = scene.objects
    shape = common([o.shape for o in objs], SHAPE_NAMES)
    colour = common([o.colour for o in objs], COLOUR_NAMES)
    fill = IGNORE if scene.style == "sketch" else common([o.pattern for o in objs], PATTERN_NAMES)
    return shape, colour, fill
