"""Run records -> one tidy DataFrame, the only input of every table and plot.

A report is a pure function of the run records, so this module reads nothing else: no logs, no checkpoints. It
walks the given folders (and files) recursively for `*.json`, keeps the files that are comma-bench run records,
validates each one as a typed `RunRecord` (comma_bench/record_schema.py; the same model the engine returns), so a
table can never be built from a silently broken record, and lays the results out one row per (run, evaluation).
Failed runs keep one row with NaN accuracy so they show up as failed, never as absent.

pandas is imported when a frame is built, not with this module: the CLI imports `comma_bench.report` to build its
parser, and `comma-bench --help` must work where the report extra is not installed.

Rules a user can rely on:
- A JSON file without a top-level `schema` key (checkpoint metadata, Ray Tune state, ...) is skipped silently,
  and so is a file that does not parse as JSON unless its text names the run-record schema.
- A file that has a `schema` key but is not a valid comma-bench run record is an error naming the file.
- The same `run_id` found twice (two copies of a sweep, a rerun) keeps the record with the newest `created` and
  says so in `frame.attrs["notes"]`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comma_bench.config.schema import CONTEXT_FIELDS
from comma_bench.errors import UserError
from comma_bench.protocols import get_protocol
from comma_bench.record_schema import SCHEMA, SCHEMA_PREFIX, EvalResult, RunRecord
from comma_bench.records import canonical_json, read_record

if TYPE_CHECKING:
    import pandas as pd

# Column order of the tidy frame; `axis:<path>` columns follow, sorted by path.
COLUMNS = (
    "run_id",  # stable hash of the resolved config
    "status",  # finished | failed
    "kind",  # train | eval (eval = no training, e.g. zero-shot CLIP)
    "sweep",  # sweep name from the config, "" when the run was not part of a sweep
    "protocol",  # a `comma_bench.protocols` name: base2novel | few_shot | cross_dataset | domain_generalization
    "method",  # registry key
    "dataset",  # training / source dataset
    "targets",  # comma-separated target datasets (transfer protocols)
    "shots",
    "seed",
    "backbone_model",
    "backbone_pretrained",
    "precision",
    "split_fingerprint",  # hash of the few-shot train images and class halves; "" in records written before it
    "method_deviations",  # canonical JSON of the settings off the method's defaults; "" in records written before it
    "eval_dataset",  # dataset this row evaluates; "" for a failed run without evals
    "subset",  # base | new | all; "" for a failed run without evals
    "role",  # base | novel | accuracy | source | target: what this row means for its protocol's tables
    "n_classes",
    "n_images",
    "accuracy",  # percent; NaN for failed runs
    "macro_f1",
    "failure_reason",  # "" for finished runs
    "created",  # ISO-8601 UTC time the record was written
    "config_key",  # hash of the config without seed/dataset/targets: runs with one key share one configuration
    "comma_bench_version",
    "git_commit",
    "wall_s",
    "trainable_params",
    "record",  # record file, relative to the folder it was found under
)
AXIS_PREFIX = "axis:"
# Config fields that identify a cell rather than a configuration (the context is not in a record's config at all;
# it is listed for the `config` of run/1 records, read before migration by older callers).
_NOT_CONFIG = {"seed", "dataset", "targets", *CONTEXT_FIELDS, "output_dir", "num_workers"}


@dataclass(frozen=True)
class LoadedRecord:
    """One validated run record and where it came from."""

    record: RunRecord  # the validated record
    path: Path  # the file it was read from
    relpath: str  # path relative to the folder it was found under (what reports print, so they do not
    # depend on where the records live)


def _json_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, root) pairs for every `*.json` under the given folders and files, in a stable order."""
    out: list[tuple[Path, Path]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend((f, p) for f in sorted(p.rglob("*.json")) if f.is_file())
        elif p.is_file():
            out.append((p, p.parent))
        else:
            raise UserError(f"{p}: no such file or folder (expected a folder of run records or a record file)")
    return out


def _has_schema_key(path: Path) -> bool:
    """Whether a `*.json` file claims to be a run record.

    Files that do not parse are skipped unless their text names the run-record schema: Ray Tune writes JSON-lines
    `result.json` files beside a sweep's records, while a record cut short still starts with its schema line.
    """
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable file ({exc.__class__.__name__})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if SCHEMA_PREFIX in text:
            raise UserError(f"{path}: malformed run record: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        return False
    return isinstance(obj, dict) and "schema" in obj


def load_records(paths: Iterable[str | Path]) -> tuple[list[LoadedRecord], list[str]]:
    """Every valid run record under `paths`, with duplicates resolved, plus notes on what was resolved.

    Returns:
        (records, notes): records in a stable order (by run id); one note per duplicated run id.
    """
    found: dict[str, list[LoadedRecord]] = {}
    for file, root in _json_files(paths):
        if not _has_schema_key(file):
            continue  # not a run record: checkpoint metadata, tuner state, ...
        rec = read_record(file)  # raises for a foreign schema or a malformed record, naming the file and key
        rel = file.relative_to(root).as_posix()
        found.setdefault(rec.run_id, []).append(LoadedRecord(rec, file, rel))
    records: list[LoadedRecord] = []
    notes: list[str] = []
    for rid in sorted(found):
        copies = found[rid]
        # Newest `created` wins; among equal times the last path in sorted order, so the choice is deterministic.
        copies.sort(key=lambda c: (c.record.created_time, c.path.as_posix()))
        keep = copies[-1]
        records.append(keep)
        if len(copies) > 1:
            dropped = ", ".join(f"{c.relpath} ({c.record.created})" for c in copies[:-1])
            notes.append(
                f"run {rid} found {len(copies)} times: kept {keep.relpath} ({keep.record.created}), ignored {dropped}"
            )
    return records, notes


def _scalar(v: Any) -> Any:
    """Axis values as hashable scalars: lists and objects become canonical JSON text."""
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return canonical_json(v)


def _config_key(cfg: dict[str, Any]) -> str:
    stable = {k: v for k, v in cfg.items() if k not in _NOT_CONFIG}
    return hashlib.sha256(canonical_json(stable).encode()).hexdigest()[:12]


def _role(protocol: str, dataset: str, targets: list[str], ev: EvalResult) -> str:
    """What one evaluation means for its protocol's tables: the protocol object says (`Protocol.role`)."""
    return get_protocol(protocol).role(dataset, targets, ev.model_dump())


def _nan_if_none(x: Any) -> Any:
    return math.nan if x is None else x


def record_rows(loaded: LoadedRecord) -> list[dict[str, Any]]:
    """The tidy rows of one record: one per evaluation, or a single NaN row for a failed run."""
    rec = loaded.record
    cfg, ctx = rec.config, rec.context
    fingerprint = (rec.data or {}).get("split_fingerprint")
    common: dict[str, Any] = {
        "run_id": rec.run_id,
        "status": rec.status,
        "kind": rec.kind,
        "sweep": ctx.sweep or "",
        "protocol": cfg.protocol,
        "method": cfg.method,
        "dataset": cfg.dataset,
        "targets": ",".join(cfg.targets),
        "shots": cfg.shots,
        "seed": cfg.seed,
        "backbone_model": cfg.backbone.model,
        "backbone_pretrained": cfg.backbone.pretrained,
        "precision": cfg.precision,
        "split_fingerprint": fingerprint if isinstance(fingerprint, str) else "",
        "method_deviations": "" if rec.method_deviations is None else canonical_json(rec.method_deviations),
        "failure_reason": rec.failure.reason if rec.status == "failed" and rec.failure is not None else "",
        "created": rec.created,
        "config_key": _config_key(cfg.model_dump(mode="json")),
        "comma_bench_version": rec.versions.get("comma_bench") or "",
        "git_commit": rec.versions.get("git_commit") or "",
        "wall_s": rec.timings.get("wall_s", math.nan),
        "trainable_params": _nan_if_none(rec.trainable_params),
        "record": loaded.relpath,
    }
    for path, value in ctx.axes.items():
        common[AXIS_PREFIX + path] = _scalar(value)
    empty_eval = {
        "eval_dataset": "",
        "subset": "",
        "role": "",
        "n_classes": math.nan,
        "n_images": math.nan,
        "accuracy": math.nan,
        "macro_f1": math.nan,
    }
    if rec.status == "failed":
        # A failed run's partial evaluations are not results; one row keeps the run visible as failed.
        return [{**common, **empty_eval}]
    return [
        {
            **common,
            "eval_dataset": ev.dataset,
            "subset": ev.subset,
            "role": _role(cfg.protocol, cfg.dataset, cfg.targets, ev),
            "n_classes": _nan_if_none(ev.n_classes),
            "n_images": _nan_if_none(ev.n_images),
            "accuracy": float(ev.accuracy),
            "macro_f1": _nan_if_none(ev.macro_f1),
        }
        for ev in rec.evals
    ]


def frame_from_records(records: list[LoadedRecord], notes: list[str] | None = None) -> pd.DataFrame:
    """The tidy frame of already loaded records (see `collect`)."""
    import pandas as pd

    rows = [row for loaded in records for row in record_rows(loaded)]
    axis_cols = sorted({k for row in rows for k in row if k.startswith(AXIS_PREFIX)})
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *axis_cols])
    frame = frame.astype({"accuracy": float, "macro_f1": float, "n_classes": float, "n_images": float})
    frame = frame.sort_values(
        ["protocol", "method", "dataset", "seed", "run_id", "eval_dataset", "subset"], kind="stable"
    ).reset_index(drop=True)
    frame.attrs["notes"] = list(notes or [])
    frame.attrs["versions"] = _versions(records)
    return frame


