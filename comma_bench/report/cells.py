"""The pieces every result table is made of: `Cell`, `Row`, `Table`, the marks, the cell arithmetic and the orders.

Shared by the generic tables (`comma_bench.report.tables`: ablations, every seed, gaps) and by each protocol's own
table builders (`comma_bench.protocols.tables`), so that a mean, a ± or a † means the same thing in every table.
The conventions are stated in `comma_bench.report.tables` (and repeated in every report as `CONVENTIONS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from comma_bench.protocols.base2novel import harmonic_mean
from comma_bench.report.published import published_base2novel_datasets

DDOF = 0  # population std over seeds, as Dassl's parse_test_res.py (np.std)
FEWER = "†"  # fewer seeds / datasets than the table expects
FAILED = "‡"  # a run behind the cell failed
NO_DATA = "—"

METHOD_ORDER = ("zeroshot", "coop", "cocoop", "kgcoop", "maple", "comma")

_DG_DATASETS = ("imagenetv2", "imagenet_sketch", "imagenet_a", "imagenet_r")


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


def is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


# ----------------------------------------------------------------------------------------------------------- cells


def seed_cell(values: Iterable[float], expected: int, failed: int = 0) -> Cell:
    """Mean ± population std over the seeds of one cell, marked when seeds are missing or a run failed."""
    vals = tuple(float(v) for v in values if not is_nan(v))
    marks = (FEWER if 0 < len(vals) < expected else "") + (FAILED if failed else "")
    if not vals:
        return Cell(None, None, 0, marks)
    arr = np.asarray(vals)
    return Cell(float(arr.mean()), float(arr.std(ddof=DDOF)), len(vals), marks, vals)


def hm_cell(base: Cell, novel: Cell, per_seed: Sequence[float]) -> Cell:
    """HM from the seed-averaged base and novel accuracy; ± = std of the per-seed HMs."""
    marks = merge_marks(base.marks, novel.marks)
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


def merge_marks(*marks: str) -> str:
    """The marks of a derived cell: each mark once, in the fixed order FEWER, FAILED."""
    joined = "".join(marks)
    return (FEWER if FEWER in joined else "") + (FAILED if FAILED in joined else "")


def delta_cell(reproduced: Cell, published: float | None) -> Cell:
    """Δ = reproduced − published, or no data when either side has none."""
    if reproduced.mean is None or published is None or is_nan(published):
        return Cell(None)
    return Cell(reproduced.mean - float(published))


def seeds_text(cells: Sequence[Cell]) -> str:
    """The Seeds column: the most seeds behind any of the row's cells."""
    n = max((c.n for c in cells), default=0)
    return str(n) if n else "0"


def shots_label(k: int) -> str:
    """`1 shot`, `4 shots`: the few-shot column and label text."""
    return f"{k} shot" if k == 1 else f"{k} shots"
