"""`comma-bench report RUNS_DIR... [--out DIR] [--format md,pdf,tex,csv]`.

Imported by `comma_bench.cli` to build the parser, so nothing heavy (pandas, matplotlib) is imported at module
level; the handler imports the report machinery when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_FORMATS = "md,pdf,tex,csv"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="tables, plots and a PDF from run records",
        description=(
            "Read every run record (*.json) under the given folders and write the report: Markdown with plots, "
            "a multi-page PDF, one LaTeX table per table, and the tidy results as CSV."
        ),
    )
    p.add_argument("runs", nargs="+", metavar="RUNS_DIR", type=Path, help="folders (searched recursively) or records")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: as `comma-bench run` writes it, the `report` folder beside one RUNS_DIR named "
        "`runs`, i.e. OUTPUT/<sweep>/report; else RUNS_DIR/report; several RUNS_DIRs need --out)",
    )
    p.add_argument("--format", default=DEFAULT_FORMATS, help=f"comma-separated formats (default: {DEFAULT_FORMATS})")
    p.set_defaults(func=run_report)


def default_out_dir(runs: list[Path]) -> Path:
    """Where `comma-bench run` puts the report of its records: `OUTPUT/<sweep>/report` beside `OUTPUT/<sweep>/runs`.

    Never a folder of the working directory: `reports/` holds the committed showcase, which a report of a new run
    must not overwrite.
    """
    from comma_bench.errors import UserError

    if len(runs) != 1:
        raise UserError(f"{len(runs)} RUNS_DIRs: pass --out DIR (the folder to write the combined report to)")
    (folder,) = runs
    if folder.suffix == ".json":
        folder = folder.parent
    return folder.parent / "report" if folder.name == "runs" else folder / "report"


def run_report(args: argparse.Namespace) -> int:
    from comma_bench.errors import missing_extra
    from comma_bench.report.collect import collect

    try:
        from comma_bench.report.render import generate_report, parse_formats
    except ModuleNotFoundError as exc:
        raise (missing_extra(exc, "comma-bench report") or exc) from None

    formats = parse_formats(args.format)  # fail on a bad format before reading anything
    out = args.out if args.out is not None else default_out_dir(list(args.runs))
    frame = collect(list(args.runs))
    result = generate_report(args.runs, out, formats, frame=frame)
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {len(result.files)} files to {out}:")
    for path in result.files:
        print(f"  {path}")
    if len(result.gaps.failed) or len(result.gaps.missing):
        print(f"{len(result.gaps.failed)} failed runs, {len(result.gaps.missing)} missing runs (listed in the report)")
    print()
    print(result.main_table)
    return 0
