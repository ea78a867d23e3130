"""The prompted CLIP forward: open_clip's text and image towers re-run block by block with prompt slots.

Prompt learners never fork CLIP. They hand this module token embeddings (with their learnable context already in
place) and per-block deep prompts; this module runs open_clip's own modules (`token_embedding`, `resblocks`,
`ln_final`, `visual.conv1`, ...) in the same order as `CLIP.encode_text` / `CLIP.encode_image`:

- **Batch-first.** open_clip 3.x blocks take [N, L, D]; the official repositories' LND permutes are not needed.
- **Text deep prompts** replace token positions `start .. start+n-1` of the block *input* before the given blocks
  (MaPLe/COMMA: positions 1..n_ctx before blocks 1..J-1).
- **Image shallow prompts** are appended after the positional embedding and before `ln_pre`; **image deep prompts**
  replace the last n tokens before the given blocks. They are removed again before pooling.
- **Exact truncation.** Under the causal mask, position p only attends to positions <= p, so the states at positions
  0..EOT do not depend on anything after the last EOT of the batch. `encode_text` therefore runs only
  `max(eot) + 1` positions by default, with identical results (tested). Callers that need the hidden states of all
  77 positions (COMMA's official KD loss averages over padding too) pass `full_length=True`.
- **Attention input laid out length-major.** open_clip's blocks hold `nn.MultiheadAttention(batch_first=True)`,
  which transposes its [N, L, D] input to [L, N, D]. On a batch-first tensor that view is strided, and when it
  requires grad torch does not fold it into one matrix product: the qkv projection ran as L small batched products
  (for COMMA's 77-position KD pass, about twice the time of the same projection as one product). `run_block` hands the
  attention the same values stored [L, N, D], as the official LND code does; the block's own modules compute
  everything, so the numbers are the same up to float summation order (tested).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from open_clip.model import CLIP
from open_clip.transformer import ResidualAttentionBlock


@dataclass
class TextOutput:
    features: torch.Tensor  # [N, E] projected EOT features (not normalised)
    hidden: dict[int, torch.Tensor] = field(default_factory=dict)  # block index -> [N, L, D] block output


def _expand(prompt: torch.Tensor, n: int) -> torch.Tensor:
    """[k, D] -> [n, k, D]; [n, k, D] passes through."""
    return prompt.unsqueeze(0).expand(n, -1, -1) if prompt.dim() == 2 else prompt


def _replace_slice(x: torch.Tensor, start: int, prompt: torch.Tensor) -> torch.Tensor:
    """x with tokens start..start+k-1 replaced by `prompt` ([k, D] shared or [N, k, D]); out of place for autograd."""
    k = prompt.shape[-2]
    p = _expand(prompt.to(x.dtype), x.shape[0])
    if start < 0:  # replace the last k tokens
        return torch.cat([x[:, : x.shape[1] - k], p], dim=1)
    return torch.cat([x[:, :start], p, x[:, start + k :]], dim=1)


def run_block(block: torch.nn.Module, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
    """`block(x, attn_mask=attn_mask)` on [N, L, D], with the attention's input stored length-major (module docstring).

    Only a tensor that records gradients takes this path (without autograd torch folds the strided view into one
    product itself, so inference keeps open_clip's exact op sequence), and only through open_clip's plain
    `ResidualAttentionBlock` with a batch-first `nn.MultiheadAttention` and no hooks (a hooked block runs as it is,
    so its hooks see every call).
    """
    plain = type(block) is ResidualAttentionBlock and not hasattr(block, "ln_1_kv") and block.attn.batch_first
    hooked = bool(block._forward_hooks or block._forward_pre_hooks)
    if not (plain and not hooked and x.requires_grad and torch.is_grad_enabled()):
        return block(x, attn_mask=attn_mask)
    q = block.ln_1(x).transpose(0, 1).contiguous().transpose(0, 1)  # [N, L, D] values, [L, N, D] memory
    x = x + block.ls_1(block.attention(q_x=q, attn_mask=attn_mask))
    return x + block.ls_2(block.mlp(block.ln_2(x)))


def project_text(model: CLIP, pooled: torch.Tensor) -> torch.Tensor:
    proj = model.text_projection
    if proj is None:
        return pooled
    return proj(pooled) if isinstance(proj, torch.nn.Linear) else pooled @ proj


def token_embeddings(model: CLIP, tokens: torch.Tensor) -> torch.Tensor:
    """[N, 77] ids -> [N, 77, D] embeddings in the transformer's cast dtype (as `CLIP.encode_text`)."""
    return model.token_embedding(tokens).to(model.transformer.get_cast_dtype())


def encode_text(
    model: CLIP,
    embeds: torch.Tensor,
    eot: torch.Tensor,
    *,
    deep: Mapping[int, torch.Tensor] | None = None,
    deep_start: int = 1,
    hidden_layers: Sequence[int] = (),
    full_length: bool = False,
    length: int | None = None,
) -> TextOutput:
    """Run the text tower on prompt embeddings.

    Args:
        model: the frozen open_clip CLIP.
        embeds: [N, 77, D] token embeddings with any shallow context already assembled.
        eot: [N] position of the EOT token of each sequence (the pooling position).
        deep: block index -> [k, D] (shared) or [N, k, D] prompts that replace positions deep_start..deep_start+k-1
            of that block's input.
        deep_start: first replaced position (1: right after SOS, as MaPLe/COMMA).
        hidden_layers: block indices whose outputs (the residual stream before `ln_final`) are returned.
        full_length: run all positions instead of truncating to max(eot)+1.
        length: max(eot)+1 when the caller knows it (avoids a device-to-host sync per call on GPUs).
    """
    deep = deep or {}
    if full_length:
        length = embeds.shape[1]
    elif length is None:
        length = int(eot.max().item()) + 1
    x = embeds[:, :length] + model.positional_embedding[:length].to(embeds.dtype)  # [N, L, D]
    mask = model.attn_mask
    if mask is not None:
        mask = mask[:length, :length]
    hidden: dict[int, torch.Tensor] = {}
    wanted = set(hidden_layers)
    for i, block in enumerate(model.transformer.resblocks):
        if i in deep:
            x = _replace_slice(x, deep_start, deep[i])
        x = run_block(block, x, mask)  # [N, L, D]
        if i in wanted:
            hidden[i] = x
    x = model.ln_final(x)
    pooled = x[torch.arange(x.shape[0], device=x.device), eot]  # [N, D]
    return TextOutput(features=project_text(model, pooled), hidden=hidden)


def encode_image(
    model: CLIP,
    images: torch.Tensor,
    *,
    shallow: torch.Tensor | None = None,
    deep: Mapping[int, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Run the image tower with optional appended prompt tokens.

    Args:
        model: the frozen open_clip CLIP.
        images: [B, 3, H, W] normalised images.
        shallow: [k, Dv] or [B, k, Dv] tokens appended after the positional embedding, before `ln_pre`.
        deep: block index -> [k, Dv] or [B, k, Dv] tokens that replace the last k tokens of that block's input.

    Returns:
        [B, E] projected image features (not normalised).
    """
    visual = model.visual
    deep = deep or {}
    if deep and shallow is None:
        raise ValueError("deep vision prompts replace appended prompt tokens: pass shallow prompts too")
    x = visual.conv1(images.to(visual.conv1.weight.dtype))  # [B, Dv, g, g]
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [B, g*g, Dv]
    cls = visual.class_embedding.view(1, 1, -1).expand(x.shape[0], -1, -1).to(x.dtype)
    x = torch.cat([cls, x], dim=1) + visual.positional_embedding.to(x.dtype)  # [B, 1+g*g, Dv]
    x = visual.patch_dropout(x)
    n_prompt = 0
    if shallow is not None:
        n_prompt = shallow.shape[-2]
        x = torch.cat([x, _expand(shallow.to(x.dtype), x.shape[0])], dim=1)  # [B, 1+g*g+k, Dv]
    x = visual.ln_pre(x)
    for i, block in enumerate(visual.transformer.resblocks):
        if i in deep:
            x = _replace_slice(x, -1, deep[i])
        x = run_block(block, x)
    if n_prompt:
        x = x[:, : x.shape[1] - n_prompt]  # pooling never sees prompt tokens (matters for avg-pooled towers)
    pooled, _ = visual._pool(x)
    if visual.proj is not None:
        pooled = pooled @ visual.proj
    return pooled


def cosine_logits(model: CLIP, image_features: torch.Tensor, text_features: torch.Tensor) -> torch.Tensor:
    """exp(logit_scale) * cos: [B, E] x [C, E] -> [B, C]; [B, E] x [B, C, E] -> [B, C] (CoCoOp)."""
    img = F.normalize(image_features, dim=-1)
    txt = F.normalize(text_features, dim=-1)
    scale = model.logit_scale.exp()
    if txt.dim() == 3:
        return scale * torch.einsum("be,bce->bc", img, txt)
    return scale * img @ txt.t()
