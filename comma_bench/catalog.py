"""`comma-bench list methods|models|datasets|protocols [PATTERN]`: what the registries hold, one name per line.

Every kind is read from its live registry (`comma_bench.registry`), so a method added as one file in `baselines/`
is listed without any other change. PATTERN is an fnmatch glob on the names (`'co*'`, `'world/*'`); a pattern that
matches nothing prints nothing and exits 0 (an empty listing is an answer, not an error). `models` lists the
built-in backbones first, then every open_clip architecture. `--long` adds what a registry knows of each entry beside
its name: a protocol's one-line summary, a method's paper.

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
    from comma_bench.protocols import list_protocols

    return list_protocols(pattern)


def _describe_method(name: str) -> str:
    from comma_bench.methods import get_method_spec

    return get_method_spec(name).paper


def _describe_protocol(name: str) -> str:
    from comma_bench.protocols import get_protocol

    return get_protocol(name).summary


# What `--long` prints beside a name, for the kinds whose entries carry a description.
DESCRIBERS: dict[str, Callable[[str], str]] = {"methods": _describe_method, "protocols": _describe_protocol}

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
    parser.add_argument(
        "--long", action="store_true", help="also print each entry's description (methods: paper; protocols: summary)"
    )
    parser.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    names = LISTERS[args.kind](args.pattern)
    describe = DESCRIBERS.get(args.kind) if args.long else None
    width = max((len(n) for n in names), default=0)
    for name in names:
        print(f"{name:<{width}}  {describe(name)}" if describe else name)
    return 0
