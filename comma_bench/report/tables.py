"""Result tables: pure functions of the tidy frame built by `comma_bench.report.collect`.

Every table is a `Table` of `Row`s of numeric `Cell`s; the Markdown, LaTeX and PDF renderers only format them, so
the numbers are computed (and tested) once. Runs are split into *scopes*: one per protocol and backbone setting
(model, pretrained weights and, outside few-shot tables, the shot count), so that runs of different settings are
never averaged together and published numbers appear only beside runs of their own setting. Within a scope, a row
is a *variant*: a method plus the values of the sweep axes that vary among that method's runs.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from comma_bench.records import harmonic_mean
from comma_bench.report.collect import AXIS_PREFIX
from comma_bench.report.published import (
    PUBLISHED_SHOTS,
    PUBLISHED_TRANSFER_SOURCE,
    matches_published,
    published_base2novel,
    published_base2novel_datasets,
    published_targets,
    published_transfer,
)

DDOF = 0  # population std over seeds, as Dassl's parse_test_res.py (np.std)
FEWER = "†"  # fewer seeds / datasets than the table expects
FAILED = "‡"  # a run behind the cell failed
NO_DATA = "—"

METHOD_ORDER = ("zeroshot", "coop", "cocoop", "kgcoop", "maple", "comma")
PROTOCOL_ORDER = ("base2novel", "few_shot", "cross_dataset", "domain_generalization")
PROTOCOL_TITLES = {
    "base2novel": "Base-to-novel generalisation",
    "few_shot": "Few-shot learning",
    "cross_dataset": "Cross-dataset transfer",
    "domain_generalization": "Domain generalisation",
}
_DG_DATASETS = ("imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r")
# Sweep axes that identify a cell rather than change a configuration (a `data.` prefix is ignored).
# Tidy columns that describe one evaluation, not the run.
_EVAL_COLUMNS = ("eval_dataset", "subset", "role", "n_classes", "n_images", "accuracy", "macro_f1")
_IDENTITY_AXES = {"method", "dataset", "seed", "protocol", "targets", "sweep"}

CONVENTIONS = (
    "Each cell is the mean over seeds; ± is the population standard deviation over seeds (ddof=0, numpy's default, "
    "as in Dassl's parse_test_res.py). HM = 2·B·N/(B+N) is computed from the seed-averaged base (B) and novel (N) "
    "accuracy, not as the mean of per-seed HMs; the ± beside an HM is the standard deviation of the per-seed HMs. "
    "An Average row is the arithmetic mean of the per-dataset values, and its HM is computed from the averaged B and "
    "N, not as the mean of the per-dataset HMs (as MaPLe and CoCoOp); average rows carry no ±. In transfer tables the "
    "target mean averages the seed-averaged target accuracies and excludes the source. In ablation tables each "
    "value is the per-dataset value averaged over datasets, with ± the mean over datasets of the per-dataset "
    "standard deviation over seeds. Published numbers (ViT-B/16, OpenAI weights, 16 shots, mean of 3 seeds) are "
    "shown only beside runs with exactly that protocol, backbone and shot count, with Δ = reproduced − published. "
    f"{FEWER} marks a cell with fewer seeds (or an average over fewer datasets) than the table expects, {FAILED} a "
    f"cell with a failed run, {NO_DATA} no data. Accuracies are top-1, in percent."
)


@dataclass(frozen=True)
class Cell:
    """One number of a table with what it rests on."""

    mean: float | None  # the value shown; None = no data
    std: float | None = None  # population std over seeds (ddof=0); None where none is shown
    n: int = 0  # seeds behind the value (for averages: the fewest of its parts)
    marks: str = ""  # FEWER and/or FAILED
    values: tuple[float, ...] = ()  # the per-seed values, in seed order (empty for derived cells)
    ci: tuple[float, float] | None = None  # 95 % t interval of the mean (seed-statistics tables only)


@dataclass(frozen=True)
class Row:
    """One table row; `group` scopes the bold best value (best per column within a group)."""

    group: str  # e.g. the dataset: rows of different groups are never compared
    labels: tuple[str, ...]  # one per label column
    cells: tuple[Cell, ...]  # one per value column
    kind: str = "result"  # result | average | published | delta; only result/average rows compete for bold
    seeds: str = ""  # text of the Seeds column, "" where it does not apply


@dataclass(frozen=True)
class Table:
    """A rendered-format-independent table."""

    key: str  # file stem of its .tex file and anchor in the Markdown
    title: str  # caption
    protocol: str
    label_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    rows: tuple[Row, ...]
    seeds_column: bool = True  # show a Seeds column after the values
    bold_best: bool = True  # highlight the best value per column and group
    notes: tuple[str, ...] = ()  # footnotes (marks, caveats) printed below the table
    kind: str = "main"  # main | ablation | per_seed

    def best(self) -> set[tuple[int, int]]:
        """(row, column) indices of the best value per column within each group, ties included.

        Values are compared as printed (2 decimals), so two cells that read the same are both bold.
        """
        if not self.bold_best:
            return set()
        out: set[tuple[int, int]] = set()
        groups: dict[str, list[int]] = {}
        for i, row in enumerate(self.rows):
            if row.kind in ("result", "average"):
                groups.setdefault(row.group, []).append(i)
        for idx in groups.values():
            for j in range(len(self.value_columns)):
                vals = {i: round(self.rows[i].cells[j].mean, 2) for i in idx if self.rows[i].cells[j].mean is not None}
                if len(vals) < 2:
                    continue  # a lone value is not "best" of anything
                top = max(vals.values())
                out.update((i, j) for i, v in vals.items() if v == top)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Numeric form: label columns, then `<col>`, `<col> std`, `<col> n`, `<col> marks` per value column."""
        records = []
        for row in self.rows:
            rec: dict[str, Any] = dict(zip(self.label_columns, row.labels))
            rec["kind"] = row.kind
            for name, cell in zip(self.value_columns, row.cells):
                rec[name] = math.nan if cell.mean is None else cell.mean
                rec[f"{name} std"] = math.nan if cell.std is None else cell.std
                rec[f"{name} n"] = cell.n
                rec[f"{name} marks"] = cell.marks
            if self.seeds_column:
                rec["Seeds"] = row.seeds
            records.append(rec)
        return pd.DataFrame(records)


