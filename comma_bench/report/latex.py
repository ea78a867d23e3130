"""LaTeX tables: one complete `table` environment (booktabs `tabular`) per `.tex` file, ready to `\\input`.

Each file needs only `\\usepackage{booktabs}` in the preamble. The best value of each column (per dataset block)
is bold; the marks, ± and Δ of the text tables become their LaTeX symbols.
"""

from __future__ import annotations

import re
from pathlib import Path

from comma_bench.report.tables import Table
from comma_bench.report.text import text_table

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


def latex_table(table: Table) -> str:
    """The complete `table` environment of one table."""
    t = text_table(table)
    ncols = len(t.header)
    spec = "l" * t.n_labels + "r" * (ncols - t.n_labels)
    size = r"\scriptsize" if ncols > 8 else r"\small"
    lines = [
        f"% comma-bench table {table.key}: needs \\usepackage{{booktabs}}",
        r"\begin{table}[htbp]",
        r"  \centering",
        f"  {size}",
        f"  \\caption{{{escape(table.title)}}}",
        f"  \\label{{tab:{table.key}}}",
        f"  \\begin{{tabular}}{{{spec}}}",
        r"    \toprule",
        "    " + " & ".join(escape(h) for h in t.header) + r" \\",
        r"    \midrule",
    ]
    for i, row in enumerate(t.rows):
        if i in t.group_starts and i > 0:
            lines.append(r"    \midrule")
        cells = []
        for j, text in enumerate(row):
            c = _cell(text)
            if (i, j) in t.bold and text:
                c = f"\\textbf{{{c}}}"
            elif t.kinds[i] in ("published", "delta") and j >= t.n_labels - 1 and text:
                c = f"\\textit{{{c}}}"
            cells.append(c)
        lines.append("    " + " & ".join(cells) + r" \\")
    lines += [r"    \bottomrule", r"  \end{tabular}"]
    if table.notes:
        lines.append(r"  \par\smallskip")
        lines.append(r"  \parbox{\linewidth}{\footnotesize " + r" \\ ".join(escape(n) for n in table.notes) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def write_latex(tables: list[Table], out_dir: Path) -> list[Path]:
    """One `<key>.tex` per table under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in tables:
        path = out_dir / f"{table.key}.tex"
        path.write_text(latex_table(table))
        paths.append(path)
    return paths
