"""The vocabularies of the built-in world: colours, shapes, fill patterns, sizes and positions.

Every concept has a plain English name, because the same names appear in the pretraining captions and in the class
names of the downstream datasets: zero-shot transfer to an unseen class set works only if the text encoder met those
words during pretraining. Shapes and patterns are pure functions of coordinate grids so that rendering stays a few
vectorised numpy operations per image (pretraining must not be data-bound).

Coordinates: image pixels grow rightwards (x) and downwards (y). Shape functions receive object-local coordinates
(u, v) scaled so that the object's circumradius is 1; pattern functions receive image coordinates in output pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------------------------------------------------------------
# Colours: name -> sRGB centre. Per-image jitter is added by the renderer. The first twelve are the basic colour terms;
# the last six are fine-grained neighbours of one of them (maroon~red, gold~yellow, lime~green, teal~cyan, navy~blue,
# magenta~purple/pink) and make `world/colors` a fine-grained set.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "orange": (240, 130, 25),
    "yellow": (240, 220, 40),
    "green": (40, 160, 55),
    "blue": (35, 75, 215),
    "purple": (125, 55, 175),
    "pink": (245, 140, 190),
    "brown": (125, 80, 40),
    "gray": (128, 128, 128),
    "black": (22, 22, 22),
    "white": (242, 242, 242),
    "cyan": (50, 205, 225),
    "maroon": (120, 20, 45),
    "gold": (205, 160, 30),
    "lime": (165, 230, 45),
    "teal": (20, 125, 125),
    "navy": (20, 30, 105),
    "magenta": (220, 40, 200),
}
BASIC_COLOURS = tuple(list(COLOURS)[:12])

# Neutral backgrounds used when a scene's background is not a colour from the palette. Light ones are the usual
# photo/icon convention and are drawn more often (LIGHT_BACKGROUND_SHARE).
NEUTRAL_BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (240, 240, 238),
    "light gray": (200, 200, 200),
    "dark gray": (70, 70, 72),
    "black": (18, 18, 20),
    "beige": (225, 210, 180),
}
LIGHT_BACKGROUNDS = ("white", "light gray", "beige")
LIGHT_BACKGROUND_SHARE = 0.8


# ---------------------------------------------------------------------------------------------------------------------
# Shapes: name -> mask function of local coordinates and the rotations it is drawn with.
def _regular_polygon(n: int, phase: float = -np.pi / 2) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    # A vertex at `phase` (pointing up by default); inside = on the inner side of every edge.
    normals = phase + np.pi / n + 2 * np.pi * np.arange(n) / n
    apothem = np.cos(np.pi / n)

    def mask(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        d = u[..., None] * np.cos(normals) + v[..., None] * np.sin(normals)  # [H, W, n]
        return d.max(-1) <= apothem

    return mask


def _star(points: int = 5, inner: float = 0.45) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    # A star polygon is star-shaped around its centre: find the angular sector of each pixel and test it against the
    # edge joining that sector's two vertices.
    step = np.pi / points
    angles = -np.pi / 2 + step * np.arange(2 * points + 1)
    radii = np.where(np.arange(2 * points + 1) % 2 == 0, 1.0, inner)
    vx, vy = radii * np.cos(angles), radii * np.sin(angles)

    def mask(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        theta = np.mod(np.arctan2(v, u) + np.pi / 2, 2 * np.pi)
        k = np.minimum((theta / step).astype(int), 2 * points - 1)
        ax, ay, bx, by = vx[k], vy[k], vx[k + 1], vy[k + 1]
        # Same side of edge AB as the origin <=> cross products have the same sign.
        side_p = (bx - ax) * (v - ay) - (by - ay) * (u - ax)
        side_o = (bx - ax) * (-ay) - (by - ay) * (-ax)
        return side_p * side_o >= 0

    return mask


def _heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    x, y = u * 1.15, -v * 1.15 + 0.2
    return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0


def _arrow(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    shaft = (u >= -1.0) & (u <= 0.15) & (np.abs(v) <= 0.24)
    head = (u >= 0.05) & (u <= 1.0) & (np.abs(v) <= (1.0 - u) * 0.8)
    return shaft | head


@dataclass(frozen=True)
class Shape:
    mask: Callable[[np.ndarray, np.ndarray], np.ndarray]  # local (u, v) -> bool inside; circumradius 1
    rotation: float  # max |rotation| in degrees: icons stand upright, with a little jitter
    mirrored: bool = False  # also drawn rotated by 180 degrees (an arrow points left or right)


# Icons are drawn upright (small jitter only), as objects mostly are in photos. Free rotation made shape the slowest
# concept to learn by far: a supervised probe of the image tower reached 42% on eight shapes after 200 steps with free
# rotation, 58% upright, 80% upright on light backgrounds.
SHAPES: dict[str, Shape] = {
    "circle": Shape(lambda u, v: u * u + v * v <= 1.0, 0),
    "oval": Shape(lambda u, v: u * u + (v / 0.58) ** 2 <= 1.0, 8),
    "square": Shape(lambda u, v: np.maximum(np.abs(u), np.abs(v)) <= 0.78, 8),
    "triangle": Shape(_regular_polygon(3), 8),
    "diamond": Shape(lambda u, v: np.abs(u) / 0.75 + np.abs(v) <= 1.0, 8),
    "pentagon": Shape(_regular_polygon(5), 8),
    "hexagon": Shape(_regular_polygon(6, 0.0), 8),
    "star": Shape(_star(), 8),
    "heart": Shape(_heart, 8),
    "cross": Shape(
        lambda u, v: ((np.abs(u) <= 0.3) & (np.abs(v) <= 0.92)) | ((np.abs(u) <= 0.92) & (np.abs(v) <= 0.3)), 8
    ),
    "ring": Shape(lambda u, v: (u * u + v * v <= 1.0) & (u * u + v * v >= 0.36), 0),
    "crescent": Shape(
        lambda u, v: (u * u + v * v <= 1.0) & ((u - 0.5) ** 2 + (v + 0.1) ** 2 > 0.72), 10, mirrored=True
    ),
    "arrow": Shape(_arrow, 8, mirrored=True),
}


# ---------------------------------------------------------------------------------------------------------------------
# Fill patterns: name -> function (x, y, rng) -> weight of the second colour in [0, 1]. Parameters (period, angle,
# phase) are drawn from `rng`, so one pattern name covers a family of textures. Orientations are chosen so that a
# horizontal flip (the training augmentation) never turns one pattern into another.
def _rotate(x: np.ndarray, y: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.deg2rad(deg)
    return x * np.cos(a) + y * np.sin(a), -x * np.sin(a) + y * np.cos(a)


def _period(rng: np.random.Generator, lo: float = 3.6, hi: float = 6.5) -> float:
    return float(rng.uniform(lo, hi))


def _plain(x, y, rng):
    return np.zeros_like(x)


def _striped(x, y, rng):
    p = _period(rng)
    u, _ = _rotate(x, y, float(rng.choice([0.0, 90.0, 45.0, 135.0])) + rng.uniform(-6, 6))
    return (np.mod(u / p + rng.uniform(), 1.0) < 0.5).astype(np.float32)


def _checkered(x, y, rng):
    p = _period(rng, 3.2, 5.5)
    u, v = _rotate(x, y, float(rng.choice([0.0, 45.0])) + rng.uniform(-5, 5))
    return (np.mod(np.floor(u / p + rng.uniform()) + np.floor(v / p + rng.uniform()), 2) == 1).astype(np.float32)


def _dotted(x, y, rng):
    p = _period(rng, 4.5, 7.0)
    u, v = _rotate(x, y, rng.uniform(-10, 10))
    du = np.mod(u / p + rng.uniform(), 1.0) - 0.5
    dv = np.mod(v / p + rng.uniform(), 1.0) - 0.5
    return (du * du + dv * dv <= rng.uniform(0.22, 0.32) ** 2).astype(np.float32)


def _lines(x, y, rng, angle: float, width: float):
    p = _period(rng, 4.5, 7.0)
    u, v = _rotate(x, y, angle + rng.uniform(-5, 5))
    a = np.mod(u + rng.uniform() * p, p) < width
    b = np.mod(v + rng.uniform() * p, p) < width
    return (a | b).astype(np.float32)


def _grid(x, y, rng):
    return _lines(x, y, rng, 0.0, 1.2)


def _crosshatched(x, y, rng):
    return _lines(x, y, rng, 45.0, 1.0)


def _wave(x, y, rng, kind: str):
    p = _period(rng, 4.5, 7.0)
    u, v = _rotate(x, y, float(rng.choice([0.0, 90.0])))
    lam, amp = rng.uniform(6.0, 10.0), rng.uniform(1.3, 2.2)
    t = u / lam + rng.uniform()
    off = amp * (4 * np.abs(np.mod(t, 1.0) - 0.5) - 1) if kind == "zigzag" else amp * np.sin(2 * np.pi * t)
    return (np.mod((v + off) / p + rng.uniform(), 1.0) < 0.5).astype(np.float32)


def _zigzag(x, y, rng):
    return _wave(x, y, rng, "zigzag")


def _wavy(x, y, rng):
    return _wave(x, y, rng, "wavy")


def _speckled(x, y, rng):
    cell = float(rng.choice([1.0, 1.5, 2.0]))
    ix = np.floor((x - x.min()) / cell).astype(int)
    iy = np.floor((y - y.min()) / cell).astype(int)
    noise = rng.random((iy.max() + 1, ix.max() + 1))
    return (noise[iy, ix] < rng.uniform(0.25, 0.45)).astype(np.float32)


def _gradient(x, y, rng):
    u, _ = _rotate(x, y, rng.uniform(0, 360))
    return ((u - u.min()) / max(float(np.ptp(u)), 1e-6)).astype(np.float32)


def _brick(x, y, rng):
    h = _period(rng, 4.0, 6.0)
    w = 2.0 * h
    u, v = x + rng.uniform() * w, y + rng.uniform() * h
    row = np.floor(v / h)
    mortar_h = np.mod(v, h) < 1.0
    mortar_v = np.mod(u + (np.mod(row, 2) * w / 2), w) < 1.0
    return (mortar_h | mortar_v).astype(np.float32)


def _bullseye(x, y, rng):
    p = _period(rng, 4.0, 6.5)
    cx = (x.max() + x.min()) / 2 + rng.uniform(-3, 3)
    cy = (y.max() + y.min()) / 2 + rng.uniform(-3, 3)
    r = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    return (np.mod(r / p, 1.0) < 0.5).astype(np.float32)


PatternFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]

PATTERNS: dict[str, PatternFn] = {
    "plain": _plain,
    "striped": _striped,
    "checkered": _checkered,
    "dotted": _dotted,
    "grid": _grid,
    "crosshatched": _crosshatched,
    "zigzag": _zigzag,
    "wavy": _wavy,
    "speckled": _speckled,
    "gradient": _gradient,
    "brick": _brick,
    "bullseye": _bullseye,
}

# How captions name a pattern when it is a noun ("red and white stripes") rather than an adjective ("striped").
PATTERN_NOUNS: dict[str, str] = {
    "plain": "plain colour",
    "striped": "stripes",
    "checkered": "checks",
    "dotted": "polka dots",
    "grid": "grid lines",
    "crosshatched": "crosshatching",
    "zigzag": "zigzags",
    "wavy": "wavy lines",
    "speckled": "speckles",
    "gradient": "gradient",
    "brick": "bricks",
    "bullseye": "concentric rings",
}

# Object sizes as circumradius fractions of the image side.
SIZES: dict[str, tuple[float, float]] = {"small": (0.14, 0.2), "medium": (0.21, 0.3), "large": (0.31, 0.44)}


def position_name(cx: float, cy: float) -> str:
    """Name the region of the image an object's centre (in [0, 1] coordinates) falls in."""
    col = "left" if cx < 0.38 else "right" if cx > 0.62 else ""
    row = "top" if cy < 0.38 else "bottom" if cy > 0.62 else ""
    if row and col:
        return f"in the {row} {col} corner"
    if row:
        return f"at the {row}"
    if col:
        return f"on the {col}"
    return "in the center"
