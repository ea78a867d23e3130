"""Expand a validated sweep into the list of runs it stands for, each with a stable id.

Order of precedence for a field (later wins): `RunConfig` / method defaults < top-level `shots`, `precision`,
`backbone`, `optim` < `methods.<name>` overrides < the run's case < its grid values < `rules` (in file order).
`exclude` is tested last, on the final values.

An axis or case that sets `method_config.<field>` applies only to methods whose config has that field, and `optim.*`
only to methods that train; the others run once for that axis, so a prompt-depth or learning-rate sweep can list
zero-shot CLIP and CoOp as reference rows without running them once per value. Runs whose resolved configs coincide
are kept once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from comma_bench.config import BackboneConfig, OptimConfig, RunConfig
from comma_bench.config.resolve import resolve_precision, resolved_config
from comma_bench.errors import UserError
from comma_bench.records import run_id as record_run_id
from comma_bench.sweep import names
from comma_bench.sweep.spec import Case, MethodEntry, SweepSpec


@dataclass(frozen=True)
class PlannedRun:
    run_id: str  # stable hash of the resolved config: the record's file name and the lock's name
    config: RunConfig  # what the engine runs
    label: str  # short human-readable name for the plan and progress lines


def trial_device(spec: SweepSpec, *, local: bool = False) -> str:
    """The device kind ("cpu" or "cuda") the sweep's runs will compute on: what `precision: auto` resolves for.

    `--local` runs in this process, on CUDA where this machine has it. Under Ray a trial sees a GPU only if it asks
    for one: `resources.gpus: 0` is the CPU, a positive count CUDA, `auto` CUDA where this machine has it (on a
    joined cluster, the driver's view: set `resources.gpus` or `precision` explicitly when they differ).
    """
    import torch

    gpus = None if local else spec.resources.gpus
    if gpus is not None:
        return "cuda" if gpus > 0 else "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def config_run_id(config: RunConfig) -> str:
    """The run id: the hash of the resolved config (every default filled in), exactly as the engine computes it.

    Resolving first means that writing a default explicitly (`n_ctx: 2` for COMMA) does not change the id.
    """
    return record_run_id(resolved_config(config))


def _applies(path: str, method: str) -> bool:
    """Whether setting `path` can change what `method` computes (else its axis collapses for that method)."""
    if path.startswith("method_config."):
        return path.removeprefix("method_config.") in names.method_fields(method)
    if path.startswith("optim.") and path != "optim.test_batch_size":
        return names.method_trains(method)  # zero-shot CLIP has no optimiser: an lr axis must not repeat it
    return True


def _case_variants(cases: tuple[Case, ...], method: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(case name, settings) for one method; cases that do not touch this method collapse into one run."""
    if not cases:
        return [(None, {})]
    filtered = [(c.name, {k: v for k, v in c.set.items() if _applies(k, method)}) for c in cases]
    if not any(settings for _, settings in filtered):
        return [(None, {})]  # no case changes anything for this method: run it once, unlabelled
    out: list[tuple[str | None, dict[str, Any]]] = []
    seen: list[dict[str, Any]] = []
    for name, settings in filtered:
        if settings not in seen:
            seen.append(settings)
            out.append((name, settings))
    return out


def _defaults(method: str) -> dict[str, Any]:
    """Flat defaults used when a `when` / `exclude` condition tests a field the sweep does not set."""
    out: dict[str, Any] = {"shots": RunConfig.__dataclass_fields__["shots"].default}
    out.update({f"backbone.{k}": v.default for k, v in BackboneConfig.__dataclass_fields__.items()})
    out.update({f"optim.{k}": v.default for k, v in OptimConfig.__dataclass_fields__.items()})
    out.update({f"optim.{k}": v for k, v in (getattr(names.method_spec(method), "default_optim", None) or {}).items()})
    out.update({f"method_config.{k}": v for k, v in names.method_defaults(method).items()})
    return out


def _matches(condition: dict[str, tuple[Any, ...]], state: dict[str, Any], defaults: dict[str, Any]) -> bool:
    return all(state.get(key, defaults.get(key)) in accepted for key, accepted in condition.items())


def _base_state(spec: SweepSpec, entry: MethodEntry) -> dict[str, Any]:
    state: dict[str, Any] = {"shots": spec.shots, "precision": spec.precision}
    state.update({f"backbone.{k}": v for k, v in spec.backbone.items()})
    state.update({f"optim.{k}": v for k, v in spec.optim.items()})
    state.update({f"optim.{k}": v for k, v in entry.optim.items()})
    state.update({f"method_config.{k}": v for k, v in entry.config.items()})
    return state


def _build(spec: SweepSpec, state: dict[str, Any], axes: dict[str, Any], data_root: str | None) -> RunConfig:
    nested: dict[str, dict[str, Any]] = {"backbone": {}, "optim": {}, "method_config": {}}
    top: dict[str, Any] = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        if head in nested and rest:
            nested[head][rest] = value
        elif head not in ("method", "dataset", "seed", "case"):
            top[key] = tuple(value) if isinstance(value, list) else value
    return RunConfig(
        method=state["method"],
        dataset=state["dataset"],
        protocol=spec.protocol,
        targets=spec.targets,
        seed=state["seed"],
        backbone=BackboneConfig(**nested["backbone"]),
        optim=OptimConfig(**nested["optim"]),
        method_config=nested["method_config"],
        data_root=data_root if not all(map(names.dataset_is_builtin, (state["dataset"], *spec.targets))) else None,
        sweep=spec.name,
        axes=axes,
        **top,
    )


def _label(config: RunConfig) -> str:
    extra = " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in config.axes.items())
    return " ".join(x for x in (config.method, config.dataset, f"seed={config.seed}", extra) if x)


class _Checks:
    """Per-run checks that need the combination (method x backbone), reported once per distinct problem."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self.done: set[Any] = set()

    def fail(self, label: str, msg: str) -> UserError:
        return UserError(f"{self.spec.source}: run {label!r}: {msg}")

    def run(self, config: RunConfig, label: str) -> None:
        from comma_bench.methods import make_config

        key = (config.method, repr(sorted(config.method_config.items())), config.backbone)
        if key in self.done:
            return
        self.done.add(key)
        try:
            method_config = make_config(config.method, config.method_config)
        except UserError as exc:
            raise self.fail(label, str(exc)) from None
        model, tag = config.backbone.model, config.backbone.pretrained
        valid_models = names.model_names()
        if model not in valid_models:
            raise self.fail(label, f"unknown model {model!r}; valid models: {', '.join(valid_models)}")
        problem = names.pretrained_problem(model, tag)
        if problem is not None:
            raise self.fail(label, problem)
        self.check_method(config, method_config, label)

    def check_method(self, config: RunConfig, method_config: Any, label: str) -> None:
        """The method's own `check` of its settings against the backbone's depths, read from the model config."""
        from comma_bench.methods.checks import SettingError, TowerDepths

        vision, text = names.model_depth(config.backbone.model)
        depths = TowerDepths(name=config.backbone.model, text_layers=text, vision_layers=vision)
        try:
            names.method_spec(config.method).check(method_config, depths)
        except SettingError as exc:
            fix = "backbone.model" if exc.backbone_key else f"methods.{config.method}.{exc.setting} or the grid axis"
            raise self.fail(
                label, f"method_config.{exc.setting}={exc.value} {exc.expected} (set {fix} accordingly)"
            ) from None


def expand(spec: SweepSpec, *, data_root: str | None = None, device: str | None = None) -> list[PlannedRun]:
    """All runs of a sweep, in a deterministic order (dataset, method, case, grid values, seed).

    `precision: auto` is resolved for `device` ("cpu" or "cuda"; default: `trial_device(spec)`) and written into each
    run's config, so the planned id is the id of what the trial computes (fp32 on CPU, bf16 on CUDA) and the trial
    runs exactly that precision wherever it lands.
    """
    auto = resolve_precision("auto", device or trial_device(spec))
    checks = _Checks(spec)
    runs: list[PlannedRun] = []
    ids: set[str] = set()
    for dataset in spec.datasets:
        for entry in spec.methods:
            method = entry.name
            defaults = _defaults(method)
            axes = [(p, v) for p, v in spec.grid.items() if _applies(p, method)]
            for case_name, case_set in _case_variants(spec.cases, method):
                for combo in itertools.product(*(values for _, values in axes)):
                    chosen = {path: value for (path, _), value in zip(axes, combo)}
                    for seed in spec.seeds:
                        state = _base_state(spec, entry) | case_set | chosen
                        state |= {"method": method, "dataset": dataset, "seed": seed, "case": case_name}
                        for rule in spec.rules:
                            if _matches(rule.when, state, defaults):
                                state |= {k: v for k, v in rule.set.items() if _applies(k, method)}
                        if any(_matches(cond, state, defaults) for cond in spec.exclude):
                            continue
                        run_axes = ({"case": case_name} if case_name is not None else {}) | chosen
                        try:
                            config = _build(spec, state, run_axes, data_root)
                        except UserError as exc:
                            raise UserError(f"{spec.source}: {exc}") from None
                        if config.precision == "auto":
                            config = config.replace(precision=auto)
                        label = _label(config)
                        checks.run(config, label)
                        rid = config_run_id(config)
                        if rid not in ids:
                            ids.add(rid)
                            runs.append(PlannedRun(rid, config, label))
    if not runs:
        raise UserError(f"{spec.source}: the sweep expands to no runs (does `exclude` match everything?)")
    return runs
