"""The registries a sweep file is checked against: methods, their config fields, datasets and backbones.

Everything is looked up in the live registries (never a copied list), so a method, dataset or model registered by
the user is accepted by sweep files without touching this module.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any


def method_names() -> list[str]:
    from comma_bench.methods import list_methods

    return list_methods()


def method_spec(name: str) -> Any:
    from comma_bench.methods import get_method_spec

    return get_method_spec(name)


@functools.cache
def method_fields(name: str) -> dict[str, Any]:
    """Field name -> resolved type hint of the method's config dataclass ({} for a method without settings)."""
    cls = getattr(method_spec(name), "config_cls", None)
    if cls is None or not dataclasses.is_dataclass(cls):
        return {}
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def method_defaults(name: str) -> dict[str, Any]:
    """The method's config defaults, which sweep rules and excludes match against when a run does not set them."""
    cls = getattr(method_spec(name), "config_cls", None)
    if cls is None or not dataclasses.is_dataclass(cls):
        return {}
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def method_trains(name: str) -> bool:
    """False for methods without training (zero-shot CLIP): their records have kind "eval" (`MethodSpec.trains`)."""
    return bool(method_spec(name).trains)


def dataset_names() -> list[str]:
    from comma_bench.data import list_datasets

    return list_datasets()


def dataset_is_builtin(key: str) -> bool:
    from comma_bench.data import get_dataset_info

    return bool(get_dataset_info(key).builtin)


def builtin_model_names() -> list[str]:
    from comma_bench.clip.zoo import list_builtin_models

    return list_builtin_models()


@functools.cache
def open_clip_model_names() -> list[str]:
    import open_clip

    return list(open_clip.list_models())


def model_names() -> list[str]:
    return builtin_model_names() + open_clip_model_names()


def pretrained_tags(model: str) -> list[str]:
    """Pretrained tags valid for `model` (besides `none` and a path to a local weights file)."""
    if model in builtin_model_names():
        from comma_bench.clip.zoo import get_model_spec

        return sorted(get_model_spec(model).pretrained)
    import open_clip

    return sorted(open_clip.list_pretrained_tags_by_model(model))


def pretrained_problem(model: str, tag: str) -> str | None:
    """What is wrong with `--pretrained tag` for `model` (an unknown tag), or None; files are checked when loaded."""
    from comma_bench.clip.pretrained import pretrained_kind, unknown_tag

    if pretrained_kind(tag) != "tag":
        return None
    return unknown_tag(model, tag, pretrained_tags(model))


def _layers(cfg: Any) -> Any:
    return cfg.get("layers") if isinstance(cfg, dict) else getattr(cfg, "layers", None)


def model_depth(model: str) -> tuple[int | None, int | None]:
    """(vision layers, text layers) of a backbone: transformer blocks, 0 for a ResNet image tower (its config lists
    stages, not blocks), None where the config does not say (`comma_bench.methods.checks.BackboneShape`)."""
    if model in builtin_model_names():
        from comma_bench.clip.zoo import get_model_spec

        kwargs = get_model_spec(model).open_clip_kwargs
    else:
        import open_clip

        kwargs = open_clip.get_model_config(model) or {}
    vision = _layers(kwargs.get("vision_cfg", {}))
    text = _layers(kwargs.get("text_cfg", {}))
    if isinstance(vision, list | tuple):
        vision = 0  # ModifiedResNet stages: no transformer block a prompt could be inserted before
    return (vision if isinstance(vision, int) else None, text if isinstance(text, int) else None)
