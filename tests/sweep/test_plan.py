"""Expansion of a sweep into runs: counts, protocol semantics, axes, cases, rules, exclusions, stable run ids."""

from __future__ import annotations

from collections import Counter

import pytest

from comma_bench.errors import UserError
from comma_bench.sweep.plan import config_run_id, expand
from comma_bench.sweep.spec import load_sweep
from tests.sweep.conftest import REPO, SMALL, write_sweep

B2N_DATASETS = {"imagenet", "caltech101", "oxford_pets", "stanford_cars", "oxford_flowers", "food101",
                "fgvc_aircraft", "sun397", "dtd", "eurosat", "ucf101"}  # fmt: skip


def test_base2novel_is_11_datasets_x_3_seeds_x_4_methods_and_zero_shot_once():
    runs = expand(load_sweep(REPO / "sweeps/base2novel.yaml"))
    assert len(runs) == 143
    keys = {(r.config.dataset, r.config.method, r.config.seed) for r in runs}
    assert {d for d, _, _ in keys} == B2N_DATASETS
    learned = {"coop", "cocoop", "maple", "comma"}
    assert {(d, m, s) for d, m, s in keys if m != "zeroshot"} == {
        (d, m, s) for d in B2N_DATASETS for m in learned for s in (1, 2, 3)
    }
    assert {(d, m, s) for d, m, s in keys if m == "zeroshot"} == {(d, "zeroshot", 1) for d in B2N_DATASETS}
    assert len(keys) == 143 and len({r.run_id for r in runs}) == 143
    by = {(r.config.dataset, r.config.method, r.config.seed): r.config for r in runs}
    assert all(c.protocol == "base2novel" and c.shots == 16 and c.targets == () for c in by.values())
    # The official configurations (each repository's configs/trainers/*.yaml), including CoOp's 50 epochs on ImageNet.
    assert by["imagenet", "coop", 1].optim.epochs == 50 and by["dtd", "coop", 1].optim.epochs == 200
    assert by["dtd", "cocoop", 2].optim.batch_size == 1
    assert by["dtd", "comma", 3].method_config["prompt_depth"] == 9
    assert (by["dtd", "maple", 1].optim.lr, by["dtd", "maple", 1].optim.epochs) == (0.0035, 5)
    assert by["dtd", "comma", 1].backbone.model == "ViT-B-16" and by["dtd", "comma", 1].sweep == "base2novel"


@pytest.mark.parametrize("name", ["cross_dataset", "domain_generalization"])
def test_transfer_protocols_train_once_per_method_and_seed(name):
    runs = expand(load_sweep(REPO / f"sweeps/{name}.yaml"))
    assert len(runs) == 13
    assert Counter((r.config.method, r.config.seed) for r in runs) == Counter(
        {("zeroshot", 1): 1, **{(m, s): 1 for m in ("coop", "cocoop", "maple", "comma") for s in (1, 2, 3)}}
    )
    n_targets = 10 if name == "cross_dataset" else 4
    for r in runs:
        assert r.config.dataset == "imagenet" and len(r.config.targets) == n_targets
        assert r.config.protocol == name
        if r.config.method in ("maple", "comma"):  # the cross-dataset configuration: J=3, lr 0.0026, 2 epochs
            assert r.config.method_config["prompt_depth"] == 3
            assert (r.config.optim.lr, r.config.optim.epochs) == (0.0026, 2)


def test_few_shot_shots_axis_rules_and_exclusion():
    runs = expand(load_sweep(REPO / "sweeps/few_shot.yaml"))
    coop = Counter((r.config.dataset == "imagenet", r.config.shots, r.config.optim.epochs)
                   for r in runs if r.config.method == "coop")  # fmt: skip
    assert coop == Counter({(False, 1, 50): 30, (False, 2, 100): 30, (False, 4, 100): 30, (False, 8, 200): 30,
                            (False, 16, 200): 30, **{(True, k, 50): 3 for k in (1, 2, 4, 8, 16)}})  # fmt: skip
    zeroshot = [r for r in runs if r.config.method == "zeroshot"]
    # Zero-shot CLIP reads neither the shots nor the episode: one run per dataset, at seed 1 and 16 shots.
    assert Counter((r.config.dataset, r.config.seed, r.config.shots) for r in zeroshot) == Counter(
        {(r.config.dataset, 1, 16): 1 for r in runs if r.config.method == "coop"}
    )
    assert len(zeroshot) == 11
    assert all(r.config.protocol == "few_shot" and r.config.axes == {"shots": r.config.shots} for r in runs)