@dataclass(frozen=True)
class Gaps:
    """What a report could not show: failed runs and (method, dataset, seed) combinations without a record."""

    failed: pd.DataFrame  # protocol, setting, method, dataset, shots, seed, run_id, reason, record
    missing: pd.DataFrame  # protocol, setting, method, dataset, shots, seed


# ----------------------------------------------------------------------------------------------------------- order


def method_sort_key(method: str) -> tuple[int, str]:
    """Methods in the papers' order (CLIP, CoOp, CoCoOp, KgCoOp, MaPLe, COMMA), then alphabetically."""
    return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER), method)


def dataset_sort_key(dataset: str) -> tuple[int, str]:
    """Datasets in CoOp's table order, then the DG sets, then the rest alphabetically."""
    order = (*published_base2novel_datasets(), *_DG_DATASETS)
    return (order.index(dataset) if dataset in order else len(order), dataset)


def value_sort_key(value: Any) -> tuple[int, float, str]:
    """Axis values: numbers in numeric order, then text, then unset."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (2, 0.0, "")
    if isinstance(value, bool):
        return (1, 0.0, str(value))
    if isinstance(value, int | float | np.integer | np.floating):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def format_value(value: Any) -> str:
    """An axis value as printed in labels: integral floats without `.0`, NaN as `unset`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unset"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


# ---------------------------------------------------------------------------------------------------------- scopes


@dataclass(frozen=True)
class SweepGrid:
    """The cells one sweep of a scope covers: its variants × datasets (× shots) × seeds.

    Merged sweeps (a main sweep and an ablation on other datasets) each expect only their own grid, so that a
    report of several sweeps does not list the cross product of all of them as missing.
    """

    sweep: str  # sweep name ("" for runs without one)
    variants: tuple[str, ...]
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]  # seeds of the sweep's trained runs (all runs when none trains)
    shots: tuple[int, ...]  # shot counts of the sweep's trained runs (few-shot tables)


