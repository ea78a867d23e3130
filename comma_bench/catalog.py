"""`comma-bench list methods|models|datasets|protocols [PATTERN]`: what the registries hold, one name per line.

Every kind is read from its live registry (`comma_bench.registry`), so a method added as one file in `baselines/`
is listed without any other change. PATTERN is an fnmatch glob on the names (`'co*'`, `'world/*'`); a pattern that
matches nothing prints nothing and exits 0 (an empty listing is an answer, not an error). `models` lists the
built-in backbones first, then every open_clip architecture.

This module is imported to build the parser, so it imports the registries only inside the handler.
"""

from __future__ import annotations

import argparse
import fnmatch
from collections.abc import Callable

KINDS = ("methods", "models", "datasets", "protocols")


def _methods(pattern: str) -> list[str]:
    from comma_bench.methods import list_methods

    return list_methods(pattern)


def _models(pattern: str) -> list[str]:
    import open_clip

    from comma_bench.clip.zoo import list_builtin_models

    builtin = list_builtin_models(pattern)
    return builtin + [m for m in open_clip.list_models() if fnmatch.fnmatch(m, pattern) and m not in builtin]


def _datasets(pattern: str) -> list[str]:
    from comma_bench.data.registry import list_datasets

    return list_datasets(pattern)


def _protocols(pattern: str) -> list[str]:
    from comma_bench.config.schema import PROTOCOL_REGISTRY

    return PROTOCOL_REGISTRY.names(pattern)


LISTERS: dict[str, Callable[[str], list[str]]] = {
    "methods": _methods,
    "models": _models,
    "datasets": _datasets,
    "protocols": _protocols,
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="list registered methods, models, datasets or protocols", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("kind", choices=KINDS, help="what to list")
    parser.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern on the names (default: all)")
    parser.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    for name in LISTERS[args.kind](args.pattern):
        print(name)
    return 0