def test_method_axes_apply_only_to_methods_with_that_setting(tmp_path):
    path = write_sweep(tmp_path, SMALL)
    spec = load_sweep(path, ["methods.zeroshot={}", "grid.method_config.prompt_depth=[1, 2, 3]", "grid.shots=[2, 4]"])
    runs = expand(spec)
    count = Counter(r.config.method for r in runs)
    # coop has no prompt depth: 2 shots x 2 seeds; maple: 3 depths x 2 shots x 2 seeds; zeroshot likewise 4.
    assert count == {"coop": 4, "maple": 12, "zeroshot": 4}
    maple = {(r.config.method_config["prompt_depth"], r.config.shots, r.config.seed) for r in runs
             if r.config.method == "maple"}  # fmt: skip
    assert len(maple) == 12
    for r in runs:
        expected = {"shots": r.config.shots}
        if r.config.method == "maple":
            expected = {"method_config.prompt_depth": r.config.method_config["prompt_depth"], "shots": r.config.shots}
        assert r.config.axes == expected
    assert "prompt_depth=" in next(r.label for r in runs if r.config.method == "maple")
    # Zero-shot CLIP has no optimiser: a learning-rate axis does not repeat it.
    runs = expand(load_sweep(path, ["methods.zeroshot={}", "grid.optim.lr=[0.1, 0.2, 0.3]"]))
    assert Counter(r.config.method for r in runs) == {"coop": 6, "maple": 6, "zeroshot": 2}


def test_cases_rules_and_precedence(tmp_path):
    text = (
        SMALL.replace("coop: {}", "comma: {prompt_depth: 3, kd_weight: 2.0}")
        + """
cases:
  - {name: official, set: {}}
  - {name: trained, set: {method_config.generator: trained}}
  - {name: no_kd, set: {method_config.kd: false, method_config.kd_weight: 0.0}}
rules:
  - when: {case: no_kd, seed: 2}
    set: {optim.lr: 0.5}
  - when: {method: maple}
    set: {optim.epochs: 7}
"""
    )
    runs = expand(load_sweep(write_sweep(tmp_path, text)))
    comma = {(r.config.axes.get("case"), r.config.seed): r.config for r in runs if r.config.method == "comma"}
    assert sorted(comma) == sorted((c, s) for c in ("official", "trained", "no_kd") for s in (1, 2))
    assert comma["official", 1].method_config == {"prompt_depth": 3, "kd_weight": 2.0}
    assert comma["trained", 1].method_config["generator"] == "trained"
    assert comma["no_kd", 1].method_config["kd_weight"] == 0.0  # case beats methods.<name>
    assert comma["no_kd", 2].optim.lr == 0.5 and comma["no_kd", 1].optim.lr is None
    maple = [r.config for r in runs if r.config.method == "maple"]
    assert len(maple) == 2 and all(c.axes == {} and c.optim.epochs == 7 for c in maple)  # no case touches maple


def test_run_ids_are_stable_and_hash_the_resolved_config(tmp_path):
    path = write_sweep(tmp_path, SMALL)
    first = [r.run_id for r in expand(load_sweep(path))]
    assert first == [r.run_id for r in expand(load_sweep(path))]
    assert all(len(i) == 12 for i in first) and len(set(first)) == 4
    # Writing a default explicitly, renaming the sweep, or moving the data root does not change what a run computes.
    same = load_sweep(path, ["methods.coop.n_ctx=4", "name=renamed", "optim.batch_size=4"])
    assert sorted(r.run_id for r in expand(same, data_root="/elsewhere")) == sorted(
        r.run_id for r in expand(load_sweep(path, ["optim.batch_size=4"]))
    )
    changed = [r.run_id for r in expand(load_sweep(path, ["optim.lr=0.01"]))]
    assert not set(changed) & set(first)
    run = expand(load_sweep(path))[0]
    assert config_run_id(run.config) == run.run_id


