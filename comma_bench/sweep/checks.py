"""Checks of sweep-file values against the live registries, each problem kept with its key path.

The validators of `sweepfile.SweepFile` call these for the parts of a file whose valid keys and values are not
fixed: registry names (methods, datasets, models), seeds and seed ranges, method settings and config paths in
`grid`, `cases`, `rules` and `exclude`. None of them stops at the first problem: each adds what it finds to a
`Problems`, which the validator raises as one pydantic `ValidationError` with a key path per problem.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from comma_bench.config.paths import CHOICES, dataclass_hints, run_paths, value_problem
from comma_bench.config.schema import OptimConfig
from comma_bench.sweep import names
from comma_bench.sweep.spec import MethodEntry

# RunConfig fields a sweep sets through its own top-level keys, or that must not be swept.
RESERVED = {
    "method": "methods",
    "dataset": "datasets",
    "targets": "targets",
    "protocol": "protocol",
    "seed": "seeds",
    "sweep": "name",
    "axes": "grid",
    "data_root": "data_root",
    "device": "resources",
    "method_config": "methods",
}
CONDITION_KEYS = ("method", "dataset", "seed", "case")  # what a `when` / `exclude` tests besides config paths
SEED_RANGE_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
MAX_SEEDS = 10_000  # a range longer than this is a typo (1-100000), not a protocol

Loc = tuple[str | int, ...]


class Problems:
    """The problems one validator finds, raised together as one `ValidationError` (pydantic merges them)."""

    def __init__(self) -> None:
        self.items: list[InitErrorDetails] = []

    def add(self, loc: Loc, msg: str, value: Any = None) -> None:
        err = PydanticCustomError("sweep", "{msg}", {"msg": msg})
        self.items.append(InitErrorDetails(type=err, loc=loc, input=value))

    def check(self, loc: Loc, value: Any, hint: Any, choices: tuple[str, ...] | None = None) -> bool:
        problem = value_problem(value, hint, choices)
        if problem is not None:
            self.add(loc, problem, value)
        return problem is None

    def raise_any(self) -> None:
        if self.items:
            raise ValidationError.from_exception_data("sweep", self.items)


def show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def is_range(item: Any) -> bool:
    """A seed entry meant as a START-END range (other strings get the integer check and its message)."""
    return isinstance(item, str) and "-" in item


def mapping(p: Problems, value: Any, loc: Loc, valid: typing.Iterable[str]) -> dict | None:
    """`value` if it is a mapping; an unknown key is reported (and dropped from what is returned)."""
    valid = list(valid)
    if not isinstance(value, dict):
        p.add(loc, f"expected a mapping with keys {', '.join(valid)}, got {show(value)}", value)
        return None
    for key in value:
        if key not in valid:
            p.add((*loc, key), f"unknown key; valid keys: {', '.join(valid)}", value[key])
    return {k: v for k, v in value.items() if k in valid}


def name_list(p: Problems, value: Any, loc: Loc, valid: list[str], kind: str, allow_empty: bool = False) -> tuple:
    """A list of registry names (one name alone is a list of one), without repeats."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or (not value and not allow_empty):
        p.add(loc, f"expected a {'' if allow_empty else 'non-empty '}list of {kind} names", value)
        return ()
    seen: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            p.add((*loc, i), f"expected a {kind} name, got {show(item)}", item)
        elif item not in valid:
            p.add((*loc, i), f"unknown {kind} {item!r}; valid {kind}s: {', '.join(valid)}", item)
        elif item in seen:
            p.add((*loc, i), f"{item!r} is listed twice", item)
        else:
            seen.append(item)
    return tuple(seen)


def seed_range(p: Problems, text: str, loc: Loc) -> list[int]:
    """`"1-20"` -> [1, ..., 20]: START-END, both non-negative integers, START <= END, inclusive."""
    m = SEED_RANGE_RE.match(text)
    if not m:
        p.add(loc, f"bad seed range {text!r}: expected START-END with integers, e.g. 1-20", text)
        return []
    start, end = int(m.group(1)), int(m.group(2))
    if end < start:
        p.add(loc, f"bad seed range {text!r}: the end {end} is below the start {start}", text)
        return []
    if end - start + 1 > MAX_SEEDS:
        p.add(loc, f"bad seed range {text!r}: {end - start + 1} seeds; at most {MAX_SEEDS}", text)
        return []
    return list(range(start, end + 1))


