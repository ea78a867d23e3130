"""Few-shot learning (CoOp's protocol): all classes, K shots per class, accuracy on the full test split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comma_bench.protocols.base import LoadData, Protocol, RunEval
from comma_bench.protocols.registry import register_protocol


@dataclass(frozen=True)
class FewShot(Protocol):
    """One evaluation per run; the shot count is the axis of its tables (usually a `grid: {shots: [...]}`)."""

    def evaluate(
        self, source: Any, *, run_eval: RunEval, load: LoadData, dataset: str, shots: int, targets: Sequence[str]
    ) -> dict[str, float]:
        return {"accuracy": run_eval(source, "all")}

    def role(self, dataset: str, targets: Sequence[str], ev: Mapping[str, Any]) -> str:
        return "accuracy" if ev["dataset"] == dataset else "other"


FEW_SHOT = register_protocol(
    FewShot(
        name="few_shot",
        rank=1,
        title="Few-shot learning",
        summary="train and test on all classes with K shots per class (CoOp)",
        metric_columns=("Accuracy",),
        headline_key="accuracy",
        tables_module="comma_bench.protocols.tables.few_shot",
        shots_are_columns=True,
    )
)
