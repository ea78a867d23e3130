"""`generate_report`: run records -> Markdown, PDF, LaTeX and CSV.

The report is a pure function of the records: the same records give byte-identical Markdown, LaTeX and CSV, and the
same PDF pages. The only exception is the generation time, printed once in the Markdown header and on the PDF title
page (and stored as the PDF creation date); pass `generated_at` (or set `SOURCE_DATE_EPOCH`) to pin it.

Output layout under `out_dir`:
    report.md          tables, seed statistics and paired comparisons, embedded plots, conventions, split
                       fingerprints, failed and missing runs
    report.pdf         title page, one page (or more) per table, one page per plot
    tex/<table>.tex    one complete `table` environment per table (booktabs), including `<scope>-ci.tex` (seed
                       statistics), `<scope>-paired.tex` (the paired matrix) and `<scope>-paired-list.tex`
    results.csv        the tidy frame: one row per (run, evaluation)
    plots/<name>.png   the figures embedded in report.md
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from comma_bench.errors import UserError
from comma_bench.protocols import get_protocol, protocol_rank
from comma_bench.report import paired, provenance
from comma_bench.report.cells import dataset_sort_key, method_sort_key
from comma_bench.report.collect import collect
from comma_bench.report.intervals import STATS_CONVENTIONS, ci_table
from comma_bench.report.tables import CONVENTIONS, Gaps, Table, build_scopes, build_tables, find_gaps
from comma_bench.report.text import TextTable, markdown_table, plain_table

FORMATS = ("md", "pdf", "tex", "csv")
_GAP_HEADERS = {
    "failed": ("protocol", "setting", "method", "dataset", "shots", "seed", "run_id", "reason", "record"),
    "missing": ("protocol", "setting", "method", "dataset", "shots", "seed"),
}


@dataclass(frozen=True)
class ReportResult:
    """What `generate_report` produced."""

    files: list[Path]  # every file written, in writing order
    frame: pd.DataFrame  # the tidy frame the report was computed from
    tables: list[Table]  # every table, in report order
    plots: list[Path]  # the PNG files among `files`
    gaps: Gaps  # failed runs and missing (method, dataset, seed) combinations
    notes: list[str]  # collection notes (duplicate run ids resolved)
    pdf_pages: int  # page count of report.pdf (0 when no PDF was requested)
    main_table: str  # the first table as plain text, for a terminal
    comparisons: list[paired.PairedComparisons] = field(default_factory=list)  # per scope with 2+ variants


def parse_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """`"md,pdf"` or `("md", "pdf")` -> a validated tuple, in the order given, without repeats."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = tuple(dict.fromkeys(f.strip().lower() for f in items if f.strip()))
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise UserError(f"--format: expected a comma-separated list of {', '.join(FORMATS)}; got {formats!r}")
    return out


def resolve_time(generated_at: dt.datetime | None = None) -> dt.datetime:
    """The generation time: as given, else `SOURCE_DATE_EPOCH` (reproducible builds), else now; always UTC."""
    if generated_at is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        generated_at = (
            dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch and epoch.isdigit() else dt.datetime.now(dt.UTC)
        )
    if generated_at.tzinfo is None:
        generated_at = generated_at.replace(tzinfo=dt.UTC)
    return generated_at.astimezone(dt.UTC).replace(microsecond=0)


def _sweeps(frame: pd.DataFrame) -> list[str]:
    return sorted({s for s in frame["sweep"] if s})


def report_title(frame: pd.DataFrame) -> str:
    sweeps = _sweeps(frame)
    return "comma-bench report: " + (" + ".join(sweeps) if sweeps else "runs without a sweep")


def summary_lines(frame: pd.DataFrame, generated: dt.datetime) -> list[str]:
    """Title-page facts: what the report covers and with which software."""
    runs = frame.drop_duplicates("run_id")
    n_failed = int((runs["status"] == "failed").sum())
    lines = [
        f"Generated: {generated.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        f"Sweeps: {', '.join(_sweeps(frame)) or '(none recorded)'}",
        "Protocols: " + ", ".join(sorted(runs["protocol"].unique(), key=protocol_rank)),
        "Methods: " + ", ".join(sorted(runs["method"].unique(), key=method_sort_key)),
        "Datasets: " + ", ".join(sorted(runs["dataset"].unique(), key=dataset_sort_key)),
        "Backbones: "
        + ", ".join(sorted({f"{m} ({p})" for m, p in zip(runs["backbone_model"], runs["backbone_pretrained"])})),
        f"Runs: {len(runs)} ({len(runs) - n_failed} finished, {n_failed} failed)",
    ]
    versions = frame.attrs.get("versions", {})
    if versions:
        lines.append("Versions: " + "; ".join(f"{k} {', '.join(v)}" for k, v in versions.items()))
    if runs["dataset"].astype(str).str.startswith("world/").any():
        lines.append(WORLD_NOTE)
    return lines


