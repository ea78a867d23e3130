"""`comma-bench datasets list|check`: what is registered, and what is present under a data root.

`check` reads every real dataset's full splits the way a run would and prints one line per dataset:

    <key>  found    train=<n> val=<n> test=<n>       (val=test for datasets whose val is the test split)
    <key>  missing  <first missing path>
    <key>  error    <one-line reason>               (present but unreadable: malformed split file, unknown class)

It exits 0 whenever it ran, whatever it found, so it can be used to survey a partial `$DATA`; a data root that does
not exist, or an unknown `--dataset` key, is a usage error (exit 2).
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "datasets", help="list registered datasets or check a CoOp data root", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)

    p_list = sub.add_parser("list", help="print the registered dataset keys, one per line")
    p_list.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern on keys (default: all)")
    p_list.set_defaults(func=_list)

    p_check = sub.add_parser(
        "check",
        help="report, per dataset, its split sizes or the first missing path (exit 0 whenever it ran)",
        description="Read each real dataset under --data-root in the CoOp layout and report what was found.",
    )
    p_check.add_argument("--data-root", required=True, metavar="DIR", help="the CoOp $DATA folder")
    p_check.add_argument(
        "--dataset", action="append", metavar="KEY", help="check only this dataset (repeatable; default: all real)"
    )
    p_check.set_defaults(func=_check)


def _list(args: argparse.Namespace) -> int:
    from comma_bench.data.registry import list_datasets

    for key in list_datasets(args.pattern):
        print(key)
    return 0


def _check(args: argparse.Namespace) -> int:
    from comma_bench.data.load import check_datasets
    from comma_bench.data.registry import get_dataset_info

    keys = None
    if args.dataset:
        keys = [get_dataset_info(k).key for k in args.dataset]  # unknown keys fail here, listing the valid ones
    results = check_datasets(args.data_root, keys)
    width = max((len(r.key) for r in results), default=0)
    for r in results:
        if r.status == "found":
            train, val, test = r.counts
            detail = f"train={train} val={val if r.has_val else 'test'} test={test}"
        elif r.status == "missing":
            detail = str(r.path)
        else:
            detail = r.message
        print(f"{r.key:<{width}}  {r.status:<7}  {detail}")
    return 0
