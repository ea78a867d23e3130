"""What a protocol is: how a run subsamples its classes, what it evaluates, and which numbers its tables show.

A protocol object is the one owner of everything that used to be a branch on the protocol's name: the engine asks it
which classes to train on and which splits / datasets to evaluate, the report collector asks it what each
evaluation means (`role`), and the report asks it for its metric columns and its table builders (`tables()`, a
pandas module imported only when a report is built, so the engine and the sweep planner never import pandas).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comma_bench.protocols.tables.base import ProtocolTables

# (loaded dataset, subset label) -> top-1 accuracy in percent; the engine records one evaluation per call.
RunEval = Callable[[Any, str], float]
# (dataset key, shots, subsample) -> a loaded dataset (`comma_bench.data.load_dataset` with the run's root and seed).
LoadData = Callable[[str, int, str], Any]


@dataclass(frozen=True)
class Protocol:
    """One evaluation protocol. Subclasses implement `evaluate` and `role`; the fields are plain facts."""

    name: str  # registry key, written into every run config (`config.protocol`)
    rank: int  # position in the papers' order: report sections and `comma-bench list protocols` sort by it
    title: str  # section heading and caption prefix of its tables
    summary: str  # one line for `comma-bench list protocols` and the docs: what trains, what is tested
    metric_columns: tuple[str, ...]  # report columns of its ablation, seed-statistics and paired tables, headline last
    headline_key: str  # the run record's `metrics` key shown beside a finished run (progress lines)
    tables_module: str  # module whose `TABLES(protocol)` builds its tables; imported lazily (it needs pandas)
    train_subsample: str = "all"  # which classes the training split keeps (`base`: the first half of the labels)
    needs_targets: bool = False  # runs evaluate target datasets after training on the source (`targets` required)
    shots_are_columns: bool = False  # the shot count is this protocol's table axis, not a setting or an ablation
    published_csv: str | None = None  # package file of the papers' numbers for this protocol; None = none published
    published_source_column: str | None = None  # the published CSV's name for the source-dataset column (transfer)

    @property
    def headline(self) -> str:
        """The report column a protocol is judged by (paired matrix, zero-spread notes, ablation plots)."""
        return self.metric_columns[-1]

    def evaluate(
        self, source: Any, *, run_eval: RunEval, load: LoadData, dataset: str, shots: int, targets: Sequence[str]
    ) -> dict[str, float]:
        """Evaluate a trained (or zero-shot) method; return the record's `metrics` summary (percent)."""
        raise NotImplementedError

    def role(self, dataset: str, targets: Sequence[str], ev: Mapping[str, Any]) -> str:
        """What one recorded evaluation means for this protocol's tables (`base`, `novel`, `accuracy`, ...)."""
        raise NotImplementedError

    def tables(self) -> ProtocolTables:
        """This protocol's table builders, built on first use (the module imports pandas)."""
        return importlib.import_module(self.tables_module).TABLES(self)