@dataclass
class Scope:
    """The runs of one protocol and backbone setting, with their variants labelled."""

    protocol: str
    setting: dict[str, Any]  # backbone_model, backbone_pretrained and (not for few_shot) shots
    key: str  # table key stem
    runs: pd.DataFrame  # one row per run (finished and failed), with `variant`, `method`, `eval_kind` ...
    values: pd.DataFrame  # one row per finished run kept after de-duplication, with one column per metric
    axes: list[str]  # ablation axis columns present in the scope
    expected_seeds: tuple[int, ...]  # seeds a trained variant should have in every cell
    variants: list[str]  # ordered row labels
    variant_method: dict[str, str]
    eval_only: dict[str, bool]  # variant -> no training (zero-shot): judged against its own seeds, any shot count
    datasets: list[str]  # ordered (source) datasets
    grids: list[SweepGrid]  # what each sweep set out to run; tables show and check exactly these cells
    notes: list[str] = field(default_factory=list)

    def in_grid(self, variant: str, dataset: str) -> bool:
        """Whether some sweep of this scope ran (or tried to run) this variant on this dataset."""
        return any(variant in g.variants and dataset in g.datasets for g in self.grids)

    @property
    def setting_text(self) -> str:
        text = f"{self.setting['backbone_model']} ({self.setting['backbone_pretrained']})"
        if "shots" in self.setting:
            text += f", {self.setting['shots']} shots"
        return text

    @property
    def published_backbone(self) -> bool:
        """Whether this scope's protocol and backbone are those of the published numbers (shots checked per variant)."""
        return matches_published(
            self.protocol, self.setting["backbone_model"], self.setting["backbone_pretrained"], PUBLISHED_SHOTS
        )

    def matches_published(self, variant: str) -> bool:
        """Whether published numbers may be shown beside this variant: right protocol and backbone, and every run
        of it has the published shot count (a shots ablation compares only its 16-shot variant)."""
        shots = set(self.runs.loc[self.runs["variant"] == variant, "shots"])
        return self.published_backbone and shots == {PUBLISHED_SHOTS}

    def own_seeds(self, variant: str) -> tuple[int, ...]:
        return tuple(sorted({int(s) for s in self.runs.loc[self.runs["variant"] == variant, "seed"]}))

    def expected(self, variant: str) -> int:
        """Seeds a cell of this variant should have.

        A trained variant: every seed any trained run of the table used. A variant that does not train (zero-shot
        CLIP) is often run once, since with pretrained weights its result does not depend on the seed; it is
        judged against the seeds it was run with itself.
        """
        return len(self.own_seeds(variant)) if self.eval_only[variant] else len(self.expected_seeds)

    def failed_count(self, variant: str, dataset: str, shots: int | None = None) -> int:
        r = self.runs
        sel = (r["variant"] == variant) & (r["dataset"] == dataset) & (r["status"] == "failed")
        if shots is not None:
            sel &= r["shots"] == shots
        return int(sel.sum())


def ablation_axes(runs: pd.DataFrame) -> list[str]:
    """`axis:` columns that are real ablations (not method/dataset/seed) and are set for some run."""
    out = []
    for col in runs.columns:
        if not col.startswith(AXIS_PREFIX):
            continue
        path = col[len(AXIS_PREFIX) :]
        norm = path[len("data.") :] if path.startswith("data.") else path
        if norm not in _IDENTITY_AXES and runs[col].notna().any():
            out.append(col)
    return sorted(out)


def axis_name(col: str, all_axes: Sequence[str]) -> str:
    """Short axis name for labels: the last dotted component unless two axes share it."""
    path = col[len(AXIS_PREFIX) :]
    last = path.rsplit(".", 1)[-1]
    clashes = [a for a in all_axes if a[len(AXIS_PREFIX) :].rsplit(".", 1)[-1] == last]
    return last if len(clashes) <= 1 else path


