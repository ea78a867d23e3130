"""generate_report end to end: files, PDF pages, PNGs, LaTeX structure, Markdown content, purity; and the CLI."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXED_TIME, b2n_records, other_records, vit_records, write_records

from comma_bench.cli import main
from comma_bench.report import generate_report
from comma_bench.report.pdf import ROWS_PER_PAGE, PdfTable, page_count, write_pdf
from comma_bench.report.plots import make_plots, plot_few_shot
from comma_bench.report.tables import Cell, Row, Table
from comma_bench.report.text import TextTable

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory):
    """The whole fixture set (all protocols, published-matching runs, a failure, a gap) rendered once."""
    root = tmp_path_factory.mktemp("records")
    write_records(root / "b2n" / "runs", b2n_records())
    write_records(root / "vit" / "runs", vit_records())
    write_records(root / "other" / "runs", other_records())
    out = tmp_path_factory.mktemp("report")
    return root, out, generate_report([root], out, generated_at=FIXED_TIME)


def test_files_written(full) -> None:
    _, out, result = full
    names = {p.relative_to(out).as_posix() for p in result.files}
    assert {"report.md", "report.pdf", "results.csv"} <= names
    assert all(p.is_file() and p.stat().st_size > 0 for p in result.files)
    # One .tex per table: 6 main tables, 6 seed-statistics tables, 6 per-seed tables, 1 ablation; plus the paired
    # matrix and list of the one scope with more than one method.
    paired = ["tex/base2novel-world-tiny-builtin-16-paired.tex", "tex/base2novel-world-tiny-builtin-16-paired-list.tex"]
    assert sorted(n for n in names if n.startswith("tex/")) == sorted(
        [*(f"tex/{t.key}.tex" for t in result.tables), *paired]
    )
    assert len(result.tables) == 19 and sum(t.kind == "ci" for t in result.tables) == 6
    assert [pc.key for pc in result.comparisons] == ["base2novel-world-tiny-builtin-16-paired"]
    # 3 base-to-novel main tables x (HM bars + scatter), the ablation curve, the few-shot curves, and a spread plot
    # for every seed-statistics table with a cell of two or more seeds (not the one-seed 8-shot scope).
    assert sorted(p.name for p in result.plots) == sorted(
        [
            "base2novel-ViT-B-16-openai-16-ci-distribution.png",
            "base2novel-world-tiny-builtin-16-ci-distribution.png",
            "few_shot-ci-distribution.png",
            "cross_dataset-ci-distribution.png",
            "domain_generalization-ci-distribution.png",
            "base2novel-ViT-B-16-openai-16-hm.png",
            "base2novel-ViT-B-16-openai-16-base-novel.png",
            "base2novel-ViT-B-16-openai-8-hm.png",
            "base2novel-ViT-B-16-openai-8-base-novel.png",
            "base2novel-world-tiny-builtin-16-hm.png",
            "base2novel-world-tiny-builtin-16-base-novel.png",
            "base2novel-world-tiny-builtin-16-ablation-method_config.prompt_depth.png",
            "few_shot-curves.png",
        ]
    )
    for png in result.plots:
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, png


def test_pdf_pages(full) -> None:
    _, out, result = full
    data = (out / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b", data))  # page objects, not the /Pages tree
    # title + 19 tables (each fits one page) + paired matrix (1) and list (30 rows: 2) + split provenance + failed
    # runs + missing runs + 13 plots
    assert pages == result.pdf_pages == 1 + 19 + 3 + 1 + 1 + 1 + 13


def test_long_and_wide_tables_split_across_pages() -> None:
    rows = tuple((f"d{i}", "m", "1.00") for i in range(2 * ROWS_PER_PAGE + 1))
    long = TextTable(("Dataset", "Method", "HM"), rows, frozenset(), 2, frozenset(), ("result",) * len(rows))
    assert page_count(long) == 3
    header = ("Source", "Method", *(f"target_dataset_{i}" for i in range(20)))
    row = ("s", "m", *("99.99 ± 9.99" for _ in range(20)))
    wide = TextTable(header, (row,), frozenset(), 2, frozenset(), ("result",))
    # 20 value columns of ~1.3 in beside 1.1 in of labels on a 10.8 in wide page: 7 per page -> 3 column blocks
    assert page_count(wide) == 3


def test_long_table_continues_on_next_pages_in_the_pdf(tmp_path: Path) -> None:
    rows = tuple((f"dataset_{i}", "coop", f"{i}.00") for i in range(ROWS_PER_PAGE + 5))
    long = TextTable(("Dataset", "Method", "HM"), rows, frozenset(), 2, frozenset(), ("result",) * len(rows))
    n = write_pdf(
        tmp_path / "r.pdf",
        title="t",
        title_lines=["x"],
        conventions="c",
        tables=[PdfTable("Long", long)],
        plots=[],
        created=FIXED_TIME,
    )
    data = (tmp_path / "r.pdf").read_bytes()
    assert n == 3 == len(re.findall(rb"/Type\s*/Page\b", data))  # title + 2 pages of the table


def test_markdown(full) -> None:
    _, out, result = full
    md = (out / "report.md").read_text()
    assert md.startswith("# comma-bench report: ablation + dg + fewshot + unit + vit\n")
    assert "## Conventions" in md and "ddof=0" in md and "not as the mean of the per-dataset HMs" in md
    assert md.count("2026-01-02 03:04:05") == 1  # the timestamp appears once, in the header
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == 13 and all((out / link).is_file() for link in links)
    assert all(not Path(link).is_absolute() for link in links)
    failed = md.split("## Failed runs")[1].split("## Missing runs")[0]
    assert "| base2novel | world-tiny (builtin), 16 shots | maple | world/shapes | 16 | 3 |" in failed
    assert "loss is NaN at epoch 2 step 3" in failed
    missing = md.split("## Missing runs")[1]
    assert "| base2novel | world-tiny (builtin), 16 shots | maple | world/scenes | 16 | 3 |" in missing
    assert "|  | *maple (published)* | *95.43* | *97.76* | *96.58* |  |" in md
    assert "89.00 ± 1.00†‡" in md and "†" in md.split("## Failed runs")[0]
    assert len(result.gaps.failed) == 1 and len(result.gaps.missing) >= 1


def _tex(out: Path, key: str) -> str:
    return (out / "tex" / f"{key}.tex").read_text()


def test_latex_structure(full) -> None:
    _, out, result = full
    for table in result.tables:
        tex = _tex(out, table.key)
        begins = re.findall(r"\\begin\{(\w+)\}", tex)
        ends = re.findall(r"\\end\{(\w+)\}", tex)
        assert begins == ["table", "tabular"] and ends == ["tabular", "table"], table.key
        assert tex.count(r"\toprule") == tex.count(r"\bottomrule") == 1
        body = tex.split(r"\midrule", 1)[1].split(r"\bottomrule")[0]
        ncols = len(table.label_columns) + len(table.value_columns) + table.seeds_column
        data_rows = [line for line in body.splitlines() if line.strip().endswith(r"\\")]
        assert len(data_rows) == len(table.rows), table.key
        assert all(line.count(" & ") == ncols - 1 for line in data_rows), table.key
        assert tex.count("{") == tex.count("}"), table.key
    tex = _tex(out, "base2novel-world-tiny-builtin-16")
    rows = [line for line in tex.splitlines() if line.strip().endswith(r"\\")][1:]  # skip the header
    # one row per method in each dataset block and in the Average block
    for method in ("coop", "maple", "zeroshot"):
        assert sum(1 for line in rows if line.split(" & ")[1] == method) == 3, method
    assert r"\textbf{89.00 $\pm$ 1.00\textsuperscript{\dag}\textsuperscript{\ddag}}" in tex
    assert r"world/shapes & zeroshot" in tex and r"\caption{Base-to-novel generalisation: world-tiny (builtin)" in tex
    pub = _tex(out, "base2novel-ViT-B-16-openai-16")
    assert r"\textit{$-$0.26}" in pub and r"\textit{$+$0.07}" in pub


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(full, tmp_path: Path) -> None:
    _, out, result = full
    inputs = "\n".join(f"\\input{{{(out / 'tex' / f'{t.key}.tex').as_posix()}}}" for t in result.tables)
    doc = tmp_path / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
        f"\\begin{{document}}\n{inputs}\n\\end{{document}}\n"
    )
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_csv_is_the_tidy_frame(full) -> None:
    _, out, result = full
    import pandas as pd

    csv = pd.read_csv(out / "results.csv")
    assert len(csv) == len(result.frame) and list(csv.columns) == list(result.frame.columns)
    assert csv["status"].value_counts().to_dict() == {"finished": 56, "failed": 1}


def test_report_is_a_pure_function_of_the_records(full, tmp_path: Path) -> None:
    root, out, _ = full
    later = dt.datetime(2030, 6, 7, 8, 9, 10, tzinfo=dt.UTC)
    again = generate_report([root], tmp_path, formats="md,tex,csv", generated_at=later)
    assert not (tmp_path / "report.pdf").exists()
    for f in again.files:
        rel = f.relative_to(tmp_path)
        first, second = (out / rel).read_bytes(), f.read_bytes()
        if rel.name == "report.md":
            first = first.replace(b"2026-01-02 03:04:05", b"2030-06-07 08:09:10")
        assert first == second, rel


def test_plots_skip_tables_without_data(tmp_path: Path) -> None:
    empty = Table("few", "t", "few_shot", ("Dataset", "Method"), ("1 shot",), (Row("d", ("d", "m"), (Cell(None),)),))
    assert plot_few_shot(empty, tmp_path) is None
    assert make_plots([empty], tmp_path) == []
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------------------- CLI


def test_cli_report_default_out_and_stdout(tmp_path: Path, monkeypatch, capsys) -> None:
    runs = write_records(tmp_path / "unit" / "runs", b2n_records())
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(runs), "--format", "csv,tex"]) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "unit" / "report"  # where `comma-bench run` writes it, beside the runs folder
    assert not (tmp_path / "reports").exists()  # never the working directory's (committed) reports/
    assert (out / "results.csv").is_file() and (out / "tex" / "base2novel.tex").is_file()
    # csv, the main, seed-statistics and per-seed tables, the paired matrix and its list
    assert f"wrote 6 files to {out}:" in printed and str(out / "results.csv") in printed
    assert "1 failed runs, 1 missing runs" in printed
    assert "Base-to-novel generalisation: world-tiny (builtin), 16 shots" in printed
    assert "82.00 ± 1.63" in printed and "91.00†‡" in printed


def test_cli_mixed_sweeps_go_beside_their_folder_or_to_out(tmp_path: Path, monkeypatch, capsys) -> None:
    write_records(tmp_path / "runs" / "a", b2n_records())
    write_records(tmp_path / "runs" / "b", vit_records())
    monkeypatch.chdir(tmp_path)
    assert main(["report", "runs", "--format", "csv"]) == 0
    assert (tmp_path / "report" / "results.csv").is_file()  # a folder named runs: its sibling report/
    assert main(["report", "runs/a", "--out", "mine", "--format", "csv"]) == 0
    assert (tmp_path / "mine" / "results.csv").is_file()
    assert main(["report", "runs/a", "runs/b", "--format", "csv"]) == 2
    assert "pass --out DIR" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_cli_errors(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.json").write_text('{"epoch": 1}')
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("comma-bench report: error: ") and str(tmp_path / "empty") in err
    assert "no comma-bench run records" in err and err.count("\n") == 1
    write_records(tmp_path / "runs", b2n_records())
    assert main(["report", str(tmp_path / "runs"), "--format", "html"]) == 2
    assert "--format: expected a comma-separated list of md, pdf, tex, csv" in capsys.readouterr().err
