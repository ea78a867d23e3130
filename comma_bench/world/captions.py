"""Natural-language captions for scenes, drawn from varied templates.

Web captions mention some attributes and omit others, use different word orders and nouns, and rarely follow one
template; the pretraining captions do the same, so the text encoder learns the concept words (which the downstream
class names reuse) rather than one sentence pattern (which the downstream templates do not reuse exactly).
"""

from __future__ import annotations

import numpy as np

from comma_bench.world.concepts import PATTERN_NOUNS, position_name
from comma_bench.world.render import Scene, WorldObject

_NUMBERS = {2: "two", 3: "three", 4: "four"}
_PLURAL_ES = ("cross",)


def article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeio" else "a ") + phrase


def plural(noun: str) -> str:
    return noun + ("es" if noun in _PLURAL_ES else "s")


def _choice(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def object_phrase(rng: np.random.Generator, obj: WorldObject, *, sketch: bool = False, noun: str | None = None) -> str:
    """A noun phrase (without article) for one object, mentioning a random subset of its attributes."""
    noun = noun or obj.shape
    colour = obj.colour if rng.random() < 0.85 else ""
    size = obj.size if rng.random() < 0.25 else ""
    if sketch or obj.pattern == "plain":
        pat = "plain" if (not sketch and colour and rng.random() < 0.12) else ""
        words = [w for w in (size, pat, colour, noun) if w]
        return " ".join(words)
    r = rng.random()
    if r < 0.2:  # pattern omitted, as captions often do
        return " ".join(w for w in (size, colour, noun) if w)
    if r < 0.55:
        order = (size, colour, obj.pattern, noun) if rng.random() < 0.6 else (size, obj.pattern, colour, noun)
        return " ".join(w for w in order if w)
    if r < 0.8 and colour:
        return (
            " ".join(w for w in (size, colour, noun) if w) + f" with {obj.pattern_colour} {PATTERN_NOUNS[obj.pattern]}"
        )
    if colour:
        return " ".join(w for w in (size, f"{colour} and {obj.pattern_colour}", obj.pattern, noun) if w)
    return " ".join(w for w in (size, obj.pattern, noun) if w)


def _style_prefix(rng: np.random.Generator, scene: Scene) -> str:
    if scene.style == "sketch":
        return _choice(
            rng, ["a sketch of", "a drawing of", "an outline drawing of", "a line drawing of", "a doodle of"]
        )
    if scene.noise >= 12 and rng.random() < 0.7:
        return _choice(rng, ["a noisy photo of", "a grainy photo of", "a grainy picture of"])
    if scene.blur >= 0.6 and rng.random() < 0.7:
        return _choice(rng, ["a blurry photo of", "a blurred picture of", "an out of focus photo of"])
    if scene.contrast < 0.8 and rng.random() < 0.6:
        return _choice(rng, ["a faded photo of", "a washed out photo of", "a dim photo of"])
    if scene.extras.get("closeup") and rng.random() < 0.6:
        return _choice(rng, ["a close-up photo of", "a close-up of", "a cropped photo of", "a zoomed in photo of"])
    return _choice(
        rng,
        ["a photo of", "a picture of", "an image of", "a photo showing", "an image showing", "a rendering of", ""],
    )


def _with_prefix(prefix: str, np_with_article: str) -> str:
    return f"{prefix} {np_with_article}" if prefix else np_with_article


def _background_clause(rng: np.random.Generator, scene: Scene) -> str:
    if scene.background_pattern != "plain":
        return f" on a {scene.background_pattern} background"
    return _choice(
        rng, [f" on a {scene.background} background", f" against {scene.background}", f" on {scene.background}"]
    )


def texture_caption(rng: np.random.Generator, scene: Scene) -> str:
    pat, c1, c2 = scene.background_pattern, scene.background, scene.background_pattern_colour
    if pat == "plain":
        return _choice(
            rng,
            [
                f"a plain {c1} texture.",
                f"a plain {c1} background.",
                f"the colour {c1}.",
                f"a {c1} surface.",
                f"plain {c1}.",
                f"a flat {c1} texture with no pattern.",
            ],
        )
    if pat == "gradient":
        return _choice(
            rng,
            [
                f"a gradient from {c1} to {c2}.",
                "a gradient texture.",
                f"a {c1} and {c2} gradient.",
                "a smooth colour gradient.",
                f"a gradient texture in {c1} and {c2}.",
            ],
        )
    noun = PATTERN_NOUNS[pat]
    return _choice(
        rng,
        [
            f"a {pat} texture.",
            f"a {pat} pattern.",
            f"{c1} and {c2} {noun}.",
            f"a {pat} texture in {c1} and {c2}.",
            f"a close-up of a {pat} surface.",
            f"{pat} fabric.",
            f"a {c1} {pat} pattern.",
            f"a pattern of {c2} {noun} on {c1}.",
            f"{pat} texture.",
            f"a photo of a {pat} texture.",
        ],
    )


def scene_caption(rng: np.random.Generator, scene: Scene) -> str:
    """One caption for a scene. Texture scenes (no objects) get texture wording."""
    if not scene.objects:
        return texture_caption(rng, scene)
    sketch = scene.style == "sketch"
    prefix = _style_prefix(rng, scene)
    objs = scene.objects
    if len(objs) == 1:
        obj = objs[0]
        phrase = article(object_phrase(rng, obj, sketch=sketch))
        r = rng.random()
        if r < 0.45:
            text = _with_prefix(prefix, phrase)
        elif r < 0.65:
            text = _with_prefix(prefix, phrase) + _background_clause(rng, scene)
        elif r < 0.8:
            text = _with_prefix(prefix, phrase) + " " + position_name(obj.cx, obj.cy)
        elif r < 0.9:
            text = _choice(rng, ["there is ", "this is ", "here is ", "it is "]) + phrase
        else:
            text = phrase + (", " + _choice(rng, ["drawn by hand", "a sketch"]) if sketch else "")
        return text + "."
    same = len({(o.shape, o.colour) for o in objs}) == 1
    if same and rng.random() < 0.8:
        obj = objs[0]
        noun = plural(obj.shape)
        words = " ".join(w for w in (obj.colour if rng.random() < 0.85 else "", noun) if w)
        return _with_prefix(prefix, f"{_NUMBERS[len(objs)]} {words}") + "."
    phrases = [article(object_phrase(rng, o, sketch=sketch)) for o in objs]
    if len(phrases) == 2:
        joined = phrases[0] + _choice(rng, [" and ", " next to ", " with "]) + phrases[1]
    else:
        joined = ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return _with_prefix(prefix, joined) + "."
