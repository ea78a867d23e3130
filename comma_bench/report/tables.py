"""Result tables: pure functions of the tidy frame built by `comma_bench.report.collect`.

Every table is a `Table` of `Row`s of numeric `Cell`s (`comma_bench.report.cells`); the Markdown, LaTeX and PDF
renderers only format them, so the numbers are computed (and tested) once. Runs are split into scopes
(`comma_bench.report.scopes`), one per protocol and backbone setting. This module builds what every protocol has,
its ablation tables, its every-seed table and the list of gaps, and asks the scope's protocol for the rest: its main
table (`comma_bench.protocols.tables.<protocol>`) and what its cells are.

Conventions (those of the official `parse_test_res.py` and MaPLe's tables; `CONVENTIONS` repeats them in every report):
- A cell is the mean over seeds; ± is the population standard deviation over seeds (ddof=0), the `np.std` that
  Dassl's `parse_test_res.py` prints.
- HM = 2BN/(B+N) of the seed-averaged base and novel accuracy, not the mean of per-seed HMs; its ± is the standard
  deviation of the per-seed HMs.
- An Average row is the arithmetic mean of the per-dataset values; its HM is computed from the averaged base and
  novel accuracy, not as the mean of the per-dataset HMs. Average rows carry no ±.
- Transfer tables: the target mean is the mean of the seed-averaged target accuracies; the source is excluded.
- Ablation tables: for each axis value, the per-dataset cells (as above) averaged over datasets; ± is the mean over
  datasets of the per-dataset standard deviation over seeds.
- Marks: † a cell has fewer seeds (or, for averages, fewer datasets) than the table expects; ‡ a run behind the
  cell failed; — no data. Failed and missing runs are also listed by `find_gaps`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import pandas as pd

from comma_bench.report.cells import (
    FAILED,
    FEWER,
    NO_DATA,
    Cell,
    Gaps,
    Row,
    Table,
    dataset_sort_key,
    format_value,
    is_nan,
    seeds_text,
    shots_label,
    value_sort_key,
)
from comma_bench.report.collect import AXIS_PREFIX
from comma_bench.report.scopes import Scope, build_scopes, caption, common_notes, label_runs, variant_order

# Re-exported: the names callers of the tables (renderers, tests) have always imported from here.
__all__ = [
    "CONVENTIONS",
    "FAILED",
    "FEWER",
    "NO_DATA",
    "Cell",
    "Gaps",
    "Row",
    "Scope",
    "Table",
    "ablation_tables",
    "build_scopes",
    "build_tables",
    "find_gaps",
    "per_seed_table",
]


CONVENTIONS = (
    "Each cell is the mean over seeds; ± is the population standard deviation over seeds (ddof=0, numpy's default, "
    "as in Dassl's parse_test_res.py). HM = 2·B·N/(B+N) is computed from the seed-averaged base (B) and novel (N) "
    "accuracy, not as the mean of per-seed HMs; the ± beside an HM is the standard deviation of the per-seed HMs. "
    "An Average row is the arithmetic mean of the per-dataset values, and its HM is computed from the averaged B and "
    "N, not as the mean of the per-dataset HMs (as MaPLe and CoCoOp); average rows carry no ±. In transfer tables the "
    "target mean averages the seed-averaged target accuracies and excludes the source. In ablation tables each "
    "value is the per-dataset value averaged over datasets, with ± the mean over datasets of the per-dataset "
    "standard deviation over seeds. Published numbers (ViT-B/16, OpenAI weights, 16 shots, mean of 3 seeds) are "
    "shown only beside runs with exactly that protocol, backbone and shot count and the method settings each "
    "published number was measured with (the method's official defaults unless its label names others), with "
    "Δ = reproduced − published. "
    f"{FEWER} marks a cell with fewer seeds (or an average over fewer datasets) than the table expects, {FAILED} a "
    f"cell with a failed run, {NO_DATA} no data. Accuracies are top-1, in percent."
)


# -------------------------------------------------------------------------------------------------------- ablation


def ablation_tables(scope: Scope) -> list[Table]:
    """One table per swept axis: rows (method line, axis value) → metrics averaged over datasets."""
    tables = []
    tables_of = scope.spec.tables()
    for axis in scope.axes:
        runs = scope.runs[scope.runs[axis].notna()].copy()
        values_in_axis = runs[axis].map(format_value).nunique()
        if values_in_axis < 2:
            continue
        runs["_line"] = label_runs(runs, scope.axes, exclude=[axis])
        runs["_line_value"] = runs["_line"] + "||" + runs[axis].map(format_value)
        sub_scope = dataclasses.replace(
            scope,
            runs=runs,
            variants=sorted(set(runs["_line_value"])),
            variant_method=dict(zip(runs["_line_value"], runs["method"])),
            eval_only={
                lv: bool((runs.loc[runs["_line_value"] == lv, "kind"] == "eval").all())
                for lv in set(runs["_line_value"])
            },
        )
        # Re-key the kept runs by (line, value); `variant` now names the ablation cell.
        kept = scope.values.merge(runs[["run_id", "_line_value"]], on="run_id")
        kept = kept.assign(variant=kept["_line_value"])
        sub_scope.runs = runs.assign(variant=runs["_line_value"])
        lines = variant_order(runs, "_line", [a for a in scope.axes if a != axis])
        shot_list: list[int | None] = (
            sorted({int(s) for s in runs["shots"]}) if scope.spec.shots_are_columns else [None]
        )
        rows: list[Row] = []
        for line in lines:
            line_runs = runs[runs["_line"] == line]
            vals = sorted({*line_runs[axis]}, key=value_sort_key)
            for shots in shot_list:
                per_value: list[tuple[Any, list[tuple[Cell, ...]]]] = []
                for val in vals:
                    lv = line + "||" + format_value(val)
                    dsets = sorted(runs.loc[runs["_line_value"] == lv, "dataset"].unique(), key=dataset_sort_key)
                    per_value.append((val, [tables_of.dataset_cells(sub_scope, kept, lv, d, shots) for d in dsets]))
                all_dsets = max((len(p) for _, p in per_value), default=0)
                group = line if shots is None else f"{line}, {shots_label(shots)}"
                for val, parts in per_value:
                    cells = tables_of.average_cells(parts, complete=len(parts) == all_dsets)
                    if shots is not None and all(c.mean is None for c in cells):
                        continue
                    labels = (
                        (line, format_value(val)) if shots is None else (line, shots_label(shots), format_value(val))
                    )
                    rows.append(Row(group, labels, cells, "result", seeds_text(cells)))
        name = axis[len(AXIS_PREFIX) :]
        key = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{scope.key}-ablation-{name}")
        label_cols = ("Method", "Shots", name) if scope.spec.shots_are_columns else ("Method", name)
        table_notes = common_notes(scope, rows)
        tables.append(
            Table(
                key=key,
                title=caption(scope, f", ablation of {name} (mean over datasets)"),
                protocol=scope.protocol,
                label_columns=label_cols,
                value_columns=scope.spec.metric_columns,
                rows=tuple(rows),
                notes=table_notes,
                kind="ablation",
            )
        )
    return tables


# -------------------------------------------------------------------------------------------------------- per seed


# -------------------------------------------------------------------------------------------------------- per seed


def per_seed_table(scope: Scope) -> Table:
    """Every seed's own value (finished runs) and every failed run, so no mean is shown without its parts."""
    rows: list[Row] = []
    tables_of = scope.spec.tables()
    value_cols = tables_of.per_seed_columns(scope)
    runs = scope.runs.copy()
    kept = set(scope.values["run_id"])
    runs = runs[(runs["status"] == "failed") | runs["run_id"].isin(kept)]
    runs = runs.assign(
        _v=runs["variant"].map({v: i for i, v in enumerate(scope.variants)}),
        _d=runs["dataset"].map(dataset_sort_key),
    ).sort_values(["_d", "_v", "shots", "seed", "run_id"], kind="stable")
    vals = scope.values.set_index("run_id")
    few = scope.spec.shots_are_columns
    for _, run in runs.iterrows():
        labels = (run["dataset"], run["variant"], *((str(int(run["shots"])),) if few else ()), str(int(run["seed"])))
        if run["status"] == "failed":
            rows.append(Row(run["dataset"], labels, tuple(Cell(None, marks=FAILED) for _ in value_cols), "result"))
            continue
        rec = vals.loc[run["run_id"]]

        def one(name: str, rec: pd.Series = rec) -> Cell:
            x = rec.get(name, math.nan)
            return Cell(None) if is_nan(x) else Cell(float(x), None, 1, "", (float(x),))

        rows.append(Row(run["dataset"], labels, tables_of.per_seed_cells(scope, one), "result"))
    label_cols = ("Dataset", "Method", *(("Shots",) if few else ()), "Seed")
    notes = [f"{FAILED} failed run (see the failed runs)."] if (runs["status"] == "failed").any() else []
    notes += tables_of.per_seed_notes
    return Table(
        key=f"{scope.key}-per-seed",
        title=caption(scope, ", every seed"),
        protocol=scope.protocol,
        label_columns=label_cols,
        value_columns=value_cols,
        rows=tuple(rows),
        seeds_column=False,
        bold_best=False,
        notes=tuple(notes),
        kind="per_seed",
    )


