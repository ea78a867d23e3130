"""Class prompts with learnable context slots: CoOp's prompt assembly, shared by every prompt learner.

A prompt learner tokenizes `"<prefix> <classname>."` once, where `<prefix>` is either the init string
(`"a photo of a"`) or `n_ctx` placeholder words (`"X X ... X"`). The embeddings of that token sequence are frozen
buffers; the learnable context replaces positions 1..n_ctx (CoOp/CoCoOp/MaPLe/COMMA all do this), or, for CoOp's
`middle` / `front` class-token positions, is interleaved with the class-name tokens (CoOp's `trainers/coop.py`).
"""

from __future__ import annotations

import torch
from torch import nn

from comma_bench.clip.backbone import Backbone
from comma_bench.clip.prompted import token_embeddings

CLASS_TOKEN_POSITIONS = ("end", "middle", "front")


def clean_classname(name: str) -> str:
    """CoOp and its forks replace underscores before building any prompt."""
    return name.replace("_", " ")


@torch.no_grad()
def context_from_text(backbone: Backbone, text: str, n_ctx: int) -> torch.Tensor:
    """[n_ctx, D] token embeddings at positions 1..n_ctx of `text` (CoOp's CTX_INIT), in the model's dtype.

    MaPLe and COMMA keep n_ctx=2 with the 4-word init "a photo of a", so only "a", "photo" are taken (MaPLe's
    `trainers/maple.py`).
    """
    tokens = backbone.tokenize([text])  # [1, 77]
    return token_embeddings(backbone.model, tokens)[0, 1 : 1 + n_ctx].clone()  # [n_ctx, D]


def random_context(backbone: Backbone, n_ctx: int, *, per_class: int | None = None, std: float = 0.02) -> torch.Tensor:
    """N(0, 0.02^2) context as the official code draws it: [n_ctx, D], or [n_cls, n_ctx, D] for class-specific."""
    shape = (n_ctx, backbone.text_width) if per_class is None else (per_class, n_ctx, backbone.text_width)
    ctx = torch.empty(shape, dtype=backbone.dtype, device=backbone.device)
    nn.init.normal_(ctx, std=std)
    return ctx


def coop_context(
    backbone: Backbone, ctx_init: str, n_ctx: int, *, per_class: int | None = None
) -> tuple[torch.Tensor, str, int]:
    """CoOp/CoCoOp's context rule: (initial ctx, prompt prefix, effective n_ctx).

    With an init string, n_ctx becomes its number of words and ctx its token embeddings (CoOp's
    `trainers/coop.py`); otherwise
    ctx is N(0, 0.02^2) ([n_cls, n_ctx, D] when `per_class`) behind "X X ... X" placeholders.
    """
    if ctx_init:
        init = ctx_init.replace("_", " ")
        n = len(init.split(" "))
        return context_from_text(backbone, init, n), init, n
    return random_context(backbone, n_ctx, per_class=per_class), " ".join(["X"] * n_ctx), n_ctx


class ClassPrompts(nn.Module):
    """Frozen token embeddings of `"<prefix> <class>."` for every class, ready to receive a learnable context.

    Buffers are non-persistent: like the official evaluation (which drops `token_prefix`/`token_suffix` from the
    state dict), a checkpoint never carries class-name embeddings, so it can be evaluated on any class list.
    """

    def __init__(self, backbone: Backbone, classnames: list[str], prefix: str, n_ctx: int) -> None:
        super().__init__()
        self.n_ctx = n_ctx
        names = [clean_classname(c) for c in classnames]
        self.texts = [f"{prefix} {name}." for name in names]
        tokens = backbone.tokenize(self.texts)  # [n_cls, 77]
        self.name_lens = [len(backbone.tokenizer.encode(name)) for name in names]
        with torch.no_grad():
            emb = token_embeddings(backbone.model, tokens)  # [n_cls, 77, D]
        self.register_buffer("tokens", tokens, persistent=False)
        self.register_buffer("token_prefix", emb[:, :1].clone(), persistent=False)  # [n_cls, 1, D] SOS
        self.register_buffer("token_suffix", emb[:, 1 + n_ctx :].clone(), persistent=False)  # [n_cls, 76-n_ctx, D]
        eot = tokens.argmax(dim=-1)  # EOT (49407) is the largest id
        self.register_buffer("eot", eot, persistent=False)  # [n_cls]
        self.max_len = int(eot.max()) + 1  # positions the truncated text forward needs

    @property
    def n_cls(self) -> int:
        return self.tokens.shape[0]

    def assemble(self, ctx: torch.Tensor, position: str = "end") -> torch.Tensor:
        """Full prompt embeddings [n_cls, 77, D] from a context of [n_ctx, D] (shared) or [n_cls, n_ctx, D]."""
        n_cls = self.n_cls
        if ctx.dim() == 2:
            ctx = ctx.unsqueeze(0).expand(n_cls, -1, -1)  # [n_cls, n_ctx, D]
        ctx = ctx.to(self.token_prefix.dtype)
        prefix, suffix = self.token_prefix, self.token_suffix
        if position == "end":
            return torch.cat([prefix, ctx, suffix], dim=1)
        if position not in CLASS_TOKEN_POSITIONS:
            raise ValueError(f"class_token_position must be one of {CLASS_TOKEN_POSITIONS}, got {position!r}")
        half = self.n_ctx // 2
        rows = []
        for i, name_len in enumerate(self.name_lens):
            cls_tok = suffix[i : i + 1, :name_len]  # [1, name_len, D]
            rest = suffix[i : i + 1, name_len:]  # [1, *, D]: ".", EOT, padding
            if position == "middle":
                parts = [prefix[i : i + 1], ctx[i : i + 1, :half], cls_tok, ctx[i : i + 1, half:], rest]
            else:  # front
                parts = [prefix[i : i + 1], cls_tok, ctx[i : i + 1], rest]
            rows.append(torch.cat(parts, dim=1))
        return torch.cat(rows, dim=0)  # [n_cls, 77, D]
