"""Where a sweep's files live, and what the files on disk say about each run.

    OUTPUT/<sweep>/
      sweep.json                     the sweep after --set and its planned run ids (rewritten by each driver)
      runs/<run_id>.json             one record per run (finished, or failed with its reason)
      runs/failed/<run_id>.<UTC>.traceback.txt   one traceback per failed attempt (kept across retries)
      runs/.locks/<run_id>.lock      held by the driver that is running the run
      checkpoints/<run_id>/          the engine's per-epoch checkpoint (resume point; kept after the run)
      ray/                           Ray Tune's experiment folders (storage_path)
      report/                        the generated report

The record files are the source of truth: a run is done when `runs/<run_id>.json` says "finished". Everything is
addressed by path only, so the layout works the same for the driver and for Ray workers on other nodes (given
shared storage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SweepLayout:
    root: Path  # OUTPUT/<sweep>

    @classmethod
    def create(cls, output: str | Path, sweep: str) -> SweepLayout:
        return cls(Path(output).expanduser().resolve() / sweep)

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def failed(self) -> Path:
        return self.runs / "failed"

    @property
    def locks(self) -> Path:
        return self.runs / ".locks"

    @property
    def ray(self) -> Path:
        return self.root / "ray"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def plan_file(self) -> Path:
        return self.root / "sweep.json"

    def record(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.json"

    def checkpoint(self, run_id: str) -> Path:
        return self.root / "checkpoints" / run_id

    def lock(self, run_id: str) -> Path:
        return self.locks / f"{run_id}.lock"

    def read(self, run_id: str) -> dict[str, Any] | None:
        """The run's record, or None when there is none (or it is unreadable, e.g. written by hand)."""
        try:
            rec = json.loads(self.record(run_id).read_text())
        except (OSError, ValueError):
            return None
        return rec if isinstance(rec, dict) else None

    def status(self, run_id: str) -> str:
        """ "finished", "failed" or "todo" (no usable record)."""
        rec = self.read(run_id)
        if rec is None:
            return "todo"
        return "finished" if rec.get("status") == "finished" else "failed"
