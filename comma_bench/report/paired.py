"""Paired comparisons between the methods of a scope: Δ with its CI, the sign-flip test, Holm; matrix and list.

Two methods are compared on the cells they share: the same dataset and seed (few-shot: dataset, shots and seed), so
the few-shot episode, which moves single results by several points, is the same on both sides and cancels out of
each difference. A method that does not train and ran once per dataset (zero-shot CLIP) is paired with every seed
of the other method: its result does not depend on the episode. The statistics are `comma_bench.report.stats`;
the conventions are stated in `intervals.STATS_CONVENTIONS`.

Output per scope: a compact matrix of the headline metric (row A, column B, upper triangle: Δ = A − B [95 % CI],
Holm-corrected p) and the full list for every metric (pairs, Δ, CI, raw and corrected p, exact or Monte Carlo).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from comma_bench.report.intervals import run_metrics
from comma_bench.report.latex import booktabs, escape
from comma_bench.report.scopes import Scope
from comma_bench.report.stats import PairedDifference, paired_difference, with_holm
from comma_bench.report.text import TextTable

ALPHA = 0.05  # Holm-corrected p below this is marked


@dataclass(frozen=True)
class Comparison:
    """One method pair on one metric."""

    a: str
    b: str
    metric: str
    result: PairedDifference
    n_datasets: int  # datasets the pairs span


@dataclass(frozen=True)
class PairedComparisons:
    """Every pair of a scope's variants, per metric, Holm-corrected per metric."""

    key: str  # `<scope key>-paired`; LaTeX files `<key>.tex` (matrix) and `<key>-list.tex`
    title: str
    protocol: str
    headline: str  # the metric of the matrix
    variants: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    notes: tuple[str, ...] = ()

    def get(self, a: str, b: str, metric: str) -> Comparison | None:
        return next((c for c in self.comparisons if (c.a, c.b, c.metric) == (a, b, metric)), None)


def _pairs(m: pd.DataFrame, a: str, b: str, metric: str, few: bool) -> tuple[list[float], list[float], int]:
    """Matched values of variants a and b: (values of a, values of b, number of datasets)."""
    keys = ["dataset", *(["shots"] if few else []), "seed"]

    def side(v: str) -> tuple[pd.DataFrame, list[str]]:
        sub = m[(m["variant"] == v) & m[metric].notna()]
        once = bool(len(sub)) and bool(sub["eval_only"].all()) and (sub.groupby("dataset").size() == 1).all()
        return sub, (["dataset"] if once else keys)

    (sa, ka), (sb, kb) = side(a), side(b)
    on = [k for k in keys if k in ka and k in kb]
    joined = sa[[*ka, metric]].merge(sb[[*kb, metric]], on=on, suffixes=("_a", "_b"))
    # `merge` keeps the left side's order (the scope's stable dataset/seed order), so Monte Carlo p is reproducible.
    return list(joined[f"{metric}_a"]), list(joined[f"{metric}_b"]), int(joined["dataset"].nunique())


def paired_comparisons(scope: Scope) -> PairedComparisons | None:
    """All pairs of the scope's variants; None when it has fewer than two variants."""
    if len(scope.variants) < 2:
        return None
    m = run_metrics(scope)
    few = scope.spec.shots_are_columns
    comps: list[Comparison] = []
    for metric in scope.spec.metric_columns:
        family = []
        for a, b in itertools.combinations(scope.variants, 2):
            xa, xb, n_ds = _pairs(m, a, b, metric, few)
            family.append((a, b, paired_difference(xa, xb), n_ds))
        corrected = with_holm([r for _, _, r, _ in family])
        comps += [Comparison(a, b, metric, r, n) for (a, b, _, n), r in zip(family, corrected, strict=True)]
    headline = scope.spec.headline
    family = sum(1 for c in comps if c.metric == headline and c.result.p is not None)
    notes = [
        "Δ = row − column on matched (dataset, seed) pairs"
        + (" (and shots)" if few else "")
        + " [95 % t interval]; p: paired sign-flip permutation test, Holm-corrected over the "
        f"{family} method pair{'s' if family != 1 else ''} that share data (per metric); bold: Holm p < {ALPHA:g}.",
    ]
    if any(c.result.n == 1 for c in comps):
        notes.append("A pair with n=1 has no interval and p = 1.")
    if any(c.result.n == 0 for c in comps):
        notes.append("—: the two methods share no (dataset, seed) pair.")
    return PairedComparisons(
        key=f"{scope.key}-paired",
        title=f"{scope.spec.title}, paired comparisons: {scope.setting_text}",
        protocol=scope.protocol,
        headline=headline,
        variants=tuple(scope.variants),
        comparisons=tuple(comps),
        notes=tuple(notes),
    )


