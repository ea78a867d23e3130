"""LaTeX tables: one complete `table` environment (booktabs `tabular`) per `.tex` file, ready to `\\input`.

Each file needs only `\\usepackage{booktabs}` in the preamble. The best value of each column (per dataset block)
is bold; the marks, ± and Δ of the text tables become their LaTeX symbols.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from comma_bench.report.cells import Table
from comma_bench.report.text import TextTable, text_table

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "†": r"\textsuperscript{\dag}",
    "‡": r"\textsuperscript{\ddag}",
    "—": "---",
    "–": "--",
    "Δ": r"$\Delta$",
    "−": r"$-$",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "§": r"\S{}",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
}
_SIGNED = re.compile(r"^([+-])(\d)")


def escape(text: str) -> str:
    """Plain text (with the report's symbols) as LaTeX source."""
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def _cell(text: str) -> str:
    m = _SIGNED.match(text)
    if m:  # a signed delta: a real minus sign, not a hyphen
        return f"${m.group(1)}${escape(text[1:])}"
    return escape(text)


def booktabs(
    t: TextTable,
    *,
    key: str,
    caption: str,
    cell: Callable[[int, int, str], str],
    size: str = r"\small",
    notes: Sequence[str] = (),
) -> str:
    """A complete booktabs `table` environment of a text table; `cell(i, j, text)` writes one body cell's source."""
    spec = "l" * t.n_labels + "r" * (len(t.header) - t.n_labels)
    lines = [
        f"% comma-bench table {key}: needs \\usepackage{{booktabs}}",
        r"\begin{table}[htbp]",
        r"  \centering",
        f"  {size}",
        f"  \\caption{{{escape(caption)}}}",
        f"  \\label{{tab:{key}}}",
        f"  \\begin{{tabular}}{{{spec}}}",
        r"    \toprule",
        "    " + " & ".join(escape(h) for h in t.header) + r" \\",
        r"    \midrule",
    ]
    for i, row in enumerate(t.rows):
        if i in t.group_starts and i > 0:
            lines.append(r"    \midrule")
        lines.append("    " + " & ".join(cell(i, j, text) for j, text in enumerate(row)) + r" \\")
    lines += [r"    \bottomrule", r"  \end{tabular}"]
    if notes:
        lines.append(r"  \par\smallskip")
        lines.append(r"  \parbox{\linewidth}{\footnotesize " + r" \\ ".join(escape(n) for n in notes) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def latex_table(table: Table) -> str:
    """The complete `table` environment of one table."""
    t = text_table(table)

    def cell(i: int, j: int, text: str) -> str:
        c = _cell(text)
        if (i, j) in t.bold and text:
            return f"\\textbf{{{c}}}"
        if t.kinds[i] in ("published", "delta") and j >= t.n_labels - 1 and text:
            return f"\\textit{{{c}}}"
        return c

    size = r"\scriptsize" if len(t.header) > 8 else r"\small"
    return booktabs(t, key=table.key, caption=table.title, cell=cell, size=size, notes=table.notes)


def write_latex(tables: list[Table], out_dir: Path) -> list[Path]:
    """One `<key>.tex` per table under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in tables:
        path = out_dir / f"{table.key}.tex"
        path.write_text(latex_table(table))
        paths.append(path)
    return paths
