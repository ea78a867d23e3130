"""Natural-language captions for scenes, drawn from varied templates and a long-tailed vocabulary.

Web captions mention some attributes and omit others, use different word orders and nouns, and rarely follow one
template; the pretraining captions do the same, so the text encoder learns the concept words (which the downstream
class names reuse) rather than one sentence pattern (which the downstream templates do not reuse exactly).

Web captions also name most things by a common word: a teal mug is "blue", a hexagonal tile a "shape", a
crosshatched cloth "patterned". The fine-grained words are in the long tail, and that is what leaves CLIP's
zero-shot head weaker than its image features on fine-grained datasets (Flowers, Aircraft, DTD), i.e. what gives
prompt learning room. `RARE_WORDS` lists the world's long-tail words with the common words captions use instead;
a caption uses the fine word itself with probability `fine_rate` (`PretrainRecipe.fine_name_rate`, 0 in the shipped
recipe: the downstream class names are words the text tower never read). The image
tower still sees every value (its stage-1 labels are the fine ones), so the features hold more than the captions
teach the text tower.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# Long-tail word -> the common words captions use for it instead (a coarser parent, or the nearest common term).
RARE_WORDS: dict[str, tuple[str, ...]] = {
    # colour shades: captions say the basic colour term
    "maroon": ("red", "dark red"),
    "gold": ("yellow", "golden yellow"),
    "lime": ("green", "light green"),
    "teal": ("green", "blue"),
    "navy": ("blue", "dark blue"),
    "magenta": ("pink", "purple"),
    "cyan": ("blue", "light blue"),
    # shapes beyond the basic terms (circle, square, triangle, star, heart, cross, arrow, ring)
    "oval": ("circle", "round shape"),
    "diamond": ("square", "shape"),
    "pentagon": ("polygon", "shape"),
    "hexagon": ("polygon", "shape"),
    "crescent": ("moon", "curved shape"),
    # fill patterns beyond the basic terms (plain, striped, checkered, dotted, grid, wavy, gradient)
    "crosshatched": ("patterned", "lined"),
    "zigzag": ("patterned", "jagged"),
    "speckled": ("patterned", "spotted"),
    "brick": ("patterned", "tiled"),
    "bullseye": ("patterned", "ringed"),
}
# A pattern's noun ("a star with white crosshatching") is named with its adjective.
_RARE_PATTERN_NOUNS = ("patterns", "markings")


@dataclass
class Words:
    """Names concepts in one caption: a long-tail word is used with probability `fine_rate`, else a common word.

    Draws from `rng` only for long-tail words, so a caption made only of common words is the same at every rate.
    """

    rng: np.random.Generator
    fine_rate: float = 1.0
    pattern_rate: float = 0.8  # how often a patterned object's caption mentions the fill pattern

    def _fine(self, word: str) -> bool:
        return word not in RARE_WORDS or self.fine_rate >= 1.0 or self.rng.random() < self.fine_rate

    def __call__(self, word: str) -> str:
        """The word a caption uses for a colour, shape or pattern value."""
        return word if self._fine(word) else _choice(self.rng, list(RARE_WORDS[word]))

    def pattern_noun(self, pattern: str) -> str:
        return PATTERN_NOUNS[pattern] if self._fine(pattern) else _choice(self.rng, list(_RARE_PATTERN_NOUNS))

    def plural(self, shape: str) -> str:
        return plural(self(shape))


def object_phrase(
    rng: np.random.Generator,
    obj: WorldObject,
    *,
    sketch: bool = False,
    noun: str | None = None,
    words: Words | None = None,
) -> str:
    """A noun phrase (without article) for one object, mentioning a random subset of its attributes."""
    w = words or Words(rng)
    noun = noun or w(obj.shape)
    colour = w(obj.colour) if rng.random() < 0.85 else ""
    size = obj.size if rng.random() < 0.25 else ""
    if sketch or obj.pattern == "plain":
        pat = "plain" if (not sketch and colour and rng.random() < 0.12) else ""
        return " ".join(x for x in (size, pat, colour, noun) if x)
    if rng.random() >= w.pattern_rate:  # pattern omitted, as captions often do
        return " ".join(x for x in (size, colour, noun) if x)
    r = 0.2 + 0.8 * rng.random()  # how it is mentioned (the bands below partition 0.2..1)
    pattern = w(obj.pattern)
    if r < 0.55:
        order = (size, colour, pattern, noun) if rng.random() < 0.6 else (size, pattern, colour, noun)
        return " ".join(x for x in order if x)
    if r < 0.8 and colour:
        second = w(obj.pattern_colour)
        return " ".join(x for x in (size, colour, noun) if x) + f" with {second} {w.pattern_noun(obj.pattern)}"
    if colour:
        return " ".join(x for x in (size, f"{colour} and {w(obj.pattern_colour)}", pattern, noun) if x)
    return " ".join(x for x in (size, pattern, noun) if x)


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


def _background_clause(rng: np.random.Generator, scene: Scene, w: Words) -> str:
    if scene.background_pattern != "plain":
        return f" on a {w(scene.background_pattern)} background"
    bg = w(scene.background)
    return _choice(rng, [f" on a {bg} background", f" against {bg}", f" on {bg}"])


def texture_caption(rng: np.random.Generator, scene: Scene, words: Words | None = None) -> str:
    w = words or Words(rng)
    pat, c1, c2 = scene.background_pattern, w(scene.background), w(scene.background_pattern_colour)
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
    noun = w.pattern_noun(pat)
    pat = w(pat)
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


def scene_caption(rng: np.random.Generator, scene: Scene, *, fine_rate: float = 1.0, pattern_rate: float = 0.8) -> str:
    """One caption for a scene. Texture scenes (no objects) get texture wording.

    Args:
        fine_rate: probability that a long-tail word (`RARE_WORDS`) is used rather than a common word for it.
        pattern_rate: probability that a patterned object's fill pattern is mentioned.
    """
    w = Words(rng, fine_rate, pattern_rate)
    if not scene.objects:
        return texture_caption(rng, scene, w)
    sketch = scene.style == "sketch"
    prefix = _style_prefix(rng, scene)
    objs = scene.objects
    if len(objs) == 1:
        obj = objs[0]
        phrase = article(object_phrase(rng, obj, sketch=sketch, words=w))
        r = rng.random()
        if r < 0.45:
            text = _with_prefix(prefix, phrase)
        elif r < 0.65:
            text = _with_prefix(prefix, phrase) + _background_clause(rng, scene, w)
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
        noun = w.plural(obj.shape)
        named = " ".join(x for x in (w(obj.colour) if rng.random() < 0.85 else "", noun) if x)
        return _with_prefix(prefix, f"{_NUMBERS[len(objs)]} {named}") + "."
    phrases = [article(object_phrase(rng, o, sketch=sketch, words=w)) for o in objs]
    if len(phrases) == 2:
        joined = phrases[0] + _choice(rng, [" and ", " next to ", " with "]) + phrases[1]
    else:
        joined = ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return _with_prefix(prefix, joined) + "."