def _varying(runs: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    return [a for a in axes if runs[a].map(format_value).nunique() > 1]


def _label_runs(runs: pd.DataFrame, axes: Sequence[str], exclude: Sequence[str] = ()) -> pd.Series:
    """Variant label per run: the method plus the axes that vary among that method's runs (minus `exclude`)."""
    labels = pd.Series("", index=runs.index, dtype=object)
    for method, sub in runs.groupby("method", sort=False):
        dims = [a for a in _varying(sub, axes) if a not in exclude]
        for idx, rec in sub.iterrows():
            if dims:
                parts = ", ".join(f"{axis_name(a, axes)}={format_value(rec[a])}" for a in dims)
                labels.at[idx] = f"{method} ({parts})"
            else:
                labels.at[idx] = method
    return labels


def _variant_order(runs: pd.DataFrame, label_col: str, axes: Sequence[str]) -> list[str]:
    firsts = runs.drop_duplicates(label_col)
    keyed = [
        (method_sort_key(rec["method"]), tuple(value_sort_key(rec[a]) for a in axes), rec[label_col])
        for _, rec in firsts.iterrows()
    ]
    return [k[-1] for k in sorted(keyed)]


def _metric_name(role: str, eval_dataset: str) -> str:
    return f"target:{eval_dataset}" if role == "target" else role


def _run_values(rows: pd.DataFrame, runs: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """One row per finished run with one column per metric (base, novel, accuracy, source, target:<ds>).

    Two finished runs of the same cell and seed (the same configuration recorded under two sweeps) are reduced to
    the newest, with a note.
    """
    fin = rows[(rows["status"] == "finished") & (rows["role"].isin(["base", "novel", "accuracy", "source", "target"]))]
    fin = fin.assign(metric=[_metric_name(r, d) for r, d in zip(fin["role"], fin["eval_dataset"])])
    wide = fin.pivot_table(index="run_id", columns="metric", values="accuracy", aggfunc="first")
    wide.columns = [str(c) for c in wide.columns]
    base = runs[runs["status"] == "finished"].set_index("run_id")
    out = base.join(wide, how="left").reset_index()
    out["_created"] = pd.to_datetime(out["created"], utc=True, format="ISO8601")
    out = out.sort_values(["_created", "run_id"], kind="stable")
    keys = ["variant", "dataset", "shots", "seed"]
    dup = out.duplicated(keys, keep="last")
    for _, rec in out[dup].iterrows():
        notes.append(
            f"{rec['variant']} on {rec['dataset']}, seed {rec['seed']}: run {rec['run_id']} ignored, a newer run "
            "of the same cell and seed was kept"
        )
    out = out[~dup].drop(columns="_created")
    return out.sort_values(["dataset", "variant", "shots", "seed"], kind="stable").reset_index(drop=True)


def build_scopes(frame: pd.DataFrame) -> list[Scope]:
    """Split the tidy frame into protocol × backbone-setting scopes, in a stable order."""
    scopes: list[Scope] = []
    protocols = sorted(frame["protocol"].unique(), key=lambda p: (PROTOCOL_ORDER.index(p), p))
    for protocol in protocols:
        rows_p = frame[frame["protocol"] == protocol]
        runs_p = rows_p.drop_duplicates("run_id").drop(columns=list(_EVAL_COLUMNS))
        axes_p = ablation_axes(runs_p)
        if protocol == "few_shot":  # the shot count is the few-shot table's column axis, not an ablation
            axes_p = [a for a in axes_p if a != f"{AXIS_PREFIX}shots"]
        setting_cols = ["backbone_model", "backbone_pretrained"]
        if protocol != "few_shot" and f"{AXIS_PREFIX}shots" not in axes_p:
            setting_cols.append("shots")
        settings = runs_p[setting_cols].drop_duplicates()
        settings = sorted(
            (dict(zip(setting_cols, vals)) for vals in settings.itertuples(index=False)),
            key=lambda s: tuple(str(s[c]) for c in setting_cols),
        )
        for setting in settings:
            sel = np.ones(len(runs_p), dtype=bool)
            for c, v in setting.items():
                sel &= (runs_p[c] == v).to_numpy()
            runs = runs_p[sel].copy()
            axes = [a for a in axes_p if runs[a].notna().any()]
            runs["variant"] = _label_runs(runs, axes)
            variants = _variant_order(runs, "variant", axes)
            eval_only = {v: bool((runs.loc[runs["variant"] == v, "kind"] == "eval").all()) for v in variants}
            trained = runs[~runs["variant"].map(eval_only)]
            seeds = tuple(sorted({int(s) for s in (trained if len(trained) else runs)["seed"]}))
            key = protocol
            if len(settings) > 1:
                key += "-" + "-".join(format_value(setting[c]) for c in setting_cols)
                key = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)
            notes: list[str] = []
            rows = rows_p[rows_p["run_id"].isin(runs["run_id"])].merge(runs[["run_id", "variant"]], on="run_id")
            values = _run_values(rows, runs, notes)
            _check_configs(values, notes)
            datasets = sorted(runs["dataset"].unique(), key=dataset_sort_key)
            grids = [_sweep_grid(str(name), sub, eval_only) for name, sub in runs.groupby("sweep", sort=True)]
            scopes.append(
                Scope(
                    protocol=protocol,
                    setting=setting,
                    key=key,
                    runs=runs,
                    values=values,
                    axes=axes,
                    expected_seeds=seeds,
                    variants=variants,
                    variant_method={v: runs.loc[runs["variant"] == v, "method"].iloc[0] for v in variants},
                    eval_only=eval_only,
                    datasets=datasets,
                    grids=grids,
                    notes=notes,
                )
            )
    return scopes


def _sweep_grid(name: str, runs: pd.DataFrame, eval_only: dict[str, bool]) -> SweepGrid:
    trained = runs[~runs["variant"].map(eval_only)]
    seeds_from = trained if len(trained) else runs
    return SweepGrid(
        sweep=name,
        variants=tuple(sorted(runs["variant"].unique())),
        datasets=tuple(sorted(runs["dataset"].unique())),
        seeds=tuple(sorted({int(s) for s in seeds_from["seed"]})),
        shots=tuple(sorted({int(s) for s in seeds_from["shots"]})),
    )


def _check_configs(values: pd.DataFrame, notes: list[str]) -> None:
    """Note every cell whose seeds were run with different configurations (e.g. two sweeps with other epochs)."""
    for (variant, dataset, shots), sub in values.groupby(["variant", "dataset", "shots"], sort=True):
        n = sub["config_key"].nunique()
        if n > 1:
            notes.append(
                f"{variant} on {dataset} ({shots} shots): its seeds come from {n} different configurations "
                f"({', '.join(sorted(sub['config_key'].unique()))}); compare the records' configs"
            )


# ----------------------------------------------------------------------------------------------------------- cells


def seed_cell(values: Iterable[float], expected: int, failed: int = 0) -> Cell:
    """Mean ± population std over the seeds of one cell, marked when seeds are missing or a run failed."""
    vals = tuple(float(v) for v in values if not _is_nan(v))
    marks = (FEWER if 0 < len(vals) < expected else "") + (FAILED if failed else "")
    if not vals:
        return Cell(None, None, 0, marks)
    arr = np.asarray(vals)
    return Cell(float(arr.mean()), float(arr.std(ddof=DDOF)), len(vals), marks, vals)


def hm_cell(base: Cell, novel: Cell, per_seed: Sequence[float]) -> Cell:
    """HM from the seed-averaged base and novel accuracy; ± = std of the per-seed HMs."""
    marks = _merge_marks(base.marks, novel.marks)
    if base.mean is None or novel.mean is None:
        return Cell(None, None, 0, marks)
    std = float(np.std(per_seed, ddof=DDOF)) if len(per_seed) else None
    return Cell(harmonic_mean(base.mean, novel.mean), std, len(per_seed), marks, tuple(float(h) for h in per_seed))


def average_cell(parts: Sequence[Cell], complete: bool, with_std: bool = False) -> Cell:
    """Arithmetic mean of the parts that have data; `FEWER` when parts are missing or themselves incomplete.

    With `with_std` (ablation tables) the ± is the mean of the parts' stds.
    """
    present = [c for c in parts if c.mean is not None]
    fewer = (not complete) or len(present) < len(parts) or any(FEWER in c.marks for c in parts)
    marks = (FEWER if fewer and present else "") + (FAILED if any(FAILED in c.marks for c in parts) else "")
    if not present:
        return Cell(None, None, 0, marks)
    stds = [c.std for c in present if c.std is not None]
    std = float(np.mean(stds)) if with_std and stds else None
    return Cell(float(np.mean([c.mean for c in present])), std, min(c.n for c in present), marks)


def _merge_marks(*marks: str) -> str:
    joined = "".join(marks)
    return (FEWER if FEWER in joined else "") + (FAILED if FAILED in joined else "")


def delta_cell(reproduced: Cell, published: float | None) -> Cell:
    if reproduced.mean is None or published is None or _is_nan(published):
        return Cell(None)
    return Cell(reproduced.mean - float(published))


# ------------------------------------------------------------------------------------------------- base-to-novel


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
    per_seed = [harmonic_mean(b, n) for b, n in zip(base_vals, novel_vals) if not (_is_nan(b) or _is_nan(n))]
    return base, novel, hm_cell(base, novel, per_seed)


def _seeds_text(cells: Sequence[Cell]) -> str:
    n = max((c.n for c in cells), default=0)
    return str(n) if n else "0"


def _caption(scope: Scope, what: str) -> str:
    return f"{PROTOCOL_TITLES[scope.protocol]}{what}: {scope.setting_text}"


def _common_notes(scope: Scope, table_rows: Sequence[Row]) -> tuple[str, ...]:
    marks = "".join(c.marks for r in table_rows for c in r.cells)
    notes = []
    if FEWER in marks:
        seeds = ", ".join(str(s) for s in scope.expected_seeds)
        notes.append(
            f"{FEWER} fewer seeds than the {len(scope.expected_seeds)} this table expects (seeds {seeds}), or an "
            "average over fewer datasets than the others; see the missing and failed runs."
        )
    if FAILED in marks:
        notes.append(f"{FAILED} at least one run of this cell failed; see the failed runs.")
    if any(c.mean is None for r in table_rows for c in r.cells if r.kind in ("result", "average")):
        notes.append(f"{NO_DATA} no data.")
    shown = {label for r in table_rows for label in r.labels}
    evals = ", ".join(v for v in scope.variants if scope.eval_only[v] and v in shown)
    if evals:
        notes.append(f"{evals}: no training; judged complete against the seeds it was run with, not the table's.")
    return tuple(notes) + tuple(scope.notes)


def base2novel_table(scope: Scope) -> Table:
    """Per dataset × variant: Base and Novel (mean ± std over seeds), HM from those means, seeds; then Average."""
    rows: list[Row] = []
    pub = published_base2novel() if scope.published_backbone else None
    cells: dict[tuple[str, str], tuple[Cell, ...]] = {}
    for ds in scope.datasets:
        for method_variants in _by_method(scope):
            method_variants = [v for v in method_variants if scope.in_grid(v, ds)]
            if not method_variants:
                continue
            for variant in method_variants:
                c = _b2n_cells(scope, variant, ds)
                cells[(variant, ds)] = c
                rows.append(Row(ds, (ds, variant), c, "result", _seeds_text(c[:2])))
            method = scope.variant_method[method_variants[0]]
            matching = [v for v in method_variants if scope.matches_published(v)]
            if pub is not None and matching:
                hit = pub[(pub["method"] == method) & (pub["dataset"] == ds)]
                if len(hit):
                    rows.extend(_published_rows(ds, method, hit.iloc[0], [cells[(v, ds)] for v in matching]))
    if len(scope.datasets) > 1:
        rows.extend(_b2n_average_rows(scope, cells, pub))
    title = _caption(scope, "")
    return Table(
        key=scope.key,
        title=title,
        protocol=scope.protocol,
        label_columns=("Dataset", "Method"),
        value_columns=("Base", "Novel", "HM"),
        rows=tuple(rows),
        notes=_common_notes(scope, rows),
    )


def _by_method(scope: Scope) -> list[list[str]]:
    """Variants grouped by method, in table order."""
    groups: dict[str, list[str]] = {}
    for v in scope.variants:
        groups.setdefault(scope.variant_method[v], []).append(v)
    return list(groups.values())


def _published_rows(group: str, method: str, pub: pd.Series, reproduced: list[tuple[Cell, ...]]) -> list[Row]:
    """The published row, and Δ = reproduced − published when exactly one matching variant has data."""
    published = (Cell(float(pub["base"])), Cell(float(pub["novel"])), Cell(float(pub["hm"])))
    rows = [Row(group, (group, f"{method} (published)"), published, "published")]
    with_data = [c for c in reproduced if any(x.mean is not None for x in c)]
    if len(with_data) == 1:
        deltas = tuple(delta_cell(r, p.mean) for r, p in zip(with_data[0], published))
        rows.append(Row(group, (group, f"{method} Δ to published"), deltas, "delta"))
    return rows


def _b2n_average_rows(
    scope: Scope, cells: dict[tuple[str, str], tuple[Cell, ...]], pub: pd.DataFrame | None
) -> list[Row]:
    rows = []
    eleven = set(published_base2novel_datasets())
    for method_variants in _by_method(scope):
        avg_cells = {}
        for variant in method_variants:
            parts = [cells.get((variant, ds), (Cell(None),) * 3) for ds in scope.datasets]
            base = average_cell([p[0] for p in parts], complete=True)
            novel = average_cell([p[1] for p in parts], complete=True)
            hm = Cell(None, None, 0, _merge_marks(base.marks, novel.marks))
            if base.mean is not None and novel.mean is not None:
                hm = dataclasses.replace(hm, mean=harmonic_mean(base.mean, novel.mean), n=min(base.n, novel.n))
            avg_cells[variant] = (base, novel, hm)
            rows.append(Row("Average", ("Average", variant), (base, novel, hm), "average"))
        method = scope.variant_method[method_variants[0]]
        if pub is None:
            continue
        hit = pub[(pub["method"] == method) & (pub["dataset"] == "average")]
        # A published average covers the 11 datasets; it is comparable only with an average over exactly those.
        matching = [v for v in method_variants if scope.matches_published(v)]
        if len(hit) and matching and set(scope.datasets) == eleven:
            complete = [
                c
                for v, c in avg_cells.items()
                if v in matching and c[0].mean is not None and FEWER not in c[0].marks + c[1].marks
            ]
            rows.extend(_published_rows("Average", method, hit.iloc[0], complete))
    return rows


# ------------------------------------------------------------------------------------------------------- few-shot


def _shots_label(k: int) -> str:
    return f"{k} shot" if k == 1 else f"{k} shots"


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
        title=_caption(scope, " (accuracy per shot count)"),
        protocol=scope.protocol,
        label_columns=("Dataset", "Method"),
        value_columns=tuple(_shots_label(k) for k in shots),
        rows=tuple(rows),
        seeds_column=False,
        notes=_common_notes(scope, rows),
    )


