"""Base/new class split and class-name lists, as CoOp's `OxfordPets.subsample_classes` and Dassl's `get_lab2cname`.

Base-to-novel (CoOp's `subsample_classes`): the labels present in the few-shot train split, sorted, are cut at
m = ceil(n / 2); "base" keeps the first m, "new" the rest. Every split is filtered to the kept labels and relabelled
0..k-1 in sorted order, so base and new are two separate label spaces (there is no joint evaluation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from comma_bench.data.datum import Datum
from comma_bench.errors import UserError, unknown_name

SUBSAMPLES = ("all", "base", "new")


def label_halves(labels: Sequence[int]) -> tuple[list[int], list[int]]:
    """(base, new): the distinct labels sorted and cut at ceil(n/2), CoOp's base-to-novel rule."""
    ordered = sorted(set(labels))
    m = math.ceil(len(ordered) / 2)
    return ordered[:m], ordered[m:]


def subsample_classes(*splits: Sequence[Datum], subsample: str = "all") -> list[list[Datum]]:
    """Filter and relabel every split to the base or new half of the labels of the FIRST split.

    Args:
        splits: the splits to transform, the (few-shot) train split first; its labels decide the halves.
        subsample: "all" (unchanged), "base" (first ceil(n/2) labels) or "new" (the remaining labels).
    """
    if subsample not in SUBSAMPLES:
        raise unknown_name("subsample", subsample, SUBSAMPLES)
    if subsample == "all":
        return [list(s) for s in splits]
    base, new = label_halves([item.label for item in splits[0]])
    selected = base if subsample == "base" else new
    relabel = {old: new for new, old in enumerate(selected)}
    return [
        [
            Datum(impath=d.impath, label=relabel[d.label], classname=d.classname, domain=d.domain)
            for d in split
            if d.label in relabel
        ]
        for split in splits
    ]


def classnames_from(train: Sequence[Datum], *, source: str) -> list[str]:
    """Class names indexed by label, taken from the train split (Dassl's `get_lab2cname`).

    Dassl keeps one name per label from a set, so two names for one label would be chosen arbitrarily; here it is an
    error, as is a gap in the labels (the list index must equal the label).

    Args:
        train: the train split after few-shot sampling and subsampling.
        source: what to name in errors (the dataset key).
    """
    names: dict[int, str] = {}
    for item in train:
        previous = names.setdefault(item.label, item.classname)
        if previous != item.classname:
            raise UserError(f"{source}: label {item.label} has two class names, {previous!r} and {item.classname!r}")
    if not names:
        raise UserError(f"{source}: the train split is empty")
    labels = sorted(names)
    if labels != list(range(len(labels))):
        gap = next(i for i in range(len(labels) + 1) if i not in names)
        raise UserError(f"{source}: train labels must be 0..n-1; label {gap} has no train image")
    return [names[label] for label in labels]
