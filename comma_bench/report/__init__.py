"""Reports: run records in, Markdown / PDF / LaTeX / CSV out; nothing but the records is read.

- `collect(paths) -> DataFrame`: every run record under the paths as a tidy frame, one row per (run, evaluation).
- `generate_report(paths, out_dir, formats=("md", "pdf", "tex", "csv")) -> ReportResult`.

The pipeline is `collect` -> `tables.build_tables` (numbers) -> `plots` (figures drawn from the tables) ->
`render` (Markdown, PDF via `pdf`, LaTeX via `latex`, CSV). Tables are built per scope (`scopes`) from shared cells
(`cells`); each protocol's main table lives with its protocol (`comma_bench.protocols.tables`). Beside the tables,
`intervals` (seed statistics with confidence intervals), `paired` (paired comparisons between methods) and
`provenance` (split fingerprints) add their sections; their numbers come from `stats` (scipy).

Both functions are imported here eagerly: `comma_bench.report.collect` is also the name of a submodule, and a lazy
attribute would be replaced by that module as soon as anything imported it. This costs a pandas import when the
CLI builds its parser; matplotlib and seaborn are still imported only when a report is drawn.
"""

from __future__ import annotations

from comma_bench.report.collect import collect
from comma_bench.report.render import ReportResult, generate_report

__all__ = ["ReportResult", "collect", "generate_report"]
