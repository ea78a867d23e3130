"""The decoded-image and image-feature caches are exact, shared, safe under concurrency and size-bounded."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from comma_bench.data import load_dataset
from comma_bench.data.transforms import ImageDataset, build_transform
from comma_bench.engine import cache
from comma_bench.engine.evaluate import evaluate
from comma_bench.methods import build
from tests.data.coop_tree import build_coop_tree


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMA_BENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    root = tmp_path_factory.mktemp("coop")
    build_coop_tree(root, ["oxford_pets"])
    return load_dataset("oxford_pets", root, shots=0, subsample="all")


def test_decoded_images_equal_the_uncached_transform(fresh_cache, pets):
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    cached = cache.decoded_test_images(pets.test, pets.load_image, 16, mean, std, source_id="pets")
    plain = ImageDataset(pets.test, pets.load_image, build_transform(False, 16, mean, std))
    assert len(cached) == len(plain) == len(pets.test)
    for i in range(len(plain)):
        a, la = cached[i]
        b, lb = plain[i]
        assert la == lb and torch.equal(a, b)
    assert len(list((fresh_cache / "images").iterdir())) == 1
    again = cache.decoded_test_images(pets.test, pets.load_image, 16, mean, std, source_id="pets")
    assert np.shares_memory(again.pixels, again.pixels) and len(list((fresh_cache / "images").iterdir())) == 1


@pytest.mark.parametrize("name", ["zeroshot", "coop", "cocoop", "maple"])
def test_evaluate_with_caches_equals_without(fresh_cache, pets, tiny_backbone, name, monkeypatch):
    torch.manual_seed(0)
    extra = {"prompt_depth": 2} if name == "maple" else {}
    method = build(name, tiny_backbone, pets.classnames, template=pets.template, **extra)
    kw = dict(load_image=pets.load_image, image_size=32, mean=tiny_backbone.mean, std=tiny_backbone.std, batch_size=3)
    ident = {"model": "test-tiny", "weights": "fixed-for-this-test"}
    plain = evaluate(method, pets.test, **kw)
    first = evaluate(method, pets.test, source_id="pets", backbone_id=ident, **kw)
    calls = []
    monkeypatch.setattr("comma_bench.engine.evaluate.image_features", lambda *a, **k: calls.append(1))
    second = evaluate(method, pets.test, source_id="pets", backbone_id=ident, **kw)
    assert plain == first == second
    assert calls == []  # the second evaluation reused the cached features (or, for MaPLe, never used them)
    n_feature_entries = len(list((fresh_cache / "features").glob("*"))) if (fresh_cache / "features").exists() else 0
    assert n_feature_entries == (0 if name == "maple" else 1)  # MaPLe prompts the image tower: never cached


def test_concurrent_builders_create_one_entry(fresh_cache):
    calls = []

    def compute():
        calls.append(1)
        return torch.arange(12.0).view(3, 4)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.cached_image_features({"k": 1}, compute)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(torch.equal(r, torch.arange(12.0).view(3, 4)) for r in results)
    assert [p.name for p in (fresh_cache / "features").iterdir() if not p.name.startswith(".")] == [
        cache.digest({"k": 1})
    ]


def test_eviction_keeps_the_cache_under_its_limit(fresh_cache, monkeypatch):
    monkeypatch.setenv("COMMA_BENCH_CACHE_MAX_GB", str(1.5 * 4096 / 2**30))  # room for one 4 KiB entry
    for k in range(3):
        cache.cached_image_features({"k": k}, lambda: torch.zeros(1024))
    entries = list((fresh_cache / "features").glob("[!.]*"))
    assert [e.name for e in entries] == [cache.digest({"k": 2})]  # least recently used entries went first


def test_disabled_cache_computes_directly(monkeypatch):
    monkeypatch.setenv("COMMA_BENCH_CACHE", "off")
    assert cache.cache_root() is None
    assert torch.equal(cache.cached_image_features({"k": 9}, lambda: torch.ones(2)), torch.ones(2))


def _replace_image(path, colour) -> None:
    """Overwrite an image in place with another picture of the same format and size, keeping its mtime."""
    from PIL import Image

    st = path.stat()
    with Image.open(path) as img:
        fmt, size = img.format, img.size
    Image.new("RGB", size, colour).save(path, format=fmt)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # a copy that preserves mtime (cp -p, rsync -t, tar)


@pytest.fixture()
def pets_fresh(tmp_path):
    root = tmp_path / "coop"
    build_coop_tree(root, ["oxford_pets"])
    return load_dataset("oxford_pets", root, shots=0, subsample="all")


def test_an_image_replaced_on_disk_is_decoded_again(fresh_cache, pets_fresh):
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    data = pets_fresh
    first = cache.decoded_test_images(data.test, data.load_image, 16, mean, std, source_id="pets")
    old = first[0][0].clone()
    _replace_image(Path(data.test[0].impath), (7, 250, 128))
    again = cache.decoded_test_images(data.test, data.load_image, 16, mean, std, source_id="pets")
    plain = ImageDataset(data.test, data.load_image, build_transform(False, 16, mean, std))
    assert not torch.equal(plain[0][0], old)  # the new file really has other pixels
    assert torch.equal(again[0][0], plain[0][0])  # ... and the cache serves them, not the old entry's
    assert all(torch.equal(again[i][0], plain[i][0]) for i in range(len(plain)))


def test_a_corrupted_test_image_is_reported_after_a_cached_eval(fresh_cache, pets_fresh, tiny_backbone):
    from comma_bench.errors import UserError

    data = pets_fresh
    method = build("zeroshot", tiny_backbone, data.classnames, template=data.template)
    kw = dict(load_image=data.load_image, image_size=32, mean=tiny_backbone.mean, std=tiny_backbone.std)
    ident = {"model": "test-tiny", "weights": "fixed-for-this-test"}
    evaluate(method, data.test, source_id="pets", backbone_id=ident, **kw)
    Path(data.test[1].impath).write_bytes(b"not an image any more")
    with pytest.raises(UserError, match="not a readable image"):
        evaluate(method, data.test, source_id="pets", backbone_id=ident, **kw)