# ------------------------------------------------------------------------------------------------------- transfer


def _targets(scope: Scope) -> list[str]:
    ts = {t for s in scope.runs["targets"] for t in str(s).split(",") if t}
    return sorted(ts, key=dataset_sort_key)


def _mean_column(protocol: str) -> str:
    return "Shifted mean" if protocol == "domain_generalization" else "Target mean"


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
    targets = _targets(scope)
    rows: list[Row] = []
    pub = published_transfer(scope.protocol) if scope.published_backbone else None
    for ds in scope.datasets:
        for method_variants in _by_method(scope):
            repro = []
            method_variants = [v for v in method_variants if scope.in_grid(v, ds)]
            if not method_variants:
                continue
            for variant in method_variants:
                c = _transfer_cells(scope, variant, ds, targets)
                if scope.matches_published(variant):
                    repro.append(c)
                rows.append(Row(ds, (ds, variant), c, "result", _seeds_text(c[:1])))
            method = scope.variant_method[method_variants[0]]
            if pub is not None and repro and ds == PUBLISHED_TRANSFER_SOURCE:
                rows.extend(_published_transfer_rows(scope.protocol, ds, method, pub, targets, repro))
    return Table(
        key=scope.key,
        title=_caption(scope, ""),
        protocol=scope.protocol,
        label_columns=("Source", "Method"),
        value_columns=("Source acc.", *targets, _mean_column(scope.protocol)),
        rows=tuple(rows),
        notes=_common_notes(scope, rows),
    )


