"""Table cells as text: the one formatting rule the Markdown, LaTeX, PDF and terminal outputs share."""

from __future__ import annotations

from dataclasses import dataclass

from comma_bench.report.cells import NO_DATA, Cell, Row, Table

DECIMALS = 2  # accuracies are printed with two decimals, as in the papers


def cell_text(cell: Cell, kind: str = "result") -> str:
    """`82.00 ± 1.63†`, `96.58` (published), `+0.07` (delta), `—‡` (no data, a run failed).

    Kind "ci" (seed-statistics tables): `82.00 ± 1.63 [77.94, 86.06]`, or `82.00 (n=1: no CI)`.
    """
    if cell.mean is None:
        return NO_DATA + cell.marks
    if kind == "delta":
        return (
            f"{round(cell.mean, DECIMALS) + 0.0:+.{DECIMALS}f}"  # + 0.0: a delta that rounds to 0 is +0.00, not -0.00
        )
    text = f"{cell.mean:.{DECIMALS}f}"
    if kind == "ci":  # seed statistics: mean ± std [95 % CI], or why there is no interval
        if cell.n < 2:
            return f"{text} (n={cell.n}: no CI){cell.marks}"
        lo, hi = cell.ci if cell.ci is not None else (float("nan"), float("nan"))
        return f"{text} ± {cell.std or 0.0:.{DECIMALS}f} [{lo:.{DECIMALS}f}, {hi:.{DECIMALS}f}]{cell.marks}"
    if kind == "result" and cell.std is not None and cell.n > 1:
        text += f" ± {cell.std:.{DECIMALS}f}"
    return text + cell.marks


@dataclass(frozen=True)
class TextTable:
    """A table as strings, ready for any renderer."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    bold: frozenset[tuple[int, int]]  # (row, column) positions in `rows`/`header` coordinates
    n_labels: int  # leading label columns
    group_starts: frozenset[int]  # rows that open a new group (renderers may rule a line above them)
    kinds: tuple[str, ...]  # the Row.kind of each row


def text_table(table: Table, *, blank_repeats: bool = True) -> TextTable:
    """Format every cell; the first label is blanked while it repeats the row above (one dataset per block)."""
    header = (*table.label_columns, *table.value_columns, *(("Seeds",) if table.seeds_column else ()))
    best = table.best()
    n_labels = len(table.label_columns)
    rows: list[tuple[str, ...]] = []
    bold = set()
    starts = set()
    prev: Row | None = None
    for i, row in enumerate(table.rows):
        labels = list(row.labels)
        if prev is None or prev.group != row.group:
            starts.add(i)
        if blank_repeats and prev is not None and prev.labels[0] == row.labels[0]:
            labels[0] = ""
        kind = "ci" if table.kind == "ci" and row.kind in ("result", "average") else row.kind
        cells = [cell_text(c, kind) for c in row.cells]
        extra = [row.seeds] if table.seeds_column else []
        rows.append((*labels, *cells, *extra))
        bold.update((i, n_labels + j) for (r, j) in best if r == i)
        prev = row
    return TextTable(
        header, tuple(rows), frozenset(bold), n_labels, frozenset(starts), tuple(r.kind for r in table.rows)
    )


def markdown_table(table: Table) -> str:
    """GitHub-flavoured Markdown pipe table, best values in bold."""
    t = text_table(table)

    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in t.header) + " |"]
    lines.append("|" + "|".join("---" if j < t.n_labels else "---:" for j in range(len(t.header))) + "|")
    for i, row in enumerate(t.rows):
        cells = [f"**{esc(c)}**" if (i, j) in t.bold and c else esc(c) for j, c in enumerate(row)]
        if t.kinds[i] in ("published", "delta"):
            cells = [f"*{c}*" if c and j >= t.n_labels - 1 else c for j, c in enumerate(cells)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plain_table(table: Table) -> str:
    """Fixed-width text for a terminal (no markup)."""
    t = text_table(table)
    widths = [
        max(len(t.header[j]), *(len(r[j]) for r in t.rows)) if t.rows else len(t.header[j])
        for j in range(len(t.header))
    ]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if j < t.n_labels else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))

    out = [table.title, line(t.header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in t.rows]
    out += list(table.notes)
    return "\n".join(s.rstrip() for s in out)
