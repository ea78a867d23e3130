"""Table cells computed by hand from the fixture records (conftest.py), asserted exactly.

Expected values are written as the arithmetic they come from (e.g. HM(82, 60) = 2*82*60/142 = 9840/142), and
standard deviations are recomputed with `statistics.pstdev` (population std, ddof=0), an implementation independent
of the numpy code under test.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean, pstdev

import pytest
from conftest import make_record, other_records, vit_records, write_records

from comma_bench.protocols.base2novel import harmonic_mean as hm
from comma_bench.report import collect
from comma_bench.report.published import published_base2novel, published_base2novel_datasets
from comma_bench.report.tables import FAILED, FEWER, Table, build_tables, find_gaps
from comma_bench.report.text import cell_text, markdown_table, text_table

EXACT = {"rel": 1e-12, "abs": 1e-12}


def _table(tables: list[Table], key: str) -> Table:
    (t,) = [t for t in tables if t.key == key]
    return t


def _row(table: Table, *labels: str):
    (row,) = [r for r in table.rows if r.labels == labels]
    return row


def test_base2novel_cells(b2n_dir: Path) -> None:
    tables = build_tables(collect([b2n_dir]))
    assert [t.key for t in tables] == ["base2novel", "base2novel-per-seed"]
    t = tables[0]
    assert t.label_columns == ("Dataset", "Method") and t.value_columns == ("Base", "Novel", "HM")

    base, novel, h = _row(t, "world/shapes", "coop").cells
    assert base.mean == 82.0 and base.std == pytest.approx(pstdev([80, 82, 84]), **EXACT) and base.n == 3
    assert base.values == (80.0, 82.0, 84.0) and base.marks == ""
    assert (novel.mean, novel.std) == (60.0, 0.0)
    assert h.mean == pytest.approx(9840 / 142, **EXACT)  # HM of the seed means, not the mean of per-seed HMs
    assert h.std == pytest.approx(pstdev([9600 / 140, 9840 / 142, 10080 / 144]), **EXACT)
    # ddof=0: sqrt(8/3) = 1.63 (the sample std, ddof=1, would print 2.00).
    assert cell_text(base) == "82.00 ± 1.63"

    base, novel, h = _row(t, "world/scenes", "coop").cells
    assert (base.mean, base.std, novel.mean) == (90.0, 0.0, 50.0)
    assert novel.std == pytest.approx(pstdev([40, 50, 60]), **EXACT)
    assert h.mean == pytest.approx(9000 / 140, **EXACT)

    # maple: seed 3 failed on world/shapes, seed 3 missing on world/scenes.
    row = _row(t, "world/shapes", "maple")
    assert [c.mean for c in row.cells] == [89.0, 71.0, pytest.approx(12638 / 160, **EXACT)]
    assert [c.std for c in row.cells[:2]] == [1.0, 1.0]
    assert [c.marks for c in row.cells] == [FEWER + FAILED] * 3 and row.seeds == "2"
    row = _row(t, "world/scenes", "maple")
    assert row.cells[2].mean == pytest.approx(12090 / 158, **EXACT)
    assert [c.marks for c in row.cells] == [FEWER] * 3

    # zero-shot does not train and was run with seed 1 only: judged against its own seeds, so no mark.
    row = _row(t, "world/shapes", "zeroshot")
    assert [c.mean for c in row.cells] == [70.0, 75.0, pytest.approx(10500 / 145, **EXACT)]
    assert [c.marks for c in row.cells] == ["", "", ""] and row.seeds == "1"
    assert cell_text(row.cells[0]) == "70.00"  # no ± for a single seed


def test_average_row_hm_is_from_averaged_base_and_novel(b2n_dir: Path) -> None:
    t = build_tables(collect([b2n_dir]))[0]
    base, novel, h = _row(t, "Average", "coop").cells
    assert (base.mean, novel.mean) == (86.0, 55.0)  # mean of the per-dataset means (82, 90) and (60, 50)
    assert h.mean == pytest.approx(9460 / 141, **EXACT)  # HM(86, 55) = 67.09
    mean_of_hms = (9840 / 142 + 9000 / 140) / 2  # 66.79: the convention MaPLe's published average rules out
    assert abs(h.mean - mean_of_hms) > 0.3
    assert base.std is None and h.std is None  # averages carry no ±
    base, novel, h = _row(t, "Average", "maple").cells
    assert (base.mean, novel.mean, h.mean) == (91.0, 68.0, pytest.approx(12376 / 159, **EXACT))
    assert base.marks == FEWER + FAILED
    assert [c.mean for c in _row(t, "Average", "zeroshot").cells] == [65.0, 70.0, pytest.approx(9100 / 135, **EXACT)]
    assert all(c.marks == "" for c in _row(t, "Average", "zeroshot").cells)


def test_bold_best_per_dataset_block_and_notes(b2n_dir: Path) -> None:
    t = build_tables(collect([b2n_dir]))[0]
    labels = [r.labels for r in t.rows]
    best = {(labels[i], t.value_columns[j]) for i, j in t.best()}
    assert (("world/shapes", "maple"), "Base") in best and (("world/shapes", "zeroshot"), "Novel") in best
    assert (("world/shapes", "maple"), "HM") in best and (("world/shapes", "coop"), "Base") not in best
    assert (("Average", "maple"), "HM") in best
    md = markdown_table(t)
    assert "| **89.00 ± 1.00†‡** |" in md and "| 82.00 ± 1.63 |" in md
    assert any(n.startswith(f"{FEWER} fewer seeds than the 3") for n in t.notes)
    assert any(n.startswith(f"{FAILED} at least one run") for n in t.notes)
    tt = text_table(t)
    assert tt.rows[0][0] == "world/scenes" and tt.rows[1][0] == ""  # dataset printed once per block


def test_failed_and_missing_lists(b2n_dir: Path) -> None:
    gaps = find_gaps(collect([b2n_dir]))
    assert gaps.failed[["method", "dataset", "seed", "reason"]].values.tolist() == [
        ["maple", "world/shapes", 3, "loss is NaN at epoch 2 step 3"]
    ]
    assert gaps.failed["record"].iloc[0].endswith(".json")
    assert gaps.missing[["protocol", "method", "dataset", "seed"]].values.tolist() == [
        ["base2novel", "maple", "world/scenes", 3]
    ]


def test_missing_method_dataset_and_eval_only_runs(tmp_path: Path) -> None:
    recs = [make_record("coop", ds, seed=s, base=50.0, novel=40.0) for ds in ("world/a", "world/b") for s in (1, 2)]
    recs.append(make_record("maple", "world/a", seed=1, base=50.0, novel=40.0))
    recs.append(make_record("zeroshot", "world/a", seed=1, base=50.0, novel=40.0))
    frame = collect([write_records(tmp_path, recs)])
    missing = find_gaps(frame).missing[["method", "dataset", "seed"]].values.tolist()
    assert missing == [
        ["zeroshot", "world/b", 1],
        ["maple", "world/a", 2],
        ["maple", "world/b", 1],
        ["maple", "world/b", 2],
    ]
    t = build_tables(frame)[0]
    row = _row(t, "world/b", "maple")
    assert [cell_text(c) for c in row.cells] == ["—", "—", "—"] and row.seeds == "0"
    assert _row(t, "Average", "maple").cells[0].marks == FEWER  # an average over 1 of 2 datasets


def test_published_rows_only_for_matching_setting(tmp_path: Path) -> None:
    tables = build_tables(collect([write_records(tmp_path, vit_records() + other_records())]))
    keys = [t.key for t in tables if t.kind == "main"]
    assert keys == [
        "base2novel-ViT-B-16-openai-16",
        "base2novel-ViT-B-16-openai-8",
        "base2novel-world-tiny-builtin-16",
        "few_shot",
        "cross_dataset",
        "domain_generalization",
    ]
    t = _table(tables, "base2novel-ViT-B-16-openai-16")
    assert [r.kind for r in t.rows] == ["result", "published", "delta"]
    assert [c.mean for c in _row(t, "oxford_pets", "maple (published)").cells] == [95.43, 97.76, 96.58]
    delta = _row(t, "oxford_pets", "maple Δ to published").cells
    assert [c.mean for c in delta] == [
        pytest.approx(95.5 - 95.43, **EXACT),
        pytest.approx(97.5 - 97.76, **EXACT),
        pytest.approx(hm(95.5, 97.5) - 96.58, **EXACT),
    ]
    assert [cell_text(c, "delta") for c in delta] == ["+0.07", "-0.26", "-0.09"]
    # 8 shots, world-tiny, few-shot and DG on world datasets: never a published row.
    for key in (
        "base2novel-ViT-B-16-openai-8",
        "base2novel-world-tiny-builtin-16",
        "few_shot",
        "domain_generalization",
    ):
        assert {r.kind for r in _table(tables, key).rows} <= {"result", "average"}, key

    t = _table(tables, "cross_dataset")
    assert t.value_columns == ("Source acc.", "caltech101", "oxford_pets", "Target mean")
    assert [c.mean for c in _row(t, "imagenet", "coop").cells] == [71.5, 93.5, 89.5, 91.5]
    pub = _row(t, "imagenet", "coop (published)").cells
    assert [c.mean for c in pub] == [71.51, 93.70, 89.14, None]  # the published mean is over 10 targets
    delta = [c.mean for c in _row(t, "imagenet", "coop Δ to published").cells]
    assert delta[:3] == [pytest.approx(x, **EXACT) for x in (71.5 - 71.51, 93.5 - 93.70, 89.5 - 89.14)]
    assert delta[3] is None


def test_published_average_only_over_the_eleven_datasets(tmp_path: Path) -> None:
    pub = published_base2novel()
    maple = pub[(pub["method"] == "maple") & (pub["dataset"] != "average")]
    recs = [
        make_record("maple", r.dataset, model="ViT-B-16", pretrained="openai", base=r.base, novel=r.novel)
        for r in maple.itertuples()
    ]
    t = build_tables(collect([write_records(tmp_path / "all", recs)]), per_seed=False)[0]
    base, novel, h = _row(t, "Average", "maple").cells
    assert base.mean == pytest.approx(mean(maple["base"]), **EXACT)
    # Reproducing every published per-dataset number gives the published average, HM included (78.55; the mean of
    # the per-dataset HMs would be 78.27).
    assert [cell_text(c, "average") for c in (base, novel, h)] == ["82.28", "75.14", "78.55"]
    assert [c.mean for c in _row(t, "Average", "maple (published)").cells] == [82.28, 75.14, 78.55]
    assert cell_text(_row(t, "Average", "maple Δ to published").cells[2], "delta") == "+0.00"

    # Ten of the eleven datasets: per-dataset published rows stay, the published average does not.
    t = build_tables(collect([write_records(tmp_path / "ten", recs[:10])]), per_seed=False)[0]
    assert [r.labels for r in t.rows if r.group == "Average"] == [("Average", "maple")]


def test_few_shot_transfer_and_ablation_tables(tmp_path: Path) -> None:
    tables = build_tables(collect([write_records(tmp_path, other_records())]))
    t = _table(tables, "few_shot")
    assert t.value_columns == ("1 shot", "2 shots", "4 shots")
    cells = _row(t, "world/shapes", "coop").cells
    assert [(c.mean, c.std, c.n) for c in cells] == [(52.0, 2.0, 2), (61.0, 1.0, 2), (70.0, 0.0, 2)]

    t = _table(tables, "domain_generalization")
    assert t.value_columns == ("Source acc.", "world/shapes_noisy", "world/shapes_sketch", "Shifted mean")
    cells = _row(t, "world/shapes", "maple").cells
    assert [(c.mean, c.std) for c in cells] == [(81.0, 1.0), (42.0, 2.0), (61.0, 1.0), (51.5, None)]

    t = _table(tables, "base2novel-ablation-method_config.prompt_depth")
    assert t.kind == "ablation" and t.label_columns == ("Method", "method_config.prompt_depth")
    d1, d3 = _row(t, "comma", "1").cells, _row(t, "comma", "3").cells
    assert [(c.mean, c.std) for c in d1[:2]] == [(71.0, 1.0), (61.0, 1.0)]
    assert d1[2].mean == pytest.approx(hm(71, 61), **EXACT)
    assert d1[2].std == pytest.approx(pstdev([hm(70, 60), hm(72, 62)]), **EXACT)
    assert [(c.mean, c.std) for c in d3[:2]] == [(82.0, 2.0), (70.0, 0.0)]
    assert {t.value_columns[j] for i, j in t.best() if i == 1} == {"Base", "Novel", "HM"}  # depth 3 wins
    main = _table(tables, "base2novel")
    assert [r.labels[1] for r in main.rows if r.group == "world/colors"] == [
        "comma (prompt_depth=1)",
        "comma (prompt_depth=3)",
    ]


def test_ablation_averages_over_datasets(tmp_path: Path) -> None:
    # Two datasets: each value = mean over datasets of the per-dataset seed means; ± = mean of per-dataset stds.
    vals = {("world/a", 1): (60, 50), ("world/a", 2): (64, 50), ("world/b", 1): (80, 70), ("world/b", 2): (80, 76)}
    deep, shallow = {"prompt_depth": 9}, {"prompt_depth": 1}  # what the named cases set (axes are not hashed)
    recs = [
        make_record("comma", ds, seed=s, base=b, novel=n, method_config=deep, axes={"case": "deep"})
        for (ds, s), (b, n) in vals.items()
    ]
    recs += [
        make_record("comma", "world/a", seed=s, base=50, novel=40, method_config=shallow, axes={"case": "shallow"})
        for s in (1, 2)
    ]
    t = _table(build_tables(collect([write_records(tmp_path, recs)])), "base2novel-ablation-case")
    base, novel, h = _row(t, "comma", "deep").cells
    assert base.mean == (62 + 80) / 2 and base.std == (pstdev([60, 64]) + pstdev([80, 80])) / 2
    assert novel.mean == (50 + 73) / 2 and novel.std == (0 + pstdev([70, 76])) / 2
    assert h.mean == pytest.approx(hm(71, 61.5), **EXACT)
    per_ds_hm_std = [pstdev([hm(60, 50), hm(64, 50)]), pstdev([hm(80, 70), hm(80, 76)])]
    assert h.std == pytest.approx(mean(per_ds_hm_std), **EXACT)
    base, _, _ = _row(t, "comma", "shallow").cells
    assert (base.mean, base.marks) == (50.0, FEWER)  # one of the two datasets the other value has


def test_per_seed_table_shows_every_seed_and_failures(b2n_dir: Path) -> None:
    t = build_tables(collect([b2n_dir]))[1]
    assert t.kind == "per_seed" and t.label_columns == ("Dataset", "Method", "Seed")
    assert len(t.rows) == 13  # 12 finished runs + 1 failed
    failed = _row(t, "world/shapes", "maple", "3")
    assert [cell_text(c) for c in failed.cells] == ["—‡"] * 3
    seed1 = _row(t, "world/scenes", "coop", "1").cells
    assert [c.mean for c in seed1] == [90.0, 40.0, pytest.approx(7200 / 130, **EXACT)]
    assert t.best() == set()


def test_shots_ablation_compares_only_its_16_shot_variant_with_published(tmp_path: Path) -> None:
    recs = [
        make_record(
            "maple", "oxford_pets", shots=k, model="ViT-B-16", pretrained="openai", base=b, novel=n, axes={"shots": k}
        )
        for k, b, n in ((8, 90.0, 92.0), (16, 95.0, 97.0))
    ]
    recs = [{**r, "method_deviations": {}} for r in recs]  # at MaPLe's defaults: only the shots differ
    tables = build_tables(collect([write_records(tmp_path, recs)]))
    t = tables[0]
    assert t.key == "base2novel" and [r.labels[1] for r in t.rows] == [
        "maple (shots=8)",
        "maple (shots=16)",
        "maple (published)",
        "maple Δ to published",
    ]
    delta = _row(t, "oxford_pets", "maple Δ to published").cells
    assert delta[0].mean == pytest.approx(95.0 - 95.43, **EXACT)  # against the 16-shot variant only
    # The 8-shot variant is kept away by its shots, which its label says; no note about method settings.
    assert not any("no published row" in n for n in t.notes)
    ablation = _table(tables, "base2novel-ablation-shots")
    assert [r.labels for r in ablation.rows] == [("maple", "8"), ("maple", "16")]


def test_published_rows_only_beside_the_published_method_settings(tmp_path: Path) -> None:
    vit = {"model": "ViT-B-16", "pretrained": "openai"}
    recs = [  # a prompt-depth ablation: J = 9 is MaPLe's published configuration (no deviation), J = 3 is not
        make_record(
            "maple",
            "oxford_pets",
            seed=s,
            base=b,
            novel=97.0,
            axes={"method_config.prompt_depth": j},
            method_config={"prompt_depth": j},
            method_deviations={} if j == 9 else {"prompt_depth": j},
            **vit,
        )
        for s in (1, 2)
        for j, b in ((3, 93.0), (9, 95.0))
    ]
    recs += [  # CoOp with 16 context tokens held constant (no axis): its row is labelled plain "coop"
        make_record("coop", "oxford_pets", seed=s, base=94.0, novel=90.0, method_deviations={"n_ctx": 16}, **vit)
        for s in (1, 2)
    ]
    t = build_tables(collect([write_records(tmp_path, recs)]))[0]
    assert [r.labels[1] for r in t.rows] == [
        "coop",
        "maple (prompt_depth=3)",
        "maple (prompt_depth=9)",
        "maple (published)",
        "maple Δ to published",
    ]
    assert _row(t, "oxford_pets", "maple Δ to published").cells[0].mean == pytest.approx(95.0 - 95.43, **EXACT)
    assert "maple (prompt_depth=3): no published row beside it: it ran prompt_depth=3, the published numbers the " \
        "method's defaults." in t.notes  # fmt: skip
    assert "coop: no published row beside it: it ran n_ctx=16, the published numbers the method's defaults." in t.notes
    assert not any(n.startswith("maple (prompt_depth=9)") for n in t.notes)


def test_transfer_published_rows_need_the_transfer_prompt_depth(tmp_path: Path) -> None:
    """The published cross-dataset MaPLe ran at prompt depth 3; a run at its base-to-novel default 9 is not that."""

    def run(depth: int, deviations: dict | None) -> dict:
        return make_record(
            "maple",
            "imagenet",
            protocol="cross_dataset",
            model="ViT-B-16",
            pretrained="openai",
            source=70.0,
            targets={"caltech101": 93.0},
            method_config={"prompt_depth": depth},
            method_deviations=deviations,
            sweep=f"j{depth}",
        )

    def table(*records: dict) -> Table:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        return _table(build_tables(collect([write_records(folder, list(records))])), "cross_dataset")

    at_3 = table(run(3, {"prompt_depth": 3}))
    assert [r.labels[1] for r in at_3.rows] == [
        "maple",
        "maple (published, prompt_depth=3)",
        "maple Δ to published (prompt_depth=3)",
    ]
    assert [c.mean for c in _row(at_3, "imagenet", "maple (published, prompt_depth=3)").cells][:2] == [70.72, 93.53]
    at_9 = table(run(9, {}))
    assert [r.kind for r in at_9.rows] == ["result"]
    assert "maple: no published row beside it: it ran the method's defaults, the published numbers prompt_depth=3." \
        in at_9.notes  # fmt: skip
    legacy = table(run(9, None))  # a record written before `method_deviations`: compared as it always was
    assert [r.kind for r in legacy.rows] == ["result", "published", "delta"]


def test_each_published_configuration_of_a_method_meets_its_own_runs(tmp_path: Path) -> None:
    """IVLP has two published averages: its 2+2 defaults and deep language prompting (no vision prompt, 4 text
    tokens); an 11-dataset run of each stands beside its own, with Δ, and neither beside the other."""
    language_only = {"n_ctx_text": 4, "n_ctx_vision": 0, "vision_depth": 0}
    recs = [
        make_record(
            "ivlp",
            ds,
            model="ViT-B-16",
            pretrained="openai",
            base=b,
            novel=70.0,
            axes={"method_config.vision_depth": depth},
            method_config={"vision_depth": depth},
            method_deviations=language_only if depth == 0 else {},
        )
        for ds in published_base2novel_datasets()
        for depth, b in ((0, 81.0), (12, 83.0))
    ]
    t = build_tables(collect([write_records(tmp_path, recs)]))[0]
    average = [r.labels[1] for r in t.rows if r.group == "Average"]
    named = "n_ctx_text=4, n_ctx_vision=0, vision_depth=0"
    assert average == [
        "ivlp (vision_depth=0)",
        "ivlp (vision_depth=12)",
        "ivlp (published)",
        "ivlp Δ to published",
        f"ivlp (published, {named})",
        f"ivlp Δ to published ({named})",
    ]
    assert [c.mean for c in _row(t, "Average", f"ivlp (published, {named})").cells] == [81.72, 73.81, 77.56]
    deltas = _row(t, "Average", f"ivlp Δ to published ({named})").cells
    assert [deltas[0].mean, deltas[1].mean] == [
        pytest.approx(81.0 - 81.72, **EXACT),
        pytest.approx(70.0 - 73.81, **EXACT),
    ]
    assert _row(t, "Average", "ivlp Δ to published").cells[0].mean == pytest.approx(83.0 - 82.15, **EXACT)
    assert not any("no published row" in n for n in t.notes)


def test_eval_only_method_judged_against_its_own_seeds(tmp_path: Path) -> None:
    # Zero-shot run with seeds 1 and 2 on world/a but only seed 1 on world/b (a random-init backbone makes even
    # zero-shot depend on the seed): world/b is incomplete for it.
    recs = [make_record("zeroshot", "world/a", seed=s, base=50.0, novel=40.0) for s in (1, 2)]
    recs += [make_record("zeroshot", "world/b", seed=1, base=50.0, novel=40.0)]
    frame = collect([write_records(tmp_path, recs)])
    t = build_tables(frame)[0]
    assert _row(t, "world/a", "zeroshot").cells[0].marks == ""
    assert _row(t, "world/b", "zeroshot").cells[0].marks == FEWER
    assert find_gaps(frame).missing[["method", "dataset", "seed"]].values.tolist() == [["zeroshot", "world/b", 2]]


def test_few_shot_zero_shot_is_one_result_in_every_shot_column(tmp_path: Path) -> None:
    """Zero-shot CLIP runs once (it reads no shots): the table must not show it under one K and "—" elsewhere."""
    zs = make_record("zeroshot", "world/shapes", protocol="few_shot", seed=1, shots=4, accuracy=41.0, sweep="fewshot")
    tables = build_tables(collect([write_records(tmp_path, [*other_records(), zs])]))
    t = _table(tables, "few_shot")
    assert t.value_columns == ("1 shot", "2 shots", "4 shots")
    assert [(c.mean, c.n) for c in _row(t, "world/shapes", "zeroshot").cells] == [(41.0, 1)] * 3
    assert [c.mean for c in _row(t, "world/shapes", "coop").cells] == [52.0, 61.0, 70.0]  # trained rows: per K
    assert "zeroshot: uses no shots, so its one result is shown in every shot column." in t.notes
    assert not any("no data" in n for n in t.notes)


def test_transfer_and_few_shot_ablations(tmp_path: Path) -> None:
    recs = []
    for lr in (0.001, 0.01):
        for s in (1, 2):
            recs.append(
                make_record(
                    "maple",
                    "world/a",
                    protocol="cross_dataset",
                    seed=s,
                    source=80.0 + s,
                    targets={"world/b": 60.0 + s, "world/c": 40.0 + 100 * lr},
                    axes={"optim.lr": lr},
                    method_config={"lr": lr},
                )
            )
            for k in (1, 2):
                recs.append(
                    make_record(
                        "coop",
                        "world/a",
                        protocol="few_shot",
                        shots=k,
                        seed=s,
                        accuracy=50.0 + k + s,
                        axes={"shots": k, "optim.lr": lr},
                        method_config={"lr": lr},
                    )
                )
    tables = build_tables(collect([write_records(tmp_path, recs)]))
    t = _table(tables, "cross_dataset-ablation-optim.lr")
    source, target_mean = _row(t, "maple", "0.001").cells
    assert (source.mean, source.std) == (81.5, 0.5)
    # per seed the target mean is (61 + 40.1) / 2 and (62 + 40.1) / 2: std over seeds 0.25
    assert target_mean.mean == pytest.approx((61.5 + 40.1) / 2, **EXACT)
    assert target_mean.std == pytest.approx(pstdev([(61 + 40.1) / 2, (62 + 40.1) / 2]), **EXACT)
    # few-shot: the shot count stays the column axis (no "shots=" variants); the lr ablation is per shot count
    main = _table(tables, "few_shot")
    assert [r.labels[1] for r in main.rows] == ["coop (lr=0.001)", "coop (lr=0.01)"]
    t = _table(tables, "few_shot-ablation-optim.lr")
    assert t.label_columns == ("Method", "Shots", "optim.lr")
    assert [(r.labels, r.cells[0].mean) for r in t.rows] == [
        (("coop", "1 shot", "0.001"), 52.5),
        (("coop", "1 shot", "0.01"), 52.5),
        (("coop", "2 shots", "0.001"), 53.5),
        (("coop", "2 shots", "0.01"), 53.5),
    ]
