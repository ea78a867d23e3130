"""Prompt learning really learns on the shipped world-tiny: trained methods beat zero-shot CLIP on the base classes,
through the same engine and settings path a user's run takes (the quick start's settings).

The shipped model leaves room above its zero-shot head the way real CLIP does on fine-grained data: its image tower
learnt every colour, shape and fill pattern, but its captions never use the long-tail words (teal, hexagon,
crosshatched), so the text tower's classifiers for those classes are near chance while the frozen features separate
them (`comma-bench world probe`: a 16-shot linear probe beats zero-shot base by 24.4 points on world/colors and 19.6
on world/patterns). A few labelled shots carry information the zero-shot head lacks; prompt learning can use it.
"""

from __future__ import annotations

import functools
import statistics

import pytest

from comma_bench.config import OptimConfig, RunConfig
from comma_bench.config.schema import BackboneConfig
from comma_bench.engine.run import execute_run
from comma_bench.record_schema import RunRecord

DATASETS = ("world/colors", "world/patterns")  # the two quick-start datasets with the most room
SEEDS = (1, 2)
SHOTS = 16
# sweeps/quickstart.yaml's settings: official learning rates, batch sizes, context and prompt depth (9 of 12 layers);
# epochs MaPLe and COMMA their official 5, CoOp 50 of its 200, CoCoOp 4 of its 10 (the first a warm-up at 1e-5).
EPOCHS = {"coop": 50, "cocoop": 4, "maple": 5, "comma": 5}
MARGIN = 5.0  # issue 12's learning target: mean base-accuracy gain over zero-shot, over the datasets and seeds, points
# COMMA in its faithful mode (the official code, which reproduces the published numbers) inserts deep vision prompts
# made by attention_transform modules that keep their random initialisation (the official `.data` writes stop their
# gradient). Its base accuracy stays near zero-shot on world/patterns (mean 41.4 vs 41.6 over the quick start's
# seeds) while it gains 9 points on world/colors. Measured on the quick start's 3 datasets x 3 seeds (2026-12-03):
# faithful +1.1, the paper-intended trained generator +4.1, MaPLe +9.5; over seeds 1-6 faithful COMMA trails MaPLe by
# 8-9 base points on shapes and patterns. The frozen random generator explains about 3 of those points, not all.
# Measured, not tuned away: the method is not changed to change its ranking.
COMMA_SHORTFALL = pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # only the margin itself may fail; a crash is an error, not an expected failure
    reason="faithful COMMA trains less well than MaPLe on world-tiny (quick start: base +1.1 over zero-shot, +4.1 "
    "with the trained generator): its mean base gain over world/colors and world/patterns is below the 5-point margin",
)


@pytest.fixture(scope="module")
def gain():
    """`gain(method, dataset, seed)` -> (base-accuracy points over zero-shot, run record); each run happens once."""

    @functools.cache
    def record(method: str, dataset: str, seed: int) -> RunRecord:
        config = RunConfig(
            method=method,
            dataset=dataset,
            shots=SHOTS,
            seed=seed,
            backbone=BackboneConfig(model="world-tiny", pretrained="builtin"),
            optim=OptimConfig(epochs=EPOCHS.get(method)),  # zero-shot: None, it does not train
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
@pytest.mark.parametrize("method", list(EPOCHS))
def test_every_run_lowers_its_training_loss(method, dataset, seed, gain):
    losses = gain(method, dataset, seed)[1].train["ce_per_epoch"]
    assert losses[-1] < losses[0], losses


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("method", ["coop", "cocoop", "maple"])
def test_every_run_beats_zero_shot_on_base(method, dataset, seed, gain):
    points, _ = gain(method, dataset, seed)
    assert points > 0, f"{method} on {dataset}, seed {seed}: base {points:+.1f} points vs zero-shot"


@pytest.mark.parametrize("method", ["coop", "cocoop", "maple", pytest.param("comma", marks=COMMA_SHORTFALL)])
def test_mean_gain_over_datasets_and_seeds_is_a_clear_margin(method, gain):
    gains = [gain(method, d, s)[0] for d in DATASETS for s in SEEDS]
    mean = statistics.fmean(gains)
    assert mean >= MARGIN, f"{method}: mean base gain {mean:+.1f} points (runs: {[round(g, 1) for g in gains]})"
