"""Base-to-novel generalisation (CoCoOp's protocol): train on the base half of the classes, test on both halves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comma_bench.protocols.base import LoadData, Protocol, RunEval
from comma_bench.protocols.registry import register_protocol


def harmonic_mean(base: float, novel: float) -> float:
    """HM = 2BN/(B+N), 0 when both are 0 (the HM of the CoCoOp and MaPLe papers)."""
    return 0.0 if base + novel == 0 else 2.0 * base * novel / (base + novel)


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


BASE2NOVEL = register_protocol(
    Base2Novel(
        name="base2novel",
        rank=0,
        title="Base-to-novel generalisation",
        summary="train on the base half of the classes, test on base and novel; HM of the two (CoCoOp)",
        metric_columns=("Base", "Novel", "HM"),
        headline_key="hm",
        tables_module="comma_bench.protocols.tables.base2novel",
        train_subsample="base",
        published_csv="published_base2novel.csv",
    )
)
