"""Test-split decoding in a sweep of 10 runs on one dataset: decoded in every run vs the decoded-image cache.

Each "run" prepares its test split the way `comma_bench.engine.evaluate.evaluate` does and reads every batch of it
(DataLoader, batch 100, no workers), i.e. everything an evaluation does before the model sees a tensor:
- **decoded per run (official)**: `ImageDataset` with the test transform (PIL decode, bicubic resize, centre crop,
  ToTensor, Normalize) in all 10 runs;
- **cached (ours)**: `comma_bench.engine.cache.decoded_test_images`: the first run decodes and stores the uint8
  crops (memory-mapped), the other 9 read them and only apply ToTensor + Normalize.
Every timed round starts from an empty cache, so the build is always part of the cached sweep's time. Data: an
Oxford Flowers CoOp tree of 200 test JPEGs of 256 x 256 with texture and shapes; crops of 224 (ViT-B/16's input).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
import torch

from benchmarks.synthetic import write_flowers_tree
from comma_bench.clip.zoo import OPENAI_MEAN, OPENAI_STD
from comma_bench.data import load_dataset
from comma_bench.data.transforms import ImageDataset, build_transform
from comma_bench.engine import cache

N_TEST, IMAGE_SIZE, SOURCE_SIZE, RUNS, BATCH = 200, 224, 256, 10, 100


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    root = write_flowers_tree(tmp_path_factory.mktemp("data"), n_test=N_TEST, size=SOURCE_SIZE)
    return load_dataset("oxford_flowers", root, shots=0)


def _read_all(dataset) -> int:
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=False, num_workers=0)
    n = 0
    for images, _ in loader:  # [b, 3, S, S]
        n += images.shape[0]
    return n


@pytest.mark.benchmark(group="test-split decoding: 10 runs x 200 JPEGs (256 px -> 224)")
@pytest.mark.parametrize("variant", ["decoded per run (official)", "cached (ours)"])
def test_decode_sweep(measure, flowers, tmp_path, variant):
    items, load = flowers.test, flowers.load_image
    plain = ImageDataset(items, load, build_transform(False, IMAGE_SIZE, OPENAI_MEAN, OPENAI_STD))
    caches = tmp_path / "caches"
    caches.mkdir()
    source_id = f"oxford_flowers:{flowers.dataset_dir}"

    def cached_split():
        return cache.decoded_test_images(items, load, IMAGE_SIZE, OPENAI_MEAN, OPENAI_STD, source_id=source_id)

    def with_fresh_cache(body):
        """Run `body` with COMMA_BENCH_CACHE pointing at a new empty folder (every sweep starts uncached)."""
        old = os.environ.get("COMMA_BENCH_CACHE")
        os.environ["COMMA_BENCH_CACHE"] = tempfile.mkdtemp(dir=caches)
        try:
            return body()
        finally:
            if old is None:
                del os.environ["COMMA_BENCH_CACHE"]
            else:
                os.environ["COMMA_BENCH_CACHE"] = old

    # Same tensors: the cached split is bit-identical to the decoded one.
    first = with_fresh_cache(cached_split)
    for i in (0, len(items) // 2, len(items) - 1):
        assert torch.equal(first[i][0], plain[i][0]) and first[i][1] == plain[i][1]

    if variant.startswith("decoded"):

        def run():
            return sum(_read_all(plain) for _ in range(RUNS))

    else:

        def run():
            return with_fresh_cache(lambda: sum(_read_all(cached_split()) for _ in range(RUNS)))

    try:
        measure(
            run,
            variant=variant,
            baseline=variant.startswith("decoded"),
            rounds=3,
            warmup_rounds=0,  # the JPEGs were just written (page cache warm); a 10-run sweep is long enough
            n_images=len(items),
            runs=RUNS,
            image_size=IMAGE_SIZE,
            source_size=SOURCE_SIZE,
            batch_size=BATCH,
            jpeg_mb=round(sum(os.path.getsize(d.impath) for d in items) / 2**20, 2),
        )
    finally:
        shutil.rmtree(caches, ignore_errors=True)
