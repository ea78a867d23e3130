"""The procedural generator is a pure function of its seed, covers its vocabularies and names what it draws."""

from __future__ import annotations

import numpy as np
import pytest

from comma_bench.world import corpus
from comma_bench.world.captions import article, plural, scene_caption
from comma_bench.world.concepts import COLOURS, PATTERN_NOUNS, PATTERNS, SHAPES, position_name
from comma_bench.world.render import IMAGE_SIZE, Scene, WorldObject, object_mask, render


def test_same_seed_same_pairs_and_different_seeds_differ():
    a = [corpus.example(seed=3, index=i) for i in range(12)]
    b = [corpus.example(seed=3, index=i) for i in range(12)]
    for (img_a, cap_a), (img_b, cap_b) in zip(a, b):
        assert img_a.dtype == np.uint8 and img_a.shape == (IMAGE_SIZE, IMAGE_SIZE, 3)
        assert np.array_equal(img_a, img_b) and cap_a == cap_b
    c = [corpus.example(seed=4, index=i) for i in range(12)]
    assert sum(np.array_equal(x[0], y[0]) for x, y in zip(a, c)) == 0
    # Neighbouring indices are different images too (no accidental seed reuse within a stream).
    assert len({img.tobytes() for img, _ in a}) == len(a)


def test_every_shape_renders_as_a_distinct_centred_blob():
    x, y = np.meshgrid(np.arange(64) + 0.5, np.arange(64) + 0.5)
    masks = {}
    for name in SHAPES:
        obj = WorldObject(shape=name, colour="red", rgb=(255.0, 0.0, 0.0), cx=0.5, cy=0.5, radius=0.4)
        m = object_mask(obj, x, y, 64)
        area = m.mean()
        assert 0.04 < area < 0.55, (name, area)  # visible and not the whole frame
        ys, xs = np.nonzero(m)
        assert abs(xs.mean() - 32) < 13 and abs(ys.mean() - 32) < 13, name  # within half the circumradius
        masks[name] = m
    names = list(masks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert (masks[a] != masks[b]).mean() > 0.02, (a, b)


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_patterns_are_deterministic_and_non_trivial(pattern):
    x, y = np.meshgrid(np.arange(64) / 2 + 0.25, np.arange(64) / 2 + 0.25)
    w1 = PATTERNS[pattern](x, y, np.random.default_rng(7))
    w2 = PATTERNS[pattern](x, y, np.random.default_rng(7))
    assert np.array_equal(w1, w2)
    assert w1.min() >= 0 and w1.max() <= 1
    if pattern == "plain":
        assert w1.max() == 0
    else:
        assert 0.05 < w1.mean() < 0.95, w1.mean()  # both colours present


def test_render_draws_the_object_colour_and_sketches_only_outlines():
    obj = WorldObject(shape="square", colour="blue", rgb=(0.0, 0.0, 255.0), cx=0.5, cy=0.5, radius=0.4)
    scene = Scene(objects=(obj,), background="white", background_rgb=(255.0, 255.0, 255.0))
    img = render(scene, np.random.default_rng(0))
    assert tuple(img[16, 16]) == (0, 0, 255) and tuple(img[1, 1]) == (255, 255, 255)
    sketch = render(Scene(**{**scene.__dict__, "style": "sketch"}), np.random.default_rng(0))
    assert tuple(sketch[16, 16]) == (255, 255, 255)  # no fill
    assert (sketch[..., 0] < 128).sum() > 20  # but a blue outline


def test_captions_name_the_drawn_concepts():
    rng = np.random.default_rng(0)
    for _ in range(300):
        scene = corpus.sample_scene(rng)
        cap = scene_caption(rng, scene)
        assert cap.endswith(".") and cap == cap.strip()
        if scene.objects:
            shapes = {o.shape for o in scene.objects}
            assert any(s in cap for s in shapes), (cap, shapes)
        elif scene.background_pattern not in ("plain", "gradient"):
            assert scene.background_pattern in cap or PATTERN_NOUNS[scene.background_pattern] in cap, cap


def test_corpus_covers_every_concept():
    captions = " ".join(corpus.example(seed=0, index=i)[1] for i in range(1500))
    for word in [*SHAPES, *COLOURS, *(p for p in PATTERNS if p != "plain")]:
        assert word in captions, word


def test_grammar_helpers():
    assert article("orange star") == "an orange star" and article("red oval") == "a red oval"
    assert plural("cross") == "crosses" and plural("star") == "stars"
    assert position_name(0.1, 0.1) == "in the top left corner" and position_name(0.5, 0.5) == "in the center"


def test_corpus_groups_differ_in_one_concept_and_labels_match_the_scene():
    from comma_bench.world.corpus import GROUP_SIZE, IGNORE, sample, scene_labels
    from comma_bench.world.scenes import COLOUR_NAMES, SHAPE_NAMES

    kinds = {"shape": 0, "colour": 0}
    for group in range(40):
        scenes = [sample(5, group * GROUP_SIZE + j)[0] for j in range(GROUP_SIZE)]
        if not all(len(s.objects) == 1 for s in scenes):
            continue
        objs = [s.objects[0] for s in scenes]
        if len({o.shape for o in objs}) == GROUP_SIZE and len({o.colour for o in objs}) == 1:
            kinds["shape"] += 1
            assert len({s.background for s in scenes}) == 1  # everything but the shape is shared
        if len({o.colour for o in objs}) == GROUP_SIZE and len({o.shape for o in objs}) == 1:
            kinds["colour"] += 1
        for s in scenes:
            shape, colour, _ = scene_labels(s)
            assert SHAPE_NAMES[shape] == s.objects[0].shape and COLOUR_NAMES[colour] == s.objects[0].colour
    assert kinds["shape"] >= 8 and kinds["colour"] >= 2
    texture = next(s for s in (sample(5, i)[0] for i in range(400)) if not s.objects)
    assert scene_labels(texture)[0] == IGNORE
