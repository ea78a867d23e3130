"""Few-shot sampling identical to Dassl's, plus reading Dassl's few-shot pickles and our own JSON cache.

Why identical matters: the published numbers were obtained on the subsets Dassl drew, and seed-to-seed variance of
the subset is the largest noise source in these benchmarks (backbone-and-sweeps.md §4 item 2). The subset is a
deterministic function of (item order, shots, seed):

    random.seed(SEED)                                   # Dassl: set_random_seed, before the dataset is built
    train = per label, in order of first appearance: random.sample(items, K) if len(items) >= K else items
    val   = the same with min(K, 4), continuing the same random stream (skipped when val is the test split)

`random.Random(seed)` produces the same stream as the global `random.seed(seed)`, so we draw from a private
generator and never touch global state.

Where a subset comes from, in order of preference:
1. `<dataset_dir>/split_fewshot/shot_{K}-seed_{S}.pkl` written by CoOp/CoCoOp/MaPLe/COMMA: the exact subset of an
   official run. Read with a restricted unpickler that admits only Dassl's `Datum` class, so a pickle cannot run
   code; its absolute paths (from the machine that wrote it) are rebased onto the local dataset dir.
2. `<dataset_dir>/split_fewshot/comma_bench/shot_{K}-seed_{S}.json`: our cache, safe JSON with relative paths.
3. Sampled now, then written to (2) atomically. Built-in datasets have no dataset dir and are not cached.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from comma_bench.data.datum import Datum
from comma_bench.errors import UserError

VAL_SHOTS_CAP = 4  # Dassl-based repos sample val with min(K, 4) shots per class
CACHE_SCHEMA = "comma-bench/fewshot/1"
DASSL_DATUM = ("dassl.data.datasets.base_dataset", "Datum")


# --------------------------------------------------------------------------------------------------------------------
# Sampling


def split_by_label(items: Sequence[Datum]) -> dict[int, list[Datum]]:
    """Items grouped by label; dict order = order of first appearance (Dassl's `split_dataset_by_label`)."""
    groups: dict[int, list[Datum]] = {}
    for item in items:
        groups.setdefault(item.label, []).append(item)
    return groups


def sample_per_label(items: Sequence[Datum], shots: int, rng: random.Random) -> list[Datum]:
    """K items per label with `rng.sample`, or all of a label's items when it has fewer than K.

    Dassl's `generate_fewshot_dataset(..., repeat=False)`: a short class keeps all its items and consumes no random
    numbers. `shots < 1` returns the items unchanged.
    """
    if shots < 1:
        return list(items)
    out: list[Datum] = []
    for group in split_by_label(items).values():
        out.extend(rng.sample(group, shots) if len(group) >= shots else group)
    return out


def sample_fewshot(
    train: Sequence[Datum], val: Sequence[Datum], shots: int, seed: int, *, sample_val: bool = True
) -> tuple[list[Datum], list[Datum]]:
    """The (train, val) few-shot subset for a seed, drawn from one random stream: train with K, then val with min(K, 4).

    With `sample_val=False` (ImageNet and the test-only sets, whose val is their test split) val is returned whole
    and no random numbers are spent on it.
    """
    rng = random.Random(seed)
    train_k = sample_per_label(train, shots, rng)
    val_k = sample_per_label(val, min(shots, VAL_SHOTS_CAP), rng) if sample_val else list(val)
    return train_k, val_k


# --------------------------------------------------------------------------------------------------------------------
# Cache file names


def dassl_pickle_path(dataset_dir: Path, shots: int, seed: int) -> Path:
    """Where CoOp and its forks cache a few-shot subset."""
    return dataset_dir / "split_fewshot" / f"shot_{shots}-seed_{seed}.pkl"


def cache_path(dataset_dir: Path, shots: int, seed: int) -> Path:
    """Where comma-bench caches a few-shot subset: beside Dassl's, in its own folder so neither overwrites the other."""
    return dataset_dir / "split_fewshot" / "comma_bench" / f"shot_{shots}-seed_{seed}.json"


# --------------------------------------------------------------------------------------------------------------------
# Dassl pickles


class _PickledDatum:
    """Stand-in for `dassl.data.datasets.base_dataset.Datum` while unpickling: it only stores the pickled state.

    Nothing of the pickle's choosing is ever called: `__setstate__` keeps the state and `to_datum` checks its types.
    """

    __slots__ = ("state",)

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def to_datum(self, source: Path) -> Datum:
        state = getattr(self, "state", None)
        if isinstance(state, tuple) and len(state) == 2 and state[1] is None:  # (dict, slots) form
            state = state[0]
        ok = isinstance(state, dict)
        impath, label = (state.get("_impath"), state.get("_label")) if ok else (None, None)
        classname, domain = (state.get("_classname"), state.get("_domain", 0)) if ok else (None, None)
        if not (
            isinstance(impath, str)
            and isinstance(classname, str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in (label, domain))
        ):
            raise UserError(f"{source}: a Datum in the pickle lacks str _impath/_classname and int _label/_domain")
        return Datum(impath=impath, label=label, classname=classname, domain=domain)


class _Refused(pickle.UnpicklingError):
    """The pickle asks for something other than Dassl's Datum: it is not a plain few-shot file (or is hostile)."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits Dassl's `Datum` (mapped to `_PickledDatum`) and nothing else that would need an import."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == DASSL_DATUM:
            return _PickledDatum
        raise _Refused(f"refusing to load global {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("refusing persistent ids")


def read_dassl_pickle(
    path: Path, *, dataset_dir: Path, image_dirs: Sequence[str] = (), need_val: bool = True
) -> dict[str, list]:
    """Read a Dassl few-shot pickle safely and rebase its image paths onto `dataset_dir`.

    Args:
        path: the `shot_{K}-seed_{S}.pkl` file.
        dataset_dir: the local dataset folder.
        image_dirs: the dataset's image folders relative to `dataset_dir`, used to rebase paths when the dataset
            folder had another name on the machine that wrote the pickle (see `rebase_impath`).
        need_val: whether the pickle must hold "val" (ImageNet's pickles hold only "train").

    Returns:
        {"train": [...], "val": [...]} ("val" only when present) with local, existing image paths.
    """
    try:
        data = _RestrictedUnpickler(io.BytesIO(path.read_bytes())).load()
    except _Refused as exc:
        raise UserError(f"{path}: not a plain Dassl few-shot pickle ({exc}); delete it or replace it") from None
    except Exception as exc:  # truncated or garbage file: EOFError, ValueError, IndexError, ...
        raise UserError(f"{path}: not a readable Dassl few-shot pickle ({exc.__class__.__name__}: {exc})") from None
    keys = ("train", "val") if need_val else ("train",)
    if not isinstance(data, dict) or any(not isinstance(data.get(k), list) for k in keys):
        raise UserError(f"{path}: expected a dict with list(s) {', '.join(repr(k) for k in keys)}")
    out: dict[str, list] = {}
    for key in ("train", "val"):
        if not isinstance(data.get(key), list):
            continue
        items = []
        for obj in data[key]:
            if not isinstance(obj, _PickledDatum):
                raise UserError(f"{path}: {key!r} holds a {type(obj).__name__}; expected Dassl Datum objects")
            datum = obj.to_datum(path)
            local = rebase_impath(datum.impath, dataset_dir, image_dirs, source=path)
            items.append(Datum(impath=local, label=datum.label, classname=datum.classname, domain=datum.domain))
        out[key] = items
    return out


def _path_parts(impath: str) -> tuple[str, ...]:
    # Pickles may come from Windows machines; a backslash is never part of a CoOp file name.
    return PureWindowsPath(impath).parts if "\\" in impath else PurePosixPath(impath).parts


def rebase_impath(impath: str, dataset_dir: Path, image_dirs: Sequence[str], *, source: Path) -> str:
    """The local path of an image named by an absolute path from another machine.

    The path is cut after the last occurrence of the dataset folder name
    (`/home/x/data/oxford_pets/images/a.jpg` -> `<dataset_dir>/images/a.jpg`). When the folder was named differently
    on the other machine, the last occurrence of an images dir is used instead (`/srv/pets/images/a.jpg` ->
    `<dataset_dir>/images/a.jpg`). The file must exist locally.
    """
    parts = _path_parts(impath)
    anchors = [(PurePosixPath(dataset_dir.name).parts, False)]
    anchors += [(PurePosixPath(d).parts, True) for d in image_dirs if d]
    for anchor_parts, keep_anchor in anchors:
        n = len(anchor_parts)
        # last match, never using the file name itself as the anchor
        for start in range(len(parts) - n - 1, -1, -1):
            if parts[start : start + n] == anchor_parts:
                rel = parts[start:] if keep_anchor else parts[start + n :]
                local = dataset_dir.joinpath(*rel)
                if local.is_file():
                    return str(local)
                raise UserError(
                    f"{source}: lists {impath!r}, which maps to {local}, but that file does not exist; "
                    "the pickle was written for a different copy of the dataset"
                )
    names = ", ".join(repr(d) for d in (dataset_dir.name, *image_dirs))
    raise UserError(f"{source}: cannot place {impath!r} under {dataset_dir}: it contains none of {names}")


# --------------------------------------------------------------------------------------------------------------------
# comma-bench JSON cache


@dataclass(frozen=True)
class FewShotSubset:
    """A few-shot subset and where it came from (recorded so runs on the same subset can be recognised)."""

    train: list[Datum]  # K per class (fewer for short classes), in Dassl's order
    val: list[Datum]  # min(K, 4) per class, or the test split for datasets without val
    source: str  # "dassl-pickle:<path>", "cache:<path>", "sampled" or "all"


def _to_rel(item: Datum, dataset_dir: Path) -> list:
    rel = os.path.relpath(item.impath, dataset_dir)
    if rel.startswith(".."):
        raise ValueError(f"{item.impath} is not inside {dataset_dir}")
    return [PurePosixPath(*Path(rel).parts).as_posix(), item.label, item.classname]


def write_cache(
    path: Path,
    dataset_dir: Path,
    *,
    key: str,
    shots: int,
    seed: int,
    train: Sequence[Datum],
    val: Sequence[Datum] | None,
) -> None:
    """Write our JSON cache atomically (a temporary file renamed into place), paths relative to `dataset_dir`.

    Concurrent trials that sample the same subset write identical content, so the last rename wins harmlessly.
    """
    from comma_bench.records import write_json_atomic

    obj = {
        "schema": CACHE_SCHEMA,
        "dataset": key,
        "shots": shots,
        "seed": seed,
        "train": [_to_rel(d, dataset_dir) for d in train],
        "val": None if val is None else [_to_rel(d, dataset_dir) for d in val],
    }
    write_json_atomic(path, obj)


def read_cache(path: Path, dataset_dir: Path, *, shots: int, seed: int) -> tuple[list[Datum], list[Datum] | None]:
    """Read our JSON cache; `val` is None when the dataset's val is its test split."""
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable few-shot cache ({exc.__class__.__name__}); delete it") from None
    if not isinstance(obj, dict) or obj.get("schema") != CACHE_SCHEMA:
        raise UserError(f"{path}: not a comma-bench few-shot cache (expected schema {CACHE_SCHEMA!r}); delete it")
    if obj.get("shots") != shots or obj.get("seed") != seed:
        raise UserError(f"{path}: holds shots={obj.get('shots')} seed={obj.get('seed')}, expected {shots}/{seed}")

    def convert(entries: Any, part: str) -> list[Datum]:
        if not isinstance(entries, list):
            raise UserError(f"{path}: {part!r} must be a list; delete the file to resample")
        items = []
        for entry in entries:
            if not (
                isinstance(entry, list)
                and len(entry) == 3
                and isinstance(entry[0], str)
                and isinstance(entry[1], int)
                and isinstance(entry[2], str)
            ):
                raise UserError(f"{path}: bad entry {entry!r} in {part!r}; expected [relpath, label, classname]")
            impath = dataset_dir / entry[0]
            if not impath.is_file():
                raise UserError(f"{path}: lists {entry[0]!r} but {impath} does not exist; delete the file to resample")
            items.append(Datum(impath=str(impath), label=entry[1], classname=entry[2]))
        return items

    train = convert(obj.get("train"), "train")
    val = None if obj.get("val") is None else convert(obj["val"], "val")
    return train, val


# --------------------------------------------------------------------------------------------------------------------
# The one entry point used by `load_dataset`


def load_fewshot(
    train: list[Datum],
    val: list[Datum],
    *,
    shots: int,
    seed: int,
    has_val: bool,
    dataset_dir: Path | None = None,
    image_dirs: Sequence[str] = (),
    key: str = "",
) -> FewShotSubset:
    """The few-shot (train, val) subset: from a Dassl pickle, our cache, or sampled now (then cached).

    Args:
        train, val: the full splits from the reader (val is the test split when `has_val` is False).
        shots: K; `shots < 1` returns the full splits.
        seed: the run seed.
        has_val: False: val is the test split, returned whole and not sampled (ImageNet).
        dataset_dir: the local dataset folder; None for built-in datasets (no file cache).
        image_dirs: image folders relative to `dataset_dir`, to rebase Dassl pickle paths (see `rebase_impath`).
        key: the dataset key, written into our cache for humans.
    """
    if shots < 1:
        return FewShotSubset(list(train), list(val), "all")
    if dataset_dir is not None:
        pkl = dassl_pickle_path(dataset_dir, shots, seed)
        if pkl.is_file():
            data = read_dassl_pickle(pkl, dataset_dir=dataset_dir, image_dirs=image_dirs, need_val=has_val)
            return FewShotSubset(data["train"], data["val"] if has_val else list(val), f"dassl-pickle:{pkl}")
        cache = cache_path(dataset_dir, shots, seed)
        if cache.is_file():
            train_k, val_k = read_cache(cache, dataset_dir, shots=shots, seed=seed)
            if has_val and val_k is None:
                raise UserError(f"{cache}: holds no 'val' list; delete the file to resample")
            return FewShotSubset(train_k, val_k if has_val else list(val), f"cache:{cache}")
    train_k, val_k = sample_fewshot(train, val, shots, seed, sample_val=has_val)
    if dataset_dir is not None:
        cache = cache_path(dataset_dir, shots, seed)
        # A read-only data tree (OSError) or a reader placing images outside the dataset dir (ValueError) only means
        # no cache: sampling is deterministic, so the cache is a convenience, not a requirement.
        with contextlib.suppress(OSError, ValueError):
            write_cache(
                cache, dataset_dir, key=key, shots=shots, seed=seed, train=train_k, val=val_k if has_val else None
            )
    return FewShotSubset(train_k, val_k, "sampled")
