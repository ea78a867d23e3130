"""CoOp: learnable context vectors in front of (or around) the class name (Zhou et al., IJCV'22).

Reference code: KaiyangZhou/CoOp `trainers/coop.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from comma_bench.clip.prompted import cosine_logits, encode_image, encode_text
from comma_bench.clip.prompts import CLASS_TOKEN_POSITIONS, ClassPrompts, coop_context
from comma_bench.methods import MethodOutput, MethodSpec, PromptMethod, register_method


@dataclass(frozen=True)
class CoOpConfig:
    n_ctx: int = 4  # N_CTX; overridden by the number of words of ctx_init when that is set (official rule)
    ctx_init: str = "a photo of a"  # CTX_INIT of vit_b16_ctxv1, the base-to-novel CoOp baseline; "" = random init
    csc: bool = False  # class-specific context (random init only), [n_cls, n_ctx, D] instead of [n_ctx, D]
    class_token_position: str = "end"  # end | middle | front

    def __post_init__(self) -> None:
        if self.class_token_position not in CLASS_TOKEN_POSITIONS:
            raise ValueError(f"class_token_position must be one of {', '.join(CLASS_TOKEN_POSITIONS)}")
        if self.csc and self.ctx_init:
            raise ValueError("csc=True needs random init: set ctx_init to '' (the official code ignores csc then)")
        if not self.ctx_init and self.n_ctx < 1:
            raise ValueError(f"n_ctx must be >= 1, got {self.n_ctx}")


class CoOp(PromptMethod):
    name = "coop"
    image_prompted = False

    def __init__(self, backbone, classnames, *, template, config: CoOpConfig | None = None, **texts):
        super().__init__(backbone, classnames, template=template, **texts)
        self.config = config = config or CoOpConfig()
        ctx, self.prompt_prefix, self.n_ctx = coop_context(
            backbone, config.ctx_init, config.n_ctx, per_class=len(classnames) if config.csc else None
        )
        self.ctx = nn.Parameter(ctx)  # [n_ctx, D] or [n_cls, n_ctx, D] (csc), model dtype
        self.prompts = ClassPrompts(backbone, classnames, self.prompt_prefix, self.n_ctx)

    def set_classes(self, classnames, template=None, **texts) -> None:
        if self.config.csc and len(classnames) != self.ctx.shape[0]:
            raise ValueError("class-specific context cannot be evaluated on another class list")
        super().set_classes(classnames, template, **texts)
        self.prompts = ClassPrompts(self.backbone, self.classnames, self.prompt_prefix, self.n_ctx).to(self.ctx.device)

    def text_features(self) -> torch.Tensor:
        return self.memo("text_features", self._text_features)

    def _text_features(self) -> torch.Tensor:
        embeds = self.prompts.assemble(self.ctx, self.config.class_token_position)  # [n_cls, 77, D]
        return encode_text(self.clip, embeds, self.prompts.eot, length=self.prompts.max_len).features  # [n_cls, E]

    def logits_from_image_features(self, image_features: torch.Tensor) -> torch.Tensor:
        return cosine_logits(self.clip, image_features, self.text_features())  # [B, n_cls]

    def forward(self, images: torch.Tensor) -> MethodOutput:
        with torch.no_grad():
            image_features = encode_image(self.clip, images)  # [B, E]; the image tower is not prompted
        text_features = self.text_features()
        logits = cosine_logits(self.clip, image_features, text_features)
        return MethodOutput(logits=logits, extras={"image_features": image_features, "text_features": text_features})


SPEC = register_method(
    MethodSpec(
        name="coop",
        cls=CoOp,
        config_cls=CoOpConfig,
        default_optim={"lr": 0.002, "epochs": 200, "batch_size": 32},
        paper="Zhou et al., Learning to Prompt for Vision-Language Models (IJCV'22)",
        source="KaiyangZhou/CoOp@ff61507 configs/trainers/CoOp/vit_b16_ctxv1.yaml (base-to-novel baseline)",
        arxiv="2109.01134",
    )
)
