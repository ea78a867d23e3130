"""Method registry: methods are looked up by name and their modules imported only when first used.

The core never names a method module: the generic registry (`comma_bench.registry`) imports, on first lookup, the
modules that call `register_method(` (COMMA and zero-shot CLIP in `comma_bench.methods`, the baselines in
`baselines/`). A new method is one new file in `baselines/` that calls `register_method`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from comma_bench.clip.backbone import Backbone
from comma_bench.errors import UserError
from comma_bench.methods.base import PromptMethod
from comma_bench.methods.checks import BackboneShape
from comma_bench.registry import Registry


@dataclass(frozen=True)
class MethodSpec:
    name: str  # registry key
    cls: type[PromptMethod]  # the module class
    config_cls: type  # frozen dataclass of the method's hyperparameters (official defaults)
    default_optim: dict[str, Any]  # official lr / epochs / batch_size of the base-to-novel config
    paper: str = ""  # citation shown in reports and --help
    source: str = ""  # official config the defaults come from
    arxiv: str = ""  # arXiv id of the paper that introduced the method: listings are chronological by it

    @property
    def trains(self) -> bool:
        """Whether the method has parameters to train; the method class owns the answer (`PromptMethod.trains`)."""
        return self.cls.trains

    def check(self, config: Any, backbone: BackboneShape) -> None:
        """Raise `SettingError` when `config` cannot run on `backbone` (a prompt deeper than the tower, ...)."""
        self.cls.check(config, backbone)


METHODS: Registry[MethodSpec] = Registry("method", marker="register_method", sort_key=lambda n, s: (s.arxiv, n))


def register_method(spec: MethodSpec) -> MethodSpec:
    """Add a method; its module is found and imported by the registry on first lookup (no core edit needed)."""
    if spec.cls.trains != bool(spec.default_optim.get("epochs", 0)):
        raise ValueError(f"method {spec.name!r}: default_optim epochs must be 0 exactly when it has nothing to train")
    return METHODS.add(spec.name, spec)


def list_methods(pattern: str = "*") -> list[str]:
    """Registered method names matching an fnmatch pattern, oldest paper first (zeroshot, coop, cocoop, ...)."""
    return METHODS.names(pattern)


def get_method_spec(name: str) -> MethodSpec:
    return METHODS.get(name)


def make_config(name: str, overrides: dict[str, Any] | None = None) -> Any:
    """The method's config dataclass with overrides; unknown fields are a one-line error listing the valid ones."""
    spec = get_method_spec(name)
    overrides = dict(overrides or {})
    valid = {f.name for f in dataclasses.fields(spec.config_cls)}
    bad = sorted(set(overrides) - valid)
    if bad:
        raise UserError(f"method {name!r} has no setting {bad[0]!r}; valid settings: {', '.join(sorted(valid))}")
    try:
        return spec.config_cls(**overrides)
    except (TypeError, ValueError) as exc:
        raise UserError(f"method {name!r}: {exc}") from None


def setting_deviations(name: str, method_config: dict[str, Any]) -> dict[str, Any]:
    """The resolved settings of `name` that differ from its registered (official) defaults, as JSON values.

    A run record keeps them beside the hashed config, so a report (which imports no method module) can tell a run
    of the official configuration, the one the papers' numbers were measured with, from an ablation or a variant.
    """
    defaults = dataclasses.asdict(get_method_spec(name).config_cls())
    resolved = json.loads(json.dumps({**defaults, **method_config}))  # tuples -> lists: compare as JSON would store
    official = json.loads(json.dumps(defaults))
    return {k: v for k, v in sorted(resolved.items()) if official.get(k, object()) != v}


def build(
    name: str,
    backbone: Backbone,
    classnames: list[str],
    *,
    template: str = "a photo of a {}.",
    **settings: Any,
) -> PromptMethod:
    """Build a method module for a class list.

    `settings` are fields of the method's config dataclass, except keywords ending in `_template`: those are the
    dataset's further hand-crafted templates (`kd_template`, `DatasetInfo`), handed to every method, which reads
    the ones it uses (only COMMA reads one) and ignores the rest.
    """
    texts = {k: v for k, v in settings.items() if k.endswith("_template")}
    config = {k: v for k, v in settings.items() if k not in texts}
    spec = get_method_spec(name)
    cfg = make_config(name, config)
    try:
        spec.check(cfg, backbone)
    except UserError as exc:
        raise UserError(f"{name}: {exc}") from None
    return spec.cls(backbone, classnames, template=template, config=cfg, **texts)
