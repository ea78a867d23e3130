"""The sweep file as a pydantic model: every problem of a file at once, each as `<file>: <key.path>: <message>`.

A typo found after six hours of training costs six hours, and a typo found one per `validate` costs one round trip
each; so the whole file is checked before anything runs and every problem is reported together. `SweepFile` holds
the fixed shape (top-level keys, required ones, scalar types; `ResourcesItem`, `RayItem`, `CaseItem`, `RuleItem`).
The parts whose valid keys live in registries (method names and settings, datasets, models, config paths in
`grid` / `cases` / `rules` / `exclude`) are checked by field validators against the live registries (`checks.py`);
each reports all of its problems with their own key paths, and a check that needs another key (grid axes need the
methods) runs when that key is valid, so one mistake is reported once, not again by every key that depends on it.

Settings inside `grid`, `cases`, `rules` and `exclude` are config paths (`comma_bench.config.paths`): the dotted
path of a `RunConfig` field (`shots`, `optim.lr`, `backbone.model`) or `method_config.<field>` for a method setting.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from comma_bench.config.paths import dataclass_hints
from comma_bench.config.schema import PRECISIONS, PROTOCOLS, BackboneConfig
from comma_bench.errors import UserErrors
from comma_bench.protocols import get_protocol
from comma_bench.sweep import names
from comma_bench.sweep.checks import (
    Loc,
    Problems,
    SweepMethods,
    condition,
    is_range,
    mapping,
    model_name,
    name_list,
    optim_overrides,
    seed_range,
    setting,
    settings,
    show,
)
from comma_bench.sweep.spec import Case, MethodEntry, Resources, Rule, SweepSpec

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # the sweep name is a folder name
# The protocols that evaluate target datasets: the protocol objects say (`Protocol.needs_targets`).
TRANSFER = tuple(p for p in PROTOCOLS if get_protocol(p).needs_targets)

# Top-level keys of a sweep file and what each is for (the README documents each in full).
SCHEMA_KEYS: dict[str, str] = {
    "name": "sweep name; results go to OUTPUT/<name>/",
    "description": "free text shown in the plan",
    "protocol": f"one of {', '.join(PROTOCOLS)}",
    "datasets": "dataset keys (the source datasets for cross_dataset / domain_generalization)",
    "targets": "cross_dataset / domain_generalization: datasets evaluated after source training",
    "methods": "method names, or a mapping name -> per-method overrides (method settings and `optim`)",
    "seeds": "list of seeds, or a range such as 1-20 (default [1, 2, 3])",
    "shots": "shots per class (default 16)",
    "backbone": "{model, pretrained}",
    "optim": "optimiser overrides for every method (lr, epochs, batch_size, ...)",
    "precision": f"one of {', '.join(PRECISIONS)}",
    "grid": "config path -> list of values; the cross product is swept",
    "cases": "list of {name, set}: named variants, each setting several config paths together",
    "rules": "list of {when, set}: conditional settings (e.g. CoOp on ImageNet uses 50 epochs)",
    "exclude": "list of conditions; matching runs are dropped",
    "data_root": "the CoOp $DATA folder (not needed for built-in world/* datasets)",
    "output": "output folder (default runs)",
    "resources": "per trial: {cpus, gpus}",
    "ray": "{address, max_concurrent, max_failures}",
}


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ResourcesItem(_Shape):
    cpus: float = 1.0  # CPUs reserved per trial
    gpus: Any = "auto"  # "auto", or GPUs per trial (fractions pack several trials on one GPU)

    @field_validator("cpus")
    @classmethod
    def _positive(cls, cpus: float) -> float:
        if cpus <= 0:
            raise PydanticCustomError("sweep", "expected a number > 0, got {v}", {"v": repr(cpus)})
        return cpus

    @field_validator("gpus")
    @classmethod
    def _gpus(cls, gpus: Any) -> float | str:
        if gpus == "auto":
            return gpus
        if isinstance(gpus, bool) or not isinstance(gpus, int | float) or gpus < 0:
            raise PydanticCustomError(
                "sweep", "expected 'auto' or a number >= 0 (0.25 packs 4 per GPU), got {v}", {"v": repr(gpus)}
            )
        if gpus > 1 and gpus != int(gpus):
            msg = "more than one GPU per trial must be a whole number, got {v}"
            raise PydanticCustomError("sweep", msg, {"v": repr(gpus)})
        return gpus


class RayItem(_Shape):
    address: str | None = None  # None: start a local Ray instance
    max_concurrent: int | None = None  # at most this many trials at once
    max_failures: int = 0  # Ray-level retries of a trial whose process died

    @field_validator("max_concurrent")
    @classmethod
    def _at_least_one(cls, n: int | None) -> int | None:
        if n is not None and n < 1:
            raise PydanticCustomError("sweep", "expected an integer >= 1, got {v}", {"v": repr(n)})
        return n

    @field_validator("max_failures")
    @classmethod
    def _not_negative(cls, n: int) -> int:
        if n < 0:
            raise PydanticCustomError("sweep", "expected an integer >= 0, got {v}", {"v": repr(n)})
        return n


class CaseItem(_Shape):
    name: str  # label written into each run's axes["case"]
    set: dict[str, Any] | None = None  # config path -> value, applied together


class RuleItem(_Shape):
    when: dict[str, Any]  # condition: config path (or method/dataset/seed/case) -> accepted values
    set: dict[str, Any]  # config path -> value, applied when the condition matches


class SweepFile(_Shape):
    """The top-level shape; fields are validated in this order, so a check may use the keys above it."""

    # Defaults go through the validators too: `targets` absent is checked against the protocol like `targets: []`.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=True)

    name: str
    description: str = ""
    protocol: str
    datasets: Any
    targets: Any = []
    methods: Any
    seeds: Any = [1, 2, 3]
    shots: int = 16
    backbone: Any = {}
    optim: Any = {}
    precision: str = "auto"
    grid: Any = {}
    cases: list[CaseItem] = []
    rules: list[RuleItem] = []
    exclude: Any = []
    data_root: str | None = None
    output: str = "runs"
    resources: ResourcesItem = ResourcesItem()
    ray: RayItem = RayItem()

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        if not NAME_RE.match(name):
            msg = "{v} must be letters, digits, '_', '-' or '.' (it names a folder)"
            raise PydanticCustomError("sweep", msg, {"v": repr(name)})
        return name

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, protocol: str) -> str:
        return _one_of(protocol, PROTOCOLS)

    @field_validator("precision")
    @classmethod
    def _precision(cls, precision: str) -> str:
        return _one_of(precision, PRECISIONS)

    @field_validator("datasets")
    @classmethod
    def _datasets(cls, value: Any) -> tuple[str, ...]:
        p = Problems()
        out = name_list(p, value, (), names.dataset_names(), "dataset")
        p.raise_any()
        return out

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        p = Problems()
        targets = name_list(p, value, (), names.dataset_names(), "dataset", allow_empty=True)
        protocol, datasets = info.data.get("protocol"), info.data.get("datasets")
        if not p.items and protocol in TRANSFER:
            if not targets:
                p.add((), f"protocol {protocol} needs a non-empty list of target datasets", value)
            both = [d for d in datasets or () if d in targets]
            if both:
                p.add((), f"{both[0]!r} is both a source (datasets) and a target", value)
        elif not p.items and protocol is not None and targets:
            p.add((), f"only for {' / '.join(TRANSFER)}, not {protocol}", value)
        p.raise_any()
        return targets

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: Any) -> tuple[MethodEntry, ...]:
        p = Problems()
        valid = names.method_names()
        if isinstance(value, str | list):
            out = tuple(MethodEntry(m) for m in name_list(p, value, (), valid, "method"))
        elif not isinstance(value, dict) or not value:
            p.add((), f"expected a list of method names or a mapping name -> overrides, got {show(value)}", value)
            out = ()
        else:
            entries = []
            for name, overrides in value.items():
                if name not in valid:
                    p.add((name,), f"unknown method {name!r}; valid methods: {', '.join(valid)}", name)
                    continue
                fields = names.method_fields(name)
                overrides = mapping(p, overrides or {}, (name,), [*fields, "optim"]) or {}
                config = {k: v for k, v in overrides.items() if k != "optim" and p.check((name, k), v, fields[k])}
                optim = optim_overrides(p, overrides.get("optim", {}), (name, "optim"))
                entries.append(MethodEntry(name, config=config, optim=optim))
            out = tuple(entries)
        p.raise_any()
        return out

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: Any) -> tuple[int, ...]:
        """A list of integers and START-END ranges, or one range (`seeds: 1-20`), without repeats."""
        p = Problems()
        if isinstance(value, str):
            items, locs = [value], [()]
        elif isinstance(value, list) and value:
            items, locs = value, [(i,) for i in range(len(value))]
        else:
            p.add((), f"expected a non-empty list of integers or a range such as 1-20, got {show(value)}", value)
            items, locs = [], []
        out: list[int] = []
        for item, loc in zip(items, locs):
            if is_range(item):
                out.extend(seed_range(p, item, loc))
            elif p.check(loc, item, int):
                out.append(item)
        if not p.items and len(set(out)) != len(out):
            p.add((), "a seed is listed twice", value)
        p.raise_any()
        return tuple(out)

    @field_validator("backbone")
    @classmethod
    def _backbone(cls, value: Any) -> dict[str, Any]:
        p = Problems()
        hints = dataclass_hints(BackboneConfig)
        value = mapping(p, value if value is not None else {}, (), hints) or {}
        valid = {k: v for k, v in value.items() if p.check((k,), v, hints[k])}
        model = valid.get("model", BackboneConfig.model)
        tag = valid.get("pretrained", BackboneConfig.pretrained)
        if ("model" in valid or "model" not in value) and model_name(p, model, ("model",)):
            tag_ok = "pretrained" in valid or "pretrained" not in value
            problem = names.pretrained_problem(model, tag) if tag_ok else None
            if problem is not None:
                p.add(("pretrained",), problem, tag)
        p.raise_any()
        return valid

    @field_validator("optim")
    @classmethod
    def _optim_all(cls, value: Any) -> dict[str, Any]:
        p = Problems()
        out = optim_overrides(p, value, ())
        p.raise_any()
        return out

    @field_validator("grid")
    @classmethod
    def _grid(cls, value: Any, info: ValidationInfo) -> dict[str, tuple]:
        p = Problems()
        methods = SweepMethods(info.data.get("methods"))
        if not isinstance(value, dict):
            p.add((), f"expected a mapping config.path -> list of values, got {show(value)}", value)
            value = {}
        out: dict[str, tuple] = {}
        for key, values in value.items():
            if not isinstance(values, list) or not values:
                p.add((key,), f"expected a non-empty list of values, got {show(values)}", values)
                continue
            before = len(p.items)
            for v in values:
                setting(p, key, v, (key,), methods)
                if len(p.items) > before:
                    break  # one message per axis: the path, or the first value that does not fit
            if len({repr(v) for v in values}) != len(values):
                p.add((key,), "a value is listed twice", values)
            out[key] = tuple(values)
        p.raise_any()
        return out

    @field_validator("cases")
    @classmethod
    def _cases(cls, value: list[CaseItem], info: ValidationInfo) -> tuple[Case, ...]:
        p = Problems()
        methods = SweepMethods(info.data.get("methods"))
        grid = info.data.get("grid") or {}
        out: list[Case] = []
        for i, item in enumerate(value):
            if item.name in [c.name for c in out]:
                p.add((i, "name"), f"case {item.name!r} is defined twice", item.name)
            chosen = settings(p, item.set or {}, (i, "set"), methods)
            for key in chosen:
                if key in grid:
                    p.add((i, "set", key), "is also a grid axis; set a field in one place", key)
            out.append(Case(item.name, chosen))
        p.raise_any()
        return tuple(out)

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: list[RuleItem], info: ValidationInfo) -> tuple[Rule, ...]:
        p = Problems()
        methods = SweepMethods(info.data.get("methods"))
        cases = [c.name for c in info.data["cases"]] if "cases" in info.data else None
        out = []
        for i, item in enumerate(value):
            when = condition(p, item.when, (i, "when"), methods, cases)
            if not item.set:
                p.add((i, "set"), "expected at least one setting", item.set)
            out.append(Rule(when, settings(p, item.set, (i, "set"), methods)))
        p.raise_any()
        return tuple(out)

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, value: Any, info: ValidationInfo) -> tuple[dict[str, tuple], ...]:
        p = Problems()
        methods = SweepMethods(info.data.get("methods"))
        cases = [c.name for c in info.data["cases"]] if "cases" in info.data else None
        if not isinstance(value, list):
            p.add((), f"expected a list of conditions, got {show(value)}", value)
            value = []
        out = tuple(condition(p, c, (i,), methods, cases) for i, c in enumerate(value))
        p.raise_any()
        return out


def _one_of(value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        msg = "unknown value {v}; valid values: {valid}"
        raise PydanticCustomError("sweep", msg, {"v": repr(value), "valid": ", ".join(choices)})
    return value


def _valid_keys(loc: Loc) -> list[str]:
    """The keys of the model at `loc` (for "unknown key" / "expected a mapping" messages)."""
    model: type[BaseModel] = SweepFile
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _message(err: dict[str, Any]) -> str:
    kind, loc, given = err["type"], err["loc"], err.get("input")
    if kind == "sweep":
        return err["msg"]
    if kind == "extra_forbidden":
        return f"unknown key; valid keys: {', '.join(_valid_keys(loc[:-1]))}"
    if kind == "missing":
        return "required key is missing"
    if kind == "model_type":
        return f"expected a mapping with keys {', '.join(_valid_keys(loc))}, got {show(given)}"
    return f"{err['msg'].replace('Input should be', 'expected')}, got {given!r}"


def validate_document(doc: Any, source: str) -> SweepSpec:
    """The validated spec of a parsed sweep file; raises `UserErrors` with one line per problem."""
    try:
        f = SweepFile.model_validate(doc)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            path = ".".join(str(part) for part in err["loc"])
            lines.append(f"{source}: {path}: {_message(err)}" if path else f"{source}: {_message(err)}")
        raise UserErrors(lines) from None
    return SweepSpec(
        name=f.name,
        protocol=f.protocol,
        datasets=f.datasets,
        methods=f.methods,
        seeds=f.seeds,
        targets=f.targets,
        description=f.description,
        shots=f.shots,
        backbone=f.backbone,
        optim=f.optim,
        precision=f.precision,
        grid=f.grid,
        cases=f.cases,
        rules=f.rules,
        exclude=f.exclude,
        data_root=f.data_root,
        output=f.output,
        resources=Resources(
            cpus=float(f.resources.cpus), gpus=None if f.resources.gpus == "auto" else float(f.resources.gpus)
        ),
        ray_address=f.ray.address,
        max_concurrent=f.ray.max_concurrent,
        max_failures=f.ray.max_failures,
        source=source,
        document=doc,
    )
