"""Run records: one immutable JSON file per run, the only input reports ever read.

The record's fields are typed in `comma_bench.record_schema.RunRecord` (pydantic); this module owns the run id, the
versions recorded, and atomic reading and writing. Layout (``schema == "comma-bench/run/2"``)::

    {
      "schema": "comma-bench/run/2",
      "run_id": "3f2a9c01d4e5",            # stable hash of the resolved, hashed config (`run_id(config)`)
      "status": "finished" | "failed",
      "kind": "eval" | "train",              # eval: no training (zero-shot); train: prompt learning then eval
      "config": {                            # the resolved RunConfig without its context, as plain JSON: hashed
        "method": "comma", "method_config": {...}, "protocol": "base2novel",
        "dataset": "oxford_pets", "targets": [], "shots": 16, "seed": 1,
        "backbone": {"model": "ViT-B-16", "pretrained": "openai"},
        "optim": {"lr": 0.0035, "epochs": 5, "batch_size": 4, ...}, "precision": "fp16"
      },
      "context": {"device": "auto", "data_root": "/data", "sweep": "base2novel", "axes": {...}},   # not hashed
      "evals": [                             # one entry per evaluated (dataset, class subset)
        {"dataset": "oxford_pets", "subset": "base", "n_classes": 19, "n_images": 1881,
         "accuracy": 95.43, "macro_f1": 95.1},
        {"dataset": "oxford_pets", "subset": "new", ...}
      ],
      "metrics": {"base": 95.43, "novel": 97.76, "hm": 96.58},   # protocol summary, percent
      "higher_is_better": {"base": true, "novel": true, "hm": true},
      "train": {"loss_per_epoch": [...], "ce_per_epoch": [...], "aux_per_epoch": {"kd": [...]},
                "lr_per_epoch": [...], "steps": 40, "images_per_s": 12.3},   # null for eval records
      "trainable_params": 5934336,
      "timings": {"wall_s": 812.4, "train_s": 700.1, "eval_s": 112.3},
      "resources": {"device": "cuda:0", "precision": "bf16", "threads": 8, "peak_rss_mb": 2310.0},
      "data": {"fewshot_source": "sampled", "n_train": 304, "n_classes": 19,
               "split_fingerprint": "9c1e2f0a7b3d4e55"},   # hash of the train images and class halves
                                                            # (comma_bench/data/fingerprint.py); not in the run id
      "backbone": {"model": "ViT-B-16", "pretrained": "openai", "quick_gelu": true, ...},
      "versions": {"comma_bench": "0.1.0", "torch": "...", "open_clip": "...", "python": "3.11.7",
                   "git_commit": "abc123..." | null},
      "created": "2026-11-29T03:50:00Z",
      "failure": null | {"reason": "loss is NaN at epoch 2 step 3", "traceback_file": "failed/<run_id>.traceback.txt"}
    }

`subset` is "base", "new" or "all". For cross-dataset and domain-generalisation runs the source dataset is
evaluated with subset "all" and each target dataset likewise; `metrics` then holds "source" plus one key per target
and "target_mean". Records of schema `comma-bench/run/1` (the context inside `config`) are still read.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from comma_bench.config.schema import CONTEXT_FIELDS
from comma_bench.errors import UserError
from comma_bench.record_schema import LEGACY_SCHEMAS, SCHEMA, RunRecord

# Keys that configs of earlier versions carried and the id never hashed (besides today's context fields).
_NEVER_HASHED = frozenset({*CONTEXT_FIELDS, "context", "output_dir", "num_workers", "progress"})


def canonical_json(obj: Any) -> str:
    """Key-sorted, compact JSON: the canonical form hashed into run ids."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def run_id(config: dict[str, Any]) -> str:
    """Stable 12-hex-digit id of a resolved run config: a record's `config`, or a full `RunConfig.to_dict()`.

    The run context (and keys older configs carried that never changed a number) is left out, so a record's
    hashed `config` and the full config it came from get one id, and ids written by earlier versions still hold.
    """
    stable = {k: v for k, v in config.items() if k not in _NEVER_HASHED}
    return hashlib.sha256(canonical_json(stable).encode()).hexdigest()[:12]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str | None]:
    """Versions of everything that can change a number, recorded in every run."""
    import open_clip
    import torch

    from comma_bench import __version__

    return {
        "comma_bench": __version__,
        "torch": torch.__version__,
        "open_clip": open_clip.__version__,
        "python": platform.python_version(),
        "cuda": torch.version.cuda,
        "git_commit": _git_commit(),
        "platform": platform.platform(),
    }


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write JSON through a temporary file in the same directory and rename it into place.

    A crash at any point leaves either the old file or the complete new one, never half a record.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=2, sort_keys=False, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_record(path: str | Path) -> RunRecord:
    """Load and validate one record, with a one-line error for a file that is not a valid comma-bench run record."""
    path = Path(path)
    try:
        rec = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable JSON run record ({exc.__class__.__name__})") from None
    if not isinstance(rec, dict) or rec.get("schema") not in (SCHEMA, *LEGACY_SCHEMAS):
        raise UserError(f"{path}: not a comma-bench run record (expected schema {SCHEMA!r})")
    return RunRecord.load(rec, str(path))


def write_record(path: str | Path, record: RunRecord) -> Path:
    """Write a record atomically, in its documented JSON layout."""
    return write_json_atomic(path, record.to_json())
