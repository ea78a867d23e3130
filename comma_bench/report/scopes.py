"""Scopes: the runs of one protocol and backbone setting, with their variants labelled; what every table is built on.

Runs of different settings are never averaged together, and published numbers appear only beside runs of their own
setting, so the tidy frame is first split into scopes: one per protocol and backbone setting (model, pretrained
weights and, unless the protocol's tables have the shot count as their axis, the shot count). Within a scope a row is
a *variant*: a method plus the values of the sweep axes that vary among that method's runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from comma_bench.protocols import Protocol, get_protocol, protocol_rank
from comma_bench.report.cells import (
    FAILED,
    FEWER,
    NO_DATA,
    Row,
    dataset_sort_key,
    format_value,
    method_sort_key,
    value_sort_key,
)
from comma_bench.report.collect import AXIS_PREFIX
from comma_bench.report.published import PUBLISHED_SHOTS, matches_published, published_configurations

# Sweep axes that identify a cell rather than change a configuration (a `data.` prefix is ignored).
# Tidy columns that describe one evaluation, not the run.
_EVAL_COLUMNS = ("eval_dataset", "subset", "role", "n_classes", "n_images", "accuracy", "macro_f1")
_IDENTITY_AXES = {"method", "dataset", "seed", "protocol", "targets", "sweep"}

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
    setting: dict[str, Any]  # backbone_model, backbone_pretrained and (unless shots are table columns) shots
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

    @property
    def spec(self) -> Protocol:
        """The scope's protocol object (its metric columns, title and table builders)."""
        return get_protocol(self.protocol)

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

    def matches_published(self, variant: str, settings: str = "{}") -> bool:
        """Whether a published number measured with `settings` (canonical JSON of the method settings off the
        method's defaults; "{}": the defaults) may stand beside this variant: right protocol and backbone, every run
        at the published shot count (a shots ablation compares only its 16-shot variant) and with exactly those
        settings (a KD-weight ablation compares only λ = 1; IVLP without vision prompts is not IVLP's row).

        A record written before `method_deviations` does not say its settings and is compared as it always was.
        """
        shots = set(self.runs.loc[self.runs["variant"] == variant, "shots"])
        return self.published_backbone and shots == {PUBLISHED_SHOTS} and self.ran_settings(variant) <= {settings}

    def ran_settings(self, variant: str) -> set[str]:
        """The settings (canonical JSON) this variant's runs ran off their method's defaults, where recorded."""
        return set(self.runs.loc[self.runs["variant"] == variant, "method_deviations"]) - {""}

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


def label_runs(runs: pd.DataFrame, axes: Sequence[str], exclude: Sequence[str] = ()) -> pd.Series:
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


def variant_order(runs: pd.DataFrame, label_col: str, axes: Sequence[str]) -> list[str]:
    """Labels in table order: methods in the papers' order, then axis values in value order."""
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
    protocols = sorted(frame["protocol"].unique(), key=lambda p: (protocol_rank(p), p))
    for protocol in protocols:
        rows_p = frame[frame["protocol"] == protocol]
        runs_p = rows_p.drop_duplicates("run_id").drop(columns=list(_EVAL_COLUMNS))
        axes_p = ablation_axes(runs_p)
        shots_are_columns = get_protocol(protocol).shots_are_columns
        if shots_are_columns:  # the shot count is the table's column axis, not an ablation
            axes_p = [a for a in axes_p if a != f"{AXIS_PREFIX}shots"]
        setting_cols = ["backbone_model", "backbone_pretrained"]
        if not shots_are_columns and f"{AXIS_PREFIX}shots" not in axes_p:
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
            runs["variant"] = label_runs(runs, axes)
            variants = variant_order(runs, "variant", axes)
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


def caption(scope: Scope, what: str) -> str:
    """`<protocol title><what>: <setting>`, the caption of every table of a scope."""
    return f"{scope.spec.title}{what}: {scope.setting_text}"


def common_notes(scope: Scope, table_rows: Sequence[Row]) -> tuple[str, ...]:
    """The notes every table of a scope carries: what its marks mean (only those used), eval-only variants, and
    the scope's collection notes."""
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
    if scope.published_backbone:  # a variant kept from its method's published rows by its settings (not its shots)
        for v in scope.variants:
            ran = scope.ran_settings(v)
            published = published_configurations(scope.protocol, scope.variant_method[v])
            if v in shown and ran and published and not any(ran <= {s} for s in published):
                ran_text = " and ".join(settings_text(s) for s in sorted(ran))
                pub = " or ".join(settings_text(s) for s in published)
                notes.append(f"{v}: no published row beside it: it ran {ran_text}, the published numbers {pub}.")
    return tuple(notes) + tuple(scope.notes)


def settings_text(settings: str) -> str:
    """Canonical-JSON method settings as `key=value, ...`, or "the method's defaults" for "{}"."""
    parsed = json.loads(settings)
    return ", ".join(f"{k}={format_value(v)}" for k, v in parsed.items()) or "the method's defaults"


def published_labels(method: str, settings: str) -> tuple[str, str]:
    """Row labels of a published number and of its Δ; the settings are named when they are not the defaults."""
    if settings == "{}":
        return f"{method} (published)", f"{method} Δ to published"
    text = settings_text(settings)
    return f"{method} (published, {text})", f"{method} Δ to published ({text})"


def by_method(scope: Scope) -> list[list[str]]:
    """Variants grouped by method, in table order."""
    groups: dict[str, list[str]] = {}
    for v in scope.variants:
        groups.setdefault(scope.variant_method[v], []).append(v)
    return list(groups.values())


def target_datasets(scope: Scope) -> list[str]:
    """Every target dataset any run of a transfer scope evaluated, in table order."""
    ts = {t for s in scope.runs["targets"] for t in str(s).split(",") if t}
    return sorted(ts, key=dataset_sort_key)
