"""Few-shot tables: accuracy per shot count (the columns) for each dataset × method, then the Average row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from comma_bench.protocols.tables.base import ProtocolTables
from comma_bench.report.cells import Cell, Row, Table, average_cell, seed_cell, shots_label
from comma_bench.report.scopes import Scope, caption, common_notes


def few_shot_table(scope: Scope) -> Table:
    """Accuracy per shot count (columns) for each dataset × variant, then the Average over datasets."""
    shots = sorted({int(s) for s in scope.runs["shots"]})
    rows: list[Row] = []
    cells: dict[tuple[str, str], list[Cell]] = {}
    v = scope.values
    for ds in scope.datasets:
        for variant in scope.variants:
            if not scope.in_grid(variant, ds):
                continue
            if scope.eval_only[variant]:
                # Zero-shot CLIP reads no training image, so its accuracy is the same at every shot count: a sweep
                # runs it once (at any K) and the table shows that one result in every column, not under one K only.
                sub = v[(v["variant"] == variant) & (v["dataset"] == ds)].sort_values("seed")
                acc = sub["accuracy"] if "accuracy" in sub else pd.Series(dtype=float)
                row_cells = [seed_cell(acc, scope.expected(variant), scope.failed_count(variant, ds))] * len(shots)
            else:
                row_cells = []
                for k in shots:
                    sub = v[(v["variant"] == variant) & (v["dataset"] == ds) & (v["shots"] == k)].sort_values("seed")
                    acc = sub["accuracy"] if "accuracy" in sub else pd.Series(dtype=float)
                    row_cells.append(seed_cell(acc, scope.expected(variant), scope.failed_count(variant, ds, k)))
            cells[(variant, ds)] = row_cells
            rows.append(Row(ds, (ds, variant), tuple(row_cells), "result"))
    if len(scope.datasets) > 1:
        for variant in scope.variants:
            avg = []
            for j in range(len(shots)):
                parts = [cells[(variant, ds)][j] if (variant, ds) in cells else Cell(None) for ds in scope.datasets]
                if scope.eval_only[variant] and all(p.mean is None for p in parts):
                    avg.append(Cell(None))
                else:
                    avg.append(average_cell(parts, complete=True))
            rows.append(Row("Average", ("Average", variant), tuple(avg), "average"))
    return Table(
        key=scope.key,
        title=caption(scope, " (accuracy per shot count)"),
        protocol=scope.protocol,
        label_columns=("Dataset", "Method"),
        value_columns=tuple(shots_label(k) for k in shots),
        rows=tuple(rows),
        seeds_column=False,
        notes=common_notes(scope, rows) + _shots_free_note(scope, rows),
    )


def _shots_free_note(scope: Scope, rows: list[Row]) -> tuple[str, ...]:
    shown = {label for r in rows for label in r.labels}
    evals = ", ".join(v for v in scope.variants if scope.eval_only[v] and v in shown)
    return (f"{evals}: uses no shots, so its one result is shown in every shot column.",) if evals else ()


class FewShotTables(ProtocolTables):
    """One accuracy per cell; ablation and per-seed rows are split by shot count."""

    def main_table(self, scope: Scope) -> Table:
        return few_shot_table(scope)

    def dataset_cells(
        self, scope: Scope, values: pd.DataFrame, variant: str, dataset: str, shots: int | None
    ) -> tuple[Cell, ...]:
        sub = self.cell_rows(values, variant, dataset, shots)
        acc = sub["accuracy"] if "accuracy" in sub else pd.Series(dtype=float)
        return (seed_cell(acc, scope.expected(variant), scope.failed_count(variant, dataset, shots)),)

    def per_seed_cells(self, scope: Scope, one: Callable[[str], Cell]) -> tuple[Cell, ...]:
        return (one("accuracy"),)

    def seed_metrics(self, values: pd.DataFrame, col: Callable[[str], pd.Series]) -> dict[str, Any]:
        return {"Accuracy": col("accuracy")}

    def figures(self, table: Table, colors: dict[str, Any]) -> Sequence[tuple[str, str, Any]]:
        from comma_bench.report.plots import figure_few_shot

        return [(f"{table.key}-curves", f"Accuracy vs shots: {table.title}", figure_few_shot(table, colors))]


TABLES = FewShotTables
