"""Transfer tables (cross-dataset and domain generalisation): source accuracy, each target's accuracy and the
target mean (source excluded) per source dataset × method, with the published numbers beside ImageNet-source runs
of the published setting."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from comma_bench.protocols.tables.base import ProtocolTables
from comma_bench.report.cells import DDOF, FEWER, Cell, Row, Table, average_cell, delta_cell, seed_cell, seeds_text
from comma_bench.report.published import PUBLISHED_TRANSFER_SOURCE, published_targets, published_transfer
from comma_bench.report.scopes import Scope, by_method, caption, common_notes, published_labels, target_datasets


def _transfer_cells(scope: Scope, variant: str, dataset: str, targets: Sequence[str]) -> tuple[Cell, ...]:
    v = scope.values
    sub = v[(v["variant"] == variant) & (v["dataset"] == dataset)].sort_values("seed")
    failed = scope.failed_count(variant, dataset)
    expected = scope.expected(variant)

    def col(name: str) -> pd.Series:
        return sub[name] if name in sub else pd.Series(dtype=float)

    source = seed_cell(col("source"), expected, failed)
    tcells = [seed_cell(col(f"target:{t}"), expected, failed) for t in targets]
    mean = average_cell(tcells, complete=True)
    return (source, *tcells, mean)


def transfer_table(scope: Scope) -> Table:
    """Source accuracy, each target's accuracy and the target mean, per source dataset × variant."""
    targets = target_datasets(scope)
    rows: list[Row] = []
    pub = published_transfer(scope.protocol) if scope.published_backbone else None
    for ds in scope.datasets:
        for method_variants in by_method(scope):
            method_variants = [v for v in method_variants if scope.in_grid(v, ds)]
            if not method_variants:
                continue
            cells = {v: _transfer_cells(scope, v, ds, targets) for v in method_variants}
            rows.extend(Row(ds, (ds, v), c, "result", seeds_text(c[:1])) for v, c in cells.items())
            method = scope.variant_method[method_variants[0]]
            if pub is None or ds != PUBLISHED_TRANSFER_SOURCE:
                continue
            hits = pub[pub["method"] == method]
            for settings, hit in hits.groupby("settings", sort=False):
                repro = [c for v, c in cells.items() if scope.matches_published(v, str(settings))]
                if repro:
                    rows.extend(_published_transfer_rows(scope.protocol, ds, method, hit, targets, repro))
    return Table(
        key=scope.key,
        title=caption(scope, ""),
        protocol=scope.protocol,
        label_columns=("Source", "Method"),
        value_columns=("Source acc.", *targets, scope.spec.headline),
        rows=tuple(rows),
        notes=common_notes(scope, rows),
    )


def _published_transfer_rows(
    protocol: str, group: str, method: str, hit: pd.DataFrame, targets: Sequence[str], repro: list[tuple[Cell, ...]]
) -> list[Row]:
    """The published row of one configuration of `method` (`hit`, long form), and Δ when one variant has data."""
    lookup = dict(zip(hit["column"], hit["accuracy"]))
    label, delta_label = published_labels(method, str(hit["settings"].iloc[0]))
    # The published mean covers the published targets only; show it when this table has exactly those targets.
    same_targets = set(targets) == set(published_targets(protocol))
    published = (
        Cell(lookup.get("source")),
        *(Cell(lookup.get(t)) for t in targets),
        Cell(lookup.get("target_mean") if same_targets else None),
    )
    rows = [Row(group, (group, label), published, "published")]
    with_data = [c for c in repro if any(x.mean is not None for x in c)]
    if len(with_data) == 1:
        r = with_data[0]
        deltas = [delta_cell(a, b.mean) for a, b in zip(r, published)]
        if FEWER in r[-1].marks:
            deltas[-1] = Cell(None)  # a mean over fewer targets is not comparable
        rows.append(Row(group, (group, delta_label), tuple(deltas), "delta"))
    return rows


class TransferTables(ProtocolTables):
    """Source and target-mean columns in ablation and seed-statistics tables; every target in the per-seed table."""

    def main_table(self, scope: Scope) -> Table:
        return transfer_table(scope)

    def dataset_cells(
        self, scope: Scope, values: pd.DataFrame, variant: str, dataset: str, shots: int | None
    ) -> tuple[Cell, ...]:
        sub = self.cell_rows(values, variant, dataset, shots)
        failed = scope.failed_count(variant, dataset, shots)
        expected = scope.expected(variant)
        source = seed_cell(sub.get("source", []), expected, failed)
        tcols = sorted(c for c in sub.columns if c.startswith("target:"))
        per_target = [seed_cell(sub[c], expected, failed) for c in tcols]
        per_seed_means = sub[tcols].mean(axis=1, skipna=True) if tcols else pd.Series(dtype=float)
        mean = average_cell(per_target, complete=True)
        if mean.mean is not None:
            mean = dataclasses.replace(mean, std=float(np.std(per_seed_means.dropna(), ddof=DDOF)))
        return (source, mean)

    def per_seed_columns(self, scope: Scope) -> tuple[str, ...]:
        return ("Source acc.", *target_datasets(scope), self.protocol.headline)

    def per_seed_cells(self, scope: Scope, one: Callable[[str], Cell]) -> tuple[Cell, ...]:
        tc = [one(f"target:{t}") for t in target_datasets(scope)]
        present = [c.mean for c in tc if c.mean is not None]
        mean = (
            Cell(float(np.mean(present)), None, 1, "" if len(present) == len(tc) else FEWER) if present else Cell(None)
        )
        return (one("source"), *tc, mean)

    def seed_metrics(self, values: pd.DataFrame, col: Callable[[str], pd.Series]) -> dict[str, Any]:
        targets = sorted(c for c in values.columns if c.startswith("target:"))
        mean = values[targets].astype(float).mean(axis=1) if targets else np.nan
        return {"Source acc.": col("source"), self.protocol.headline: mean}


TABLES = TransferTables
