"""Prompt components that a method assembles: class prompts with a context, deep text prompts, vision prompt slots.

The official deep prompt learners (MaPLe's `trainers/maple.py`, `trainers/independentVL.py`, `trainers/vpt.py`,
COMMA's `trainers/comma.py`) differ in which pieces they use and how the vision prompts are made, not in the pieces
themselves:

| method | class prompts (`ctx`) | deep text prompts | vision prompts |
|---|---|---|---|
| MaPLe | yes | J-1 learnable | made from the text prompts by Linear couplings (`proj`, `coupling`) |
| COMMA | yes | J-1 learnable | made by attention over both branches (`proj`, `generator`) |
| IVLP | yes | J_t-1 learnable | learnable slots of their own (`VisionPromptSlots`), depth J_v, n_ctx_v |
| VPT-deep | none: frozen hand-crafted text | none | learnable slots of their own |

So each piece is here once, with its own depth and width, and a method is the assembly (one file per method).
Parameters keep the names the official code's tensors map onto (`ctx`, `deep_text`, `proj`), which the golden
fixtures and saved checkpoints rely on.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from comma_bench.clip.backbone import Backbone
from comma_bench.clip.prompted import TextOutput, encode_image, encode_text, token_embeddings
from comma_bench.clip.prompts import ClassPrompts, clean_classname, context_from_text, random_context
from comma_bench.methods.base import PromptMethod


def deep_context(backbone: Backbone, n_ctx: int, ctx_init: str) -> tuple[torch.Tensor, str]:
    """The MaPLe-family context rule: (initial ctx [n_ctx, Dt] in the model dtype, prompt prefix).

    Quirk shared by MaPLe, IVLP and COMMA: with an init string and n_ctx <= 4, n_ctx is NOT overridden; ctx takes
    the first n_ctx token embeddings ("a", "photo") and the prompt keeps the whole init string. Otherwise ctx is
    N(0, 0.02^2) behind "X X ... X" placeholders. (CoOp/CoCoOp's rule, `coop_context`, overrides n_ctx instead.)
    """
    if ctx_init and n_ctx <= 4:
        text = ctx_init.replace("_", " ")
        return context_from_text(backbone, text, n_ctx), text
    return random_context(backbone, n_ctx), " ".join(["X"] * n_ctx)


def deep_tokens(count: int, n_ctx: int, width: int) -> nn.ParameterList:
    """`count` separate fp32 prompts [n_ctx, width], N(0, 0.02^2): one per prompted block after the input."""
    params = nn.ParameterList([nn.Parameter(torch.empty(n_ctx, width)) for _ in range(count)])
    for p in params:
        nn.init.normal_(p, std=0.02)
    return params


@torch.no_grad()
def handcrafted_text_features(backbone: Backbone, classnames: list[str], template: str) -> torch.Tensor:
    """Frozen CLIP's text features of `template.format(class)` for every class: [n_cls, E], not normalised."""
    texts = [template.format(clean_classname(c)) for c in classnames]
    tokens = backbone.tokenize(texts)  # [n_cls, 77]
    return encode_text(backbone.model, token_embeddings(backbone.model, tokens), tokens.argmax(-1)).features


class VisionPromptSlots(nn.Module):
    """Learnable vision prompts of their own (IVLP, VPT-deep): input tokens and one set per deeper block.

    `shallow` [n_ctx, Dv] is appended after the positional embedding (before `ln_pre`); `deep[i]` [n_ctx, Dv]
    replaces the last n_ctx tokens before vision block i+1, for blocks 1..depth-1. All fp32, N(0, 0.02^2), as the
    official `VPT` / `VPT_shallow` parameters (cast to the model dtype where they enter the tower).
    """

    def __init__(self, backbone: Backbone, n_ctx: int, depth: int) -> None:
        super().__init__()
        self.shallow = nn.Parameter(torch.empty(n_ctx, backbone.vision_width))  # [n_ctx, Dv]
        nn.init.normal_(self.shallow, std=0.02)
        self.deep = deep_tokens(depth - 1, n_ctx, backbone.vision_width)  # depth-1 x [n_ctx, Dv]

    def forward(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.shallow, list(self.deep)


class ClassContextMethod(PromptMethod):
    """A method whose text side is class prompts with a learnable context `ctx` at positions 1..n_ctx.

    Holds the class-prompt component (`ctx`, `prompts`, rebuilt by `set_classes`) and encodes text and images with
    whatever deep prompts the subclass assembles; it fixes no depth, no coupling and no vision prompt.
    """

    def __init__(
        self, backbone: Backbone, classnames: list[str], *, template: str, n_ctx: int, ctx_init: str, **texts
    ) -> None:
        super().__init__(backbone, classnames, template=template, **texts)
        self.n_ctx = n_ctx
        ctx, self.prompt_prefix = deep_context(backbone, n_ctx, ctx_init)
        self.ctx = nn.Parameter(ctx)  # [n_ctx, Dt], model dtype (fp16 under PREC=fp16, no master copy)
        self.prompts = ClassPrompts(backbone, classnames, self.prompt_prefix, n_ctx)

    def set_classes(self, classnames, template=None, **texts) -> None:
        super().set_classes(classnames, template, **texts)
        device = self.ctx.device
        self.prompts = ClassPrompts(self.backbone, self.classnames, self.prompt_prefix, self.n_ctx).to(device)

    def encode_prompted_text(
        self, deep_text: Sequence[torch.Tensor], *, hidden_layers: tuple[int, ...] = (), full_length: bool = False
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
        self, images: torch.Tensor, shallow: torch.Tensor, deep_vision: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """Image features: `shallow` appended, deep_vision[i] replacing the last n_ctx tokens before block i+1."""
        return encode_prompted_image(self.clip, images, shallow, deep_vision)


def encode_prompted_image(
    clip: nn.Module, images: torch.Tensor, shallow: torch.Tensor, deep_vision: Sequence[torch.Tensor]
) -> torch.Tensor:
    """[B, 3, H, W] -> [B, E] image features with vision prompt slots filled (see `VisionPromptSlots`)."""
    deep = {i + 1: p for i, p in enumerate(deep_vision)}
    return encode_image(clip, images, shallow=shallow, deep=deep)
