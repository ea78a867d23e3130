"""Base-to-novel generalisation (CoCoOp's protocol): train on the base half of the classes, test on both halves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comma_bench.protocols.base import LoadData, Protocol, RunEval
from comma_bench.records import harmonic_mean


@dataclass(frozen=True)
class Base2Novel(Protocol):
    """Base = the first ⌈n/2⌉ sorted labels (`comma_bench.data.subsample`), novel = the rest, each classified among
    its own half only; the summary is base, novel and their harmonic mean."""

    def evaluate(
        self, source: Any, *, run_eval: RunEval, load: LoadData, dataset: str, shots: int, targets: Sequence[str]
    ) -> dict[str, float]:
        base = run_eval(source, "base")
        novel = run_eval(load(dataset, shots, "new"), "new")
        return {"base": base, "novel": novel, "hm": harmonic_mean(base, novel)}

    def role(self, dataset: str, targets: Sequence[str], ev: Mapping[str, Any]) -> str:
        return {"base": "base", "new": "novel"}.get(ev["subset"], "other")


BASE2NOVEL = Base2Novel(
    name="base2novel",
    title="Base-to-novel generalisation",
    metric_columns=("Base", "Novel", "HM"),
    headline_key="hm",
    tables_module="comma_bench.protocols.tables.base2novel",
    train_subsample="base",
    published_csv="published_base2novel.csv",
)
