"""Transfer protocols: train once on a source dataset, evaluate zero-shot on target datasets.

Cross-dataset transfer (CoCoOp: ImageNet -> 10 other datasets) and domain generalisation (ImageNet -> its shifted
versions) differ only in their name, title, the name of their target-mean column and their published table, so
they are two instances of one class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comma_bench.protocols.base import LoadData, Protocol, RunEval
from comma_bench.protocols.registry import register_protocol


@dataclass(frozen=True)
class Transfer(Protocol):
    """Source accuracy, one accuracy per target (all classes, no few-shot sample) and the mean over the targets."""

    def evaluate(
        self, source: Any, *, run_eval: RunEval, load: LoadData, dataset: str, shots: int, targets: Sequence[str]
    ) -> dict[str, float]:
        metrics = {"source": run_eval(source, "all")}
        accs = []
        for key in targets:
            metrics[key] = run_eval(load(key, 0, "all"), "all")
            accs.append(metrics[key])
        metrics["target_mean"] = sum(accs) / len(accs)
        return metrics

    def role(self, dataset: str, targets: Sequence[str], ev: Mapping[str, Any]) -> str:
        if ev["dataset"] in targets:
            return "target"
        return "source" if ev["dataset"] == dataset else "other"

    @property
    def mean_column(self) -> str:
        """The report column of the target mean (`Target mean`, or `Shifted mean` for domain generalisation)."""
        return self.metric_columns[-1]


CROSS_DATASET = register_protocol(
    Transfer(
        name="cross_dataset",
        rank=2,
        title="Cross-dataset transfer",
        summary="train on a source dataset, test zero-shot on other target datasets (CoCoOp)",
        metric_columns=("Source acc.", "Target mean"),
        headline_key="target_mean",
        tables_module="comma_bench.protocols.tables.transfer",
        needs_targets=True,
        published_csv="published_cross_dataset.csv",
        published_source_column="source_imagenet",
    )
)
DOMAIN_GENERALIZATION = register_protocol(
    Transfer(
        name="domain_generalization",
        rank=3,
        title="Domain generalisation",
        summary="train on ImageNet, test on its shifted variants -V2, -Sketch, -A, -R (CoCoOp)",
        metric_columns=("Source acc.", "Shifted mean"),
        headline_key="target_mean",
        tables_module="comma_bench.protocols.tables.transfer",
        needs_targets=True,
        published_csv="published_domain_generalization.csv",
        published_source_column="imagenet",
    )
)
