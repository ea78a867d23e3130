"""IVLP: independent vision-language prompting, MaPLe's deep two-tower baseline without coupling (Khattak et al.).

Reference code: muzairkhattak/multimodal-prompt-learning `trainers/independentVL.py` and the
`ResidualAttentionBlock_IVLP` / `VisionTransformer` prompt slots of its `clip/model.py`; defaults from
`configs/trainers/IVLP/vit_b16_c2_ep5_batch4_2+2ctx.yaml`. Both towers learn their own deep prompts, each with its
own depth and n_ctx, and nothing maps one onto the other (MaPLe's `proj` / `coupling` are absent):

- text: `ctx` [n_ctx_text, Dt] at positions 1..n_ctx_text (MaPLe's init rule: the first n_ctx_text tokens of
  "a photo of a", prompt prefix kept whole), and `deep_text[i]` [n_ctx_text, Dt] replacing them before text block
  i+1 for i < text_depth-1;
- vision: `vision.shallow` [n_ctx_vision, Dv] appended after the positional embedding and `vision.deep[i]`
  replacing the last n_ctx_vision tokens before vision block i+1 for i < vision_depth-1.

`vision_depth: 0` (with `n_ctx_vision: 0`, which it requires) is the official "deep language prompting" ablation
(`IVLP/vit_b16_c2_ep5_batch4_4ctx_language_only`: n_ctx_text 4, text_depth 12, lr 0.0025; MaPLe README 81.72 / 73.81
/ 77.56). As in the official VisionTransformer, depth 0 creates no vision prompt at all, so the image tower runs
plain (any image tower, a ResNet included) and its features can be cached like CoOp's.

Every deep prompt and both vision tensors are fp32 N(0, 0.02^2); `ctx` is in the model dtype (half under PREC=fp16,
as the official code). With ViT-B/16 and the defaults: 1,024 + 11x1,024 + 1,536 + 11x1,536 = 30,720 parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from comma_bench.clip.prompted import cosine_logits, encode_image
from comma_bench.methods import MethodOutput, MethodSpec, register_method
from comma_bench.methods.checks import check_depth
from comma_bench.methods.prompting import ClassContextMethod, VisionPromptSlots, deep_tokens


@dataclass(frozen=True)
class IVLPConfig:
    n_ctx_text: int = 2  # N_CTX_TEXT: learnable text tokens per prompted block
    n_ctx_vision: int = 2  # N_CTX_VISION: learnable vision tokens per prompted block, independent of the text side
    ctx_init: str = "a photo of a"  # CTX_INIT; with n_ctx_text <= 4 only its first n_ctx_text tokens (MaPLe quirk)
    text_depth: int = 12  # PROMPT_DEPTH_TEXT: the input plus blocks 1..text_depth-1 of the text tower
    vision_depth: int = 12  # PROMPT_DEPTH_VISION: the input plus blocks 1..vision_depth-1; 0: no vision prompt

    def __post_init__(self) -> None:
        if self.n_ctx_text < 1:  # the official learner asserts a text prompt (vision-only is VPT's trainer)
            raise ValueError(f"n_ctx_text must be >= 1, got {self.n_ctx_text}")
        if self.vision_depth < 0:
            raise ValueError(f"vision_depth must be >= 0 (0: no vision prompt), got {self.vision_depth}")
        if self.vision_depth > 0 and self.n_ctx_vision < 1:
            raise ValueError(f"n_ctx_vision must be >= 1 when vision_depth > 0, got {self.n_ctx_vision}")
        if self.vision_depth == 0 and self.n_ctx_vision != 0:  # one config per computation: one run id, one match
            raise ValueError(
                f"n_ctx_vision must be 0 when vision_depth is 0 (no vision prompt is made), got {self.n_ctx_vision}"
            )


class IVLP(ClassContextMethod):
    """Class prompts + deep text prompts (text tower) and learnable vision prompt slots (image tower), uncoupled."""

    name = "ivlp"

    @classmethod
    def check(cls, config: IVLPConfig, backbone) -> None:
        check_depth("text_depth", config.text_depth, backbone, towers=("text",))
        if config.vision_depth > 0:  # depth 0 prompts no image block, so any image tower fits
            check_depth("vision_depth", config.vision_depth, backbone, towers=("vision",))

    def __init__(self, backbone, classnames, *, template, config: IVLPConfig | None = None, **texts):
        config = config or IVLPConfig()
        super().__init__(
            backbone, classnames, template=template, n_ctx=config.n_ctx_text, ctx_init=config.ctx_init, **texts
        )
        self.config = config
        # text_depth-1 x [n_ctx_text, Dt]: the official per-block `VPT_shallow` tensors of the text tower.
        self.deep_text = deep_tokens(config.text_depth - 1, config.n_ctx_text, backbone.text_width)
        # [n_ctx_vision, Dv] input tokens + vision_depth-1 x [n_ctx_vision, Dv]: the official `VPT` / `VPT_shallow`;
        # none at vision_depth 0, where the image tower is not prompted and its features may be cached.
        self.vision = (
            VisionPromptSlots(backbone, config.n_ctx_vision, config.vision_depth) if config.vision_depth else None
        )
        self.image_prompted = self.vision is not None

    def text_features(self) -> torch.Tensor:
        return self.memo("text", lambda: self.encode_prompted_text(list(self.deep_text))).features  # [n_cls, E]

    def logits_from_image_features(self, image_features: torch.Tensor) -> torch.Tensor:
        if self.image_prompted:
            return super().logits_from_image_features(image_features)
        return cosine_logits(self.clip, image_features, self.text_features())  # [B, n_cls]

    def forward(self, images: torch.Tensor) -> MethodOutput:
        text_features = self.text_features()  # [n_cls, E]
        if self.vision is None:
            with torch.no_grad():
                image_features = encode_image(self.clip, images)  # [B, E]; no vision prompt at depth 0
            prompts = []
        else:
            shallow, deep_vision = self.vision()
            image_features = self.encode_prompted_image(images, shallow, deep_vision)  # [B, E]
            prompts = [shallow, *deep_vision]
        logits = cosine_logits(self.clip, image_features, text_features)  # [B, n_cls]
        return MethodOutput(
            logits=logits,
            extras={"image_features": image_features, "text_features": text_features, "vision_prompts": prompts},
        )


SPEC = register_method(
    MethodSpec(
        name="ivlp",
        cls=IVLP,
        config_cls=IVLPConfig,
        default_optim={"lr": 0.0035, "epochs": 5, "batch_size": 4},
        paper="Khattak et al., MaPLe: Multi-modal Prompt Learning (CVPR'23), independent V-L prompting baseline",
        source="muzairkhattak/multimodal-prompt-learning configs/trainers/IVLP/vit_b16_c2_ep5_batch4_2+2ctx.yaml",
        arxiv="2210.03117",
    )
)
