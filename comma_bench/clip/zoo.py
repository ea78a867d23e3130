"""Named backbones that are not open_clip configs: built-in architectures and their shipped weights.

open_clip already names every public CLIP (`ViT-B-16`, ...). This registry adds architectures that comma-bench ships
itself (the built-in world's `world-tiny`, the tiny random-init test configs) so that `load_backbone(name, tag)` and
`--model NAME --pretrained TAG` treat them exactly like open_clip models. The modules that register them (`tiny.py`,
the built-in world's model) are found by the generic registry (`comma_bench.registry`) on first lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comma_bench.registry import Registry

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP normalisation (OpenAI CLIP, Dassl configs)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the `--model` value
    open_clip_kwargs: dict[str, Any]  # kwargs of `open_clip.model.CLIP(...)` (embed_dim, vision_cfg, text_cfg, ...)
    pretrained: dict[str, Path] = field(default_factory=dict)  # tag -> local weights file (.safetensors/.pt)
    mean: tuple[float, float, float] = OPENAI_MEAN  # input normalisation the weights were trained with
    std: tuple[float, float, float] = OPENAI_STD
    description: str = ""


MODELS: Registry[ModelSpec] = Registry("model", marker="register_model")


def register_model(spec: ModelSpec) -> ModelSpec:
    return MODELS.add(spec.name, spec)


def get_model_spec(name: str) -> ModelSpec | None:
    """The built-in model `name`, or None (then open_clip's own registry is asked)."""
    return MODELS.find(name)


def list_builtin_models(pattern: str = "*") -> list[str]:
    return MODELS.names(pattern)
