"""The built-in datasets: registry entries, split sizes, label order, address parsing and rendering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from comma_bench.data import get_dataset_info, list_datasets, load_dataset
from comma_bench.errors import UserError
from comma_bench.world.datasets import WORLD_DATASETS, get_world_dataset, items, load_image, parse_address, scene_for
from comma_bench.world.render import render

DOWNSTREAM = ["world/shapes", "world/patterns", "world/badges", "world/colors"]
VARIANTS = ["world/objects-sketch", "world/objects-palette", "world/objects-noise"]


def test_registry_holds_every_world_dataset_with_its_own_templates():
    keys = list_datasets("world/*")
    assert keys == sorted(["world/objects", *DOWNSTREAM, *VARIANTS])
    infos = [get_dataset_info(k) for k in keys]
    assert all(i.builtin and i.folder == "" and i.image_loader is load_image for i in infos)
    assert len({get_dataset_info(k).template for k in DOWNSTREAM}) == 4
    assert get_dataset_info("world/patterns").kd_template != get_dataset_info("world/patterns").template
    assert "dg_target" in get_dataset_info("world/objects-sketch").tags
    assert "source" in get_dataset_info("world/objects").tags


@pytest.mark.parametrize("name", sorted(WORLD_DATASETS))
def test_split_sizes_and_label_order(name):
    ds = WORLD_DATASETS[name]
    assert list(ds.classnames) == sorted(ds.classnames) and len(set(ds.classnames)) == len(ds.classnames)
    assert all(c == c.strip() and " " not in c for c in ds.classnames)
    n = len(ds.classnames)
    assert 10 <= n <= 100
    test = items(ds, "test")
    assert len(test) >= 30 * n
    if ds.has_val:
        assert len(items(ds, "train")) >= 50 * n and len(items(ds, "val")) >= 4 * n
    assert [d.label for d in test[: 2 * n]] == list(range(n)) * 2
    assert all(d.classname == ds.classnames[d.label] for d in test[:n])


def test_images_are_deterministic_and_independent_of_the_cache():
    ds = get_world_dataset("world/badges")
    for d in items(ds, "train")[:5]:
        a = np.asarray(load_image(d.impath))
        _, split, index = parse_address(d.impath)
        scene, rng = scene_for(ds, split, index)
        assert np.array_equal(a, render(scene, rng))  # fresh render, no cache
        assert a.shape == (32, 32, 3)
    train0 = np.asarray(load_image(items(ds, "train")[0].impath))
    test0 = np.asarray(load_image(items(ds, "test")[0].impath))
    assert not np.array_equal(train0, test0)


def test_splits_and_datasets_use_different_images():
    seen = set()
    for key in ["world/objects", "world/objects-sketch", "world/shapes"]:
        ds = get_world_dataset(key)
        for split in ("train", "test"):
            for d in items(ds, split)[:40]:
                seen.add(np.asarray(load_image(d.impath)).tobytes())
    assert len(seen) == 40 * 2 * 2 + 40  # the sketch set serves its test list as train: one set of 40


@pytest.mark.parametrize(
    "bad",
    ["shapes/test/1", "world://shapes/test", "world://shapes/holdout/1", "world://shapes/test/x",
     "world://nope/test/1", "world://shapes/test/999999"],
)  # fmt: skip
def test_bad_addresses_are_user_errors(bad):
    with pytest.raises(UserError):
        parse_address(bad)


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(UserError, match="world/shapes"):
        get_world_dataset("world/shape")


def test_load_dataset_applies_fewshot_and_base_new_halves():
    base = load_dataset("world/colors", shots=16, seed=1, subsample="base")
    new = load_dataset("world/colors", shots=16, seed=1, subsample="new")
    names = WORLD_DATASETS["colors"].classnames
    assert base.classnames == list(names[:9]) and new.classnames == list(names[9:])
    assert len(base.train) == 16 * 9 and len(base.val) == 4 * 9 and len(base.test) == 120 * 9
    assert base.template == "a photo of a {} object."
    img = base.load_image(base.train[0])
    assert img.mode == "RGB" and img.size == (32, 32)
    dg = load_dataset("world/objects-palette")
    assert len(dg.classnames) == 100 and len(dg.test) == 3000


@pytest.mark.parametrize("name", ["objects", "shapes", "patterns", "badges", "colors"])
def test_each_half_has_1000_test_images_so_one_run_has_a_standard_error_of_1_5_points(name):
    ds = WORLD_DATASETS[name]
    n_base = math.ceil(len(ds.classnames) / 2)
    per_class = ds.per_class[2]
    for half in (n_base, len(ds.classnames) - n_base):
        assert half * per_class >= 1000, (name, half * per_class)
        assert 100 * math.sqrt(0.25 / (half * per_class)) <= 1.6  # the worst case, accuracy 50%
