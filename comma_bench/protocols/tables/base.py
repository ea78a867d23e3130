"""The interface every protocol's table builders implement, with the defaults most protocols share.

The generic tables (`comma_bench.report.tables`: ablations and every seed; `comma_bench.report.intervals`: seed
statistics; `comma_bench.report.paired`; `comma_bench.report.plots`) are written once and call these hooks where a
protocol decides what a cell is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from comma_bench.protocols.base import Protocol
from comma_bench.report.cells import Cell, Table, average_cell
from comma_bench.report.scopes import Scope


class ProtocolTables:
    """Table builders of one protocol; `protocol` supplies the title and the metric columns."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol

    # -- the main table ------------------------------------------------------------------------------------------

    def main_table(self, scope: Scope) -> Table:
        """The protocol's headline table of one scope (what the papers print)."""
        raise NotImplementedError

    # -- ablation tables: one (method line, axis value) averaged over datasets --------------------------------------

    def dataset_cells(
        self, scope: Scope, values: pd.DataFrame, variant: str, dataset: str, shots: int | None
    ) -> tuple[Cell, ...]:
        """The `metric_columns` cells of one ablation cell on one dataset (`shots` only if shots are columns)."""
        raise NotImplementedError

    @staticmethod
    def cell_rows(values: pd.DataFrame, variant: str, dataset: str, shots: int | None) -> pd.DataFrame:
        """The per-seed rows behind one ablation cell on one dataset, in seed order (`shots` only if columns)."""
        sub = values[(values["variant"] == variant) & (values["dataset"] == dataset)]
        if shots is not None:
            sub = sub[sub["shots"] == shots]
        return sub.sort_values("seed")

    def average_cells(self, parts: list[tuple[Cell, ...]], complete: bool) -> tuple[Cell, ...]:
        """Average per-dataset cells column by column, ± the mean of the per-dataset stds."""
        ncols = len(self.protocol.metric_columns)
        if not parts:
            return tuple(Cell(None) for _ in range(ncols))
        return tuple(average_cell([p[j] for p in parts], complete=complete, with_std=True) for j in range(ncols))

    # -- every seed ----------------------------------------------------------------------------------------------

    def per_seed_columns(self, scope: Scope) -> tuple[str, ...]:
        """Value columns of the every-seed table (transfer: each target too)."""
        return self.protocol.metric_columns

    def per_seed_cells(self, scope: Scope, one: Callable[[str], Cell]) -> tuple[Cell, ...]:
        """One finished run's cells; `one(metric)` is the run's value of a tidy metric (`base`, `target:<ds>` ...)."""
        raise NotImplementedError

    per_seed_notes: tuple[str, ...] = ()  # said below the every-seed table

    # -- seed statistics and paired comparisons -------------------------------------------------------------------

    def seed_metrics(self, values: pd.DataFrame, col: Callable[[str], pd.Series]) -> dict[str, Any]:
        """One column per `metric_columns` entry, one value per kept run; `col(metric)` reads a tidy metric."""
        raise NotImplementedError

    def seed_average(self, avg: pd.DataFrame) -> pd.DataFrame:
        """Fix up the per-seed dataset averages of the seed-statistics Average row (derived metrics)."""
        return avg

    ci_notes: tuple[str, ...] = ()  # said below the seed-statistics table

    # -- plots -------------------------------------------------------------------------------------------------------

    def ablation_plot_metrics(self) -> tuple[str, ...]:
        """The panels of an ablation plot: the headline metric."""
        return (self.protocol.headline,)

    def figures(self, table: Table, colors: dict[str, Any]) -> Sequence[tuple[str, str, Any]]:
        """(file stem, caption, figure or None) for each plot of the main table; none by default."""
        return []
