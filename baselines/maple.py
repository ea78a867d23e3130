"""MaPLe: deep multi-modal prompts coupled by per-layer Linear maps (Khattak et al., CVPR'23).

Reference code: muzairkhattak/multimodal-prompt-learning `trainers/maple.py`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from comma_bench.clip.prompted import cosine_logits
from comma_bench.methods import MethodOutput, MethodSpec, register_method
from comma_bench.methods.checks import check_depth
from comma_bench.methods.prompting import ClassContextMethod, deep_tokens


@dataclass(frozen=True)
class MaPLeConfig:
    n_ctx: int = 2  # N_CTX for both branches (vit_b16_c2_ep5_batch4_2ctx)
    ctx_init: str = "a photo of a"  # CTX_INIT; with n_ctx <= 4 only the first n_ctx tokens are used (quirk)
    prompt_depth: int = 9  # PROMPT_DEPTH J (3 in the cross-dataset / DG config)

    def __post_init__(self) -> None:
        if self.n_ctx < 1:
            raise ValueError(f"n_ctx must be >= 1, got {self.n_ctx}")


class MaPLe(ClassContextMethod):
    """Class prompts + J-1 deep text prompts; every vision prompt is a Linear map of the text prompt at its depth."""

    name = "maple"

    @classmethod
    def check(cls, config: MaPLeConfig, backbone) -> None:
        check_depth("prompt_depth", config.prompt_depth, backbone, towers=("text", "vision"))  # one J for both

    def __init__(self, backbone, classnames, *, template, config: MaPLeConfig | None = None, **texts):
        config = config or MaPLeConfig()
        super().__init__(backbone, classnames, template=template, n_ctx=config.n_ctx, ctx_init=config.ctx_init, **texts)
        self.config = config
        depth = config.prompt_depth
        # Input-level vision prompt: proj(ctx). The official code casts it to half; here: the model's dtype.
        self.proj = nn.Linear(backbone.text_width, backbone.vision_width).to(backbone.dtype)
        # J-1 separate fp32 tensors [n_ctx, Dt], N(0, 0.02^2): the deep text prompts for text blocks 1..J-1.
        self.deep_text = deep_tokens(depth - 1, config.n_ctx, backbone.text_width)
        # J-1 fp32 coupling Linears made as deep copies of ONE initialised layer: all start identical (official).
        single = nn.Linear(backbone.text_width, backbone.vision_width)
        self.coupling = nn.ModuleList([copy.deepcopy(single) for _ in range(depth - 1)])

    def vision_prompts(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(proj(ctx) [n_ctx, Dv], J-1 x coupling_i(deep_text_i) [n_ctx, Dv])."""
        v0 = self.proj(self.ctx)
        return v0, [layer(p) for layer, p in zip(self.coupling, self.deep_text)]

    def forward(self, images: torch.Tensor) -> MethodOutput:
        deep_text = list(self.deep_text)
        v0, deep_vision = self.memo("vision_prompts", self.vision_prompts)
        text = self.memo("text", lambda: self.encode_prompted_text(deep_text))
        image_features = self.encode_prompted_image(images, v0, deep_vision)
        logits = cosine_logits(self.clip, image_features, text.features)
        return MethodOutput(
            logits=logits,
            extras={
                "image_features": image_features,
                "text_features": text.features,
                "vision_prompts": [v0, *deep_vision],
            },
        )


SPEC = register_method(
    MethodSpec(
        name="maple",
        cls=MaPLe,
        config_cls=MaPLeConfig,
        default_optim={"lr": 0.0035, "epochs": 5, "batch_size": 4},
        paper="Khattak et al., MaPLe: Multi-modal Prompt Learning (CVPR'23)",
        source="muzairkhattak/multimodal-prompt-learning@69bce21 configs/trainers/MaPLe/"
        "vit_b16_c2_ep5_batch4_2ctx.yaml",
        arxiv="2210.03117",
    )
)
