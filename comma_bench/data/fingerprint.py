"""Split fingerprints: one short hash that says whether two runs trained on the same few-shot images.

Why: the seed-to-seed variance of the few-shot sample is the largest noise source in these benchmarks, and numbers
that do not reproduce are most often numbers from different images. Two labs comparing a table can compare one
16-hex-digit string per (dataset, shots, seed) instead of their split files.

What is hashed (scheme `comma-bench/split/1`), as canonical JSON, then SHA-256:

    {"scheme": "comma-bench/split/1",
     "train": sorted [relative image path, label, class name] of the few-shot train selection (all classes, the
              dataset's own labels, before the base/novel split),
     "base":  class names of the base half (the first ceil(n/2) sorted labels),
     "novel": class names of the novel half}

- Paths are relative to the dataset folder (`images/abyssinian_1.jpg`, POSIX separators), so the fingerprint does
  not depend on where `$DATA` lives; built-in images keep their `world://...` address.
- The selection is sorted, so the order in which a Dassl pickle or our JSON cache lists the items does not matter:
  a Dassl `shot_K-seed_S.pkl` and our `split_fewshot/comma_bench/shot_K-seed_S.json` holding the same images give
  the same fingerprint.
- The validation subset is not hashed: no protocol here selects a model on it (the last-epoch model is evaluated).
- The test split is not hashed: it is the dataset's fixed split file, the same for every seed.
- The fingerprint is an output recorded in the run record (`data.split_fingerprint`), never part of the config, so
  it does not change run ids.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from comma_bench.data.datum import Datum
from comma_bench.data.subsample import label_halves

SCHEME = "comma-bench/split/1"
LENGTH = 16  # hex digits shown and recorded: 64 bits, ample to tell splits apart


def relative_impath(impath: str, dataset_dir: Path | None) -> str:
    """An image path relative to its dataset folder, POSIX style; unchanged when it is not inside that folder."""
    if dataset_dir is None or "://" in impath:
        return impath
    rel = os.path.relpath(impath, dataset_dir)
    if rel.startswith(".."):
        return PurePosixPath(*Path(impath).parts).as_posix()
    return PurePosixPath(*Path(rel).parts).as_posix()


def class_halves(train: Sequence[Datum]) -> tuple[list[str], list[str]]:
    """(base, novel) class names: the labels of the selection, sorted and cut at ceil(n/2) (the base-to-novel rule)."""
    names: dict[int, str] = {}
    for d in train:
        names.setdefault(d.label, d.classname)
    base, novel = label_halves(list(names))
    return [names[label] for label in base], [names[label] for label in novel]


def split_fingerprint(train: Sequence[Datum], dataset_dir: Path | None) -> str:
    """The fingerprint of a few-shot train selection (see the module docstring), `LENGTH` hex digits."""
    entries = sorted([relative_impath(d.impath, dataset_dir), d.label, d.classname] for d in train)
    base, novel = class_halves(train)
    doc = {"scheme": SCHEME, "train": entries, "base": base, "novel": novel}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:LENGTH]
