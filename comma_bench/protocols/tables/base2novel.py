"""Base-to-novel tables: Base and Novel (mean ± std over seeds) and HM per dataset × method, then the Average row,
with the published numbers (and Δ) beside runs of the published setting.

HM is computed from the seed-averaged base and novel accuracy, and an Average row's HM from the averaged base and
novel, never as a mean of HMs (MaPLe's and CoCoOp's tables; see `comma_bench.report.tables`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from comma_bench.protocols.base2novel import harmonic_mean
from comma_bench.protocols.tables.base import ProtocolTables
from comma_bench.report.cells import (
    FEWER,
    Cell,
    Row,
    Table,
    average_cell,
    delta_cell,
    hm_cell,
    is_nan,
    merge_marks,
    seed_cell,
    seeds_text,
)
from comma_bench.report.published import published_base2novel, published_base2novel_datasets
from comma_bench.report.scopes import Scope, by_method, caption, common_notes, published_labels


def _b2n_cells(scope: Scope, variant: str, dataset: str, values: pd.DataFrame | None = None) -> tuple[Cell, ...]:
    """(Base, Novel, HM) of one variant on one dataset."""
    v = scope.values if values is None else values
    sub = v[(v["variant"] == variant) & (v["dataset"] == dataset)].sort_values("seed")
    base_vals = sub["base"] if "base" in sub else pd.Series(dtype=float)
    novel_vals = sub["novel"] if "novel" in sub else pd.Series(dtype=float)
    failed = scope.failed_count(variant, dataset)
    expected = scope.expected(variant)
    base = seed_cell(base_vals, expected, failed)
    novel = seed_cell(novel_vals, expected, failed)
    per_seed = [harmonic_mean(b, n) for b, n in zip(base_vals, novel_vals) if not (is_nan(b) or is_nan(n))]
    return base, novel, hm_cell(base, novel, per_seed)


def base2novel_table(scope: Scope) -> Table:
    """Per dataset × variant: Base and Novel (mean ± std over seeds), HM from those means, seeds; then Average."""
    rows: list[Row] = []
    pub = published_base2novel() if scope.published_backbone else None
    cells: dict[tuple[str, str], tuple[Cell, ...]] = {}
    for ds in scope.datasets:
        for method_variants in by_method(scope):
            method_variants = [v for v in method_variants if scope.in_grid(v, ds)]
            if not method_variants:
                continue
            for variant in method_variants:
                c = _b2n_cells(scope, variant, ds)
                cells[(variant, ds)] = c
                rows.append(Row(ds, (ds, variant), c, "result", seeds_text(c[:2])))
            method = scope.variant_method[method_variants[0]]
            if pub is None:
                continue
            for _, hit in pub[(pub["method"] == method) & (pub["dataset"] == ds)].iterrows():
                matching = [v for v in method_variants if scope.matches_published(v, hit["settings"])]
                if matching:
                    rows.extend(_published_rows(ds, method, hit, [cells[(v, ds)] for v in matching]))
    if len(scope.datasets) > 1:
        rows.extend(_b2n_average_rows(scope, cells, pub))
    title = caption(scope, "")
    return Table(
        key=scope.key,
        title=title,
        protocol=scope.protocol,
        label_columns=("Dataset", "Method"),
        value_columns=("Base", "Novel", "HM"),
        rows=tuple(rows),
        notes=common_notes(scope, rows),
    )


def _published_rows(group: str, method: str, pub: pd.Series, reproduced: list[tuple[Cell, ...]]) -> list[Row]:
    """The published row, and Δ = reproduced − published when exactly one matching variant has data."""
    published = (Cell(float(pub["base"])), Cell(float(pub["novel"])), Cell(float(pub["hm"])))
    label, delta_label = published_labels(method, pub["settings"])
    rows = [Row(group, (group, label), published, "published")]
    with_data = [c for c in reproduced if any(x.mean is not None for x in c)]
    if len(with_data) == 1:
        deltas = tuple(delta_cell(r, p.mean) for r, p in zip(with_data[0], published))
        rows.append(Row(group, (group, delta_label), deltas, "delta"))
    return rows


def _b2n_average_rows(
    scope: Scope, cells: dict[tuple[str, str], tuple[Cell, ...]], pub: pd.DataFrame | None
) -> list[Row]:
    rows = []
    eleven = set(published_base2novel_datasets())
    for method_variants in by_method(scope):
        avg_cells = {}
        for variant in method_variants:
            parts = [cells.get((variant, ds), (Cell(None),) * 3) for ds in scope.datasets]
            base = average_cell([p[0] for p in parts], complete=True)
            novel = average_cell([p[1] for p in parts], complete=True)
            hm = Cell(None, None, 0, merge_marks(base.marks, novel.marks))
            if base.mean is not None and novel.mean is not None:
                hm = dataclasses.replace(hm, mean=harmonic_mean(base.mean, novel.mean), n=min(base.n, novel.n))
            avg_cells[variant] = (base, novel, hm)
            rows.append(Row("Average", ("Average", variant), (base, novel, hm), "average"))
        method = scope.variant_method[method_variants[0]]
        if pub is None:
            continue
        # A published average covers the 11 datasets; it is comparable only with an average over exactly those.
        if set(scope.datasets) != eleven:
            continue
        for _, hit in pub[(pub["method"] == method) & (pub["dataset"] == "average")].iterrows():
            matching = [v for v in method_variants if scope.matches_published(v, hit["settings"])]
            if not matching:
                continue
            complete = [
                c
                for v, c in avg_cells.items()
                if v in matching and c[0].mean is not None and FEWER not in c[0].marks + c[1].marks
            ]
            rows.extend(_published_rows("Average", method, hit, complete))
    return rows


class Base2NovelTables(ProtocolTables):
    """Base, Novel and HM everywhere; HM re-derived from averaged base and novel wherever cells are averaged."""

    def main_table(self, scope: Scope) -> Table:
        return base2novel_table(scope)

    def dataset_cells(
        self, scope: Scope, values: pd.DataFrame, variant: str, dataset: str, shots: int | None
    ) -> tuple[Cell, ...]:
        return _b2n_cells(scope, variant, dataset, values)

    def average_cells(self, parts: list[tuple[Cell, ...]], complete: bool) -> tuple[Cell, ...]:
        """Average base and novel over datasets; HM again from the averaged base and novel."""
        cols = list(super().average_cells(parts, complete))
        if not parts:
            return tuple(cols)
        base, novel = cols[0], cols[1]
        if base.mean is not None and novel.mean is not None:
            stds = [p[2].std for p in parts if p[2].std is not None]
            cols[2] = dataclasses.replace(
                cols[2], mean=harmonic_mean(base.mean, novel.mean), std=float(np.mean(stds)) if stds else None
            )
        return tuple(cols)

    def per_seed_cells(self, scope: Scope, one: Callable[[str], Cell]) -> tuple[Cell, ...]:
        b, n = one("base"), one("novel")
        hm = Cell(None) if b.mean is None or n.mean is None else Cell(harmonic_mean(b.mean, n.mean), None, 1)
        return (b, n, hm)

    per_seed_notes = ("HM here is the per-seed HM(base, novel).",)

    def seed_metrics(self, values: pd.DataFrame, col: Callable[[str], pd.Series]) -> dict[str, Any]:
        base, novel = col("base"), col("novel")
        hm = [np.nan if np.isnan(b) or np.isnan(n) else harmonic_mean(b, n) for b, n in zip(base, novel, strict=True)]
        return {"Base": base, "Novel": novel, "HM": hm}

    def seed_average(self, avg: pd.DataFrame) -> pd.DataFrame:
        if len(avg):
            avg["HM"] = [harmonic_mean(b, n) for b, n in zip(avg["Base"], avg["Novel"], strict=True)]
        return avg

    ci_notes = (
        "HM here is the mean of the per-seed HMs; an Average row averages each seed over the datasets, "
        "then summarises those per-seed averages (its HM from the per-seed average base and novel).",
    )

    def ablation_plot_metrics(self) -> tuple[str, ...]:
        """Three panels (base, novel, HM), so a shots ablation shows how both accuracies move, not only their HM."""
        return self.protocol.metric_columns

    def figures(self, table: Table, colors: dict[str, Any]) -> Sequence[tuple[str, str, Any]]:
        from comma_bench.report.plots import figure_base_novel, figure_hm_bars

        return [
            (f"{table.key}-hm", f"HM per dataset: {table.title}", figure_hm_bars(table, colors)),
            (
                f"{table.key}-base-novel",
                f"Base vs novel with HM iso-curves: {table.title}",
                figure_base_novel(table, colors),
            ),
        ]


TABLES = Base2NovelTables
