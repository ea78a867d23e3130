"""Sweep files: the shipped ones validate and expand to the right counts; malformed ones give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from comma_bench.cli import main
from comma_bench.config.yamlio import loads
from comma_bench.errors import UserError
from comma_bench.sweep.spec import apply_set, load_sweep
from tests.sweep.conftest import REPO, SMALL, write_sweep

SWEEPS = sorted((REPO / "sweeps").glob("*.yaml"))

# Every shipped sweep and the number of runs it must expand to (a new file must be added here).
EXPECTED_RUNS = {
    "quickstart": 39,  # 3 world datasets x (4 methods x 3 seeds + zero-shot once)
    "base2novel": 11 * (3 * 4 + 1),  # zero-shot once per dataset: it trains nothing, so no seed changes it
    "cross_dataset": 4 * 3 + 1,  # one source-trained run per (method, seed), evaluated on every target
    "domain_generalization": 4 * 3 + 1,
    "few_shot": 11 * 3 * (4 * 5) + 11,  # zero-shot once (16 shots, seed 1) per dataset
    "ablation_prompt_depth": 11 * 3 * 2 * 6,
    "ablation_kd_weight": 11 * 3 * (6 + 1),  # MaPLe reference once per dataset and seed
    "ablation_shots": 11 * 3 * (4 * 5) + 11,
    "ablation_comma_components": 11 * 3 * (6 + 1),
    "world_ablation_prompt_depth": 3 * 2 * 2 * 6,  # J in {1, 3, 5, 7, 9, 11}
    "world_ablation_kd_weight": 3 * 2 * (5 + 1),
    "world_ablation_shots": 3 * 2 * (4 * 4) + 3,
    "world_ablation_comma_components": 3 * 2 * (6 + 1),
    "world_cross_dataset": 3 * 2 + 1,
    "world_domain_generalization": 3 * 2 + 1,
    "world_few_shot": 3 * 2 * (4 * 4) + 3,
    "world_episodes": 2 * 20 + 2,  # CoOp on 20 episodes of 2 datasets, zero-shot once per dataset
}


def test_every_shipped_sweep_is_listed():
    assert {p.stem for p in SWEEPS} == set(EXPECTED_RUNS)


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_shipped_sweep_validates_and_expands(path: Path, capsys):
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{EXPECTED_RUNS[path.stem]} runs" in out, out
    header = path.read_text().split("\nname:")[0]
    for what in ("Reproduces:", "Time:", "Command: comma-bench run sweeps/"):
        assert what in header, f"{path.name} must open with a comment saying {what!r}"
    assert load_sweep(path).name == path.stem


# (sweep text, text the one-line error must contain)
MALFORMED = {
    "unknown_key": (SMALL + "seed: [1]\n", "seed: unknown key; valid keys: name, description, protocol"),
    "wrong_type": (SMALL.replace("seeds: [1, 2]", "seeds: [1, two]"), "seeds.1: expected a valid integer, got 'two'"),
    "unknown_method": (
        SMALL.replace("coop: {}", "coopp: {}"),
        "methods.coopp: unknown method 'coopp'; valid methods: zeroshot, coop, cocoop, vpt, ivlp, maple, comma",
    ),
    "unknown_dataset": (SMALL.replace("world/shapes", "world/shape"), "datasets.0: unknown dataset 'world/shape'"),
    "unknown_model": (SMALL.replace("world-tiny", "ViT-Q-99"), "backbone.model: unknown model 'ViT-Q-99'"),
    "unknown_method_setting": (
        SMALL.replace("coop: {}", "coop: {n_ctxx: 4}"),
        "methods.coop.n_ctxx: unknown key; valid keys: n_ctx, ctx_init, csc, class_token_position, optim",
    ),
    "unknown_protocol": (
        SMALL.replace("protocol: base2novel", "protocol: base2new"),
        "protocol: unknown value 'base2new'; valid values: base2novel, few_shot",
    ),
    "grid_field_of_no_method": (
        SMALL + "grid: {method_config.kd_weight: [0.5, 1.0]}\n",
        "grid.method_config.kd_weight: no method of this sweep (coop, maple) has a setting 'kd_weight'",
    ),
    "grid_unknown_path": (SMALL + "grid: {optim.lrr: [0.1]}\n", "grid.optim.lrr: unknown config path 'optim.lrr'"),
    "missing_required": (SMALL.replace("datasets: [world/shapes]\n", ""), "datasets: required key is missing"),
    "yaml_syntax": (SMALL + "grid: {shots: [1, 2}\n", "not valid YAML"),
    "duplicate_key": (SMALL + "seeds: [3]\n", "key 'seeds' appears twice"),
    "prompt_depth_too_deep": (
        SMALL.replace("prompt_depth: 2", "prompt_depth: 13"),
        "method_config.prompt_depth=13 must be between 1 and 12, the number of layers of world-tiny",
    ),
    "vision_prompts_on_a_resnet": (
        SMALL.replace("{model: world-tiny, pretrained: builtin}", "{model: RN50, pretrained: none}"),
        "method_config.prompt_depth=2 needs a transformer vision tower, and RN50's is a ResNet: use a ViT model "
        "(set backbone.model accordingly)",
    ),
    "targets_in_base2novel": (SMALL + "targets: [world/colors]\n", "targets: only for cross_dataset"),
    "fractional_multi_gpu": (SMALL.replace("gpus: 0", "gpus: 1.5"), "resources.gpus: more than one GPU per trial"),
    "method_setting_type": (
        SMALL.replace("coop: {}", "coop: {csc: maybe}"),
        "methods.coop.csc: expected a valid boolean",
    ),
    "bad_pretrained_tag": (SMALL.replace("builtin", "laion9b"), "unknown pretrained tag 'laion9b' for world-tiny"),
    "cross_without_targets": (
        SMALL.replace("protocol: base2novel", "protocol: cross_dataset"),
        "targets: protocol cross_dataset needs a non-empty list of target datasets",
    ),
    "rule_unknown_method": (
        SMALL + "rules: [{when: {method: kooc}, set: {optim.epochs: 1}}]\n",
        "rules.0.when.method: unknown value 'kooc'",
    ),
    "not_a_mapping": ("- just\n- a list\n", "expected a mapping with keys name, description"),
    "seed_range_backwards": (
        SMALL.replace("seeds: [1, 2]", "seeds: 20-1"),
        "seeds: bad seed range '20-1': the end 1 is below the start 20",
    ),
    "seed_range_malformed": (
        SMALL.replace("seeds: [1, 2]", "seeds: [1, 3-x]"),
        "seeds.1: bad seed range '3-x': expected START-END with integers, e.g. 1-20",
    ),
    "seed_range_overlaps": (SMALL.replace("seeds: [1, 2]", "seeds: [1-5, 3]"), "seeds: a seed is listed twice"),
    "seed_range_too_long": (SMALL.replace("seeds: [1, 2]", "seeds: 1-100000"), "100000 seeds; at most 10000"),
    "seed_range_in_exclude": (
        SMALL + "exclude: [{method: coop, seed: 2-}]\n",
        "exclude.0.seed: bad seed range '2-'",
    ),
}


CASES = [("validate", case) for case in sorted(MALFORMED)] + [
    ("run", case)
    for case in ("unknown_key", "unknown_method", "prompt_depth_too_deep")  # `run` shares the loader
]


@pytest.mark.parametrize(("command", "case"), CASES)
def test_malformed_sweep_gives_one_line_error(command: str, case: str, tmp_path, capsys):
    text, expected = MALFORMED[case]
    path = write_sweep(tmp_path, text)
    argv = [command, str(path)] + (["--dry-run", "--output", str(tmp_path)] if command == "run" else [])
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert str(path) in lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_seed_ranges_expand_in_the_plan(tmp_path, capsys):
    path = write_sweep(tmp_path, SMALL.replace("seeds: [1, 2]", "seeds: 1-20"))
    assert load_sweep(path).seeds == tuple(range(1, 21))
    mixed = write_sweep(tmp_path, SMALL.replace("seeds: [1, 2]", "seeds: [1-3, 7, 10 - 11]"), "mixed.yaml")
    assert load_sweep(mixed).seeds == (1, 2, 3, 7, 10, 11)
    assert load_sweep(path, ["seeds=5-6"]).seeds == (5, 6)  # --set takes a range too
    # A range in `exclude` drops every seed of it: coop runs on seeds 1 and 20 only, maple on all 20.
    excl = write_sweep(
        tmp_path, SMALL.replace("seeds: [1, 2]", "seeds: 1-20") + "exclude: [{method: coop, seed: 2-19}]\n", "excl.yaml"
    )
    assert main(["validate", str(excl)]) == 0
    assert f"{2 + 20} runs" in capsys.readouterr().out


def test_missing_file_and_bad_set(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: sweep file not found" in capsys.readouterr().err
    path = write_sweep(tmp_path, SMALL)
    assert main(["validate", str(path), "--set", "seeds"]) == 2
    assert "expected KEY.PATH=VALUE" in capsys.readouterr().err
    assert main(["validate", str(path), "--set", "seeds=[1, 2"]) == 2
    assert "--set seeds: not valid YAML" in capsys.readouterr().err


def test_set_overrides_any_field(tmp_path):
    path = write_sweep(tmp_path, SMALL)
    spec = load_sweep(
        path,
        [
            "seeds=[7]",
            "methods.coop.n_ctx=8",
            "methods.maple.optim.lr=1e-3",  # YAML 1.1 would read 1e-3 as a string
            "grid.method_config.prompt_depth=[1, 3]",
            "resources.gpus=0.25",
            "ray.address=auto",
        ],
    )
    assert spec.seeds == (7,)
    assert {m.name: m.config for m in spec.methods} == {"coop": {"n_ctx": 8}, "maple": {"prompt_depth": 2}}
    assert [m.optim for m in spec.methods] == [{}, {"lr": 0.001}]
    assert spec.grid == {"method_config.prompt_depth": (1, 3)}
    assert spec.resources.gpus == 0.25 and spec.resources.cpus == 1.0
    assert spec.ray_address == "auto"
    # Replacing the method list keeps it addressable by later --set flags.
    spec = load_sweep(path, ["methods=[zeroshot, comma]", "methods.comma.prompt_depth=3"])
    assert [(m.name, m.config) for m in spec.methods] == [("zeroshot", {}), ("comma", {"prompt_depth": 3})]


def test_apply_set_paths():
    doc = {"rules": [{"when": {"method": "coop"}, "set": {"optim.epochs": 5}}], "grid": {}}
    apply_set(doc, "rules.0.set.optim.epochs=7")
    apply_set(doc, "grid.optim.lr=[0.1, 0.2]")
    apply_set(doc, "backbone.model=ViT-B-16")
    assert doc["rules"][0]["set"] == {"optim.epochs": 7}
    assert doc["grid"] == {"optim.lr": [0.1, 0.2]}
    assert doc["backbone"] == {"model": "ViT-B-16"}
    with pytest.raises(UserError, match="rules is a list of 1"):
        apply_set(doc, "rules.3.when.seed=1")


def test_yaml_reads_exponent_floats_and_keeps_strings():
    assert loads("a: 1e-3\nb: 2.5E+2\nc: '1e-3'\nd: 10\ne: .5\nf: x1e3", "t") == {
        "a": 0.001,
        "b": 250.0,
        "c": "1e-3",
        "d": 10,
        "e": 0.5,
        "f": "x1e3",
    }


def test_the_readme_example_is_a_valid_sweep(tmp_path):
    readme = (REPO / "comma_bench/sweep/README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    from comma_bench.sweep.plan import expand

    runs = expand(load_sweep(write_sweep(tmp_path, example)))
    # 3 datasets x 3 seeds x (zeroshot 1 + coop 2 lrs + maple 3 depths x 2 lrs + comma 3 x 3 x 2 lrs x 2 cases)
    assert len(runs) == 3 * 3 * (1 + 2 + 6 + 36)


def test_every_problem_of_a_file_is_reported_at_once(tmp_path, capsys):
    text = (
        SMALL.replace("seeds: [1, 2]", "seeds: [1, two]")
        .replace("datasets: [world/shapes]", "datasets: [world/shapes, world/shape]")
        .replace("coop: {}", "coop: {n_ctxx: 4}")
        .replace("cpus: 1", "cpus: -1")
        + "grid: {optim.lrr: [0.1], shots: [1, x]}\nseed: 3\n"
    )
    path = write_sweep(tmp_path, text)
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    prefix = f"comma-bench validate: error: {path}: "
    assert [line.removeprefix(prefix).split(":")[0] for line in lines] == [
        "datasets.1",
        "methods.coop.n_ctxx",
        "seeds.1",
        "grid.optim.lrr",
        "grid.shots",
        "resources.cpus",
        "seed",
    ]
    assert all(line.startswith(prefix) for line in lines)
    assert lines[2] == prefix + "seeds.1: expected a valid integer, got 'two'"
    assert lines[4] == prefix + "grid.shots: expected a valid integer, got 'x'"
    assert lines[5] == prefix + "resources.cpus: expected a number > 0, got -1.0"
    with pytest.raises(UserError) as info:  # the Python API: one exception, one line per problem
        load_sweep(path)
    assert len(str(info.value).splitlines()) == len(lines) and len(info.value.problems) == len(lines)


def test_a_problem_is_reported_once_not_by_every_key_that_depends_on_it(tmp_path, capsys):
    # An unknown method: the grid's method setting cannot be checked, and is not reported as a second problem.
    text = SMALL.replace("coop: {}", "coopp: {}") + "grid: {method_config.prompt_depth: [1, 2]}\n"
    path = write_sweep(tmp_path, text)
    assert main(["validate", str(path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "methods.coopp: unknown method 'coopp'" in line
