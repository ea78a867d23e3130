"""Reports: run records in, Markdown / PDF / LaTeX / CSV out; nothing but the records is read.

- `collect(paths) -> DataFrame`: every run record under the paths as a tidy frame, one row per (run, evaluation).
- `generate_report(paths, out_dir, formats=("md", "pdf", "tex", "csv")) -> ReportResult`.

The pipeline is `collect` -> `tables.build_tables` (numbers) -> `plots` (figures drawn from the tables) ->
`render` (Markdown, PDF via `pdf`, LaTeX via `latex`, CSV). Tables are built per scope (`scopes`) from shared cells
(`cells`); each protocol's main table lives with its protocol (`comma_bench.protocols.tables`). Beside the tables,
`intervals` (seed statistics with confidence intervals), `paired` (paired comparisons between methods) and
`provenance` (split fingerprints) add their sections; their numbers come from `stats` (scipy).

`collect` is imported here eagerly: `comma_bench.report.collect` is also the name of a submodule, and a lazy
attribute would be replaced by that module as soon as anything imported it. That module imports pandas only when it
builds a frame, so the CLI can import this package to build its parser without the report extra installed;
`generate_report` (pandas, and matplotlib when a report is drawn) is imported on first use.
"""

from __future__ import annotations

from typing import Any

from comma_bench.report.collect import collect

__all__ = ["ReportResult", "collect", "generate_report"]


def __getattr__(name: str) -> Any:
    if name in ("ReportResult", "generate_report"):
        from comma_bench.report import render

        return getattr(render, name)
    raise AttributeError(f"module 'comma_bench.report' has no attribute {name!r}")