# ------------------------------------------------------------------------------------------------------- text


def _signed(x: float) -> str:
    return f"{round(x, 2) + 0.0:+.2f}"


def _p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def matrix_cell(c: Comparison | None) -> tuple[str, bool]:
    """(`+1.23 [-0.50, +2.96] p=0.094`, significant) for one pair (p Holm-corrected), or `—` without pairs."""
    if c is None or c.result.n == 0 or c.result.mean is None:
        return "—", False
    r = c.result
    ci = f" [{_signed(r.ci[0])}, {_signed(r.ci[1])}]" if r.ci is not None else " (n=1)"
    p = _p(r.p_holm)
    return f"{_signed(r.mean)}{ci} p{p if p.startswith('<') else '=' + p}", r.p_holm is not None and r.p_holm < ALPHA


def matrix_text(pc: PairedComparisons) -> TextTable:
    """The headline-metric matrix: rows are all variants but the last, columns all but the first."""
    rows_v, cols_v = pc.variants[:-1], pc.variants[1:]
    header = (f"{pc.headline}: row − column", *cols_v)
    rows, bold = [], set()
    for i, a in enumerate(rows_v):
        cells = []
        for j, b in enumerate(cols_v):
            if pc.variants.index(b) <= pc.variants.index(a):
                cells.append("")
                continue
            text, sig = matrix_cell(pc.get(a, b, pc.headline))
            cells.append(text)
            if sig:
                bold.add((i, j + 1))
        rows.append((a, *cells))
    return TextTable(header, tuple(rows), frozenset(bold), 1, frozenset(), tuple("result" for _ in rows))


LIST_HEADER = ("Metric", "A", "B", "Pairs", "Datasets", "Δ (A − B)", "95 % CI", "p", "test", "p (Holm)")


def list_text(pc: PairedComparisons) -> TextTable:
    """Every comparison, headline metric first."""
    metrics = [pc.headline, *[m for m in dict.fromkeys(c.metric for c in pc.comparisons) if m != pc.headline]]
    rows, bold, starts = [], set(), set()
    for metric in metrics:
        starts.add(len(rows))
        for c in (c for c in pc.comparisons if c.metric == metric):
            r = c.result
            if r.n == 0:
                rows.append((metric, c.a, c.b, "0", "0", "—", "—", "—", "", "—"))
                continue
            ci = f"[{_signed(r.ci[0])}, {_signed(r.ci[1])}]" if r.ci is not None else "no CI (n=1)"
            test = "exact" if r.exact else "Monte Carlo"
            if r.p_holm is not None and r.p_holm < ALPHA:
                bold.add((len(rows), len(LIST_HEADER) - 1))
            rows.append(
                (metric, c.a, c.b, str(r.n), str(c.n_datasets), _signed(r.mean), ci, _p(r.p), test, _p(r.p_holm))
            )
    return TextTable(LIST_HEADER, tuple(rows), frozenset(bold), 3, frozenset(starts), tuple("result" for _ in rows))


def markdown(t: TextTable) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in t.header) + " |"]
    lines.append("|" + "|".join("---" if j < t.n_labels else "---:" for j in range(len(t.header))) + "|")
    for i, row in enumerate(t.rows):
        lines.append(
            "| " + " | ".join(f"**{esc(c)}**" if (i, j) in t.bold and c else esc(c) for j, c in enumerate(row)) + " |"
        )
    return "\n".join(lines)


def latex(t: TextTable, *, key: str, caption: str, notes: tuple[str, ...] = ()) -> str:
    """A complete booktabs `table` environment (needs only `\\usepackage{booktabs}`)."""

    def cell(i: int, j: int, text: str) -> str:
        return f"\\textbf{{{escape(text)}}}" if (i, j) in t.bold and text else escape(text)

    return booktabs(t, key=key, caption=caption, cell=cell, size=r"\scriptsize", notes=notes)


def markdown_section(pc: PairedComparisons) -> list[str]:
    """The Markdown lines of one scope's comparisons: the matrix, its notes, then the full list folded."""
    out = [f"#### {pc.title}", "", markdown(matrix_text(pc)), ""]
    out += [f"{n}  " for n in pc.notes] + [""]
    out += ["<details>", "<summary>Every pair and metric</summary>", "", markdown(list_text(pc)), "", "</details>", ""]
    return out
