"""Reports: run records in, Markdown / PDF / LaTeX / CSV out; nothing but the records is read.

- `collect(paths) -> DataFrame`: every run record under the paths as a tidy frame, one row per (run, evaluation).
- `generate_report(paths, out_dir, formats=("md", "pdf", "tex", "csv")) -> ReportResult`.

The pipeline is `collect` -> `tables.build_tables` (numbers) -> `plots` (figures drawn from the tables) ->
`render` (Markdown, PDF via `pdf`, LaTeX via `latex`, CSV). Both names are imported lazily, so `import
comma_bench.report` (done by the CLI to build its parser) stays free of pandas and matplotlib.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReportResult", "collect", "generate_report"]


def __getattr__(name: str) -> Any:
    if name == "collect":
        from comma_bench.report.collect import collect

        return collect
    if name in ("generate_report", "ReportResult"):
        from comma_bench.report import render

        return getattr(render, name)
    raise AttributeError(f"module 'comma_bench.report' has no attribute {name!r}")