def _published_transfer_rows(
    protocol: str, group: str, method: str, pub: pd.DataFrame, targets: Sequence[str], repro: list[tuple[Cell, ...]]
) -> list[Row]:
    hit = pub[pub["method"] == method]
    if not len(hit):
        return []
    lookup = dict(zip(hit["column"], hit["accuracy"]))
    # The published mean covers the published targets only; show it when this table has exactly those targets.
    same_targets = set(targets) == set(published_targets(protocol))
    published = (
        Cell(lookup.get("source")),
        *(Cell(lookup.get(t)) for t in targets),
        Cell(lookup.get("target_mean") if same_targets else None),
    )
    rows = [Row(group, (group, f"{method} (published)"), published, "published")]
    with_data = [c for c in repro if any(x.mean is not None for x in c)]
    if len(with_data) == 1:
        r = with_data[0]
        deltas = [delta_cell(a, b.mean) for a, b in zip(r, published)]
        if FEWER in r[-1].marks:
            deltas[-1] = Cell(None)  # a mean over fewer targets is not comparable
        rows.append(Row(group, (group, f"{method} Δ to published"), tuple(deltas), "delta"))
    return rows


# -------------------------------------------------------------------------------------------------------- ablation


def _metric_columns(protocol: str) -> tuple[str, ...]:
    if protocol == "base2novel":
        return ("Base", "Novel", "HM")
    if protocol == "few_shot":
        return ("Accuracy",)
    return ("Source acc.", _mean_column(protocol))


