"""Method registry: methods are looked up by name and their modules imported only when first used.

The core never imports `baselines` eagerly: `_LAZY` maps each name to the module that registers it (lm-eval style),
so `comma_bench` works (and `list_methods()` is complete) without importing every method's code up front.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
from dataclasses import dataclass
from typing import Any

from comma_bench.clip.backbone import Backbone
from comma_bench.errors import UserError, unknown_name
from comma_bench.methods.base import PromptMethod

_LAZY: dict[str, str] = {
    "zeroshot": "comma_bench.methods.zeroshot",
    "coop": "baselines.coop",
    "cocoop": "baselines.cocoop",
    "maple": "baselines.maple",
    "comma": "comma_bench.methods.comma",
}


@dataclass(frozen=True)
class MethodSpec:
    name: str  # registry key
    cls: type[PromptMethod]  # the module class
    config_cls: type  # frozen dataclass of the method's hyperparameters (official defaults)
    default_optim: dict[str, Any]  # official lr / epochs / batch_size of the base-to-novel config
    paper: str = ""  # citation shown in reports and --help
    source: str = ""  # official config the defaults come from


_SPECS: dict[str, MethodSpec] = {}


def register_method(spec: MethodSpec) -> MethodSpec:
    if spec.name in _SPECS:
        raise ValueError(f"method {spec.name!r} is already registered")
    _SPECS[spec.name] = spec
    return spec


def list_methods(pattern: str = "*") -> list[str]:
    """Registered method names in canonical order (zeroshot, coop, cocoop, maple, comma, then others)."""
    names = list(_LAZY) + sorted(k for k in _SPECS if k not in _LAZY)
    return [n for n in names if fnmatch.fnmatch(n, pattern)]


def get_method_spec(name: str) -> MethodSpec:
    if name not in _SPECS:
        if name not in _LAZY:
            raise unknown_name("method", name, list_methods())
        importlib.import_module(_LAZY[name])
    return _SPECS[name]


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


def build(
    name: str,
    backbone: Backbone,
    classnames: list[str],
    *,
    template: str = "a photo of a {}.",
    kd_template: str | None = None,
    **config: Any,
) -> PromptMethod:
    """Build a method module for a class list. `config` overrides fields of the method's config dataclass."""
    spec = get_method_spec(name)
    cfg = make_config(name, config)
    return spec.cls(backbone, classnames, template=template, kd_template=kd_template, config=cfg)