# Said once wherever a report holds built-in world runs, so a table from the toy world is not read as a real result.
WORLD_NOTE = (
    "Built-in world: procedurally drawn 32-px images and a tiny CLIP pretrained on them, so these numbers are evidence "
    "that the pipeline and the methods run end to end and of how the methods compare on this toy world, not of how "
    "they rank on real images with a real CLIP."
)


# ---------------------------------------------------------------------------------------------------- markdown


def _md_rows(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def esc(x: object) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(esc(x) for x in row) + " |" for row in rows]
    return "\n".join(out)


def _gap_rows(df: pd.DataFrame, kind: str) -> list[list[object]]:
    return [[rec[c] for c in _GAP_HEADERS[kind]] for _, rec in df.iterrows()]


def render_markdown(
    frame: pd.DataFrame,
    tables: Sequence[Table],
    plots_by_table: dict[str, list[tuple[str, str]]],
    gaps: Gaps,
    notes: Sequence[str],
    generated: dt.datetime,
    comparisons: dict[str, paired.PairedComparisons] | None = None,
) -> str:
    """The Markdown report. `plots_by_table` maps a table key to (relative PNG path, caption) pairs;
    `comparisons` maps a seed-statistics table key to its scope's paired comparisons, printed after it."""
    comparisons = comparisons or {}
    out = [f"# {report_title(frame)}", ""]
    out += [f"- {line}" for line in summary_lines(frame, generated)]
    out += ["", "## Conventions", "", CONVENTIONS, "", STATS_CONVENTIONS, ""]
    protocol = None
    for table in tables:
        if table.protocol != protocol:
            protocol = table.protocol
            out += [f"## {get_protocol(protocol).title}", ""]
        body = [markdown_table(table), ""]
        body += [f"{note}  " for note in table.notes]
        if table.notes:
            body.append("")
        if table.kind == "per_seed":
            out += ["<details>", f"<summary>{table.title}</summary>", "", *body, "</details>", ""]
        else:
            out += [f"### {table.title}", "", *body]
        for rel, caption in plots_by_table.get(table.key, []):
            out += [f"![{caption}]({rel})", ""]
        if table.key in comparisons:
            out += paired.markdown_section(comparisons[table.key])
    prov, prov_warnings = provenance.provenance_text(frame)
    out += ["## Split provenance", "", provenance.INTRO, "", paired.markdown(prov), ""]
    out += [f"- {w}" for w in prov_warnings] + ([""] if prov_warnings else [])
    out += ["## Failed runs", ""]
    if len(gaps.failed):
        out += [_md_rows(_GAP_HEADERS["failed"], _gap_rows(gaps.failed, "failed")), ""]
    else:
        out += ["None.", ""]
    out += ["## Missing runs", ""]
    if len(gaps.missing):
        out += [
            "Combinations a sweep covers for some method, dataset or seed but that no record holds:",
            "",
            _md_rows(_GAP_HEADERS["missing"], _gap_rows(gaps.missing, "missing")),
            "",
        ]
    else:
        out += ["None.", ""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


# The PDF lists fit an A4 landscape page: the failed-run list leaves out the setting and record path (the run id
# names the record) and shortens long reasons; report.md has every column in full.
_PDF_GAP_COLUMNS = {
    "failed": ("protocol", "method", "dataset", "shots", "seed", "run_id", "reason"),
    "missing": _GAP_HEADERS["missing"],
}
_PDF_MAX_CHARS = 60


def _gap_text(df: pd.DataFrame, kind: str) -> TextTable:
    header = _PDF_GAP_COLUMNS[kind]

    def short(x: object) -> str:
        text = " ".join(str(x).split())
        return text if len(text) <= _PDF_MAX_CHARS else text[: _PDF_MAX_CHARS - 1] + "…"

    rows = tuple(tuple(short(rec[c]) for c in header) for _, rec in df.iterrows())
    # Every column is text to read left to right, so all are "label" columns (left-aligned).
    return TextTable(header, rows, frozenset(), len(header), frozenset(), tuple("result" for _ in rows))


# -------------------------------------------------------------------------------------------------------- public


def generate_report(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    formats: Sequence[str] | str = FORMATS,
    *,
    generated_at: dt.datetime | None = None,
    frame: pd.DataFrame | None = None,
) -> ReportResult:
    """Collect the run records under `paths` and write the report in `formats` to `out_dir`.

    Args:
        paths: folders (searched recursively) and/or record files; several sweeps are merged.
        out_dir: created if needed; files already there with the same names are replaced.
        formats: any of "md", "pdf", "tex", "csv".
        generated_at: the time printed in the header (default: `SOURCE_DATE_EPOCH` or now).
        frame: an already collected tidy frame (then `paths` is not read).

    Raises:
        UserError: no records, a malformed record, or an unknown format.
    """
    fmts = parse_formats(formats)
    frame = collect([Path(p) for p in paths]) if frame is None else frame
    generated = resolve_time(generated_at)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scopes = build_scopes(frame)
    tables = _with_statistics(build_tables(frame, scopes=scopes), scopes)
    comparisons = {f"{s.key}-ci": pc for s in scopes if (pc := paired.paired_comparisons(s)) is not None}
    gaps = find_gaps(frame, scopes=scopes)
    notes = list(frame.attrs.get("notes", []))
    files: list[Path] = []
    plots = []
    if "md" in fmts or "pdf" in fmts:
        from comma_bench.report.plots import make_plots

        plots = make_plots(tables, out / "plots")
        files += [p.path for p in plots]
    if "csv" in fmts:
        path = out / "results.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        files.append(path)
    if "tex" in fmts:
        from comma_bench.report.latex import write_latex

        files += write_latex(tables, out / "tex")
        for pc in comparisons.values():
            for key, text, caption in _paired_texts(pc):
                path = out / "tex" / f"{key}.tex"
                path.write_text(paired.latex(text, key=key, caption=caption, notes=pc.notes))
                files.append(path)
    if "md" in fmts:
        by_table: dict[str, list[tuple[str, str]]] = {}
        for p in plots:
            by_table.setdefault(p.table_key, []).append((p.path.relative_to(out).as_posix(), p.caption))
        path = out / "report.md"
        path.write_text(render_markdown(frame, tables, by_table, gaps, notes, generated, comparisons))
        files.append(path)
    pages = 0
    if "pdf" in fmts:
        from comma_bench.report.pdf import PdfTable, write_pdf
        from comma_bench.report.text import text_table

        sources = []
        for t in tables:
            sources.append(PdfTable(t.title, text_table(t), t.notes))
            if t.key in comparisons:
                pc = comparisons[t.key]
                sources += [PdfTable(caption, text, pc.notes) for _, text, caption in _paired_texts(pc)]
        prov, prov_warnings = provenance.provenance_text(frame, max_chars=_PDF_MAX_CHARS)
        sources.append(
            PdfTable("Split provenance", prov, (provenance.INTRO, *prov_warnings, "Every seed in full: report.md."))
        )
        if len(gaps.failed):
            sources.append(
                PdfTable(
                    "Failed runs", _gap_text(gaps.failed, "failed"), ("Full reasons and record paths: report.md.",)
                )
            )
        if len(gaps.missing):
            sources.append(PdfTable("Missing runs", _gap_text(gaps.missing, "missing")))
        path = out / "report.pdf"
        pages = write_pdf(
            path,
            title=report_title(frame),
            title_lines=[*summary_lines(frame, generated), *(f"Note: {n}" for n in notes)],
            conventions=CONVENTIONS + " " + STATS_CONVENTIONS,
            tables=sources,
            plots=plots,
            created=generated,
        )
        files.append(path)
    return ReportResult(
        files=files,
        frame=frame,
        tables=tables,
        plots=[p.path for p in plots],
        gaps=gaps,
        notes=notes,
        pdf_pages=pages,
        main_table=plain_table(tables[0]) if tables else "",
        comparisons=list(comparisons.values()),
    )


def _with_statistics(tables: list[Table], scopes: Sequence) -> list[Table]:
    """The tables with each scope's seed-statistics table right after its main table."""
    by_key = {s.key: ci_table(s) for s in scopes}
    out = []
    for t in tables:
        out.append(t)
        if t.key in by_key:
            out.append(by_key.pop(t.key))
    return out


def _paired_texts(pc: paired.PairedComparisons) -> list[tuple[str, TextTable, str]]:
    """(file key, text, caption) of the matrix and of the full list."""
    return [
        (pc.key, paired.matrix_text(pc), f"{pc.title} ({pc.headline} matrix)"),
        (f"{pc.key}-list", paired.list_text(pc), f"{pc.title} (every pair and metric)"),
    ]
