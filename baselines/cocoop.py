"""CoCoOp: context shifted per image by a small Meta-Net (Zhou et al., CVPR'22; CoOp's `trainers/cocoop.py`).

Each image gets its own set of class prompts, so a batch of B images needs B x n_cls text sequences. The official
code loops over images in Python; here all B x n_cls sequences go through the text tower in chunks of
`text_chunk` sequences, which computes the same function (tested against the per-image loop) and bounds memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from comma_bench.clip.prompted import cosine_logits, encode_image, encode_text
from comma_bench.clip.prompts import ClassPrompts, coop_context
from comma_bench.methods import MethodOutput, MethodSpec, PromptMethod, register_method


@dataclass(frozen=True)
class CoCoOpConfig:
    n_ctx: int = 4  # N_CTX; overridden by the number of words of ctx_init (official rule)
    ctx_init: str = "a photo of a"  # CTX_INIT of vit_b16_c4_ep10_batch1_ctxv1
    text_chunk: int = 4096  # sequences per text-tower pass; bounds memory, does not change results

    def __post_init__(self) -> None:
        if self.text_chunk < 1:
            raise ValueError("text_chunk must be >= 1")


class CoCoOp(PromptMethod):
    name = "cocoop"
    image_prompted = False  # the Meta-Net conditions the *text* prompts; the image tower runs plain

    def __init__(self, backbone, classnames, *, template, config: CoCoOpConfig | None = None, **texts):
        super().__init__(backbone, classnames, template=template, **texts)
        self.config = config = config or CoCoOpConfig()
        ctx, self.prompt_prefix, self.n_ctx = coop_context(backbone, config.ctx_init, config.n_ctx)
        self.ctx = nn.Parameter(ctx)  # [n_ctx, Dt]
        vis_dim, hidden = backbone.embed_dim, backbone.embed_dim // 16
        self.meta_net = nn.Sequential(
            OrderedDict(
                [
                    ("linear1", nn.Linear(vis_dim, hidden)),
                    ("relu", nn.ReLU(inplace=True)),
                    ("linear2", nn.Linear(hidden, backbone.text_width)),
                ]
            )
        ).to(backbone.dtype)  # official: cast to half under PREC=fp16
        self.prompts = ClassPrompts(backbone, classnames, self.prompt_prefix, self.n_ctx)

    def set_classes(self, classnames, template=None, **texts) -> None:
        super().set_classes(classnames, template, **texts)
        self.prompts = ClassPrompts(self.backbone, self.classnames, self.prompt_prefix, self.n_ctx).to(self.ctx.device)

    def instance_text_features(self, image_features: torch.Tensor) -> torch.Tensor:
        """[B, E] normalised image features -> [B, n_cls, E] text features of each image's own prompts."""
        bias = self.meta_net(image_features.to(self.ctx.dtype))  # [B, Dt]
        ctx = self.ctx.unsqueeze(0) + bias.unsqueeze(1)  # [B, n_ctx, Dt]
        n_cls, batch = self.prompts.n_cls, ctx.shape[0]
        per_chunk = max(1, self.config.text_chunk // n_cls)  # images per text-tower pass
        feats = []
        for start in range(0, batch, per_chunk):
            c = ctx[start : start + per_chunk]  # [b, n_ctx, Dt]
            b = c.shape[0]
            embeds = torch.cat(
                [
                    self.prompts.token_prefix.unsqueeze(0).expand(b, -1, -1, -1),
                    c.unsqueeze(1).expand(-1, n_cls, -1, -1).to(self.prompts.token_prefix.dtype),
                    self.prompts.token_suffix.unsqueeze(0).expand(b, -1, -1, -1),
                ],
                dim=2,
            ).flatten(0, 1)  # [b * n_cls, 77, Dt]
            eot = self.prompts.eot.repeat(b)  # [b * n_cls]
            out = encode_text(self.clip, embeds, eot, length=self.prompts.max_len)
            feats.append(out.features.view(b, n_cls, -1))
        return torch.cat(feats, dim=0)  # [B, n_cls, E]

    def logits_from_image_features(self, image_features: torch.Tensor) -> torch.Tensor:
        image_features = F.normalize(image_features, dim=-1)
        return cosine_logits(self.clip, image_features, self.instance_text_features(image_features))  # [B, n_cls]

    def forward(self, images: torch.Tensor) -> MethodOutput:
        with torch.no_grad():
            image_features = encode_image(self.clip, images)  # [B, E]
        image_features = F.normalize(image_features, dim=-1)
        text_features = self.instance_text_features(image_features)  # [B, n_cls, E]
        logits = cosine_logits(self.clip, image_features, text_features)  # [B, n_cls]
        return MethodOutput(logits=logits, extras={"image_features": image_features, "text_features": text_features})


SPEC = register_method(
    MethodSpec(
        name="cocoop",
        cls=CoCoOp,
        config_cls=CoCoOpConfig,
        default_optim={"lr": 0.002, "epochs": 10, "batch_size": 1},
        paper="Zhou et al., Conditional Prompt Learning for Vision-Language Models (CVPR'22)",
        source="KaiyangZhou/CoOp@ff61507 configs/trainers/CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml",
        arxiv="2203.05557",
    )
)
