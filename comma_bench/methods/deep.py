"""Shared skeleton of the deep multi-modal prompt learners (MaPLe and COMMA).

COMMA is a fork of MaPLe (MaPLe's `trainers/maple.py`, COMMA's `trainers/comma.py`): both learn a text context
`ctx` [n_ctx, Dt], map it to the input
vision prompt with `proj` (Dt -> Dv), insert deep text prompts before text blocks 1..J-1 and deep vision prompts
before vision blocks 1..J-1. They differ only in how the deep vision prompts are produced (MaPLe: a Linear coupling
per layer; COMMA: attention over the preceding prompts of both branches) and in COMMA's extra KD loss. This class
holds what they share; the subclasses supply the deep prompts.
"""

from __future__ import annotations

import torch
from torch import nn

from comma_bench.clip.backbone import Backbone
from comma_bench.clip.prompted import TextOutput, encode_image, encode_text
from comma_bench.clip.prompts import ClassPrompts, context_from_text, random_context
from comma_bench.errors import UserError
from comma_bench.methods.base import PromptMethod


class DeepPromptLearner(PromptMethod):
    def __init__(
        self,
        backbone: Backbone,
        classnames: list[str],
        *,
        template: str,
        kd_template: str | None,
        n_ctx: int,
        ctx_init: str,
        prompt_depth: int,
    ) -> None:
        super().__init__(backbone, classnames, template=template, kd_template=kd_template)
        max_depth = min(backbone.text_layers, backbone.vision_layers)
        if not 1 <= prompt_depth <= max_depth:
            raise UserError(
                f"{self.name}: prompt_depth must be between 1 and {max_depth} (the backbone's layers), "
                f"got {prompt_depth}"
            )
        if n_ctx < 1:
            raise UserError(f"{self.name}: n_ctx must be >= 1, got {n_ctx}")
        self.n_ctx = n_ctx
        self.prompt_depth = prompt_depth
        # MaPLe/COMMA quirk (MaPLe's `MultiModalPromptLearner`): with an init string and n_ctx <= 4, n_ctx is
        # NOT overridden: ctx takes
        # the first n_ctx token embeddings ("a", "photo") and the prompt keeps the whole init string.
        if ctx_init and n_ctx <= 4:
            ctx_init = ctx_init.replace("_", " ")
            ctx = context_from_text(backbone, ctx_init, n_ctx)
            self.prompt_prefix = ctx_init
        else:
            ctx = random_context(backbone, n_ctx)
            self.prompt_prefix = " ".join(["X"] * n_ctx)
        self.ctx = nn.Parameter(ctx)  # [n_ctx, Dt], model dtype (fp16 under PREC=fp16, no master copy)
        # Input-level vision prompt: proj(ctx). The official code casts it to half; here: the model's dtype.
        self.proj = nn.Linear(backbone.text_width, backbone.vision_width).to(backbone.dtype)
        self.prompts = ClassPrompts(backbone, classnames, self.prompt_prefix, n_ctx)

    def set_classes(self, classnames, template=None, kd_template=None) -> None:
        super().set_classes(classnames, template, kd_template)
        device = self.ctx.device
        self.prompts = ClassPrompts(self.backbone, self.classnames, self.prompt_prefix, self.n_ctx).to(device)

    def encode_prompted_text(
        self, deep_text: list[torch.Tensor], *, hidden_layers: tuple[int, ...] = (), full_length: bool = False
    ) -> TextOutput:
        """Class text features with ctx at positions 1..n_ctx and deep_text[i] replacing them before block i+1."""
        embeds = self.prompts.assemble(self.ctx)  # [n_cls, 77, Dt]
        deep = {i + 1: p for i, p in enumerate(deep_text)}
        return encode_text(
            self.clip,
            embeds,
            self.prompts.eot,
            deep=deep,
            hidden_layers=hidden_layers,
            full_length=full_length,
            length=self.prompts.max_len,
        )

    def encode_prompted_image(
        self, images: torch.Tensor, shallow: torch.Tensor, deep_vision: list[torch.Tensor]
    ) -> torch.Tensor:
        """Image features: `shallow` appended, deep_vision[i] replacing the last n_ctx tokens before block i+1."""
        deep = {i + 1: p for i, p in enumerate(deep_vision)}
        return encode_image(self.clip, images, shallow=shallow, deep=deep)
