"""One run of a sweep, as both backends execute it: call the engine, write exactly one record.

The same function runs in the driver (local backend) and inside a Ray Tune trial, so a run behaves identically
under both. Failure isolation lives here: any exception from the engine, including a NaN/inf loss
(`NonFiniteLossError`), becomes a "failed" record with its reason and a traceback file, and the sweep goes on.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comma_bench.config import CONTEXT_FIELDS, RunConfig
from comma_bench.errors import UserError
from comma_bench.record_schema import RunRecord
from comma_bench.records import utc_now, versions, write_json_atomic
from comma_bench.sweep.layout import SweepLayout

DEFAULT_EXECUTOR = "comma_bench.engine.run:execute_run"
OnEpoch = Callable[[int, dict[str, Any]], None]


@dataclass(frozen=True)
class Outcome:
    run_id: str
    status: str  # finished | failed
    reason: str | None = None  # failure reason (one line)
    wall_s: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)  # the record's protocol summary


def resolve_executor(path: str) -> Callable[..., RunRecord]:
    """`package.module:function` -> the function. The default is the engine's `execute_run`."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UserError(f"--executor {path}: module {module_name!r} not found") from None
        raise
    except AttributeError:
        raise UserError(f"--executor {path}: {module_name!r} has no function {attr!r}") from None
    if not callable(fn):
        raise UserError(f"--executor {path}: {attr!r} is not callable")
    return fn


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    reason = f"{type(exc).__name__}: {text}"
    return reason if len(reason) <= 500 else reason[:497] + "..."


def _traceback_file(layout: SweepLayout, run_id: str, text: str) -> Path:
    """A new file per failed attempt, so a retry never overwrites the traceback of an earlier failure."""
    layout.failed.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = layout.failed / f"{run_id}.{stamp}.traceback.txt"
    n = 1
    while path.exists():
        path = layout.failed / f"{run_id}.{stamp}-{n}.traceback.txt"
        n += 1
    path.write_text(text)
    return path


def failed_record(
    config: RunConfig, run_id: str, exc: BaseException, tb: str, wall_s: float, layout: SweepLayout
) -> RunRecord:
    """The record of a run that raised: status "failed" with its reason and the traceback file."""
    reason = _reason(exc)
    header = f"run {run_id} failed: {reason}\nconfig: {json.dumps(config.to_dict(), sort_keys=True, default=str)}\n\n"
    tb_path = _traceback_file(layout, run_id, header + tb)
    try:
        from comma_bench.sweep.names import method_trains

        kind = "train" if method_trains(config.method) else "eval"
    except Exception:  # the registry itself may be what failed; the record must still be written
        kind = "train"
    try:
        vers: dict[str, Any] = versions()
    except Exception:
        vers = {}
    try:  # the same resolved form a finished record holds, so the two compare field by field
        from comma_bench.config.resolve import resolved_config

        config_dict = resolved_config(config)
    except Exception:  # resolving may be what failed (an invalid method setting): keep what was asked for
        config_dict = config.to_dict()
    return RunRecord(
        run_id=run_id,
        status="failed",
        kind=kind,
        config={k: v for k, v in config_dict.items() if k not in CONTEXT_FIELDS},
        context=dataclasses.asdict(config.context),
        timings={"wall_s": round(wall_s, 3)},
        versions=vers,
        created=utc_now(),
        failure={"reason": reason, "traceback_file": str(tb_path.relative_to(layout.runs))},
    )


def write_record(layout: SweepLayout, run_id: str, record: RunRecord) -> RunRecord | dict[str, Any]:
    """Write the run's record atomically, never replacing a finished one (records are immutable once finished).

    Returns what is on disk afterwards: `record`, or the finished record found there (as read, a dict).
    """
    existing = layout.read(run_id)
    if existing is not None and existing.get("status") == "finished":
        return existing
    write_json_atomic(layout.record(run_id), record.to_json())
    return record


def as_record(result: Any, executor: str) -> RunRecord:
    """What an executor returned, as a valid `RunRecord` (a dict in the record layout is validated)."""
    if isinstance(result, RunRecord):
        return result
    if isinstance(result, dict):
        return RunRecord.load(result, f"executor {executor}")
    raise TypeError(f"executor {executor} returned {type(result).__name__}, expected a RunRecord")


def run_one(
    run_id: str,
    config: RunConfig | dict[str, Any],
    layout: SweepLayout,
    executor: str = DEFAULT_EXECUTOR,
    on_epoch: OnEpoch | None = None,
) -> Outcome:
    """Execute one planned run through `executor` and write its record (finished or failed)."""
    if isinstance(config, dict):
        config = RunConfig.from_dict(config)
    checkpoint_dir = layout.checkpoint(run_id)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    try:
        fn = resolve_executor(executor)
        record = as_record(fn(config, checkpoint_dir=checkpoint_dir, progress=False, on_epoch=on_epoch), executor)
        # The file name is the planned id; the record must agree with it so a report can join the two.
        record = record.model_copy(update={"run_id": run_id})
    except Exception as exc:  # failure isolation: the sweep goes on, the reason is recorded
        record = failed_record(config, run_id, exc, traceback.format_exc(), time.time() - start, layout)
    on_disk = write_record(layout, run_id, record)
    if isinstance(on_disk, dict):  # a finished record another driver wrote first
        return Outcome(run_id, "finished", None, time.time() - start, dict(on_disk.get("metrics") or {}))
    return Outcome(
        run_id=run_id,
        status=on_disk.status,
        reason=on_disk.failure.reason if on_disk.failure is not None else None,
        wall_s=time.time() - start,
        metrics=dict(on_disk.metrics),
    )
