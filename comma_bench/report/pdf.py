"""The multi-page PDF report: a title page, every table as matplotlib tables, then every plot.

Tables are laid out on A4 landscape pages at 8 pt, so they read at 100 % zoom; a long table continues on the next
page (header repeated) and a wide one is split into column blocks that repeat the label columns. Page breaks
depend only on the table sizes, so the same records always give the same pages.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.table import Table as MplTable

from comma_bench.report.plots import Plot, style
from comma_bench.report.text import TextTable

PAGE = (11.69, 8.27)  # A4 landscape, inches
MARGIN = 0.45  # inches on every side
FONT_PT = 8.0  # table text
ROW_IN = 0.22  # row height at FONT_PT
ROWS_PER_PAGE = 26  # body rows per page (header repeated on each)
CHAR_IN = 0.068  # average width of one character at FONT_PT, inches (DejaVu Sans)
CELL_PAD_IN = 0.16  # horizontal padding per cell
NOTE_WRAP = 190  # characters per footnote line
_HEADER_BG = "#e6e6e6"
_GROUP_BG = "#f5f5f5"


@dataclass(frozen=True)
class PdfTable:
    """A table page source: title, text cells, and notes."""

    title: str
    text: TextTable
    notes: tuple[str, ...] = ()


def _col_widths(t: TextTable) -> list[float]:
    return [CELL_PAD_IN + CHAR_IN * max([len(t.header[j]), *(len(r[j]) for r in t.rows)]) for j in range(len(t.header))]


def _column_blocks(t: TextTable) -> list[list[int]]:
    """Column indices per page: the label columns plus as many value columns as fit the page width."""
    widths = _col_widths(t)
    usable = PAGE[0] - 2 * MARGIN
    labels = list(range(t.n_labels))
    base = sum(widths[j] for j in labels)
    blocks: list[list[int]] = []
    current: list[int] = []
    used = base
    for j in range(t.n_labels, len(t.header)):
        if current and used + widths[j] > usable:
            blocks.append(labels + current)
            current, used = [], base
        current.append(j)
        used += widths[j]
    blocks.append(labels + current)
    return blocks


def page_count(t: TextTable) -> int:
    """Pages one table takes: row chunks × column blocks (at least one page, even when empty)."""
    row_chunks = max(1, -(-len(t.rows) // ROWS_PER_PAGE))
    return row_chunks * len(_column_blocks(t))


def _table_page(src: PdfTable, rows: range, cols: list[int], part: str) -> Figure:
    t = src.text
    fig = Figure(figsize=PAGE)
    FigureCanvasAgg(fig)
    title = src.title + (f" ({part})" if part else "")
    wrapped = textwrap.wrap(title, 120)
    top = PAGE[1] - MARGIN
    for k, line in enumerate(wrapped):
        fig.text(MARGIN / PAGE[0], (top - 0.22 * k) / PAGE[1], line, fontsize=12, weight="bold", va="top")
    table_top = top - 0.22 * len(wrapped) - 0.2
    widths = _col_widths(t)
    n_body = len(rows)
    height_in = ROW_IN * (n_body + 1)
    width_in = sum(widths[j] for j in cols)
    ax = fig.add_axes((MARGIN / PAGE[0], (table_top - height_in) / PAGE[1], width_in / PAGE[0], height_in / PAGE[1]))
    ax.set_axis_off()
    tbl = MplTable(ax, bbox=(0, 0, 1, 1))
    tbl.auto_set_font_size(False)
    h = 1.0 / (n_body + 1)
    for c, j in enumerate(cols):
        w = widths[j] / width_in
        cell = tbl.add_cell(
            0, c, w, h, text=t.header[j], loc="left" if j < t.n_labels else "right", facecolor=_HEADER_BG
        )
        cell.get_text().set_fontweight("bold")
        cell.visible_edges = "BT"
        for r, i in enumerate(rows, start=1):
            shade = _shade(t, i)
            cell = tbl.add_cell(
                r,
                c,
                w,
                h,
                text=t.rows[i][j],
                loc="left" if j < t.n_labels else "right",
                facecolor=_GROUP_BG if shade else "white",
            )
            cell.visible_edges = "B" if (i + 1 in t.group_starts or i == len(t.rows) - 1) else ""
            txt = cell.get_text()
            if (i, j) in t.bold:
                txt.set_fontweight("bold")
            if t.kinds[i] in ("published", "delta"):
                txt.set_fontstyle("italic")
                txt.set_color("0.3")
    tbl.set_fontsize(FONT_PT)
    ax.add_table(tbl)
    y = table_top - height_in - 0.25
    for note in src.notes:
        for line in textwrap.wrap(note, NOTE_WRAP):
            fig.text(MARGIN / PAGE[0], y / PAGE[1], line, fontsize=7.5, va="top")
            y -= 0.16
    return fig


def _shade(t: TextTable, i: int) -> bool:
    """Alternate a light background per group so blocks stay apart without heavy rules."""
    starts = sorted(t.group_starts)
    k = sum(1 for s in starts if s <= i)
    return k % 2 == 0


def table_pages(src: PdfTable) -> list[Figure]:
    """The page figures of one table, row chunks first, then column blocks."""
    t = src.text
    blocks = _column_blocks(t)
    chunks = [range(a, min(a + ROWS_PER_PAGE, len(t.rows))) for a in range(0, max(1, len(t.rows)), ROWS_PER_PAGE)]
    if not t.rows:
        chunks = [range(0)]
    figs = []
    total = len(chunks) * len(blocks)
    k = 0
    for chunk in chunks:
        for cols in blocks:
            k += 1
            figs.append(_table_page(src, chunk, cols, f"page {k} of {total}" if total > 1 else ""))
    return figs


def title_page(title: str, lines: Sequence[str], conventions: str) -> Figure:
    fig = Figure(figsize=PAGE)
    FigureCanvasAgg(fig)
    y = PAGE[1] - 1.0
    fig.text(MARGIN / PAGE[0], y / PAGE[1], title, fontsize=20, weight="bold", va="top")
    y -= 0.6
    for line in lines:
        for k, part in enumerate(textwrap.wrap(line, 130) or [""]):
            fig.text((MARGIN + (0.3 if k else 0)) / PAGE[0], y / PAGE[1], part, fontsize=10, va="top")
            y -= 0.22
    y -= 0.2
    fig.text(MARGIN / PAGE[0], y / PAGE[1], "Conventions", fontsize=11, weight="bold", va="top")
    y -= 0.28
    for part in textwrap.wrap(conventions, 150):
        fig.text(MARGIN / PAGE[0], y / PAGE[1], part, fontsize=8.5, va="top")
        y -= 0.18
    return fig


def write_pdf(
    path: Path,
    *,
    title: str,
    title_lines: Sequence[str],
    conventions: str,
    tables: Sequence[PdfTable],
    plots: Sequence[Plot],
    created: dt.datetime,
) -> int:
    """Write the PDF and return its page count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"Title": title, "Creator": "comma-bench", "CreationDate": created}
    with mpl.rc_context(style()), PdfPages(path, metadata=meta) as pdf:
        pdf.savefig(title_page(title, title_lines, conventions))
        for src in tables:
            for fig in table_pages(src):
                pdf.savefig(fig)
        for plot in plots:
            pdf.savefig(plot.figure)
        n = pdf.get_pagecount()
    return n