def test_duplicate_runs_are_kept_once_and_empty_sweeps_are_errors(tmp_path):
    path = write_sweep(tmp_path, SMALL)
    # comma's kd_weight axis means nothing to coop/maple: they must not run once per value.
    runs = expand(load_sweep(path, ["methods.comma={prompt_depth: 2}", "grid.method_config.kd_weight=[0.5, 1.0]"]))
    assert Counter(r.config.method for r in runs) == {"coop": 2, "maple": 2, "comma": 4}
    with pytest.raises(UserError, match="expands to no runs"):
        expand(load_sweep(path, ["exclude=[{seed: [1, 2]}]"]))


def test_run_ids_hash_the_effective_precision_not_the_device(tmp_path):
    """`precision: auto` is fp32 on a CPU trial and bf16 on a CUDA one: two different runs, two ids."""
    from comma_bench.config.resolve import resolved_config
    from comma_bench.records import run_id
    from comma_bench.sweep.plan import trial_device

    path = write_sweep(tmp_path, SMALL)
    cpu = expand(load_sweep(path), device="cpu")
    assert {r.config.precision for r in cpu} == {"fp32"}  # the trial runs what the id says, wherever it lands
    assert [r.run_id for r in cpu] == [r.run_id for r in expand(load_sweep(path, ["precision=fp32"]), device="cpu")]
    gpu = expand(load_sweep(path), device="cuda")
    assert {r.config.precision for r in gpu} == {"bf16"}
    assert [r.run_id for r in gpu] == [r.run_id for r in expand(load_sweep(path, ["precision=bf16"]), device="cpu")]
    assert not {r.run_id for r in cpu} & {r.run_id for r in gpu}
    # An explicit precision is what the run computes on either device: one id.
    fp16 = load_sweep(path, ["precision=fp16"])
    assert [r.run_id for r in expand(fp16, device="cpu")] == [r.run_id for r in expand(fp16, device="cuda")]
    # Where the trials run: gpus 0 is the CPU, a GPU count is CUDA.
    assert trial_device(load_sweep(path, ["resources.gpus=0"])) == "cpu"
    assert trial_device(load_sweep(path, ["resources.gpus=1"])) == "cuda"
    # The engine agrees with the plan: a CPU run of `auto` gets the planned fp32 id, and the device is not hashed.
    auto = cpu[0].config.replace(precision="auto")
    assert run_id(resolved_config(auto, "cpu")) == cpu[0].run_id == config_run_id(cpu[0].config)
    assert run_id(resolved_config(auto, "cuda")) == gpu[0].run_id
    assert run_id(resolved_config(cpu[0].config.replace(device="cuda:3"))) == cpu[0].run_id


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        # each method's own check: IVLP bounds its vision depth by the 12 layers of world-tiny's image tower
        ("ivlp: {text_depth: 4, vision_depth: 13}", "method_config.vision_depth=13 must be between 1 and 12"),
        ("vpt: {prompt_depth: 13}", "method_config.prompt_depth=13 must be between 1 and 12, the number of layers of"),
    ],
)
def test_planning_runs_each_methods_own_backbone_check(tmp_path, methods, expected):
    path = write_sweep(tmp_path, SMALL.replace("maple: {prompt_depth: 2}", methods))
    with pytest.raises(UserError, match=expected):
        expand(load_sweep(path))
    fits = write_sweep(tmp_path, SMALL.replace("maple: {prompt_depth: 2}", "ivlp: {text_depth: 4, vision_depth: 2}"))
    assert {r.config.method for r in expand(load_sweep(fits))} == {"coop", "ivlp"}
