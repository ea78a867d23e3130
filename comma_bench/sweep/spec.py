"""Sweep files: the schema, strict validation with key-path errors, and `--set` overrides.

A sweep file declares *what* to run (protocol, datasets, methods, seeds, grid axes); `comma_bench.sweep.plan`
turns it into run configs. Validation is strict and happens before anything runs, because a typo found after six
hours of training costs six hours: an unknown key, a wrong type, or an unknown method / dataset / model name is one
`UserError` naming the file, the key path and the valid values. The schema is documented in `README.md` beside this
module; `SCHEMA_KEYS` below is the single source of the top-level keys.

Settings inside `grid`, `cases`, `rules` and `exclude` are *config paths*: the dotted path of a `RunConfig` field
(`shots`, `precision`, `optim.lr`, `backbone.model`) or `method_config.<field>` for a method setting. They are typed
and checked against the live dataclasses, so a field added to `RunConfig` or to a method config can be swept
without changing this module.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from comma_bench.config import BackboneConfig, OptimConfig, RunConfig
from comma_bench.config.schema import PRECISIONS
from comma_bench.errors import UserError
from comma_bench.protocols import get_protocol, list_protocols
from comma_bench.sweep import names, yamlio

_PROTOCOLS = tuple(list_protocols())
# The protocols that train on source datasets and evaluate `targets`, as the messages name them.
_TRANSFER = " / ".join(p for p in _PROTOCOLS if get_protocol(p).needs_targets)
# Top-level keys of a sweep file and what each is for (the README documents each in full).
SCHEMA_KEYS: dict[str, str] = {
    "name": "sweep name; results go to OUTPUT/<name>/",
    "description": "free text shown in the plan",
    "protocol": f"one of {', '.join(_PROTOCOLS)}",
    "datasets": f"dataset keys (the source datasets for {_TRANSFER})",
    "targets": f"{_TRANSFER}: datasets evaluated after source training",
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

# RunConfig fields a sweep sets through its own top-level keys, or that must not be swept.
_RESERVED = {
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
# Keys a `when` / `exclude` condition may test besides config paths.
_CONDITION_KEYS = ("method", "dataset", "seed", "case")
# String fields whose values are restricted (the dataclass types them as plain `str`).
_CHOICES: dict[str, tuple[str, ...]] = {"precision": PRECISIONS}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SEED_RANGE_RE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
MAX_SEEDS = 10_000  # a range longer than this is a typo (1-100000), not a protocol


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


# ------------------------------------------------------------------------------------------------ config paths


def _dataclass_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def run_paths() -> dict[str, Any]:
    """Settable config paths of `RunConfig` (besides `method_config.*`) -> type hint."""
    out: dict[str, Any] = {}
    nested = {"backbone": BackboneConfig, "optim": OptimConfig}
    for name, hint in _dataclass_hints(RunConfig).items():
        if name in nested:
            out.update({f"{name}.{k}": v for k, v in _dataclass_hints(nested[name]).items()})
        elif name not in _RESERVED:
            out[name] = hint
    return out


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value


def check_value(value: Any, hint: Any, where: str, choices: tuple[str, ...] | None = None) -> Any:
    """Strictly validate one value against a dataclass type hint; lists are accepted for tuple fields."""
    try:
        out = TypeAdapter(hint).validate_python(value, strict=True)
    except ValidationError:
        try:
            out = TypeAdapter(hint).validate_python(_tuplify(value), strict=True)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"].replace("Input should be", "expected")
            raise UserError(f"{where}: {msg}, got {value!r}") from None
    if choices is not None and out not in choices:
        raise UserError(f"{where}: unknown value {value!r}; valid values: {', '.join(choices)}")
    return value


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
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--set {assignment!r}: expected KEY.PATH=VALUE (e.g. --set seeds=[1])")
    value = yamlio.loads(raw, f"--set {key}")
    parts = key.strip().split(".")
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


# ------------------------------------------------------------------------------------------------ validation


class _Validator:
    """Checks one raw sweep document; every error names `<file>: <key.path>`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.paths = run_paths()

    def fail(self, path: str, msg: str) -> UserError:
        return UserError(f"{self.source}: {path}: {msg}" if path else f"{self.source}: {msg}")

    def mapping(self, value: Any, path: str, valid: typing.Iterable[str], required: tuple[str, ...] = ()) -> dict:
        valid = list(valid)
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping with keys {', '.join(valid)}, got {_show(value)}")
        for key in value:
            if key not in valid:
                raise self.fail(_join(path, key), f"unknown key; valid keys: {', '.join(valid)}")
        for key in required:
            if value.get(key) is None:
                raise self.fail(_join(path, key), "required key is missing")
        return value

    def typed(self, value: Any, hint: Any, path: str, choices: tuple[str, ...] | None = None) -> Any:
        try:
            return check_value(value, hint, f"{self.source}: {path}", choices)
        except UserError:
            raise
        except Exception as exc:  # pydantic cannot build a validator for an exotic hint
            raise self.fail(path, f"cannot check against {hint!r} ({exc})") from None

    def str_list(self, value: Any, path: str, valid: list[str] | None, kind: str, allow_empty: bool = False) -> tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(path, f"expected a {'' if allow_empty else 'non-empty '}list of {kind} names")
        seen: set[str] = set()
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{path}.{i}", f"expected a {kind} name, got {_show(item)}")
            if valid is not None and item not in valid:
                raise self.fail(f"{path}.{i}", f"unknown {kind} {item!r}; valid {kind}s: {', '.join(valid)}")
            if item in seen:
                raise self.fail(f"{path}.{i}", f"{item!r} is listed twice")
            seen.add(item)
        return tuple(value)

    # -- config paths ----------------------------------------------------------------------------------------

    def setting(self, key: Any, value: Any, path: str, methods: list[str]) -> None:
        """Check one `config.path: value` (grid values, case/rule settings) against the dataclasses."""
        where = _join(path, key)
        if not isinstance(key, str):
            raise self.fail(where, "expected a config path such as optim.lr or method_config.prompt_depth")
        if key.startswith("method_config."):
            fname = key.removeprefix("method_config.")
            owners = [m for m in methods if fname in names.method_fields(m)]
            if not owners:
                fields = sorted({f for m in methods for f in names.method_fields(m)})
                raise self.fail(
                    where,
                    f"no method of this sweep ({', '.join(methods)}) has a setting {fname!r}; "
                    f"valid: {', '.join('method_config.' + f for f in fields) or 'none'}",
                )
            for m in owners:
                self.typed(value, names.method_fields(m)[fname], where)
            return
        if key in _RESERVED:
            raise self.fail(where, f"{key!r} is set by the top-level key {_RESERVED[key]!r}, not here")
        if key not in self.paths:
            valid = [*sorted(self.paths), "method_config.<setting>"]
            raise self.fail(where, f"unknown config path {key!r}; valid paths: {', '.join(valid)}")
        self.typed(value, self.paths[key], where, _CHOICES.get(key))
        if key == "backbone.model":
            self.model(value, where)

    def condition(self, value: Any, path: str, methods: list[str], case_names: list[str]) -> dict[str, tuple]:
        """A `when` / `exclude` mapping: key -> value or list of values (any of them matches)."""
        value = self.mapping(value, path, [*_CONDITION_KEYS, *self.paths, *self._method_paths(methods)])
        if not value:
            raise self.fail(path, "expected at least one condition")
        out: dict[str, tuple] = {}
        for key, given in value.items():
            given = tuple(given) if isinstance(given, list) else (given,)
            accepted: list = []
            for i, item in enumerate(given):
                where = _join(path, key) + (f".{i}" if len(given) > 1 else "")
                if key == "method":
                    self.typed(item, str, where, tuple(names.method_names()))
                elif key == "dataset":
                    self.typed(item, str, where, tuple(names.dataset_names()))
                elif key == "seed" and _is_range(item):  # `seed: 2-20` tests every seed of the range
                    accepted.extend(self.seed_range(item, where))
                    continue
                elif key == "seed":
                    self.typed(item, int, where)
                elif key == "case":
                    self.typed(item, str, where, tuple(case_names))
                else:
                    self.setting(key, item, path, methods)
                accepted.append(item)
            out[key] = tuple(accepted)
        return out

    def seed_range(self, text: str, where: str) -> list[int]:
        """`"1-20"` -> [1, ..., 20]: START-END, both non-negative integers, START <= END, inclusive."""
        m = _SEED_RANGE_RE.match(text)
        if not m:
            raise self.fail(where, f"bad seed range {text!r}: expected START-END with integers, e.g. 1-20")
        start, end = int(m.group(1)), int(m.group(2))
        if end < start:
            raise self.fail(where, f"bad seed range {text!r}: the end {end} is below the start {start}")
        if end - start + 1 > MAX_SEEDS:
            raise self.fail(where, f"bad seed range {text!r}: {end - start + 1} seeds; at most {MAX_SEEDS}")
        return list(range(start, end + 1))

    def seeds(self, value: Any) -> tuple[int, ...]:
        """`seeds`: a list of integers and START-END ranges, or one range (`seeds: 1-20`), without repeats."""
        if isinstance(value, str):
            value = [value]
            paths = ["seeds"]
        else:
            paths = [f"seeds.{i}" for i in range(len(value))] if isinstance(value, list) else []
        if not isinstance(value, list) or not value:
            raise self.fail(
                "seeds", f"expected a non-empty list of integers or a range such as 1-20, got {_show(value)}"
            )
        out: list[int] = []
        for item, where in zip(value, paths):
            if _is_range(item):
                out.extend(self.seed_range(item, where))
            else:
                out.append(self.typed(item, int, where))
        if len(set(out)) != len(out):
            raise self.fail("seeds", "a seed is listed twice")
        return tuple(out)

    def _settable(self, methods: list[str]) -> list[str]:
        return [*sorted(self.paths), *self._method_paths(methods)]

    def _method_paths(self, methods: list[str]) -> list[str]:
        return sorted({f"method_config.{f}" for m in methods for f in names.method_fields(m)})

    def model(self, model: Any, where: str) -> None:
        valid = names.model_names()
        if model not in valid:
            raise self.fail(where, f"unknown model {model!r}; valid models: {', '.join(valid)}")

    def pretrained(self, model: str, tag: str, where: str) -> None:
        if tag == "none" or "/" in tag or tag.endswith((".safetensors", ".pt", ".pth", ".bin")):
            return  # random init, or a local weights file (checked when the run loads it)
        tags = names.pretrained_tags(model)
        if tag not in tags:
            valid = ", ".join([*tags, "none", "<path to a weights file>"])
            raise self.fail(where, f"unknown pretrained tag {tag!r} for {model}; valid tags: {valid}")

    # -- the document ----------------------------------------------------------------------------------------

    def run(self, doc: Any) -> SweepSpec:
        doc = self.mapping(doc, "", SCHEMA_KEYS, required=("name", "protocol", "datasets", "methods"))
        name = self.typed(doc["name"], str, "name")
        if not _NAME_RE.match(name):
            raise self.fail("name", f"{name!r} must be letters, digits, '_', '-' or '.' (it names a folder)")
        protocol = self.typed(doc["protocol"], str, "protocol", _PROTOCOLS)
        dataset_names = names.dataset_names()
        datasets = self.str_list(doc["datasets"], "datasets", dataset_names, "dataset")
        targets = self.str_list(doc.get("targets", []), "targets", dataset_names, "dataset", allow_empty=True)
        if get_protocol(protocol).needs_targets:
            if not targets:
                raise self.fail("targets", f"protocol {protocol} needs a non-empty list of target datasets")
            both = [d for d in datasets if d in targets]
            if both:
                raise self.fail("targets", f"{both[0]!r} is both a source (datasets) and a target")
        elif targets:
            raise self.fail("targets", f"only for {_TRANSFER}, not {protocol}")

        methods = self.methods(doc["methods"])
        method_list = [m.name for m in methods]
        seeds = self.seeds(doc.get("seeds", [1, 2, 3]))
        shots = self.typed(doc.get("shots", 16), int, "shots")

        backbone = self.mapping(doc.get("backbone", {}), "backbone", _dataclass_hints(BackboneConfig))
        for key, value in backbone.items():
            self.typed(value, _dataclass_hints(BackboneConfig)[key], f"backbone.{key}")
        model = backbone.get("model", BackboneConfig.model)
        self.model(model, "backbone.model")
        self.pretrained(model, backbone.get("pretrained", BackboneConfig.pretrained), "backbone.pretrained")
        optim = self.optim(doc.get("optim", {}), "optim")
        precision = self.typed(doc.get("precision", "auto"), str, "precision", PRECISIONS)

        grid = self.grid(doc.get("grid", {}), method_list)
        cases = self.cases(doc.get("cases", []), method_list, grid)
        case_names = [c.name for c in cases]
        rules = self.rules(doc.get("rules", []), method_list, case_names)
        exclude = doc.get("exclude", [])
        if not isinstance(exclude, list):
            raise self.fail("exclude", f"expected a list of conditions, got {_show(exclude)}")
        excl = tuple(self.condition(c, f"exclude.{i}", method_list, case_names) for i, c in enumerate(exclude))

        data_root = doc.get("data_root")
        if data_root is not None:
            self.typed(data_root, str, "data_root")
        output = self.typed(doc.get("output", "runs"), str, "output")
        description = self.typed(doc.get("description", ""), str, "description")
        resources = self.resources(doc.get("resources", {}))
        ray = self.mapping(doc.get("ray", {}), "ray", ("address", "max_concurrent", "max_failures"))
        address = ray.get("address")
        if address is not None:
            self.typed(address, str, "ray.address")
        max_concurrent = ray.get("max_concurrent")
        if max_concurrent is not None and (self.typed(max_concurrent, int, "ray.max_concurrent") < 1):
            raise self.fail("ray.max_concurrent", f"expected an integer >= 1, got {max_concurrent!r}")
        max_failures = self.typed(ray.get("max_failures", 0), int, "ray.max_failures")
        if max_failures < 0:
            raise self.fail("ray.max_failures", f"expected an integer >= 0, got {max_failures!r}")

        return SweepSpec(
            name=name,
            protocol=protocol,
            datasets=datasets,
            methods=methods,
            seeds=tuple(seeds),
            targets=targets,
            description=description,
            shots=shots,
            backbone=dict(backbone),
            optim=optim,
            precision=precision,
            grid=grid,
            cases=cases,
            rules=rules,
            exclude=excl,
            data_root=data_root,
            output=output,
            resources=resources,
            ray_address=address,
            max_concurrent=max_concurrent,
            max_failures=max_failures,
            source=self.source,
            document=doc,
        )

    def methods(self, value: Any) -> tuple[MethodEntry, ...]:
        valid = names.method_names()
        if isinstance(value, str | list):
            listed = self.str_list(value, "methods", valid, "method")
            return tuple(MethodEntry(m) for m in listed)
        if not isinstance(value, dict) or not value:
            expected = "expected a list of method names or a mapping name -> overrides"
            raise self.fail("methods", f"{expected}, got {_show(value)}")
        out = []
        for name, overrides in value.items():
            if name not in valid:
                raise self.fail(f"methods.{name}", f"unknown method {name!r}; valid methods: {', '.join(valid)}")
            fields = names.method_fields(name)
            overrides = self.mapping(overrides or {}, f"methods.{name}", [*fields, "optim"])
            config = {k: v for k, v in overrides.items() if k != "optim"}
            for key, v in config.items():
                self.typed(v, fields[key], f"methods.{name}.{key}")
            optim = self.optim(overrides.get("optim", {}), f"methods.{name}.optim")
            out.append(MethodEntry(name, config=config, optim=optim))
        return tuple(out)

    def optim(self, value: Any, path: str) -> dict[str, Any]:
        hints = _dataclass_hints(OptimConfig)
        value = self.mapping(value if value is not None else {}, path, hints)
        for key, v in value.items():
            self.typed(v, hints[key], f"{path}.{key}")
        return dict(value)

    def grid(self, value: Any, methods: list[str]) -> dict[str, tuple]:
        if not isinstance(value, dict):
            raise self.fail("grid", f"expected a mapping config.path -> list of values, got {_show(value)}")
        out: dict[str, tuple] = {}
        for key, values in value.items():
            where = _join("grid", key)
            if not isinstance(values, list) or not values:
                raise self.fail(where, f"expected a non-empty list of values, got {_show(values)}")
            for v in values:
                self.setting(key, v, "grid", methods)
            if len({repr(v) for v in values}) != len(values):
                raise self.fail(where, "a value is listed twice")
            out[key] = tuple(values)
        return out

    def cases(self, value: Any, methods: list[str], grid: dict[str, tuple]) -> tuple[Case, ...]:
        if not isinstance(value, list):
            raise self.fail("cases", f"expected a list of {{name, set}} mappings, got {_show(value)}")
        out: list[Case] = []
        for i, item in enumerate(value):
            path = f"cases.{i}"
            item = self.mapping(item, path, ("name", "set"), required=("name",))
            name = self.typed(item["name"], str, f"{path}.name")
            if name in [c.name for c in out]:
                raise self.fail(f"{path}.name", f"case {name!r} is defined twice")
            settings = self.mapping(item.get("set") or {}, f"{path}.set", self._settable(methods))
            for key, v in settings.items():
                self.setting(key, v, f"{path}.set", methods)
                if key in grid:
                    raise self.fail(f"{path}.set.{key}", "is also a grid axis; set a field in one place")
            out.append(Case(name, dict(settings)))
        return tuple(out)

    def rules(self, value: Any, methods: list[str], case_names: list[str]) -> tuple[Rule, ...]:
        if not isinstance(value, list):
            raise self.fail("rules", f"expected a list of {{when, set}} mappings, got {_show(value)}")
        out = []
        for i, item in enumerate(value):
            path = f"rules.{i}"
            item = self.mapping(item, path, ("when", "set"), required=("when", "set"))
            when = self.condition(item["when"], f"{path}.when", methods, case_names)
            settings = self.mapping(item["set"], f"{path}.set", self._settable(methods))
            if not settings:
                raise self.fail(f"{path}.set", "expected at least one setting")
            for key, v in settings.items():
                self.setting(key, v, f"{path}.set", methods)
            out.append(Rule(when, dict(settings)))
        return tuple(out)

    def resources(self, value: Any) -> Resources:
        value = self.mapping(value if value is not None else {}, "resources", ("cpus", "gpus"))
        cpus = self.typed(value.get("cpus", 1), float, "resources.cpus")
        if cpus <= 0:
            raise self.fail("resources.cpus", f"expected a number > 0, got {cpus!r}")
        gpus = value.get("gpus", "auto")
        if gpus == "auto":
            return Resources(cpus=float(cpus), gpus=None)
        if isinstance(gpus, bool) or not isinstance(gpus, int | float) or gpus < 0:
            raise self.fail("resources.gpus", f"expected 'auto' or a number >= 0 (0.25 packs 4 per GPU), got {gpus!r}")
        if gpus > 1 and gpus != int(gpus):
            raise self.fail("resources.gpus", f"more than one GPU per trial must be a whole number, got {gpus!r}")
        return Resources(cpus=float(cpus), gpus=float(gpus))


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _is_range(item: Any) -> bool:
    """A seed entry meant as a START-END range (other strings get the integer check and its message)."""
    return isinstance(item, str) and "-" in item


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def load_sweep(path: str | Path, sets: typing.Sequence[str] = ()) -> SweepSpec:
    """Read, override (`--set`) and validate a sweep file. Raises `UserError` (one line) on any problem."""
    doc = yamlio.load_file(path)
    _methods_as_mapping(doc)
    for assignment in sets:
        if not isinstance(doc, dict):
            break
        apply_set(doc, assignment)
        _methods_as_mapping(doc)
    return _Validator(str(path)).run(doc)


def _methods_as_mapping(doc: Any) -> None:
    """A list of method names becomes a mapping, so that `--set methods.coop.n_ctx=8` can address it."""
    listed = doc.get("methods") if isinstance(doc, dict) else None
    if isinstance(listed, list) and all(isinstance(m, str) for m in listed) and len(set(listed)) == len(listed):
        doc["methods"] = {m: {} for m in listed}
