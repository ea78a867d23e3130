"""Config paths: the dotted names of `RunConfig` fields (`shots`, `optim.lr`, `backbone.model`) and their types.

A `--set` on one run and a sweep file's `grid` / `cases` / `rules` address fields the same way and check values
against the same dataclass hints, so a field added to `RunConfig` can be set and swept without touching either.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from comma_bench.config.schema import PRECISIONS, PROTOCOLS, BackboneConfig, OptimConfig, RunConfig
from comma_bench.errors import UserError

NESTED = {"backbone": BackboneConfig, "optim": OptimConfig}
# String fields whose values are restricted (the dataclass types them as plain `str`).
CHOICES: dict[str, tuple[str, ...]] = {"precision": PRECISIONS, "protocol": PROTOCOLS}


def dataclass_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def run_paths(exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Settable config paths of `RunConfig` (besides `method_config.*`) -> type hint, without `exclude`."""
    skip = {"method_config", *exclude}
    out: dict[str, Any] = {}
    for name, hint in dataclass_hints(RunConfig).items():
        if name in NESTED:
            out.update({f"{name}.{k}": v for k, v in dataclass_hints(NESTED[name]).items()})
        elif name not in skip:
            out[name] = hint
    return out


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value


def value_problem(value: Any, hint: Any, choices: tuple[str, ...] | None = None) -> str | None:
    """What is wrong with `value` for a field typed `hint` (strict; lists accepted for tuples), or None."""
    try:
        try:
            out = TypeAdapter(hint).validate_python(value, strict=True)
        except ValidationError:
            try:
                out = TypeAdapter(hint).validate_python(_tuplify(value), strict=True)
            except ValidationError as exc:
                msg = exc.errors()[0]["msg"].replace("Input should be", "expected")
                return f"{msg}, got {value!r}"
    except Exception as exc:  # pydantic cannot build a validator for an exotic hint
        return f"cannot check against {hint!r} ({exc})"
    if choices is not None and out not in choices:
        return f"unknown value {value!r}; valid values: {', '.join(choices)}"
    return None


def check_value(value: Any, hint: Any, where: str, choices: tuple[str, ...] | None = None) -> Any:
    """`value_problem` as a one-line `UserError` naming `where`; returns the value as given."""
    problem = value_problem(value, hint, choices)
    if problem is not None:
        raise UserError(f"{where}: {problem}")
    return value
