"""`comma-bench run` and `comma-bench validate`: sweep files from the command line.

Nothing heavy is imported here (the CLI imports this module to build its parser); Ray is imported only when a sweep
actually executes on the Ray backend, never for `validate` or `run --dry-run`.
"""

from __future__ import annotations

import argparse


def _add_file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="sweep file (YAML), e.g. sweeps/quickstart.yaml")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a field of the sweep file; VALUE is YAML (--set seeds=[1] --set methods.coop.optim.epochs=2 "
        "--set grid.optim.lr=[0.001,0.01]); repeatable",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="expand a sweep file into runs and execute them with Ray Tune (resumable)",
        description="Expand a sweep into runs, print the plan, execute the runs that have no finished record as "
        "Ray Tune trials, then summarise and build the report. Rerunning resumes. Exit code: 0 all finished, "
        "1 some run failed, 2 bad input, 3 some run not done (running in another driver).",
    )
    _add_file_args(p)
    p.add_argument("--data-root", default=None, help="the CoOp $DATA folder (overrides data_root in the file)")
    p.add_argument("--output", default=None, help="output folder (overrides `output`; results go to OUTPUT/<name>/)")
    p.add_argument("--dry-run", action="store_true", help="print the plan (every run and its status) and stop")
    p.add_argument("--address", default=None, help="join an existing Ray cluster: auto, or ray://HOST:10001")
    p.add_argument("--max-concurrent", type=int, default=None, metavar="N", help="at most N trials at once")
    p.add_argument("--local", action="store_true", help="run serially in this process, without Ray (debugging)")
    p.add_argument(
        "--no-retry-failed", dest="retry_failed", action="store_false", help="leave runs recorded as failed alone"
    )
    p.add_argument("--no-report", dest="report", action="store_false", help="do not build the report at the end")
    p.add_argument(
        "--executor",
        default=None,
        metavar="MODULE:FUNCTION",
        help="function that executes one run (default: comma_bench.engine.run:execute_run)",
    )
    p.set_defaults(func=run_command)

    p = sub.add_parser("validate", help="check a sweep file (schema, names, run expansion) without running it")
    _add_file_args(p)
    p.set_defaults(func=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    from collections import Counter

    from comma_bench.sweep.plan import expand
    from comma_bench.sweep.spec import load_sweep

    spec = load_sweep(args.file, args.sets)
    runs = expand(spec)
    per_method = Counter(r.config.method for r in runs)
    methods = ", ".join(f"{m} {n}" for m, n in per_method.items())
    print(f"{args.file}: ok: sweep {spec.name!r} ({spec.protocol}), {len(runs)} runs ({methods})")
    return 0


def run_command(args: argparse.Namespace) -> int:
    from comma_bench.sweep.runner import run_sweep
    from comma_bench.sweep.spec import load_sweep
    from comma_bench.sweep.trial import DEFAULT_EXECUTOR

    spec = load_sweep(args.file, args.sets)
    result = run_sweep(
        spec,
        output=args.output,
        data_root=args.data_root,
        address=args.address,
        max_concurrent=args.max_concurrent,
        local=args.local,
        executor=args.executor or DEFAULT_EXECUTOR,
        dry_run=args.dry_run,
        retry_failed=args.retry_failed,
        report=args.report,
    )
    return result.exit_code
