"""`comma-bench train` and `comma-bench eval`: one run from the command line, written as one JSON record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from comma_bench.protocols import list_protocols


def _common(p: argparse.ArgumentParser, *, default_method: str | None) -> None:
    p.add_argument(
        "--method",
        default=default_method,
        required=default_method is None,
        help="coop, cocoop, maple or comma (zeroshot: `comma-bench eval`)"
        if default_method is None
        else "a method that needs no training: zeroshot (the others: `comma-bench train --method NAME`)",
    )
    p.add_argument("--dataset", required=True, help="dataset key (`comma-bench datasets list`)")
    p.add_argument("--protocol", default="base2novel", choices=list_protocols())
    p.add_argument("--targets", default="", help="comma-separated target datasets (cross_dataset / DG)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--shots", type=int, default=16, help="few-shot K (<= 0: the whole train split)")
    p.add_argument("--data-root", default=None, help="the CoOp $DATA folder (not needed for world/* datasets)")
    p.add_argument("--model", default="world-tiny", help="open_clip model name or a built-in one (world-tiny)")
    p.add_argument("--pretrained", default="builtin", help="tag (openai), weights file, builtin, or none")
    p.add_argument("--allow-torchscript", action="store_true", help="allow unsafe loading of OpenAI .pt archives")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field; VALUE is YAML, typed like a sweep setting: optim.lr=1e-3, method.n_ctx=4, "
        "shots=4 (repeatable)",
    )
    p.add_argument("--output", type=Path, default=None, help="write the run record (JSON) here")
    p.add_argument("--checkpoint-dir", type=Path, default=None, help="save per-epoch checkpoints here; resume from it")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train one method on one dataset and evaluate it per the protocol")
    _common(p, default_method=None)
    p.set_defaults(func=run_command)
    p = sub.add_parser("eval", help="evaluate a method without training (zero-shot CLIP) per the protocol")
    _common(p, default_method="zeroshot")
    p.set_defaults(func=run_command)


def build_config(args: argparse.Namespace):
    from comma_bench.config import BackboneConfig, RunConfig
    from comma_bench.config.overrides import apply_overrides

    targets = tuple(t for t in args.targets.split(",") if t)
    config = RunConfig(
        method=args.method,
        dataset=args.dataset,
        protocol=args.protocol,
        targets=targets,
        shots=args.shots,
        seed=args.seed,
        backbone=BackboneConfig(model=args.model, pretrained=args.pretrained, allow_torchscript=args.allow_torchscript),
        precision=args.precision,
        device=args.device,
        data_root=args.data_root,
    )
    return apply_overrides(config, args.overrides)


def format_metrics(metrics: dict[str, float]) -> str:
    return "  ".join(f"{k}={v:.2f}" for k, v in metrics.items())


def run_command(args: argparse.Namespace) -> int:
    from comma_bench.engine.run import execute_run
    from comma_bench.errors import UserError
    from comma_bench.methods import get_method_spec
    from comma_bench.records import write_record

    config = build_config(args)
    spec = get_method_spec(config.method)
    if args.command == "eval" and spec.trains:
        raise UserError(f"method {config.method!r} needs training: use `comma-bench train --method {config.method}`")
    if args.output is not None and args.output.exists() and args.output.is_dir():
        raise UserError(f"--output {args.output}: is a directory; expected a .json file path")
    record = execute_run(config, checkpoint_dir=args.checkpoint_dir, progress=not args.quiet)
    print(
        f"{config.method} on {config.dataset} ({config.protocol}, seed {config.seed}): {format_metrics(record.metrics)}"
    )
    if args.output is not None:
        write_record(args.output, record)
        print(f"record written to {args.output}", file=sys.stderr)
    return 0