def _dataset_cells(scope: Scope, values: pd.DataFrame, variant: str, dataset: str, shots: int | None) -> tuple:
    """The metric cells of one (line, value) on one dataset, in `_metric_columns` order."""
    if scope.protocol == "base2novel":
        return _b2n_cells(scope, variant, dataset, values)
    sub = values[(values["variant"] == variant) & (values["dataset"] == dataset)]
    if shots is not None:
        sub = sub[sub["shots"] == shots]
    sub = sub.sort_values("seed")
    failed = scope.failed_count(variant, dataset, shots)
    expected = scope.expected(variant)
    if scope.protocol == "few_shot":
        acc = sub["accuracy"] if "accuracy" in sub else pd.Series(dtype=float)
        return (seed_cell(acc, expected, failed),)
    source = seed_cell(sub.get("source", []), expected, failed)
    tcols = sorted(c for c in sub.columns if c.startswith("target:"))
    per_target = [seed_cell(sub[c], expected, failed) for c in tcols]
    per_seed_means = sub[tcols].mean(axis=1, skipna=True) if tcols else pd.Series(dtype=float)
    mean = average_cell(per_target, complete=True)
    if mean.mean is not None:
        mean = dataclasses.replace(mean, std=float(np.std(per_seed_means.dropna(), ddof=DDOF)))
    return (source, mean)