def optim_overrides(p: Problems, value: Any, loc: Loc) -> dict[str, Any]:
    hints = dataclass_hints(OptimConfig)
    value = mapping(p, value if value is not None else {}, loc, hints) or {}
    return {k: v for k, v in value.items() if p.check((*loc, k), v, hints[k])}


class SweepMethods:
    """What the config-path checks need to know about the sweep's methods."""

    def __init__(self, entries: tuple[MethodEntry, ...] | None) -> None:
        self.known = entries is not None  # False when `methods` itself is invalid: skip method-setting checks
        self.names = [m.name for m in entries or ()]
        self.paths = sorted({f"method_config.{f}" for m in self.names for f in names.method_fields(m)})


def setting(p: Problems, key: Any, value: Any, loc: Loc, methods: SweepMethods) -> None:
    """One `config.path: value` (grid values, case/rule settings) against the dataclasses and method configs."""
    if not isinstance(key, str):
        p.add(loc, "expected a config path such as optim.lr or method_config.prompt_depth", key)
        return
    if key.startswith("method_config."):
        if not methods.known:
            return
        fname = key.removeprefix("method_config.")
        owners = [m for m in methods.names if fname in names.method_fields(m)]
        if not owners:
            fields = sorted({f for m in methods.names for f in names.method_fields(m)})
            valid = ", ".join("method_config." + f for f in fields) or "none"
            p.add(loc, f"no method of this sweep ({', '.join(methods.names)}) has a setting {fname!r}; valid: {valid}")
            return
        for m in owners:
            if not p.check(loc, value, names.method_fields(m)[fname]):
                return
        return
    if key in RESERVED:
        p.add(loc, f"{key!r} is set by the top-level key {RESERVED[key]!r}, not here", key)
        return
    paths = run_paths(exclude=RESERVED)
    if key not in paths:
        valid = [*sorted(paths), "method_config.<setting>"]
        p.add(loc, f"unknown config path {key!r}; valid paths: {', '.join(valid)}", key)
        return
    if p.check(loc, value, paths[key], CHOICES.get(key)) and key == "backbone.model":
        model_name(p, value, loc)


def settings(p: Problems, value: Any, loc: Loc, methods: SweepMethods) -> dict[str, Any]:
    """A `set:` mapping of config paths (cases and rules)."""
    if not isinstance(value, dict):
        p.add(loc, f"expected a mapping config.path -> value, got {show(value)}", value)
        return {}
    for key, v in value.items():
        setting(p, key, v, (*loc, key), methods)
    return dict(value)


def condition(p: Problems, value: Any, loc: Loc, methods: SweepMethods, cases: list[str] | None) -> dict[str, tuple]:
    """A `when` / `exclude` mapping: key -> value or list of values (any of them matches)."""
    keys = [*CONDITION_KEYS, *run_paths(exclude=RESERVED), *methods.paths]
    if not methods.known and isinstance(value, dict):  # method settings cannot be checked without the methods
        keys += [k for k in value if isinstance(k, str) and k.startswith("method_config.")]
    value = mapping(p, value, loc, keys)
    if value is None:
        return {}
    if not value:
        p.add(loc, "expected at least one condition")
        return {}
    out: dict[str, tuple] = {}
    for key, given in value.items():
        given = tuple(given) if isinstance(given, list) else (given,)
        accepted: list = []
        for i, item in enumerate(given):
            where = (*loc, key, i) if len(given) > 1 else (*loc, key)
            if key == "method":
                p.check(where, item, str, tuple(names.method_names()))
            elif key == "dataset":
                p.check(where, item, str, tuple(names.dataset_names()))
            elif key == "seed" and is_range(item):  # `seed: 2-20` tests every seed of the range
                accepted.extend(seed_range(p, item, where))
                continue
            elif key == "seed":
                p.check(where, item, int)
            elif key == "case":
                if cases is not None:
                    p.check(where, item, str, tuple(cases))
            else:
                setting(p, key, item, (*loc, key), methods)
            accepted.append(item)
        out[key] = tuple(accepted)
    return out


def model_name(p: Problems, model: Any, loc: Loc) -> bool:
    valid = names.model_names()
    if model not in valid:
        p.add(loc, f"unknown model {model!r}; valid models: {', '.join(valid)}", model)
        return False
    return True