def _versions(records: list[LoadedRecord]) -> dict[str, list[str]]:
    """Every distinct version string per component across the records (shown on the title page)."""
    out: dict[str, set[str]] = {}
    for loaded in records:
        for k, v in loaded.record.versions.items():
            if v is not None:
                out.setdefault(k, set()).add(str(v))
    return {k: sorted(v) for k, v in sorted(out.items())}


def collect(paths: list[Path]) -> pd.DataFrame:
    """Read every run record under `paths` (folders searched recursively, or record files) into a tidy frame.

    One row per (run, evaluation), columns `COLUMNS` plus one `axis:<path>` column per swept axis found in any
    record's `config.axes`. Failed runs keep one row with NaN accuracy and their `failure_reason`.

    Args:
        paths: folders and/or record files; any number of sweeps may be merged.

    Returns:
        The frame; `frame.attrs["notes"]` lists resolved duplicates and `frame.attrs["versions"]` the library
        versions found in the records.

    Raises:
        UserError: a path does not exist, no run record was found, or a record is malformed (naming the file).
    """
    paths = [Path(p) for p in paths]
    records, notes = load_records(paths)
    if not records:
        names = ", ".join(str(p) for p in paths) or "(no paths given)"
        raise UserError(f"{names}: no comma-bench run records (*.json with schema {SCHEMA!r}) found")
    return frame_from_records(records, notes)