# ---------------------------------------------------------------------------------------------------------- public


def build_tables(frame: pd.DataFrame, *, per_seed: bool = True, scopes: list[Scope] | None = None) -> list[Table]:
    """All tables of a report, in report order: per scope the main table, its ablations, then every seed.

    `scopes` (from `build_scopes(frame)`) may be passed to share them with `find_gaps`.
    """
    tables = []
    for scope in build_scopes(frame) if scopes is None else scopes:
        tables.append(scope.spec.tables().main_table(scope))
        tables.extend(ablation_tables(scope))
        if per_seed:
            tables.append(per_seed_table(scope))
    return tables


def find_gaps(frame: pd.DataFrame, *, scopes: list[Scope] | None = None) -> Gaps:
    """Failed runs with their reasons, and the (method, dataset, seed) combinations that have no record at all.

    Each sweep of a scope expects its variants on its datasets with the seeds (and, for few-shot, the shot counts)
    its trained runs used; a combination no run of the scope covers is missing. Methods that do not train are
    expected with the seeds they were run with in that sweep (often one), at any shot count.
    """
    failed_rows, missing_rows = [], []
    for scope in build_scopes(frame) if scopes is None else scopes:
        setting = scope.setting_text
        r = scope.runs
        for _, run in r[r["status"] == "failed"].iterrows():
            failed_rows.append(
                {
                    "protocol": scope.protocol,
                    "setting": setting,
                    "method": run["variant"],
                    "dataset": run["dataset"],
                    "shots": int(run["shots"]),
                    "seed": int(run["seed"]),
                    "run_id": run["run_id"],
                    "reason": run["failure_reason"],
                    "record": run["record"],
                }
            )
        seen: set[tuple[str, str, Any, Any]] = set()
        for grid in scope.grids:
            for variant in sorted(grid.variants, key=scope.variants.index):
                for ds in sorted(grid.datasets, key=dataset_sort_key):
                    cell = r[(r["variant"] == variant) & (r["dataset"] == ds)]
                    if scope.eval_only[variant]:  # its own seeds, at any shot count
                        own = {int(x) for x in r.loc[(r["variant"] == variant) & (r["sweep"] == grid.sweep), "seed"]}
                        combos = [(None, seed) for seed in sorted(own) if not (cell["seed"] == seed).any()]
                    else:
                        shot_list = grid.shots if scope.spec.shots_are_columns else [None]
                        combos = [
                            (k, seed)
                            for k in shot_list
                            for seed in grid.seeds
                            if not ((cell["seed"] == seed) & ((cell["shots"] == k) if k is not None else True)).any()
                        ]
                    for k, seed in combos:
                        if (variant, ds, k, seed) not in seen:
                            seen.add((variant, ds, k, seed))
                            missing_rows.append(_missing(scope, variant, ds, k, seed))
    failed = pd.DataFrame(
        failed_rows, columns=["protocol", "setting", "method", "dataset", "shots", "seed", "run_id", "reason", "record"]
    )
    missing = pd.DataFrame(missing_rows, columns=["protocol", "setting", "method", "dataset", "shots", "seed"])
    return Gaps(failed=failed, missing=missing)


def _missing(scope: Scope, variant: str, dataset: str, shots: int | None, seed: Any) -> dict[str, Any]:
    return {
        "protocol": scope.protocol,
        "setting": scope.setting_text,
        "method": variant,
        "dataset": dataset,
        "shots": shots if shots is not None else scope.setting.get("shots", ""),
        "seed": seed,
    }