def ablation_tables(scope: Scope) -> list[Table]:
    """One table per swept axis: rows (method line, axis value) → metrics averaged over datasets."""
    tables = []
    for axis in scope.axes:
        runs = scope.runs[scope.runs[axis].notna()].copy()
        values_in_axis = runs[axis].map(format_value).nunique()
        if values_in_axis < 2:
            continue
        runs["_line"] = _label_runs(runs, scope.axes, exclude=[axis])
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
        lines = _variant_order(runs, "_line", [a for a in scope.axes if a != axis])
        shot_list: list[int | None] = (
            sorted({int(s) for s in runs["shots"]}) if scope.protocol == "few_shot" else [None]
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
                    per_value.append((val, [_dataset_cells(sub_scope, kept, lv, d, shots) for d in dsets]))
                all_dsets = max((len(p) for _, p in per_value), default=0)
                group = line if shots is None else f"{line}, {_shots_label(shots)}"
                for val, parts in per_value:
                    cells = _ablation_cells(scope.protocol, parts, complete=len(parts) == all_dsets)
                    if shots is not None and all(c.mean is None for c in cells):
                        continue
                    labels = (
                        (line, format_value(val)) if shots is None else (line, _shots_label(shots), format_value(val))
                    )
                    rows.append(Row(group, labels, cells, "result", _seeds_text(cells)))
        name = axis[len(AXIS_PREFIX) :]
        key = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{scope.key}-ablation-{name}")
        label_cols = ("Method", name) if scope.protocol != "few_shot" else ("Method", "Shots", name)
        table_notes = _common_notes(scope, rows)
        tables.append(
            Table(
                key=key,
                title=_caption(scope, f", ablation of {name} (mean over datasets)"),
                protocol=scope.protocol,
                label_columns=label_cols,
                value_columns=_metric_columns(scope.protocol),
                rows=tuple(rows),
                notes=table_notes,
                kind="ablation",
            )
        )
    return tables


def _ablation_cells(protocol: str, parts: list[tuple[Cell, ...]], complete: bool) -> tuple[Cell, ...]:
    """Average the per-dataset cells of one (line, axis value); HM again from the averaged base and novel."""
    ncols = len(_metric_columns(protocol))
    if not parts:
        return tuple(Cell(None) for _ in range(ncols))
    cols = [average_cell([p[j] for p in parts], complete=complete, with_std=True) for j in range(ncols)]
    if protocol == "base2novel":
        base, novel = cols[0], cols[1]
        if base.mean is not None and novel.mean is not None:
            stds = [p[2].std for p in parts if p[2].std is not None]
            cols[2] = dataclasses.replace(
                cols[2], mean=harmonic_mean(base.mean, novel.mean), std=float(np.mean(stds)) if stds else None
            )
    return tuple(cols)


# -------------------------------------------------------------------------------------------------------- per seed


def per_seed_table(scope: Scope) -> Table:
    """Every seed's own value (finished runs) and every failed run, so no mean is shown without its parts."""
    rows: list[Row] = []
    targets = _targets(scope) if scope.protocol in ("cross_dataset", "domain_generalization") else []
    runs = scope.runs.copy()
    kept = set(scope.values["run_id"])
    runs = runs[(runs["status"] == "failed") | runs["run_id"].isin(kept)]
    runs = runs.assign(
        _v=runs["variant"].map({v: i for i, v in enumerate(scope.variants)}),
        _d=runs["dataset"].map(dataset_sort_key),
    ).sort_values(["_d", "_v", "shots", "seed", "run_id"], kind="stable")
    vals = scope.values.set_index("run_id")
    few = scope.protocol == "few_shot"
    for _, run in runs.iterrows():
        labels = (run["dataset"], run["variant"], *((str(int(run["shots"])),) if few else ()), str(int(run["seed"])))
        if run["status"] == "failed":
            ncols = {"base2novel": 3, "few_shot": 1}.get(scope.protocol, len(targets) + 2)
            rows.append(Row(run["dataset"], labels, tuple(Cell(None, marks=FAILED) for _ in range(ncols)), "result"))
            continue
        rec = vals.loc[run["run_id"]]

        def one(name: str, rec: pd.Series = rec) -> Cell:
            x = rec.get(name, math.nan)
            return Cell(None) if _is_nan(x) else Cell(float(x), None, 1, "", (float(x),))

        if scope.protocol == "base2novel":
            b, n = one("base"), one("novel")
            hm = Cell(None) if b.mean is None or n.mean is None else Cell(harmonic_mean(b.mean, n.mean), None, 1)
            cells: tuple[Cell, ...] = (b, n, hm)
        elif few:
            cells = (one("accuracy"),)
        else:
            tc = [one(f"target:{t}") for t in targets]
            present = [c.mean for c in tc if c.mean is not None]
            mean = (
                Cell(float(np.mean(present)), None, 1, "" if len(present) == len(tc) else FEWER)
                if present
                else Cell(None)
            )
            cells = (one("source"), *tc, mean)
        rows.append(Row(run["dataset"], labels, cells, "result"))
    if scope.protocol == "base2novel":
        value_cols: tuple[str, ...] = ("Base", "Novel", "HM")
    elif few:
        value_cols = ("Accuracy",)
    else:
        value_cols = ("Source acc.", *targets, _mean_column(scope.protocol))
    label_cols = ("Dataset", "Method", *(("Shots",) if few else ()), "Seed")
    notes = [f"{FAILED} failed run (see the failed runs)."] if (runs["status"] == "failed").any() else []
    if scope.protocol == "base2novel":
        notes.append("HM here is the per-seed HM(base, novel).")
    return Table(
        key=f"{scope.key}-per-seed",
        title=_caption(scope, ", every seed"),
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

_MAIN: dict[str, Callable[[Scope], Table]] = {
    "base2novel": base2novel_table,
    "few_shot": few_shot_table,
    "cross_dataset": transfer_table,
    "domain_generalization": transfer_table,
}


def build_tables(frame: pd.DataFrame, *, per_seed: bool = True, scopes: list[Scope] | None = None) -> list[Table]:
    """All tables of a report, in report order: per scope the main table, its ablations, then every seed.

    `scopes` (from `build_scopes(frame)`) may be passed to share them with `find_gaps`.
    """
    tables = []
    for scope in build_scopes(frame) if scopes is None else scopes:
        tables.append(_MAIN[scope.protocol](scope))
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
                        shot_list = grid.shots if scope.protocol == "few_shot" else [None]
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
