"""Live progress of a sweep: one line per event, so it reads the same in a terminal, a log file or CI.

Both backends feed the same tracker: `start(run)` when a run begins, `end(outcome)` when its record is written.
The ETA is throughput-based (elapsed time / completed runs x remaining runs), which already accounts for how many
trials run in parallel.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from comma_bench.protocols import get_protocol, list_protocols
from comma_bench.sweep.trial import Outcome

# Each protocol's main number (`hm`, `accuracy`, `target_mean`), shown beside each finished run.
_HEADLINE = tuple(dict.fromkeys(get_protocol(p).headline_key for p in list_protocols()))


def fmt_duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, sweep: str, total: int, stream: TextIO | None = None) -> None:
        self.sweep = sweep
        self.total = total  # runs this driver executes
        self.stream = stream or sys.stdout
        self.t0 = time.time()
        self.t_first: float | None = None  # first trial start: the ETA excludes Ray's start-up
        self.running: dict[str, str] = {}  # run_id -> label
        self.labels: dict[str, str] = {}
        self.finished = 0
        self.failed = 0
        self.outcomes: list[Outcome] = []

    @property
    def completed(self) -> int:
        return self.finished + self.failed

    def eta(self) -> str:
        if not self.completed:
            return "?"
        remaining = self.total - self.completed
        return fmt_duration((time.time() - (self.t_first or self.t0)) / self.completed * remaining)

    def status_line(self) -> str:
        queued = self.total - self.completed - len(self.running)
        return (
            f"[{self.sweep}] {self.completed}/{self.total} done ({self.failed} failed), {len(self.running)} running, "
            f"{max(queued, 0)} queued | elapsed {fmt_duration(time.time() - self.t0)}, ETA {self.eta()}"
        )

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self, run_id: str, label: str) -> None:
        if run_id in self.running:
            return
        if self.t_first is None:
            self.t_first = time.time()
        self.running[run_id] = label
        self.labels[run_id] = label
        self._print(f"{self.status_line()} | start {label} [{run_id}]")

    def end(self, outcome: Outcome) -> None:
        label = self.running.pop(outcome.run_id, self.labels.get(outcome.run_id, outcome.run_id))
        self.outcomes.append(outcome)
        if outcome.status == "finished":
            self.finished += 1
            main = next((f"{k} {outcome.metrics[k]:.2f}" for k in _HEADLINE if k in outcome.metrics), "")
            what = f"ok {label}" + (f" ({main})" if main else "") + f" in {fmt_duration(outcome.wall_s)}"
        else:
            self.failed += 1
            what = f"FAILED {label}: {outcome.reason}"
        self._print(f"{self.status_line()} | {what}")
