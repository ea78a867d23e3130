"""`comma-bench run`: plan a sweep, execute what is not done yet, summarise, and build the report.

Resume semantics (documented in README.md):
- a run whose record says "finished" is never run again, and its record is never rewritten;
- a run whose record says "failed" is retried by default (`retry_failed=False` keeps it failed); its earlier
  traceback files stay in `runs/failed/`, and the retry's record replaces the failed one;
- a run without a record starts, or resumes from `checkpoints/<run_id>/` if an earlier driver got that far.

Exit codes: 0 every run of the sweep finished; 1 some run is failed; 3 some run is neither finished nor failed
(running in another driver, or interrupted); 2 is the CLI's code for a problem with the input.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from comma_bench.errors import UserError, missing_extra
from comma_bench.records import write_json_atomic
from comma_bench.sweep import names
from comma_bench.sweep.layout import SweepLayout
from comma_bench.sweep.plan import PlannedRun, expand, trial_device
from comma_bench.sweep.progress import Progress, fmt_duration
from comma_bench.sweep.spec import SweepSpec
from comma_bench.sweep.trial import DEFAULT_EXECUTOR, resolve_executor

EXIT_OK, EXIT_FAILED, EXIT_INCOMPLETE = 0, 1, 3


@dataclass
class SweepResult:
    layout: SweepLayout
    runs: list[PlannedRun]
    status: dict[str, str] = field(default_factory=dict)  # run_id -> finished | failed | todo, at the end
    executed: int = 0  # runs this driver executed
    elsewhere: list[str] = field(default_factory=list)  # runs another driver held
    report: object = None  # what generate_report returned, if it ran
    exit_code: int = EXIT_OK


def _expand_path(value: str | None) -> str | None:
    return None if value is None else str(Path(os.path.expandvars(value)).expanduser().resolve())


def _check_data_root(spec: SweepSpec, data_root: str | None) -> None:
    needs = [d for d in (*spec.datasets, *spec.targets) if not names.dataset_is_builtin(d)]
    if not needs:
        if data_root is not None:
            from comma_bench.engine.run import ignored_data_root

            raise UserError(f"{spec.source}: {ignored_data_root(spec.datasets[0], data_root)}")
        return
    if data_root is None:
        raise UserError(
            f"{spec.source}: datasets {', '.join(needs)} need a data root: pass --data-root DIR or set data_root "
            "(the CoOp $DATA folder)"
        )
    if not Path(data_root).is_dir():
        raise UserError(f"data root {data_root!r} does not exist or is not a directory")


def _axes_text(run: PlannedRun) -> str:
    return " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in run.config.axes.items())


def print_plan(
    spec: SweepSpec,
    runs: list[PlannedRun],
    status: dict[str, str],
    todo: list[PlannedRun],
    layout: SweepLayout,
    backend: str,
    stream: TextIO,
    full: bool,
) -> None:
    counts = Counter(status.values())
    out = [f"sweep {spec.name} ({spec.protocol}) from {spec.source}"]
    if spec.description:
        out.append(f"  {spec.description}")
    out.append(f"  output    {layout.root}")
    out.append(
        f"  runs      {len(runs)} planned: {counts['finished']} finished, {counts['failed']} failed earlier, "
        f"{counts['todo']} without a record; {len(todo)} to run now"
    )
    gpus = "auto" if spec.resources.gpus is None else f"{spec.resources.gpus:g}"
    out.append(f"  backend   {backend}; per trial: {spec.resources.cpus:g} CPU, {gpus} GPU")
    if full:
        width = max(len(r.config.dataset) for r in runs)
        mwidth = max(len(r.config.method) for r in runs)
        out.append(f"  {'run_id':12}  {'status':8}  {'method':{mwidth}}  {'dataset':{width}}  seed  shots  axes")
        for r in runs:
            c = r.config
            out.append(
                f"  {r.run_id:12}  {status[r.run_id]:8}  {c.method:{mwidth}}  {c.dataset:{width}}  {c.seed:>4}  "
                f"{c.shots:>5}  {_axes_text(r)}".rstrip()
            )
        if spec.targets:
            out.append(f"  targets (evaluated by every run): {', '.join(spec.targets)}")
    print("\n".join(out), file=stream, flush=True)


def _write_plan(spec: SweepSpec, runs: list[PlannedRun], layout: SweepLayout) -> None:
    write_json_atomic(
        layout.plan_file,
        {
            "sweep": spec.name,
            "source": spec.source,
            "protocol": spec.protocol,
            "document": spec.document,
            "runs": [{"run_id": r.run_id, "label": r.label, "axes": r.config.axes} for r in runs],
        },
    )


def _generate_report(layout: SweepLayout, stream: TextIO) -> tuple[object, bool]:
    """Build the report from the records if `comma_bench.report` provides `generate_report`; (result, ok)."""
    try:
        from comma_bench.report import generate_report
    except ModuleNotFoundError as exc:
        problem = missing_extra(exc, "the report")
        if problem is None:
            raise
        print(f"report: skipped: {problem}", file=stream)
        return None, True
    try:
        result = generate_report([layout.runs], out_dir=layout.report)
    except UserError as exc:
        print(f"report: {exc}", file=stream)
        return None, True
    except Exception as exc:  # the records are intact: say so instead of hiding the sweep's outcome
        print(f"report: failed ({type(exc).__name__}: {exc}); the records are intact, rerun the report", file=stream)
        return None, False
    files = [Path(f) for f in getattr(result, "files", None) or []]
    main = next((f for f in files if f.suffix == ".md"), None) or next((f for f in files if f.suffix == ".pdf"), None)
    extra = f" ({len(files)} files in {layout.report})" if files else ""
    print(f"report: {main or layout.report}{extra}", file=stream)
    return result, True


def summarize(result: SweepResult, spec: SweepSpec, wall_s: float, stream: TextIO) -> None:
    counts = Counter(result.status.values())
    lines = [
        f"[{spec.name}] summary: {len(result.runs)} runs: {counts['finished']} finished, {counts['failed']} failed, "
        f"{counts['todo']} not done ({len(result.elsewhere)} running elsewhere); this driver ran {result.executed} "
        f"in {fmt_duration(wall_s)}"
    ]
    labels = {r.run_id: r.label for r in result.runs}
    for run_id, st in result.status.items():
        if st == "failed":
            rec = result.layout.read(run_id) or {}
            failure = rec.get("failure") or {}
            tb = failure.get("traceback_file")
            where = f" (traceback: {result.layout.runs / tb})" if tb else ""
            lines.append(f"  FAILED {run_id} {labels[run_id]}: {failure.get('reason')}{where}")
    for run_id in result.elsewhere:
        lines.append(f"  running elsewhere: {run_id} {labels[run_id]}")
    if counts["todo"]:
        lines.append(f"  {counts['todo']} runs not done: rerun the same command to resume them")
    lines.append(f"  records: {result.layout.runs}")
    print("\n".join(lines), file=stream, flush=True)


def run_sweep(
    spec: SweepSpec,
    *,
    output: str | None = None,
    data_root: str | None = None,
    address: str | None = None,
    max_concurrent: int | None = None,
    local: bool = False,
    executor: str = DEFAULT_EXECUTOR,
    dry_run: bool = False,
    retry_failed: bool = True,
    report: bool = True,
    stream: TextIO | None = None,
) -> SweepResult:
    """Plan and execute a validated sweep. CLI flags (arguments here) take precedence over the file."""
    stream = stream or sys.stdout
    t0 = time.time()
    data_root = _expand_path(data_root if data_root is not None else spec.data_root)
    address = address if address is not None else spec.ray_address
    max_concurrent = max_concurrent if max_concurrent is not None else spec.max_concurrent
    if max_concurrent is not None and max_concurrent < 1:
        raise UserError(f"--max-concurrent: expected an integer >= 1, got {max_concurrent}")
    layout = SweepLayout.create(_expand_path(output if output is not None else spec.output), spec.name)

    runs = expand(spec, data_root=data_root, device=trial_device(spec, local=local))
    status = {r.run_id: layout.status(r.run_id) for r in runs}
    todo = [r for r in runs if status[r.run_id] == "todo" or (retry_failed and status[r.run_id] == "failed")]
    backend = "local (serial, no Ray)" if local else f"ray ({address or 'local instance'})"
    if max_concurrent is not None:
        backend += f", at most {max_concurrent} at once"
    print_plan(spec, runs, status, todo, layout, backend, stream, full=dry_run)
    result = SweepResult(layout=layout, runs=runs, status=status)
    if dry_run:
        return result

    _check_data_root(spec, data_root)
    resolve_executor(executor)  # a bad --executor fails here, once, not in every trial
    layout.runs.mkdir(parents=True, exist_ok=True)
    _write_plan(spec, runs, layout)
    progress = Progress(spec.name, len(todo), stream)
    if todo:
        if local:
            from comma_bench.sweep.local import run_local

            result.elsewhere = run_local(todo, layout, executor, progress)
        else:
            try:
                import ray  # noqa: F401  (the backend imports it when it starts: fail here, with the install line)
            except ModuleNotFoundError as exc:
                raise (missing_extra(exc, "running a sweep on Ray (without --local)") or exc) from None
            from comma_bench.sweep.ray_backend import run_ray

            result.elsewhere = run_ray(
                todo,
                layout,
                executor,
                progress,
                resources=spec.resources,
                address=address,
                max_concurrent=max_concurrent,
                max_failures=spec.max_failures,
            )
    result.executed = progress.completed
    result.status = {r.run_id: layout.status(r.run_id) for r in runs}
    summarize(result, spec, time.time() - t0, stream)

    report_ok = True
    if report and any(s == "finished" for s in result.status.values()):
        result.report, report_ok = _generate_report(layout, stream)
    values = set(result.status.values())
    if "failed" in values or not report_ok:
        result.exit_code = EXIT_FAILED
    elif "todo" in values:
        result.exit_code = EXIT_INCOMPLETE
    return result
