"""One run of a sweep, as both backends execute it: call the engine, write exactly one record.

The same function runs in the driver (local backend) and inside a Ray Tune trial, so a run behaves identically
under both. Failure isolation lives here: any exception from the engine, including a NaN/inf loss
(`NonFiniteLossError`), becomes a "failed" record with its reason and a traceback file, and the sweep goes on.
"""

from __future__ import annotations

import importlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comma_bench.config import RunConfig
from comma_bench.errors import UserError
from comma_bench.records import SCHEMA, utc_now, versions, write_json_atomic
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


def resolve_executor(path: str) -> Callable[..., dict[str, Any]]:
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
) -> dict[str, Any]:
    """A schema-complete record for a run that raised (records.py: status "failed" with `failure`)."""
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
        from comma_bench.engine.run import resolved_config

        config_dict = resolved_config(config)
    except Exception:  # resolving may be what failed (an invalid method setting): keep what was asked for
        config_dict = config.to_dict()
    return {
        "schema": SCHEMA,
        "run_id": run_id,
        "status": "failed",
        "kind": kind,
        "config": config_dict,
        "evals": [],
        "metrics": {},
        "higher_is_better": {},
        "train": None,
        "trainable_params": None,
        "timings": {"wall_s": round(wall_s, 3)},
        "resources": {},
        "versions": vers,
        "created": utc_now(),
        "failure": {"reason": reason, "traceback_file": str(tb_path.relative_to(layout.runs))},
    }


def write_record(layout: SweepLayout, run_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """Write the run's record atomically, never replacing a finished one (records are immutable once finished).

    Returns the record that is on disk afterwards.
    """
    existing = layout.read(run_id)
    if existing is not None and existing.get("status") == "finished":
        return existing
    write_json_atomic(layout.record(run_id), record)
    return record


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
        record = fn(config, checkpoint_dir=checkpoint_dir, progress=False, on_epoch=on_epoch)
        if not isinstance(record, dict):
            raise TypeError(f"executor {executor} returned {type(record).__name__}, expected the record dict")
        # The file name is the planned id; the record must agree with it so a report can join the two.
        record = {**record, "run_id": run_id}
        record.setdefault("status", "finished")
    except Exception as exc:  # failure isolation: the sweep goes on, the reason is recorded
        record = failed_record(config, run_id, exc, traceback.format_exc(), time.time() - start, layout)
    record = write_record(layout, run_id, record)
    failure = record.get("failure") or {}
    return Outcome(
        run_id=run_id,
        status="finished" if record.get("status") == "finished" else "failed",
        reason=failure.get("reason"),
        wall_s=time.time() - start,
        metrics=dict(record.get("metrics") or {}),
    )
