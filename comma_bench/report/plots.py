"""Report figures, drawn from the same `Table`s the text shows so a plot can never disagree with a table.

Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot, so making a report
changes no global matplotlib state and needs no display. One style everywhere: seaborn's whitegrid "paper" theme,
the colour-blind-safe "colorblind" palette, one colour per method line across every figure of a report.

Every `plot_*` function returns the PNG it wrote, or None when its table has nothing to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from comma_bench.protocols import get_protocol
from comma_bench.report.cells import Cell, Table, method_sort_key

DPI = 150
PALETTE = "colorblind"
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "h")


@dataclass(frozen=True)
class Plot:
    """One figure of a report."""

    path: Path  # the PNG written
    caption: str  # what the figure shows, for the Markdown and the PDF page
    figure: Figure  # kept so the PDF draws it as vectors rather than re-embedding the PNG
    table_key: str  # the table it was drawn from


def style() -> dict[str, Any]:
    """rcParams of the one report style (applied with `matplotlib.rc_context`)."""
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("paper", font_scale=1.2))
    rc.update({"figure.dpi": DPI, "savefig.dpi": DPI, "pdf.fonttype": 42, "svg.fonttype": "none"})
    rc["axes.prop_cycle"] = mpl.cycler(color=sns.color_palette(PALETTE))
    return rc


def line_colors(labels: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A fixed colour per line label (method or method variant), in the papers' method order, for every figure."""
    colors = sns.color_palette(PALETTE, n_colors=10)
    out: dict[str, tuple[float, float, float]] = {}
    for label in sorted(set(labels), key=lambda x: (method_sort_key(x.split(" (")[0]), x)):
        if label not in out:
            out[label] = tuple(colors[len(out) % len(colors)])
    return out


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No software/version metadata: the same records give the same bytes.
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def _rows(table: Table, kinds: Sequence[str] = ("result", "average")):
    return [r for r in table.rows if r.kind in kinds]


def _val(cell: Cell) -> float:
    return math.nan if cell.mean is None else cell.mean


def _err(cell: Cell) -> float:
    return 0.0 if cell.std is None or cell.mean is None else cell.std


# ----------------------------------------------------------------------------------------------------------- b2n


def figure_hm_bars(table: Table, colors: dict[str, Any]) -> Figure | None:
    """Grouped bars: HM per dataset (and the Average), one bar per method variant."""
    rows = [r for r in _rows(table) if r.cells[2].mean is not None]
    if not rows:
        return None
    groups = list(dict.fromkeys(r.labels[0] for r in rows))
    variants = sorted(dict.fromkeys(r.labels[1] for r in rows), key=lambda v: list(colors).index(v))
    width = 0.8 / len(variants)
    fig = _new_figure(max(6.0, 1.0 + 0.9 * len(groups) * max(1, len(variants)) * 0.45), 4.2)
    ax = fig.add_subplot()
    for j, variant in enumerate(variants):
        xs, hs = [], []
        for i, g in enumerate(groups):
            hit = [r for r in rows if r.labels == (g, variant)]
            if hit:
                xs.append(i - 0.4 + width * (j + 0.5))
                hs.append(hit[0].cells[2].mean)
        ax.bar(xs, hs, width=width * 0.95, color=colors[variant], label=variant, edgecolor="white", linewidth=0.5)
    ax.set_xticks(
        range(len(groups)), groups, rotation=30 if len(groups) > 4 else 0, ha="right" if len(groups) > 4 else "center"
    )
    ax.set_ylabel("HM (%)")
    lo = min(r.cells[2].mean for r in rows)
    ax.set_ylim(max(0.0, math.floor((lo - 10) / 10) * 10), 100)
    ax.set_title("Harmonic mean of base and novel accuracy")
    fig.legend(loc="outside right upper", frameon=False)
    return fig


