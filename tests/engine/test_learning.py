"""Prompt learning really learns: every trained method beats zero-shot CLIP on the base classes, through the same
engine and settings path a user's run takes, on built-in world datasets.

A learning test needs a model with room above its zero-shot classifier. The shipped world-tiny has almost none: its
image tower was trained on exactly the concepts the classes are made of, so its zero-shot head is about as good as
its frozen features allow (`comma-bench world probe`: 16-shot linear probes score below zero-shot). The test
therefore grows a *weakly aligned* world-tiny: the shipped image tower with a text tower trained for only 30
contrastive steps (`comma-bench world pretrain --image-tower builtin --steps 30`, about 10 s). Its zero-shot base
accuracy is 51.4 (world/colors) and 26.7 (world/patterns), while a 16-shot linear probe on the same frozen features
reaches 65.3 and 58.8: the few shots carry information the zero-shot head lacks, as downstream datasets do for
real CLIP. The shipped model's own result is kept below as a strict expected failure.
"""

from __future__ import annotations

import functools
import statistics

import pytest
import torch

from comma_bench.config import OptimConfig, RunConfig
from comma_bench.config.schema import BackboneConfig
from comma_bench.engine.run import execute_run
from comma_bench.record_schema import RunRecord
from comma_bench.world.pretrain import PretrainRecipe, save_weights, train

WEAK_RECIPE = PretrainRecipe(vision_steps=0, steps=30, warmup_steps=3, image_tower="builtin")
DATASETS = ("world/colors", "world/patterns")  # fine-grained colours; full-frame textures (any crop keeps the label)
SEEDS = (1, 2)
SHOTS = 16
# Official learning rates and batch sizes. Epochs: CoCoOp, MaPLe and COMMA their official 10, 5 and 5; CoOp 50 of its
# 200, so that every run stays well under a minute on 2 CPU cores (measured 3-21 s each).
SETTINGS = {
    "coop": ({}, OptimConfig(epochs=50)),
    "cocoop": ({}, OptimConfig(epochs=10)),
    "maple": ({"prompt_depth": 3}, OptimConfig(epochs=5)),  # depth 3 of world-tiny's 4 layers
    "comma": ({"prompt_depth": 3}, OptimConfig(epochs=5)),
}
# One run's base accuracy has a standard error of about 3 points on these test sets (240 and 360 images), so the
# margin is judged on the mean over datasets and seeds; each single run must still beat zero-shot.
MARGIN = 5.0  # the clear margin: mean base-accuracy gain over the datasets and seeds, in points


@pytest.fixture(scope="module")
def weak_weights(tmp_path_factory) -> str:
    threads = torch.get_num_threads()
    try:
        model, _ = train(WEAK_RECIPE, progress=False, workers=0)  # sets the recipe's fixed thread count
    finally:
        torch.set_num_threads(threads)
    path = tmp_path_factory.mktemp("weak") / "world-tiny-weak.safetensors"
    save_weights(model, path)
    return str(path)


@pytest.fixture(scope="module")
def gain(weak_weights):
    """`gain(method, dataset, seed)` -> (base-accuracy points over zero-shot, run record); each run happens once."""

    @functools.cache
    def record(method: str, dataset: str, seed: int) -> RunRecord:
        cfg, optim = SETTINGS.get(method, ({}, OptimConfig()))
        config = RunConfig(
            method=method,
            dataset=dataset,
            shots=SHOTS,
            seed=seed,
            backbone=BackboneConfig(model="world-tiny", pretrained=weak_weights),
            method_config=cfg,
            optim=optim,
            precision="fp32",
            device="cpu",
        )
        return execute_run(config, progress=False)

    def gain_of(method: str, dataset: str, seed: int) -> tuple[float, RunRecord]:
        zero_shot = record("zeroshot", dataset, 1).metrics["base"]  # no training: the same for every seed
        run = record(method, dataset, seed)
        return run.metrics["base"] - zero_shot, run

    return gain_of


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("method", list(SETTINGS))
def test_every_run_beats_zero_shot_and_lowers_its_loss(method, dataset, seed, gain):
    points, run = gain(method, dataset, seed)
    assert points > 0, f"{method} on {dataset}, seed {seed}: base {points:+.1f} points vs zero-shot"
    losses = run.train["ce_per_epoch"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("method", list(SETTINGS))
def test_mean_gain_over_datasets_and_seeds_is_a_clear_margin(method, gain):
    gains = [gain(method, d, s)[0] for d in DATASETS for s in SEEDS]
    mean = statistics.fmean(gains)
    assert mean >= MARGIN, f"{method}: mean base gain {mean:+.1f} points (runs: {[round(g, 1) for g in gains]})"


# --- The shipped model: no room (see the module docstring). ----------------------------------------------------------

SHIPPED_DATASET = "world/shapes"  # zero-shot base 70.7 (seed 1)


def _shipped_base(method: str, method_config: dict, optim: OptimConfig) -> float:
    config = RunConfig(method=method, dataset=SHIPPED_DATASET, shots=8, seed=1, method_config=method_config,
                       optim=optim, precision="fp32", device="cpu")  # fmt: skip
    return execute_run(config, progress=False).metrics["base"]


@pytest.fixture(scope="module")
def shipped_zero_shot() -> float:
    return _shipped_base("zeroshot", {}, OptimConfig())


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # only the learning criterion itself may fail; a crash is an error, not an expected fail
    reason="the shipped world-tiny's zero-shot head is close to the best its frozen features allow (world/shapes "
    "base, 8 shots: zero-shot 70.7, coop 71.8, maple 66.8, comma 58.9): strict, so this fails loudly once a world "
    "model with room for prompt learning ships",
)
@pytest.mark.parametrize("method", ["coop", "maple", "comma"])
def test_shipped_world_tiny_leaves_little_room(method, shipped_zero_shot):
    cfg, _ = SETTINGS[method]
    optim = OptimConfig(epochs=10) if method == "coop" else OptimConfig(epochs=5)
    base = _shipped_base(method, cfg, optim)
    assert base >= shipped_zero_shot + 10.0, f"{method}: base {base:.1f} vs zero-shot {shipped_zero_shot:.1f}"
