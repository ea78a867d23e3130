"""The `comma-bench` command: one argparse subcommand per job.

Each area of the package contributes its subcommands through a `commands.py` module with a
`register(subparsers)` function; handlers take the parsed namespace and return an exit code. Modules are imported
here only to build the parser, so they must not import torch, Ray or matplotlib at module level.

Errors in the user's input are raised as `UserError` anywhere below and printed here as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from comma_bench import __version__
from comma_bench.errors import EXIT_USER_ERROR, UserError

# Areas that contribute subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "comma_bench.catalog",  # list methods|models|datasets|protocols
    "comma_bench.engine.commands",  # train, eval
    "comma_bench.sweep.commands",  # run, validate
    "comma_bench.report.commands",  # report
    "comma_bench.data.commands",  # datasets list|check
    "comma_bench.world.commands",  # world pretrain|export
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comma-bench",
        description="Prompt learning on CLIP: COMMA, CoOp, CoCoOp, MaPLe, IVLP, VPT-deep and zero-shot CLIP, "
        "with sweeps and reports.",
    )
    parser.add_argument("--version", action="version", version=f"comma-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an area that is not installed in this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        for line in getattr(exc, "problems", None) or [str(exc)]:  # UserErrors: one line per problem
            print(f"comma-bench {args.command}: error: {line}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"comma-bench {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `comma-bench run --dry-run | head`: the reader stopped reading. Not an error of ours: no traceback, and
        # stdout goes to devnull so that the interpreter's final flush does not raise a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a program killed by it


if __name__ == "__main__":
    sys.exit(main())
