"""Render a scene description to a small RGB image with numpy.

A `Scene` is a complete, explicit description of one image (objects, colours, background, style and corruption), so
captions and labels are derived from the same facts the pixels are drawn from. Rendering draws at `SUPERSAMPLE` times
the output resolution and box-filters down, which gives anti-aliased edges at 32 px for the cost of a 64 px grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from comma_bench.world.concepts import PATTERNS, SHAPES

IMAGE_SIZE = 32  # output side in pixels; the world-tiny vision tower takes 32x32 input
SUPERSAMPLE = 2  # render grid = IMAGE_SIZE * SUPERSAMPLE, then box-filtered down

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class WorldObject:
    shape: str  # key of concepts.SHAPES
    colour: str  # colour name used in captions and labels
    rgb: RGB  # the jittered colour actually drawn, 0-255
    cx: float  # centre, fraction of the image width (may be slightly outside [0, 1]: partly visible objects)
    cy: float  # centre, fraction of the image height
    radius: float  # circumradius as a fraction of the image side
    rotation: float = 0.0  # degrees, counter-clockwise on screen
    pattern: str = "plain"  # key of concepts.PATTERNS filling the object
    pattern_colour: str = "white"  # name of the pattern's second colour (captions)
    pattern_rgb: RGB = (255.0, 255.0, 255.0)  # the second colour actually drawn
    size: str = "medium"  # size word used by captions (concepts.SIZES)


@dataclass(frozen=True)
class Scene:
    objects: tuple[WorldObject, ...]  # drawn in order; empty for full-frame textures and swatches
    background: str  # background name for captions ("white", "red", ...)
    background_rgb: RGB  # the colour actually drawn
    background_pattern: str = "plain"  # full-frame textures set this; objects then usually absent
    background_pattern_colour: str = "white"
    background_pattern_rgb: RGB = (255.0, 255.0, 255.0)
    style: str = "photo"  # "photo" (filled objects) or "sketch" (outlines only, no fills)
    line_width: float = 1.5  # sketch outline width in output pixels
    blur: float = 0.0  # box-blur radius in output pixels (0 = none)
    noise: float = 0.0  # std of additive Gaussian pixel noise, 0-255 scale
    tint: RGB = (1.0, 1.0, 1.0)  # per-channel gain: a colour cast (domain shift)
    contrast: float = 1.0  # <1 flattens the image towards its mean (domain shift)
    extras: dict[str, str] = field(default_factory=dict, compare=False)  # free facts for captions (e.g. "count")


@lru_cache(maxsize=4)
def _grid(size: int, ss: int) -> tuple[np.ndarray, np.ndarray]:
    coords = (np.arange(size * ss, dtype=np.float32) + 0.5) / ss  # output-pixel units
    x, y = np.meshgrid(coords, coords)  # x [S, S], y [S, S]
    x.flags.writeable = False  # shared by every render call
    y.flags.writeable = False
    return x, y


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def _outline(mask: np.ndarray, width: int) -> np.ndarray:
    eroded = mask.copy()
    for d in range(1, width + 1):
        for dy, dx in ((d, 0), (-d, 0), (0, d), (0, -d)):
            eroded &= _shift(mask, dy, dx)
    return mask & ~eroded


def object_mask(obj: WorldObject, x: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of an object on the grid (x, y in output pixels)."""
    a = np.deg2rad(obj.rotation)
    dx, dy = x - obj.cx * size, y - obj.cy * size
    r = obj.radius * size
    u = (dx * np.cos(a) - dy * np.sin(a)) / r
    v = (dx * np.sin(a) + dy * np.cos(a)) / r
    return SHAPES[obj.shape].mask(u, v)


def _box_blur(img: np.ndarray, radius: float) -> np.ndarray:
    # Separable box blur with a fractional radius: weights 1 at the centre taps, `frac` at the outermost.
    k = int(np.ceil(radius))
    frac = radius - (k - 1)
    w = np.ones(2 * k + 1, dtype=np.float32)
    w[0] = w[-1] = frac
    w /= w.sum()
    pad = np.pad(img, ((k, k), (k, k), (0, 0)), mode="edge")
    tmp = sum(w[i] * pad[i : i + img.shape[0], :, :] for i in range(2 * k + 1))
    return sum(w[i] * tmp[:, i : i + img.shape[1], :] for i in range(2 * k + 1))


def render(scene: Scene, rng: np.random.Generator, size: int = IMAGE_SIZE) -> np.ndarray:
    """Draw a scene. `rng` supplies the pattern parameters (period, phase) and the noise; uint8 [size, size, 3]."""
    ss = SUPERSAMPLE
    x, y = _grid(size, ss)
    bg = np.asarray(scene.background_rgb, dtype=np.float32)
    canvas = np.broadcast_to(bg, (*x.shape, 3)).copy()  # [S, S, 3]
    if scene.background_pattern != "plain":
        w = PATTERNS[scene.background_pattern](x, y, rng)[..., None]  # [S, S, 1]
        canvas = canvas * (1 - w) + np.asarray(scene.background_pattern_rgb, dtype=np.float32) * w

    for obj in scene.objects:
        mask = object_mask(obj, x, y, size)
        if scene.style == "sketch":
            line = _outline(mask, max(1, round(scene.line_width * ss / 2)))
            canvas[line] = obj.rgb
            continue
        fill = np.broadcast_to(np.asarray(obj.rgb, dtype=np.float32), (*x.shape, 3))
        if obj.pattern != "plain":
            w = PATTERNS[obj.pattern](x, y, rng)[..., None]
            fill = fill * (1 - w) + np.asarray(obj.pattern_rgb, dtype=np.float32) * w
        canvas[mask] = fill[mask]

    img = sum(canvas[i::ss, j::ss] for i in range(ss) for j in range(ss)) * (1.0 / ss**2)  # box filter [size, size, 3]
    if scene.blur > 0:
        img = _box_blur(img, scene.blur)
    if scene.contrast != 1.0:
        img = (img - img.mean()) * scene.contrast + img.mean()
    if scene.tint != (1.0, 1.0, 1.0):
        img = img * np.asarray(scene.tint, dtype=np.float32)
    if scene.noise > 0:
        img = img + rng.normal(0.0, scene.noise, img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
