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
from comma_bench.world.render import Scene, render
from comma_bench.world.scenes import (
    COLOUR_NAMES,
    PATTERN_NAMES,
    SHAPE_NAMES,
    background,
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
        bg = background(rng, avoid, p_pattern=0.1)
    return Scene(objects=tuple(objs), **bg, **style)


def example(seed: int, index: int) -> tuple[np.ndarray, str]:
    """Pair `index` of the stream with seed `seed`: (uint8 image [32, 32, 3], caption)."""
    rng = np.random.default_rng([CORPUS_STREAM, seed, index])
    scene = sample_scene(rng)
    caption = scene_caption(rng, scene)
    return render(scene, rng), caption
