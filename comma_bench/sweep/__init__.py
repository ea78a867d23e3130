"""Sweeps: declarative sweep files expanded into runs and scheduled with Ray Tune (or serially with `--local`).

- `load_sweep(path, sets)` reads and strictly validates a sweep file (`spec.py`; schema in README.md).
- `expand(spec)` turns it into `PlannedRun`s, each with a stable run id (`expand.py`).
- `run_sweep(spec, ...)` executes what is not finished yet and writes one record per run (`runner.py`).

Attributes are imported on first use so that `import comma_bench.sweep` stays cheap and never imports Ray.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PlannedRun", "SweepSpec", "expand", "load_sweep", "run_sweep"]

_WHERE = {
    "load_sweep": "comma_bench.sweep.spec",
    "SweepSpec": "comma_bench.sweep.spec",
    "expand": "comma_bench.sweep.plan",
    "PlannedRun": "comma_bench.sweep.plan",
    "run_sweep": "comma_bench.sweep.runner",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'comma_bench.sweep' has no attribute {name!r}")
