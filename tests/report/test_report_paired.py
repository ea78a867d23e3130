"""Seed statistics, paired comparisons and split provenance in reports, against values computed here by hand or
with scipy from the fixture's numbers."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXED_TIME, b2n_records, make_record, write_records
from scipy import stats as sps

from comma_bench.protocols.base2novel import harmonic_mean
from comma_bench.report import collect, generate_report
from comma_bench.report.intervals import ci_table
from comma_bench.report.paired import list_text, matrix_text, paired_comparisons
from comma_bench.report.plots import figure_distribution
from comma_bench.report.provenance import combined, provenance_text
from comma_bench.report.tables import build_scopes
from comma_bench.report.text import text_table


def _scope(folder: Path, records: list[dict]):
    (scope,) = [s for s in build_scopes(collect([write_records(folder, records)])) if s.protocol == "base2novel"]
    return scope


def _row(table, dataset: str, method: str):
    return next(r for r in table.rows if r.labels[:2] == (dataset, method))


def _enumerated_p(d: list[float]) -> float:
    obs = np.mean(d)
    means = np.array([np.mean(np.multiply(s, d)) for s in itertools.product((1, -1), repeat=len(d))])
    tol = 1e-9
    return min(1.0, 2 * min(np.mean(means >= obs - tol), np.mean(means <= obs + tol)))


def test_ci_table_cells(tmp_path: Path) -> None:
    t = ci_table(_scope(tmp_path, b2n_records()))
    assert t.kind == "ci" and t.value_columns == ("Base", "Novel", "HM")
    base = _row(t, "world/shapes", "coop").cells[0]  # base 80, 82, 84
    assert (base.n, base.mean, base.values) == (3, 82.0, (80.0, 82.0, 84.0))
    assert base.std == pytest.approx(np.std([80, 82, 84]))
    assert base.ci == pytest.approx(sps.t.interval(0.95, 2, loc=82, scale=sps.sem([80, 82, 84])))
    hm = _row(t, "world/scenes", "coop").cells[2]  # HM of each seed, then their mean
    per_seed = [harmonic_mean(90, n) for n in (40, 50, 60)]
    assert hm.mean == pytest.approx(np.mean(per_seed)) and hm.values == pytest.approx(tuple(per_seed))
    text = text_table(t)
    shapes_coop = next(r for r in text.rows if r[1] == "coop" and "82.00" in r[2])
    assert shapes_coop[2] == "82.00 ± 1.63 [77.03, 86.97]"
    zs = [r[2] for r in text.rows if r[1] == "zeroshot"]
    assert zs == ["60.00 (n=1: no CI)", "70.00 (n=1: no CI)", "65.00 (n=1: no CI)"]  # one seed: stated as such
    # Average row: seed by seed over both datasets (coop base (80+90)/2, (82+90)/2, (84+90)/2).
    avg = _row(t, "Average", "coop").cells[0]
    assert avg.values == (85.0, 86.0, 87.0) and avg.ci == pytest.approx(
        sps.t.interval(0.95, 2, 86, sps.sem([85, 86, 87]))
    )
    assert any("zeroshot does not train" in n for n in t.notes)


def test_zero_spread_of_a_method_that_does_not_train_is_stated(tmp_path: Path) -> None:
    recs = [make_record("zeroshot", "world/shapes", seed=s, base=70, novel=75) for s in (1, 2, 3)]
    recs += [make_record("coop", "world/shapes", seed=s, base=70 + s, novel=70) for s in (1, 2, 3)]
    t = ci_table(_scope(tmp_path, recs))
    zs = _row(t, "world/shapes", "zeroshot").cells[0]
    assert zs.std == 0.0 and zs.ci == (70.0, 70.0)
    assert any("same value on every seed (spread 0)" in n for n in t.notes)


def test_paired_matrix_against_hand_computed_values(tmp_path: Path) -> None:
    pc = paired_comparisons(_scope(tmp_path, b2n_records()))
    assert pc.variants == ("zeroshot", "coop", "maple") and pc.headline == "HM"
    # coop − maple on the four shared (dataset, seed) pairs; maple's seed 3 failed on shapes, is missing on scenes.
    coop = {("world/shapes", s): (b, 60) for s, b in zip((1, 2, 3), (80, 82, 84))}
    coop |= {("world/scenes", s): (90, n) for s, n in zip((1, 2, 3), (40, 50, 60))}
    maple = {("world/shapes", 1): (88, 70), ("world/shapes", 2): (90, 72)}
    maple |= {("world/scenes", 1): (92, 64), ("world/scenes", 2): (94, 66)}
    keys = sorted(maple)
    d = [harmonic_mean(*coop[k]) - harmonic_mean(*maple[k]) for k in keys]
    c = pc.get("coop", "maple", "HM")
    assert (c.result.n, c.n_datasets) == (4, 2)
    assert c.result.mean == pytest.approx(np.mean(d))
    assert c.result.ci == pytest.approx(sps.t.interval(0.95, 3, loc=np.mean(d), scale=sps.sem(d)))
    assert c.result.exact and c.result.p == pytest.approx(_enumerated_p(d))  # 4 pairs, all negative: 2/16
    assert c.result.p == pytest.approx(0.125)
    # Zero-shot ran once per dataset: paired with every seed of the other method (6 pairs with coop, 4 with maple).
    zc = pc.get("zeroshot", "coop", "HM")
    zs = {"world/shapes": harmonic_mean(70, 75), "world/scenes": harmonic_mean(60, 65)}
    dz = [zs[k[0]] - harmonic_mean(*coop[k]) for k in sorted(coop)]
    assert zc.result.n == 6 and zc.result.mean == pytest.approx(np.mean(dz))
    assert zc.result.p == pytest.approx(_enumerated_p(dz))
    # Holm over the three pairs of the HM family.
    fam = [pc.get(a, b, "HM").result for a, b in (("zeroshot", "coop"), ("zeroshot", "maple"), ("coop", "maple"))]
    ps = [r.p for r in fam]
    order = np.argsort(ps)
    expected = np.empty(3)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * ps[i]))
        expected[i] = running
    assert [r.p_holm for r in fam] == pytest.approx(list(expected))
    # The matrix: upper triangle only, Δ [CI] p(Holm).
    m = matrix_text(pc)
    assert m.header == ("HM: row − column", "coop", "maple") and [r[0] for r in m.rows] == ["zeroshot", "coop"]
    assert m.rows[1][1] == "" and m.rows[1][2].startswith(f"{np.mean(d):+.2f} [")
    assert m.rows[1][2].endswith(f"p={c.result.p_holm:.3f}")
    rows = list_text(pc).rows
    assert len(rows) == 9 and {r[0] for r in rows} == {"HM", "Base", "Novel"}


def test_pairs_with_no_overlap_or_one_pair(tmp_path: Path) -> None:
    recs = [
        make_record("coop", "world/shapes", seed=1, base=80, novel=60),
        make_record("maple", "world/shapes", seed=1, base=82, novel=61),
        make_record("comma", "world/colors", seed=1, base=70, novel=70),
    ]
    pc = paired_comparisons(_scope(tmp_path, recs))
    one = pc.get("coop", "maple", "Base").result
    assert (one.n, one.mean, one.ci, one.p) == (1, -2.0, None, 1.0)  # n < 2 pairs: no CI, p = 1
    none = pc.get("coop", "comma", "Base").result
    assert none.n == 0 and none.p is None and none.p_holm is None
    assert "— [" not in matrix_text(pc).rows[0][2]
    assert any("n=1 has no interval" in n for n in pc.notes) and any("share no" in n for n in pc.notes)
    assert paired_comparisons(_scope(tmp_path / "solo", recs[:1])) is None  # one method: nothing to compare


def test_many_seeds_use_a_reproducible_monte_carlo(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    recs = []
    for seed in range(1, 21):
        for ds in ("world/shapes", "world/colors"):
            b = float(rng.normal(70, 3))
            recs.append(make_record("coop", ds, seed=seed, base=b, novel=60.0))
            recs.append(make_record("maple", ds, seed=seed, base=b - 1 + float(rng.normal(0, 1)), novel=60.0))
    a = paired_comparisons(_scope(tmp_path / "a", recs)).get("coop", "maple", "Base").result
    b = paired_comparisons(_scope(tmp_path / "b", recs[::-1])).get("coop", "maple", "Base").result
    assert a.n == 40 and not a.exact and a.p == b.p and a.p < 0.01


def _with_fp(rec: dict, fp: str) -> dict:
    rec["data"] = {"fewshot_source": "sampled", "split_fingerprint": fp, "n_train": 10, "n_classes": 5}
    return rec


def test_provenance_table_and_conflicts(tmp_path: Path) -> None:
    recs = [_with_fp(make_record("coop", "world/shapes", seed=s, base=80, novel=60), f"{s:016x}") for s in (1, 2, 3)]
    recs += [
        _with_fp(make_record("maple", "world/shapes", seed=1, base=80, novel=60), f"{1:016x}"),
        _with_fp(make_record("maple", "world/shapes", seed=2, base=80, novel=60), "f" * 16),  # other images
        make_record("coop", "world/colors", seed=1, base=80, novel=60),  # written before fingerprints existed
    ]
    table, warnings = provenance_text(collect([write_records(tmp_path, recs)]))
    rows = {r[0]: r for r in table.rows}
    assert rows["world/colors"][3] == "not recorded"
    shapes = rows["world/shapes"]
    assert shapes[2] == "1-3" and shapes[3] == "≠ (see below)"
    assert shapes[4] == f"1: {1:016x}, 2: ≠, 3: {3:016x}"
    assert len(warnings) == 1 and "seed 2" in warnings[0] and "ffffffffffffffff: maple" in warnings[0]
    expected = hashlib.sha256(f"1:{1:016x}\n2:{2:016x}".encode()).hexdigest()[:16]
    assert combined({2: f"{2:016x}", 1: f"{1:016x}"}) == expected


def test_report_shows_statistics_matrix_and_provenance(tmp_path: Path) -> None:
    recs = [_with_fp(r, "0123456789abcdef") for r in b2n_records()]
    result = generate_report(
        [write_records(tmp_path / "runs", recs)], tmp_path / "out", "md,tex", generated_at=FIXED_TIME
    )
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Base-to-novel generalisation, seed statistics: world-tiny (builtin), 16 shots" in md
    assert "|  | coop | 82.00 ± 1.63 [77.03, 86.97] |" in md
    assert "#### Base-to-novel generalisation, paired comparisons" in md and "| HM: row − column | coop | maple |" in md
    assert "sign-flip permutation test" in md and "Holm" in md and "t(0.975, n−1)" in md
    assert "## Split provenance" in md and "| world/shapes | 16 | 1-3 |" in md
    assert "plots/base2novel-ci-distribution.png" in md
    tex = (tmp_path / "out" / "tex" / "base2novel-paired.tex").read_text()
    assert tex.count(r"\begin{tabular}") == 1 and r"HM: row $-$ column" in tex
    body = [line for line in tex.splitlines() if line.strip().endswith(r"\\")]
    assert len(body) == 3 and all(line.count(" & ") == 2 for line in body)  # header + 2 rows, 3 columns
    assert tex.count("{") == tex.count("}")
    assert (tmp_path / "out" / "tex" / "base2novel-paired-list.tex").is_file()
    assert [pc.key for pc in result.comparisons] == ["base2novel-paired"]


def test_distribution_figure_needs_two_seeds(tmp_path: Path) -> None:
    t = ci_table(_scope(tmp_path / "a", b2n_records()))
    assert figure_distribution(t, {}) is not None
    single = ci_table(_scope(tmp_path / "b", [make_record("coop", "world/shapes", seed=1, base=80, novel=60)]))
    assert figure_distribution(single, {}) is None