def _square_range(values: Sequence[float]) -> tuple[float, float]:
    """A common [lo, hi] for both accuracy axes: the data plus a margin, on multiples of 5, within [0, 100]."""
    vmin, vmax = min(values), max(values)
    pad = max(2.0, 0.1 * (vmax - vmin))
    lo = max(0.0, math.floor((vmin - pad) / 5) * 5)
    hi = min(100.0, math.ceil((vmax + pad) / 5) * 5)
    return lo, max(hi, lo + 10)


def _iso_levels(lo: float, hi: float) -> list[float]:
    """About six round HM values whose iso-curves cross the plotted square."""
    levels = MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return [float(c) for c in levels if lo < c < hi]


def figure_base_novel(table: Table, colors: dict[str, Any]) -> Figure | None:
    """Base vs novel accuracy per (method variant, dataset), with HM iso-curves; averages as large stars."""
    rows = [r for r in _rows(table) if r.cells[0].mean is not None and r.cells[1].mean is not None]
    if not rows:
        return None
    fig = _new_figure(8.5, 5.6)
    ax = fig.add_subplot()
    bs = [r.cells[0].mean for r in rows]
    ns = [r.cells[1].mean for r in rows]
    lo, hi = _square_range(bs + ns)
    grid = np.linspace(lo, hi, 400)
    for c in _iso_levels(lo, hi):
        b = grid[grid > c / 2 + 1e-9]
        n = c * b / (2 * b - c)  # HM(b, n) = c
        keep = (n >= lo) & (n <= hi)
        if keep.sum() < 2:
            continue
        ax.plot(b[keep], n[keep], color="0.75", linewidth=0.8, linestyle="--", zorder=0)
        ax.annotate(f"HM {c:g}", (b[keep][-1], n[keep][-1]), fontsize=7, color="0.45", ha="right", va="bottom")
    datasets = list(dict.fromkeys(r.labels[0] for r in rows if r.kind == "result"))
    markers = {d: MARKERS[i % len(MARKERS)] for i, d in enumerate(datasets)}
    for r in rows:
        variant = r.labels[1]
        avg = r.kind == "average"
        ax.errorbar(
            r.cells[0].mean,
            r.cells[1].mean,
            xerr=_err(r.cells[0]),
            yerr=_err(r.cells[1]),
            marker="*" if avg else markers[r.labels[0]],
            markersize=14 if avg else 7,
            color=colors[variant],
            markeredgecolor="black" if avg else "white",
            linestyle="none",
            elinewidth=0.8,
        )
    # Two legends: colour = method, marker = dataset.
    from matplotlib.lines import Line2D

    method_handles = [
        Line2D([], [], color=colors[v], marker="o", linestyle="none", label=v)
        for v in sorted(dict.fromkeys(r.labels[1] for r in rows), key=list(colors).index)
    ]
    ds_handles = [Line2D([], [], color="0.3", marker=markers[d], linestyle="none", label=d) for d in datasets]
    if any(r.kind == "average" for r in rows):
        ds_handles.append(Line2D([], [], color="0.3", marker="*", markersize=12, linestyle="none", label="Average"))
    fig.legend(handles=method_handles, title="method", loc="outside right upper", frameon=False)
    fig.legend(handles=ds_handles, title="dataset", loc="outside right lower", frameon=False)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("Base accuracy (%)")
    ax.set_ylabel("Novel accuracy (%)")
    ax.set_title("Base vs novel accuracy (error bars: std over seeds)")
    return fig


# ---------------------------------------------------------------------------------------------------------- curves


