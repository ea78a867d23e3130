"""collect(): records -> tidy frame, duplicates, non-record JSON, malformed records, published data loading."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import b2n_records, make_record, other_records, write_records

from comma_bench.errors import UserError
from comma_bench.records import run_id, write_json_atomic
from comma_bench.report import collect
from comma_bench.report.published import (
    matches_published,
    parse_settings,
    published_base2novel,
    published_base2novel_datasets,
    published_configurations,
    published_cross_dataset,
    published_domain_generalization,
    published_targets,
    published_transfer,
)


def test_tidy_rows_one_per_eval_and_failed_run_kept(b2n_dir: Path) -> None:
    frame = collect([b2n_dir])
    # 12 finished runs x 2 evals (base, new) + 1 failed run with a single row.
    assert len(frame) == 12 * 2 + 1
    assert frame["run_id"].nunique() == 13
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 1
    row = failed.iloc[0]
    assert (row["method"], row["dataset"], row["seed"]) == ("maple", "world/shapes", 3)
    assert math.isnan(row["accuracy"]) and row["failure_reason"] == "loss is NaN at epoch 2 step 3"
    coop = frame[(frame["method"] == "coop") & (frame["dataset"] == "world/shapes") & (frame["seed"] == 2)]
    assert dict(zip(coop["role"], coop["accuracy"])) == {"base": 82.0, "novel": 60.0}
    assert set(coop["subset"]) == {"base", "new"}
    assert set(frame["backbone_model"]) == {"world-tiny"} and set(frame["sweep"]) == {"unit"}
    for col in ("run_id", "protocol", "eval_dataset", "shots", "backbone_pretrained", "failure_reason", "record"):
        assert col in frame.columns


def test_axis_columns_and_roles(tmp_path: Path) -> None:
    frame = collect([write_records(tmp_path, other_records())])
    assert "axis:method_config.prompt_depth" in frame.columns
    comma = frame[frame["method"] == "comma"]
    assert sorted(set(comma["axis:method_config.prompt_depth"])) == [1, 3]
    assert frame.loc[frame["method"] == "coop", "axis:method_config.prompt_depth"].isna().all()
    dg = frame[frame["protocol"] == "domain_generalization"]
    assert sorted(set(dg["role"])) == ["source", "target"]
    assert set(dg.loc[dg["role"] == "target", "eval_dataset"]) == {"world/shapes_sketch", "world/shapes_noisy"}
    assert set(frame.loc[frame["protocol"] == "few_shot", "role"]) == {"accuracy"}


def test_merges_folders_and_keeps_newest_duplicate(tmp_path: Path) -> None:
    old = make_record("coop", "world/shapes", base=10.0, novel=20.0, created="2026-01-01T00:00:00Z")
    new = dict(old, created="2026-02-01T00:00:00Z", evals=[dict(e, accuracy=e["accuracy"] + 1) for e in old["evals"]])
    other = make_record("maple", "world/shapes", base=50.0, novel=60.0)
    write_json_atomic(tmp_path / "a" / "x.json", new)
    write_json_atomic(tmp_path / "b" / "deep" / "x.json", old)
    write_json_atomic(tmp_path / "c" / "y.json", other)
    frame = collect([tmp_path / "a", tmp_path / "b", tmp_path / "c" / "y.json"])
    assert frame["run_id"].nunique() == 2
    coop = frame[frame["method"] == "coop"]
    assert sorted(coop["accuracy"]) == [11.0, 21.0]  # the newer copy
    (note,) = frame.attrs["notes"]
    assert old["run_id"] in note and "kept x.json (2026-02-01T00:00:00Z)" in note and "deep/x.json" in note


def test_skips_non_record_json_but_rejects_malformed_records(tmp_path: Path) -> None:
    write_records(tmp_path / "runs", [make_record("coop", "world/shapes", base=1.0, novel=2.0)])
    (tmp_path / "runs" / "checkpoint.json").write_text(json.dumps({"run_id": "abc", "epoch": 3}))
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "result.json").write_text('{"done": 1}\n{"done": 2}\n')  # JSON lines, as Ray writes
    assert collect([tmp_path])["run_id"].nunique() == 1

    bad = make_record("coop", "world/scenes", base=1.0, novel=2.0)
    del bad["config"]["seed"]
    write_json_atomic(tmp_path / "runs" / "bad.json", bad)
    with pytest.raises(UserError, match=r"bad\.json: malformed run record: `config\.seed`: Field required"):
        collect([tmp_path])
    (tmp_path / "runs" / "bad.json").unlink()

    foreign = {"schema": "someone-else/1", "x": 1}
    write_json_atomic(tmp_path / "runs" / "foreign.json", foreign)
    with pytest.raises(UserError, match=r"foreign\.json: not a comma-bench run record"):
        collect([tmp_path])
    (tmp_path / "runs" / "foreign.json").unlink()

    (tmp_path / "runs" / "cut.json").write_text('{\n  "schema": "comma-bench/run/1",\n  "run_id": "ab')
    with pytest.raises(UserError, match=r"cut\.json: malformed run record: not valid JSON"):
        collect([tmp_path])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.update(status="running"), "`status`: Input should be 'finished' or 'failed'"),
        (lambda r: r.update(evals=[]), "a finished run must have at least one entry in `evals`"),
        (lambda r: r["evals"][0].update(accuracy=float("nan")), r"`evals\.0\.accuracy`: Input should be a finite"),
        (lambda r: r["config"].update(protocol="zero"), "`config.protocol`: Input should be 'base2novel', 'few_shot'"),
        (lambda r: r.update(created="yesterday"), "`created`: not an ISO-8601 time: 'yesterday'"),
        (lambda r: r["config"].update(seed=True), "`config.seed`: Input should be a valid integer"),
        (lambda r: r.update(extra_key=1), "`extra_key`: Extra inputs are not permitted"),
    ],
)
def test_malformed_record_errors_name_file_and_key(tmp_path: Path, edit, message: str) -> None:
    rec = make_record("coop", "world/shapes", base=1.0, novel=2.0)
    edit(rec)
    write_json_atomic(tmp_path / "r.json", rec)
    with pytest.raises(UserError, match=message) as info:
        collect([tmp_path])
    assert str(tmp_path / "r.json") in str(info.value)


def test_every_problem_of_a_record_in_one_line(tmp_path: Path) -> None:
    rec = make_record("coop", "world/shapes", base=1.0, novel=2.0)
    rec["status"] = "done"
    del rec["config"]["shots"]
    write_json_atomic(tmp_path / "r.json", rec)
    with pytest.raises(UserError) as info:
        collect([tmp_path])
    message = str(info.value)
    assert "\n" not in message and "`status`: Input should be" in message
    assert "`config.shots`: Field required" in message


def test_legacy_run1_record_loads_with_its_context_moved_out(tmp_path: Path) -> None:
    """A record written before the config/context split (schema run/1, context keys inside `config`)."""
    rec = make_record("coop", "world/shapes", base=80.0, novel=60.0, axes={"shots": 16}, sweep="old")
    legacy = {k: v for k, v in rec.items() if k != "context"}
    legacy["schema"] = "comma-bench/run/1"
    legacy["config"] = {**rec["config"], **rec["context"]}
    write_json_atomic(tmp_path / "old.json", legacy)
    frame = collect([tmp_path])
    assert list(frame["run_id"]) == [rec["run_id"]] * 2 and rec["run_id"] == run_id(legacy["config"])
    assert list(frame["sweep"]) == ["old", "old"] and list(frame["axis:shots"]) == [16, 16]
    assert dict(zip(frame["role"], frame["accuracy"])) == {"base": 80.0, "novel": 60.0}


def test_failed_record_needs_a_reason(tmp_path: Path) -> None:
    rec = make_record("coop", "world/shapes", failed="boom")
    rec["failure"] = None
    write_json_atomic(tmp_path / "r.json", rec)
    with pytest.raises(UserError, match=r"r\.json: malformed run record: a failed run must have `failure\.reason`"):
        collect([tmp_path])


def test_no_records_and_missing_path_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="empty: no comma-bench run records"):
        collect([tmp_path / "empty"])
    with pytest.raises(UserError, match="nowhere: no such file or folder"):
        collect([tmp_path / "nowhere"])


def test_records_fixture_is_schema_complete() -> None:
    # Guards the fixture helper itself: every record has the keys records.py documents.
    keys = {"schema", "run_id", "status", "kind", "config", "context", "evals", "metrics", "higher_is_better", "train",
            "trainable_params", "timings", "resources", "versions", "created", "failure"}  # fmt: skip
    for rec in b2n_records():
        assert set(rec) == keys


def test_published_reference_data() -> None:
    b2n = published_base2novel()
    maple = b2n[(b2n["method"] == "maple") & (b2n["dataset"] == "oxford_pets")].iloc[0]
    assert (maple["base"], maple["novel"], maple["hm"]) == (95.43, 97.76, 96.58)
    assert len(b2n) == 53
    assert set(b2n["method"]) == {"zeroshot", "coop", "cocoop", "maple", "comma", "kgcoop", "ivlp", "vpt"}
    averages = b2n[b2n["dataset"] == "average"].set_index(["method", "settings"])[["base", "novel", "hm"]]
    assert tuple(averages.loc[("ivlp", "{}")]) == (82.15, 74.07, 77.90)
    assert tuple(averages.loc[("vpt", "{}")]) == (80.24, 73.43, 76.68)
    # MaPLe README's deep language prompting: IVLP/vit_b16_c2_ep5_batch4_4ctx_language_only
    language_only = '{"n_ctx_text":4,"n_ctx_vision":0,"vision_depth":0}'
    assert tuple(averages.loc[("ivlp", language_only)]) == (81.72, 73.81, 77.56)
    assert set(b2n["settings"]) == {"{}", language_only}  # every other number was measured at the defaults
    assert published_configurations("base2novel", "ivlp") == ("{}", language_only)
    assert len(published_base2novel_datasets()) == 11
    assert published_cross_dataset().shape == (3, 15)
    assert published_domain_generalization().shape == (4, 9)
    for protocol in ("cross_dataset", "domain_generalization"):  # MaPLe's cross-dataset config: J = 3
        assert published_configurations(protocol, "maple") == ('{"prompt_depth":3}',)
        assert published_configurations(protocol, "coop") == ("{}",)
    assert published_configurations("few_shot", "coop") == ()
    assert published_targets("domain_generalization") == ("imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r")
    cross = published_transfer("cross_dataset")
    coop = dict(zip(cross.loc[cross["method"] == "coop", "column"], cross.loc[cross["method"] == "coop", "accuracy"]))
    assert (coop["source"], coop["eurosat"], coop["target_mean"]) == (71.51, 46.39, 63.88)


@pytest.mark.parametrize(
    ("text", "settings"),
    [
        ("", {}),
        ("prompt_depth=3", {"prompt_depth": 3}),
        ("n_ctx_text=4; vision_depth=0", {"n_ctx_text": 4, "vision_depth": 0}),
        ("generator=trained;kd_weight=0.5", {"generator": "trained", "kd_weight": 0.5}),
    ],
)
def test_published_settings_cells(text: str, settings: dict) -> None:
    assert parse_settings(text) == settings


def test_a_malformed_published_settings_cell_is_named() -> None:
    with pytest.raises(ValueError, match=r"^published settings 'prompt_depth': expected key=value;key=value$"):
        parse_settings("prompt_depth")


def test_published_match_rule() -> None:
    assert matches_published("base2novel", "ViT-B-16", "openai", 16)
    assert matches_published("cross_dataset", "ViT-B-16", "openai", 16)
    assert not matches_published("base2novel", "world-tiny", "builtin", 16)
    assert not matches_published("base2novel", "ViT-B-16", "laion2b_s34b_b88k", 16)
    assert not matches_published("base2novel", "ViT-B-16", "openai", 8)
    assert not matches_published("few_shot", "ViT-B-16", "openai", 16)
