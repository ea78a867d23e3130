"""Random scene construction: the building blocks shared by the pretraining stream and the downstream datasets.

Everything takes an explicit `numpy.random.Generator`, so a scene (and therefore its image and caption) is a pure
function of the generator's seed.
"""

from __future__ import annotations

import numpy as np

from comma_bench.world.concepts import (
    COLOURS,
    LIGHT_BACKGROUND_SHARE,
    LIGHT_BACKGROUNDS,
    NEUTRAL_BACKGROUNDS,
    PATTERNS,
    SHAPES,
    SIZES,
)
from comma_bench.world.render import RGB, Scene, WorldObject

PATTERN_NAMES = tuple(PATTERNS)
SHAPE_NAMES = tuple(SHAPES)
COLOUR_NAMES = tuple(COLOURS)


def jitter(rng: np.random.Generator, rgb: tuple[int, int, int] | RGB, amount: float = 14.0) -> RGB:
    """A colour near `rgb`: a shared brightness change plus independent per-channel noise."""
    gain = rng.uniform(0.9, 1.08)
    c = np.clip(np.asarray(rgb, dtype=np.float64) * gain + rng.normal(0.0, amount / 2, 3), 0, 255)
    return (float(c[0]), float(c[1]), float(c[2]))


def colour_distance(a: RGB | tuple[int, int, int], b: RGB | tuple[int, int, int]) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], exclude: tuple[str, ...] = ()) -> str:
    pool = [o for o in options if o not in exclude]
    return pool[int(rng.integers(len(pool)))]


def contrasting_colour(
    rng: np.random.Generator, against: list[RGB], options: tuple[str, ...] = COLOUR_NAMES, min_dist: float = 120.0
) -> str:
    """A colour name whose centre is at least `min_dist` from every colour in `against` (falls back to the farthest)."""
    order = [options[i] for i in rng.permutation(len(options))]
    for name in order:
        if all(colour_distance(COLOURS[name], a) >= min_dist for a in against):
            return name
    return max(order, key=lambda n: min(colour_distance(COLOURS[n], a) for a in against))


def background(
    rng: np.random.Generator, avoid: list[RGB], p_neutral: float = 0.65, p_pattern: float = 0.0, min_dist: float = 110.0
) -> dict:
    """Keyword arguments of `Scene` for a background that stays visible against the colours in `avoid`."""
    if rng.random() < p_neutral:
        light = rng.random() < LIGHT_BACKGROUND_SHARE
        pool = [n for n in NEUTRAL_BACKGROUNDS if (n in LIGHT_BACKGROUNDS) == light]
        names = [n for n in pool if all(colour_distance(NEUTRAL_BACKGROUNDS[n], a) >= min_dist for a in avoid)]
        if not names:
            names = [
                max(NEUTRAL_BACKGROUNDS, key=lambda n: min(colour_distance(NEUTRAL_BACKGROUNDS[n], a) for a in avoid))
            ]
        name = names[int(rng.integers(len(names)))]
        kw = dict(background=name, background_rgb=jitter(rng, NEUTRAL_BACKGROUNDS[name], 8.0))
    else:
        name = contrasting_colour(rng, avoid, min_dist=min_dist)
        kw = dict(background=name, background_rgb=jitter(rng, COLOURS[name]))
    if p_pattern > 0 and rng.random() < p_pattern:
        second = contrasting_colour(rng, [kw["background_rgb"], *avoid], min_dist=60.0)
        kw.update(
            background_pattern=pick(rng, PATTERN_NAMES, exclude=("plain",)),
            background_pattern_colour=second,
            background_pattern_rgb=jitter(rng, COLOURS[second]),
        )
    return kw


def make_object(
    rng: np.random.Generator,
    *,
    shape: str | None = None,
    colour: str | None = None,
    pattern: str | None = None,
    size: str | None = None,
    p_pattern: float = 0.5,
    pattern_colours: tuple[str, ...] = COLOUR_NAMES,
    sizes: tuple[str, ...] = tuple(SIZES),
    centre: tuple[float, float] | None = None,
) -> WorldObject:
    """One object; unspecified attributes are drawn at random."""
    shape = shape or pick(rng, SHAPE_NAMES)
    colour = colour or pick(rng, COLOUR_NAMES)
    rgb = jitter(rng, COLOURS[colour])
    if pattern is None:
        pattern = pick(rng, PATTERN_NAMES, exclude=("plain",)) if rng.random() < p_pattern else "plain"
    pattern_colour, pattern_rgb = "white", (255.0, 255.0, 255.0)
    if pattern != "plain":
        pattern_colour = contrasting_colour(rng, [rgb], options=pattern_colours, min_dist=110.0)
        pattern_rgb = jitter(rng, COLOURS[pattern_colour])
    size = size or pick(rng, sizes)
    lo, hi = SIZES[size]
    radius = float(rng.uniform(lo, hi))
    if centre is None:
        margin = min(radius * 0.8, 0.42)
        centre = (float(rng.uniform(margin, 1 - margin)), float(rng.uniform(margin, 1 - margin)))
    spec = SHAPES[shape]
    rotation = float(rng.uniform(-spec.rotation, spec.rotation)) if spec.rotation else 0.0
    if spec.mirrored and rng.random() < 0.5:
        rotation += 180.0
    return WorldObject(
        shape=shape,
        colour=colour,
        rgb=rgb,
        cx=centre[0],
        cy=centre[1],
        radius=radius,
        rotation=rotation,
        pattern=pattern,
        pattern_colour=pattern_colour,
        pattern_rgb=pattern_rgb,
        size=size,
    )


def spread_centres(rng: np.random.Generator, n: int, radius: float) -> list[tuple[float, float]]:
    """Centres for `n` objects of about `radius` that overlap little (rejection sampling with a fallback)."""
    margin = min(radius * 0.9, 0.4)
    centres: list[tuple[float, float]] = []
    for _ in range(60):
        if len(centres) == n:
            break
        c = (float(rng.uniform(margin, 1 - margin)), float(rng.uniform(margin, 1 - margin)))
        if all((c[0] - o[0]) ** 2 + (c[1] - o[1]) ** 2 >= (1.9 * radius) ** 2 for o in centres):
            centres.append(c)
    while len(centres) < n:
        centres.append((float(rng.uniform(margin, 1 - margin)), float(rng.uniform(margin, 1 - margin))))
    return centres


def texture_scene(rng: np.random.Generator, pattern: str, **style) -> Scene:
    """A full-frame texture in two contrasting colours (the DTD-like view of a pattern)."""
    first = pick(rng, COLOUR_NAMES)
    first_rgb = jitter(rng, COLOURS[first])
    second = contrasting_colour(rng, [first_rgb], min_dist=100.0)
    return Scene(
        objects=(),
        background=first,
        background_rgb=first_rgb,
        background_pattern=pattern,
        background_pattern_colour=second,
        background_pattern_rgb=jitter(rng, COLOURS[second]),
        **style,
    )


PAPERS = ("white", "beige", "light gray")


def paper_background(rng: np.random.Generator, avoid: list[RGB]) -> dict:
    """A light paper colour for outline sketches, as far as possible from the stroke colours."""
    names = [n for n in PAPERS if all(colour_distance(NEUTRAL_BACKGROUNDS[n], a) >= 70.0 for a in avoid)]
    if not names:
        names = [max(PAPERS, key=lambda n: min(colour_distance(NEUTRAL_BACKGROUNDS[n], a) for a in avoid))]
    name = names[int(rng.integers(len(names)))]
    return dict(background=name, background_rgb=jitter(rng, NEUTRAL_BACKGROUNDS[name], 6.0))
