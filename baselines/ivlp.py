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

Every deep prompt and both vision tensors are fp32 N(0, 0.02^2); `ctx` is in the model dtype (half under PREC=fp16,
as the official code). With ViT-B/16 and the defaults: 1,024 + 11x1,024 + 1,536 + 11x1,536 = 30,720 parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from comma_bench.clip.prompted import cosine_logits
from comma_bench.methods import MethodOutput, MethodSpec, register_method
from comma_bench.methods.checks import check_depth
from comma_bench.methods.prompting import ClassContextMethod, VisionPromptSlots, deep_tokens


@dataclass(frozen=True)
class IVLPConfig:
    n_ctx_text: int = 2  # N_CTX_TEXT: learnable text tokens per prompted block
    n_ctx_vision: int = 2  # N_CTX_VISION: learnable vision tokens per prompted block, independent of the text side
    ctx_init: str = "a photo of a"  # CTX_INIT; with n_ctx_text <= 4 only its first n_ctx_text tokens (MaPLe quirk)
    text_depth: int = 12  # PROMPT_DEPTH_TEXT: the input plus blocks 1..text_depth-1 of the text tower
    vision_depth: int = 12  # PROMPT_DEPTH_VISION: the input plus blocks 1..vision_depth-1 of the image tower

    def __post_init__(self) -> None:
        for field in ("n_ctx_text", "n_ctx_vision"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}")


class IVLP(ClassContextMethod):
    """Class prompts + deep text prompts (text tower) and learnable vision prompt slots (image tower), uncoupled."""

    name = "ivlp"

    @classmethod
    def check(cls, config: IVLPConfig, backbone) -> None:
        check_depth("text_depth", config.text_depth, backbone, towers=("text",))
        check_depth("vision_depth", config.vision_depth, backbone, towers=("vision",))

    def __init__(self, backbone, classnames, *, template, config: IVLPConfig | None = None, **texts):
        config = config or IVLPConfig()
        super().__init__(
            backbone, classnames, template=template, n_ctx=config.n_ctx_text, ctx_init=config.ctx_init, **texts
        )
        self.config = config
        # text_depth-1 x [n_ctx_text, Dt]: the official per-block `VPT_shallow` tensors of the text tower.
        self.deep_text = deep_tokens(config.text_depth - 1, config.n_ctx_text, backbone.text_width)
        # [n_ctx_vision, Dv] input tokens + vision_depth-1 x [n_ctx_vision, Dv]: the official `VPT` / `VPT_shallow`.
        self.vision = VisionPromptSlots(backbone, config.n_ctx_vision, config.vision_depth)

    def forward(self, images: torch.Tensor) -> MethodOutput:
        text = self.memo("text", lambda: self.encode_prompted_text(list(self.deep_text)))
        shallow, deep_vision = self.vision()
        image_features = self.encode_prompted_image(images, shallow, deep_vision)  # [B, E]
        logits = cosine_logits(self.clip, image_features, text.features)  # [B, n_cls]
        return MethodOutput(
            logits=logits,
            extras={
                "image_features": image_features,
                "text_features": text.features,
                "vision_prompts": [shallow, *deep_vision],
            },
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
