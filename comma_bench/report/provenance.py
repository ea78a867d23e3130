"""Split provenance: the few-shot split fingerprints of a report, one line per (dataset, shots).

Each run record carries `data.split_fingerprint` (`comma_bench.data.fingerprint`): a hash of the exact training
images. The report prints, per (protocol's training dataset, shots), one combined fingerprint over all its seeds and
the per-seed ones, so two labs can compare one string per dataset to know whether they trained on the same images.
Runs of one (dataset, shots, seed) that disagree (a Dassl pickle in one sweep, a fresh sample in another) are
flagged, never merged silently.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from comma_bench.report.cells import dataset_sort_key
from comma_bench.report.text import TextTable

HEADER = ("Dataset", "Shots", "Seeds", "Combined", "Per seed")
NOT_RECORDED = "not recorded"


def combined(per_seed: dict[int, str]) -> str:
    """One fingerprint over the seeds: SHA-256 of `seed:fingerprint` lines in seed order, 16 hex digits."""
    text = "\n".join(f"{s}:{fp}" for s, fp in sorted(per_seed.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _seed_list(seeds: list[int]) -> str:
    """`1-20`, `1-3, 7`: consecutive runs of seeds collapsed."""
    out, start, prev = [], None, None
    for s in sorted(seeds):
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = s
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(out)


def provenance_text(frame: pd.DataFrame, *, max_chars: int | None = None) -> tuple[TextTable, list[str]]:
    """The provenance table and its warnings (one per (dataset, shots, seed) with several fingerprints).

    `max_chars` shortens the per-seed column (the PDF page); the Markdown report has it in full.
    """
    runs = frame[frame["status"] == "finished"].drop_duplicates("run_id")
    rows, warnings = [], []
    groups = sorted(
        runs.groupby(["dataset", "shots"], sort=False), key=lambda kv: (dataset_sort_key(kv[0][0]), int(kv[0][1]))
    )
    for (dataset, shots), sub in groups:
        per_seed: dict[int, str] = {}
        for seed, g in sorted(sub.groupby("seed"), key=lambda kv: int(kv[0])):
            fps = sorted({fp for fp in g["split_fingerprint"] if fp})
            if not fps:
                continue
            per_seed[int(seed)] = fps[0] if len(fps) == 1 else "≠"
            if len(fps) > 1:
                who = "; ".join(
                    f"{fp}: " + ", ".join(sorted(set(g.loc[g["split_fingerprint"] == fp, "method"]))) for fp in fps
                )
                warnings.append(
                    f"{dataset}, {shots} shots, seed {seed}: runs trained on different images ({who}); "
                    "compare their few-shot sources (records' data.fewshot_source)"
                )
        seeds = sorted({int(s) for s in sub["seed"]})
        if not per_seed:
            rows.append((dataset, str(int(shots)), _seed_list(seeds), NOT_RECORDED, ""))
            continue
        missing = [s for s in seeds if s not in per_seed]
        detail = ", ".join(f"{s}: {fp}" for s, fp in sorted(per_seed.items()))
        if missing:
            detail += f"; {NOT_RECORDED} for seeds {_seed_list(missing)}"
        if max_chars is not None and len(detail) > max_chars:
            detail = detail[: max_chars - 1] + "…"
        conflict = "≠" in per_seed.values()
        rows.append(
            (dataset, str(int(shots)), _seed_list(seeds), "≠ (see below)" if conflict else combined(per_seed), detail)
        )
    # Every column is text to read left to right, so all are label columns (left-aligned).
    table = TextTable(HEADER, tuple(rows), frozenset(), len(HEADER), frozenset(), tuple("result" for _ in rows))
    return table, warnings


INTRO = (
    "Fingerprints of the few-shot training images (comma_bench/data/fingerprint.py): equal strings mean the same "
    "images, labels, class names and base/novel class lists, whatever machine or split file (Dassl pickle or "
    "comma-bench JSON) they came from. Combined: one hash over the per-seed fingerprints."
)
