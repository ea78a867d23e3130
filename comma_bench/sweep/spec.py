"""Sweep files: the validated sweep (`SweepSpec`), `--set` on a sweep document, and `load_sweep`.

A sweep file declares *what* to run (protocol, datasets, methods, seeds, grid axes); `comma_bench.sweep.plan`
turns it into run configs. `load_sweep` reads the file (strict YAML), applies `--set` flags to the document (the
grammar of `comma_bench.config.overrides`), and validates it with the pydantic model of `sweepfile.py`, which
reports every problem of the file at once as `<file>: <key.path>: <message>`. The schema is documented in
`README.md` beside this module; `sweepfile.SCHEMA_KEYS` is the single source of the top-level keys.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comma_bench.config import yamlio
from comma_bench.config.overrides import parse_assignment
from comma_bench.errors import UserError


@dataclass(frozen=True)
class MethodEntry:
    name: str  # registry key (`comma`)
    config: dict[str, Any] = field(default_factory=dict)  # methods.<name>.<field>: method config overrides
    optim: dict[str, Any] = field(default_factory=dict)  # methods.<name>.optim: optimiser overrides for this method


@dataclass(frozen=True)
class Case:
    name: str  # label written into each run's `axes["case"]` (ablation table row)
    set: dict[str, Any]  # config path -> value, applied together


@dataclass(frozen=True)
class Rule:
    when: dict[str, tuple[Any, ...]]  # config path (or method/dataset/seed/case) -> accepted values
    set: dict[str, Any]  # config path -> value, applied when every `when` entry matches


@dataclass(frozen=True)
class Resources:
    cpus: float = 1.0  # CPUs reserved per trial (Ray also sets OMP_NUM_THREADS from it)
    gpus: float | None = None  # GPUs per trial; None = auto: 1 on a cluster with GPUs, else 0; fractions pack


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file (after `--set` overrides)."""

    name: str  # output subfolder and `RunConfig.sweep`
    protocol: str  # a `comma_bench.protocols` name
    datasets: tuple[str, ...]  # run datasets (sources for cross_dataset / DG)
    methods: tuple[MethodEntry, ...]  # in file order
    seeds: tuple[int, ...] = (1, 2, 3)  # the official scripts: seeds 1-3
    targets: tuple[str, ...] = ()  # cross_dataset / DG targets
    description: str = ""
    shots: int = 16  # official protocols use 16 shots
    backbone: dict[str, Any] = field(default_factory=dict)  # BackboneConfig overrides
    optim: dict[str, Any] = field(default_factory=dict)  # OptimConfig overrides for every method
    precision: str = "auto"
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # config path -> values (cross product)
    cases: tuple[Case, ...] = ()
    rules: tuple[Rule, ...] = ()
    exclude: tuple[dict[str, tuple[Any, ...]], ...] = ()
    data_root: str | None = None
    output: str = "runs"
    resources: Resources = field(default_factory=Resources)
    ray_address: str | None = None  # None: start a local Ray instance
    max_concurrent: int | None = None  # None: as many trials as resources allow
    max_failures: int = 0  # Ray-level retries of a trial whose process died (exceptions are recorded, not retried)
    source: str = ""  # the file it was read from (for messages)
    document: dict[str, Any] = field(default_factory=dict)  # the file after --set, for the plan snapshot


# ------------------------------------------------------------------------------------------------ --set


def _path_keyed(parents: list[str]) -> bool:
    """Mappings whose keys are dotted config paths, so the rest of a --set path is one key."""
    if parents == ["grid"]:
        return True
    if len(parents) == 2 and parents[0] == "exclude":
        return True
    return len(parents) == 3 and parents[0] in ("cases", "rules") and parents[2] in ("set", "when")


def apply_set(doc: dict[str, Any], assignment: str) -> None:
    """Apply one `--set key.path=value` (value parsed as YAML) to the raw sweep document, in place."""
    key, value = parse_assignment(assignment)
    parts = key.split(".")
    node: Any = doc
    parents: list[str] = []
    i = 0
    while True:
        if isinstance(node, dict) and _path_keyed(parents):
            part, last = ".".join(parts[i:]), True
        else:
            part, last = parts[i], i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise UserError(f"--set {key}: {'.'.join(parents)} is a list of {len(node)}; use an index 0..")
            index: Any = int(part)
        elif isinstance(node, dict):
            index = part
        else:
            raise UserError(f"--set {key}: {'.'.join(parents)} is not a mapping")
        if last:
            node[index] = value
            return
        if isinstance(node, dict) and not isinstance(node.get(index), dict | list):
            node[index] = {}
        node = node[index]
        parents.append(part)
        i += 1


def load_sweep(path: str | Path, sets: typing.Sequence[str] = ()) -> SweepSpec:
    """Read, override (`--set`) and validate a sweep file. Raises `UserError` (one line) on any problem."""
    doc = yamlio.load_file(path)
    _methods_as_mapping(doc)
    for assignment in sets:
        if not isinstance(doc, dict):
            break
        apply_set(doc, assignment)
        _methods_as_mapping(doc)
    from comma_bench.sweep.sweepfile import validate_document  # it builds the dataclasses of this module

    return validate_document(doc, str(path))


def _methods_as_mapping(doc: Any) -> None:
    """A list of method names becomes a mapping, so that `--set methods.coop.n_ctx=8` can address it."""
    listed = doc.get("methods") if isinstance(doc, dict) else None
    if isinstance(listed, list) and all(isinstance(m, str) for m in listed) and len(set(listed)) == len(listed):
        doc["methods"] = {m: {} for m in listed}
