"""Seed statistics of a scope: per-run metric values, and the table of mean ± std [95 % CI] over seeds per cell.

The main tables keep the papers' conventions (mean ± population std, HM of the means). This table adds what they
cannot show: how far each mean can be trusted. Its cells are `stats.summarize` of the per-seed values, and its HM is
the mean of the per-seed HMs (a CI needs one value per seed), which is why it can differ slightly from the main
table's HM of the seed-averaged base and novel accuracy.

The same per-run values feed the paired comparisons (`comma_bench.report.paired`) and the distribution plot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comma_bench.report.cells import NO_DATA, Cell, Row, Table, dataset_sort_key, shots_label
from comma_bench.report.scopes import Scope
from comma_bench.report.stats import CONFIDENCE, summarize

STATS_CONVENTIONS = (
    "Seed statistics: mean ± population std (ddof=0) [95 % confidence interval of the mean], the interval "
    "t-based: mean ± t(0.975, n−1)·s/√n with the sample std s (ddof=1), since with 3 seeds the normal 1.96 would be "
    "less than half as wide as it should (t = 4.30); a cell of one seed has no interval and says so. Their HM "
    "is the mean of the per-seed HMs. Paired comparisons: for two methods, the differences A − B on the same "
    "(dataset, seed) pairs (few-shot: dataset, shots, seed; a method that does not train and was run once per dataset "
    "is paired with every seed of the other, since its result does not depend on the few-shot episode); Δ is their "
    "mean with a t-based 95 % CI, and p the two-sided paired sign-flip permutation test over those pairs "
    "(exact over all 2^n sign patterns up to 13 pairs, else 9,999 Monte Carlo draws with a fixed seed). p values are "
    "Holm-corrected over all method pairs of a table, per metric (family-wise error 5 %); bold marks Holm p < 0.05. "
    "Split fingerprints hash the few-shot train images (paths relative to the dataset folder, labels, class names) "
    "and the base/novel class lists: equal fingerprints mean the same training images."
)


def run_metrics(scope: Scope) -> pd.DataFrame:
    """One row per kept finished run: variant, dataset, shots, seed, eval_only and one column per metric."""
    v = scope.values
    out = pd.DataFrame(
        {
            "variant": v["variant"],
            "dataset": v["dataset"],
            "shots": v["shots"].astype(int),
            "seed": v["seed"].astype(int),
            "eval_only": v["variant"].map(scope.eval_only).astype(bool),
        }
    )

    def col(name: str) -> pd.Series:
        return v[name].astype(float) if name in v else pd.Series(np.nan, index=v.index)

    for name, values in scope.spec.tables().seed_metrics(v, col).items():
        out[name] = values
    return out.reset_index(drop=True)


def _cell(values: pd.Series) -> Cell:
    s = summarize(list(values.dropna()))
    if s.mean is None:
        return Cell(None)
    return Cell(s.mean, s.std, s.n, "", tuple(float(x) for x in values.dropna()), s.ci)


def ci_table(scope: Scope) -> Table:
    """Mean ± std [95 % CI] over seeds of every (dataset, variant[, shots]) cell, plus a per-seed Average.

    The Average row of a variant averages, seed by seed, its values over the datasets, and summarises those
    per-seed averages; only seeds present on every dataset of the variant enter it.
    """
    m = run_metrics(scope)
    tables_of = scope.spec.tables()
    cols = scope.spec.metric_columns
    few = scope.spec.shots_are_columns
    order = {v: i for i, v in enumerate(scope.variants)}
    rows: list[Row] = []
    keys = ["dataset", "variant", *(["shots"] if few else [])]
    cells_df = m.drop_duplicates(keys).assign(
        _d=lambda d: d["dataset"].map(dataset_sort_key), _v=lambda d: d["variant"].map(order)
    )
    for _, key in cells_df.sort_values(["_d", "_v", *(["shots"] if few else [])], kind="stable").iterrows():
        sel = (m["dataset"] == key["dataset"]) & (m["variant"] == key["variant"])
        if few:
            sel &= m["shots"] == key["shots"]
        sub = m[sel].sort_values("seed")
        labels = (key["dataset"], key["variant"], *((shots_label(int(key["shots"])),) if few else ()))
        cells = tuple(_cell(sub[c]) for c in cols)
        rows.append(Row(key["dataset"], labels, cells, "result", str(len(sub))))
    if not few and len(scope.datasets) > 1:
        for variant in scope.variants:
            sub = m[m["variant"] == variant]
            n_ds = sub["dataset"].nunique()
            per_seed = sub.groupby("seed")
            complete = [s for s, g in per_seed if g["dataset"].nunique() == n_ds]
            avg = sub[sub["seed"].isin(complete)].groupby("seed")[list(cols)].mean()
            avg = tables_of.seed_average(avg)
            cells = tuple(_cell(avg[c]) if len(avg) else Cell(None) for c in cols)
            rows.append(Row("Average", ("Average", variant), cells, "average", str(len(avg))))
    notes = [
        f"Mean ± population std [{CONFIDENCE * 100:g} % t interval of the mean] over seeds; n=1: one seed, no "
        "interval.",
    ]
    notes += tables_of.ci_notes
    notes += zero_spread_notes(scope, m)
    if any(c.mean is None for r in rows for c in r.cells):
        notes.append(f"{NO_DATA}: no finished run.")
    return Table(
        key=f"{scope.key}-ci",
        title=f"{scope.spec.title}, seed statistics: {scope.setting_text}",
        protocol=scope.protocol,
        label_columns=("Dataset", "Method", *(("Shots",) if few else ())),
        value_columns=cols,
        rows=tuple(rows),
        bold_best=False,
        notes=tuple(notes),
        kind="ci",
    )


def zero_spread_notes(scope: Scope, m: pd.DataFrame) -> list[str]:
    """Say so when a method that does not train has one value per dataset or the same value on every seed."""
    notes = []
    headline = scope.spec.headline
    for variant in scope.variants:
        if not scope.eval_only.get(variant):
            continue
        sub = m[m["variant"] == variant]
        counts = sub.groupby("dataset")["seed"].nunique()
        if (counts <= 1).all():
            notes.append(
                f"{variant} does not train: it ran once per dataset, as its result does not depend on the few-shot "
                "episode; it has no spread over seeds."
            )
        elif all(g[headline].nunique(dropna=True) <= 1 for _, g in sub.groupby("dataset")):
            notes.append(
                f"{variant} does not train: it gives the same value on every seed (spread 0), since its result "
                "does not depend on the few-shot episode."
            )
    return notes
