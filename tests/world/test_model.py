"""The shipped world-tiny weights: checksum, size, loading through the backbone API, and real zero-shot accuracy."""

from __future__ import annotations

import json
import math

import pytest
import torch

from comma_bench.world.datasets import WORLD_DATASETS
from comma_bench.world.evaluate import linear_probe, zeroshot_subsets
from comma_bench.world.model import METADATA, NAME, OPEN_CLIP_KWARGS, WEIGHTS
from comma_bench.world.pretrain import measure_zeroshot, sha256_of

DOWNSTREAM = ("objects", "shapes", "patterns", "badges", "colors")
VARIANTS = ("objects-sketch", "objects-palette", "objects-noise")


@pytest.fixture(scope="module")
def meta():
    return json.loads(METADATA.read_text())


@pytest.fixture(scope="module")
def backbone():
    from comma_bench.clip import load_backbone

    return load_backbone(NAME, "builtin")


def test_weights_file_is_small_and_matches_its_recorded_checksum(meta):
    assert WEIGHTS.stat().st_size <= 16_000_000
    assert meta["sha256"] == sha256_of(WEIGHTS)
    assert meta["bytes"] == WEIGHTS.stat().st_size
    assert meta["open_clip_kwargs"] == json.loads(json.dumps(OPEN_CLIP_KWARGS))  # weights fit the registered spec


def test_loads_through_the_backbone_api_frozen_with_the_real_tokenizer(backbone):
    assert backbone.image_size == 32 and backbone.context_length == 77
    assert backbone.text_layers == 12 and backbone.vision_layers == 12 and backbone.quick_gelu
    assert not any(p.requires_grad for p in backbone.model.parameters())
    assert backbone.tokenize(["a photo of a star."]).shape == (1, 77)
    # fp16 storage is cast back to fp32, and the trained weights are not the random init
    assert backbone.model.visual.conv1.weight.dtype == torch.float32
    torch.manual_seed(0)
    from comma_bench.world.model import build_model

    assert not torch.allclose(build_model().visual.conv1.weight, backbone.model.visual.conv1.weight)


@pytest.fixture(scope="module")
def measured(backbone):
    """Zero-shot accuracy of the shipped weights on the full test split of every built-in dataset (about 20 s)."""
    return measure_zeroshot(backbone.model)


def test_the_recorded_accuracy_is_what_the_shipped_weights_measure(meta, measured):
    assert meta["zero_shot_eval"]["per_class"] is None  # recorded on the full test splits, as measured here
    assert set(measured) == set(meta["zero_shot_accuracy"])
    for key, subsets in measured.items():
        for subset, value in subsets.items():
            # 0.5 points: room for an argmax tie broken differently by another CPU's summation order, not for drift
            assert value == pytest.approx(meta["zero_shot_accuracy"][key][subset], abs=0.5), (key, subset)


@pytest.mark.parametrize("name", DOWNSTREAM)
def test_zero_shot_novel_stays_three_times_chance_and_base_twice(measured, name):
    """Novel transfer stays meaningful (issue 12's target); the base half, where the never-named classes pull the
    zero-shot head down, still classifies well above chance."""
    acc = measured[f"world/{name}"]
    n = len(WORLD_DATASETS[name].classnames)
    base_chance, new_chance = 100.0 / math.ceil(n / 2), 100.0 / (n - math.ceil(n / 2))
    assert acc["new"] >= 3 * new_chance and acc["base"] >= 2 * base_chance, acc


@pytest.fixture(scope="module")
def probes(backbone):
    """16-shot linear probes on the base classes of every downstream dataset (`comma-bench world probe`)."""
    return {
        name: linear_probe(backbone.model, backbone.tokenizer, WORLD_DATASETS[name], shots=16) for name in DOWNSTREAM
    }


def test_a_16_shot_probe_beats_zero_shot_by_10_points_on_three_datasets(probes):
    """Room for prompt learning: the frozen features hold more than the zero-shot head uses, as for real CLIP."""
    gains = {name: round(r.probe - r.zero_shot, 1) for name, r in probes.items()}
    assert sum(g >= 10.0 for g in gains.values()) >= 3, gains


@pytest.mark.parametrize("name", VARIANTS)
def test_zero_shot_on_shifted_variants_is_far_above_chance(measured, name):
    chance = 100.0 / len(WORLD_DATASETS[name].classnames)
    assert len(WORLD_DATASETS[name].classnames) == 100 and measured[f"world/{name}"]["all"] >= 20 * chance


def test_the_engine_reproduces_the_world_evaluator_on_a_built_in_dataset(backbone):
    """Zero-shot CLIP through the real pipeline (registry, loader, transforms, engine) gives the same numbers."""
    from comma_bench.config.schema import RunConfig
    from comma_bench.engine.run import execute_run

    record = execute_run(RunConfig(method="zeroshot", dataset="world/patterns"), progress=False, use_cache=False)
    ours = zeroshot_subsets(backbone.model, backbone.tokenizer, WORLD_DATASETS["patterns"], subsets=("base", "new"))
    assert record.metrics["base"] == pytest.approx(ours["base"].accuracy, abs=1e-6)
    assert record.metrics["novel"] == pytest.approx(ours["new"].accuracy, abs=1e-6)


def test_linear_probe_sits_beside_the_zero_shot_evaluator(backbone):
    ds = WORLD_DATASETS["patterns"]
    r = linear_probe(backbone.model, backbone.tokenizer, ds, shots=8)
    zs = zeroshot_subsets(backbone.model, backbone.tokenizer, ds, subsets=("base",))["base"]
    assert (r.dataset, r.subset, r.shots) == ("world/patterns", "base", 8)
    assert r.zero_shot == pytest.approx(zs.accuracy, abs=1e-9)  # the same test images, the same classifier
    assert r.probe >= 3 * 100.0 / 6  # fitted on 8 images of each of the 6 base classes: far above chance (16.7%)
    assert linear_probe(backbone.model, backbone.tokenizer, ds, shots=8) == r  # deterministic: nothing is sampled
    no_steps = linear_probe(backbone.model, backbone.tokenizer, ds, shots=8, steps=0)
    assert no_steps.probe == pytest.approx(100.0 / 6)  # zero weights predict class 0: the fit is what scores


def test_probe_command_prints_one_row_per_dataset_and_rejects_bad_input(capsys):
    from comma_bench.cli import main

    assert main(["world", "probe", "--shots", "2", "--datasets", "world/shapes,patterns"]) == 0
    out = capsys.readouterr().out
    assert (
        "2 shots per class" in out and "world/shapes" in out and "world/patterns" in out and "world/colors" not in out
    )
    assert main(["world", "probe", "--shots", "0"]) == 2
    assert "--shots: expected a positive integer" in capsys.readouterr().err
    assert main(["world", "probe", "--datasets", "world/objects-sketch"]) == 2
    assert "no train split" in capsys.readouterr().err
    assert main(["world", "probe", "--datasets", "world/nope"]) == 2
    assert "world/nope" in capsys.readouterr().err