def _as_numbers(values: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def figure_ablation(table: Table, colors: dict[str, Any]) -> Figure | None:
    """Axis value → metric, one line per method, error bars over seeds.

    The protocol picks the panels (`ablation_plot_metrics`): base-to-novel draws base, novel and HM, the others
    their headline metric.
    """
    metrics = list(get_protocol(table.protocol).tables().ablation_plot_metrics())
    cols = [table.value_columns.index(m) for m in metrics]
    rows = [r for r in _rows(table) if any(r.cells[j].mean is not None for j in cols)]
    if not rows:
        return None
    axis = table.label_columns[-1]
    values = list(dict.fromkeys(r.labels[-1] for r in table.rows))
    numbers = _as_numbers(values)
    positions = dict(zip(values, numbers if numbers is not None else range(len(values))))
    groups = list(dict.fromkeys(r.group for r in rows))
    # One colour per method; when a method has several lines (few-shot ablations: one per shot count) each line
    # gets its own colour instead.
    by_group = len(groups) != len({r.labels[0] for r in rows})
    group_colors = line_colors(groups) if by_group else {g: colors.get(g) for g in groups}
    fig = _new_figure(4.0 * len(metrics) + 2.5, 4.2)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric, j in zip(axes, metrics, cols):
        for group in groups:
            pts = [r for r in rows if r.group == group and r.cells[j].mean is not None]
            ax.errorbar(
                [positions[r.labels[-1]] for r in pts],
                [r.cells[j].mean for r in pts],
                yerr=[_err(r.cells[j]) for r in pts],
                marker="o",
                capsize=3,
                label=group,
                color=group_colors[group],
            )
        if numbers is not None and axis == "shots" and min(numbers) > 0:
            ax.set_xscale("log", base=2)
            ax.minorticks_off()
        if numbers is None:
            ax.set_xticks(range(len(values)), values, rotation=30 if len(values) > 4 else 0)
        elif len(values) <= 10:
            ax.set_xticks(numbers, values)
        ax.set_xlabel(axis)
        ax.set_ylabel(f"{metric} (%)")
        ax.set_title(metric)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", frameon=False)
    fig.suptitle(f"Ablation of {axis} (mean over datasets; error bars: std over seeds)")
    return fig


def figure_few_shot(table: Table, colors: dict[str, Any]) -> Figure | None:
    """Accuracy vs shots per dataset (one panel each, the Average last), error bars over seeds."""
    shots = [int(c.split()[0]) for c in table.value_columns]
    rows = [r for r in _rows(table) if any(c.mean is not None for c in r.cells)]
    if not rows:
        return None
    panels = list(dict.fromkeys(r.labels[0] for r in rows))
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = _new_figure(4.2 * ncols + 2.5, 3.3 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, panel in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        for r in [r for r in rows if r.labels[0] == panel]:
            pts = [(s, c) for s, c in zip(shots, r.cells) if c.mean is not None]
            ax.errorbar(
                [s for s, _ in pts],
                [c.mean for _, c in pts],
                yerr=[_err(c) for _, c in pts],
                marker="o",
                capsize=3,
                label=r.labels[1],
                color=colors[r.labels[1]],
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(shots, [str(s) for s in shots])
        ax.minorticks_off()
        ax.set_title(panel)
        ax.set_xlabel("shots per class")
        ax.set_ylabel("accuracy (%)")
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False)
    fig.suptitle("Few-shot accuracy (error bars: std over seeds)")
    return fig


# ---------------------------------------------------------------------------------------------------- spread


def figure_distribution(table: Table, colors: dict[str, Any]) -> Figure | None:
    """The headline metric of every seed, one panel per dataset (and the Average): points, quartile box, mean ± CI.

    Drawn from a seed-statistics table (kind "ci"), whose cells keep their per-seed values; None when no cell
    has two seeds, as there is no spread to show.
    """
    j = len(table.value_columns) - 1
    metric = table.value_columns[j]
    rows = [r for r in _rows(table) if r.cells[j].values]
    if not any(len(r.cells[j].values) >= 2 for r in rows):
        return None
    panels = list(dict.fromkeys(r.labels[0] for r in rows))
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    width = max(2.2 + 0.55 * max(sum(r.labels[0] == p for r in rows) for p in panels), 3.6)
    fig = _new_figure(width * ncols, 3.4 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, panel in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        prow = [r for r in rows if r.labels[0] == panel]
        for x, r in enumerate(prow):
            cell = r.cells[j]
            vals = np.asarray(cell.values, dtype=float)
            color = colors.get(r.labels[1], "0.3")
            if len(vals) >= 3:
                ax.boxplot(
                    [vals],
                    positions=[x],
                    widths=0.55,
                    showfliers=False,
                    medianprops={"color": color},
                    boxprops={"color": "0.55"},
                    whiskerprops={"color": "0.55"},
                    capprops={"color": "0.55"},
                )
            jitter = np.linspace(-0.18, 0.18, len(vals)) if len(vals) > 1 else np.zeros(1)
            ax.scatter(x + jitter, vals, s=12, color=color, alpha=0.75, edgecolors="none", zorder=3)
            if cell.ci is not None and cell.mean is not None:
                ax.errorbar(
                    x + 0.34,
                    cell.mean,
                    yerr=[[cell.mean - cell.ci[0]], [cell.ci[1] - cell.mean]],
                    marker="D",
                    markersize=4,
                    color="black",
                    capsize=3,
                    elinewidth=1.0,
                    zorder=4,
                )
        ax.set_xticks(
            range(len(prow)), [", ".join(r.labels[1:]) for r in prow], rotation=30 if len(prow) > 2 else 0, ha="right"
        )
        ax.set_xlim(-0.6, len(prow) - 0.4)
        ax.set_title(panel)
        ax.set_ylabel(f"{metric} (%)")
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.suptitle(f"{metric} over seeds (points: one per seed; box: quartiles; black: mean with 95 % t interval)")
    return fig


# ---------------------------------------------------------------------------------------------------------- public


def _figures_for(table: Table, colors: dict[str, Any]) -> list[tuple[str, str, Figure | None]]:
    """(file stem, caption, figure or None) for every plot a table can give."""
    if table.kind == "per_seed":
        return []
    if table.kind == "ci":
        return [(f"{table.key}-distribution", f"Spread over seeds: {table.title}", figure_distribution(table, colors))]
    if table.kind == "ablation":
        return [(table.key, f"Metrics vs {table.label_columns[-1]}: {table.title}", figure_ablation(table, colors))]
    return list(get_protocol(table.protocol).tables().figures(table, colors))


def report_colors(tables: Sequence[Table]) -> dict[str, Any]:
    """One colour per method line across all tables, in order of first appearance."""
    labels = []
    for t in tables:
        for r in t.rows:
            if r.kind in ("result", "average") and t.kind != "per_seed":
                labels.append(r.labels[0] if t.kind == "ablation" else r.labels[1])
    return line_colors(labels)


def make_plots(tables: Sequence[Table], out_dir: Path) -> list[Plot]:
    """Draw and save every plot the tables support into `out_dir`; tables without data give no plot."""
    colors = report_colors(tables)
    plots = []
    with mpl.rc_context(style()):
        for table in tables:
            for stem, caption, fig in _figures_for(table, colors):
                if fig is None:
                    continue
                path = _save(fig, Path(out_dir) / f"{stem}.png")
                plots.append(Plot(path, caption, fig, table.key))
    return plots


def plot_hm_bars(table: Table, out_dir: Path) -> Path | None:
    """HM per dataset grouped by method (base-to-novel main table); None without data."""
    return _plot_one(table, out_dir, figure_hm_bars, "hm")


def plot_base_novel(table: Table, out_dir: Path) -> Path | None:
    """Base vs novel scatter with HM iso-curves (base-to-novel main table); None without data."""
    return _plot_one(table, out_dir, figure_base_novel, "base-novel")


def plot_ablation(table: Table, out_dir: Path) -> Path | None:
    """Axis value → headline metric with error bars (an ablation table); None without data."""
    return _plot_one(table, out_dir, figure_ablation, None)


def plot_few_shot(table: Table, out_dir: Path) -> Path | None:
    """Accuracy vs shots per dataset (few-shot main table); None without data."""
    return _plot_one(table, out_dir, figure_few_shot, "curves")


def _plot_one(table: Table, out_dir: Path, build, suffix: str | None) -> Path | None:
    with mpl.rc_context(style()):
        fig = build(table, report_colors([table]))
        if fig is None:
            return None
        stem = table.key if suffix is None else f"{table.key}-{suffix}"
        return _save(fig, Path(out_dir) / f"{stem}.png")
