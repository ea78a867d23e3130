"""The serial, Ray-free backend (`comma-bench run --local`): the same runs, records and locks, one at a time.

Useful for debugging (a breakpoint in the engine works; there is no worker process), and as the reference the Ray
backend is tested against. Locks are taken per run just before it starts, so two local drivers on one output folder
share the work instead of one skipping everything.
"""

from __future__ import annotations

from comma_bench.sweep.layout import SweepLayout
from comma_bench.sweep.locks import RunLocks
from comma_bench.sweep.plan import PlannedRun
from comma_bench.sweep.progress import Progress
from comma_bench.sweep.trial import run_one


def run_local(runs: list[PlannedRun], layout: SweepLayout, executor: str, progress: Progress) -> list[str]:
    """Execute `runs` in order; returns the ids found running in another driver."""
    locks = RunLocks(layout)
    elsewhere: list[str] = []
    try:
        for run in runs:
            if not locks.try_acquire(run.run_id):
                elsewhere.append(run.run_id)
                progress.total -= 1
                continue
            try:
                if layout.status(run.run_id) == "finished":  # finished by another driver since planning
                    progress.total -= 1
                    continue
                progress.start(run.run_id, run.label)
                progress.end(run_one(run.run_id, run.config, layout, executor))
            finally:
                locks.release(run.run_id)
    finally:
        locks.release_all()
    return elsewhere
