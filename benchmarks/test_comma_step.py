"""COMMA's training step with the official KD loss (`kd_positions: all`): the official computation vs ours.

The KD loss compares the learnable text branch's last-block hidden states with frozen CLIP's at all 77 positions,
padding included, so neither side can truncate the text tower: both run 77 positions with hidden states. What
differs is how the same function is computed.
- **official (re-stated)**: hulianyuyy/COMMA@3584f31 `trainers/comma.py` `CustomCLIP.forward` on the same frozen
  weights: prompts + positions permuted to LND, each block `x + attn(ln_1(x))`, `x + mlp(ln_2(x))` through
  `nn.MultiheadAttention(batch_first=False)` (here `F.multi_head_attention_forward` on the block's own weights, what
  that module runs), deep text prompts spliced in as `cat([x[:1], prompt, x[1 + n_ctx:]])`, the last block's output
  kept as the KD features, `ln_final` over all 77 positions then the EOT row; the image tower likewise in LND with
  the deep vision prompts replacing the last n_ctx tokens. The frozen-CLIP reference states are computed once per
  class list in both (the official code does it in the prompt learner's constructor), and the deep vision prompts
  come from the same generator call (faithful mode: outside autograd, as the official `.data` writes).
- **ours**: `COMMA.forward` (`comma_bench/clip/prompted.py`).

A step is forward, CE + KD, backward (no optimiser: both would run the same SGD update). Both give the same loss and
gradients (checked before timing, 1e-5 / 1e-4 as the golden fixtures). Backbone `golden-vitb16-32`: ViT-B/16 widths
and depths, 32 px images; official depth 9, batch 4, fp32, 6 and 50 classes. Target (issue 13): ours >= 1.5x faster.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.conftest import backbone
from benchmarks.synthetic import classnames
from comma_bench.clip.prompted import cosine_logits
from comma_bench.methods import build

BATCH = 4
VARIANTS = ("official (re-stated)", "ours")


def _official_block(block, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The official `ResidualAttentionBlock_COMMA` body on LND input [L, N, D]."""
    attn = block.attn
    y = block.ln_1(x)
    a = F.multi_head_attention_forward(
        y, y, y, attn.embed_dim, attn.num_heads, attn.in_proj_weight, attn.in_proj_bias, None, None, False, 0.0,
        attn.out_proj.weight, attn.out_proj.bias, training=False, need_weights=False, attn_mask=mask,
    )[0]  # fmt: skip
    x = x + a
    return x + block.mlp(block.ln_2(x))


def official_forward(method, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits [B, n_cls], L_kd) as the official COMMA forward computes them (K = 1: the last block only)."""
    clip, prompts, n_ctx = method.clip, method.prompts, method.n_ctx
    v0, slots = method.vision_prompts()  # [n_ctx, Dv], J-1 x [n_ctx, Dv]
    # Text: CustomCLIP.text_encoder(prompts, tokenized_prompts, compound_prompts_text, last_layer=1).
    x = prompts.assemble(method.ctx) + clip.positional_embedding  # [n_cls, 77, Dt]
    x = x.permute(1, 0, 2)  # NLD -> LND
    mask = clip.attn_mask
    deep = list(method.deep_text)
    blocks = clip.transformer.resblocks
    for i, block in enumerate(blocks):
        if 1 <= i <= len(deep):
            p = deep[i - 1].unsqueeze(1).expand(-1, x.shape[1], -1)  # [n_ctx, n_cls, Dt]
            x = torch.cat([x[:1], p, x[1 + n_ctx :]], dim=0)
        x = _official_block(block, x, mask)
    last = x.permute(1, 0, 2)  # [n_cls, 77, Dt]: the last block's output, the KD features
    pooled = clip.ln_final(last)[torch.arange(last.shape[0]), prompts.eot]  # ln_final on all 77, then the EOT row
    text = pooled @ clip.text_projection  # [n_cls, E]
    learn = last / last.norm(dim=-1, keepdim=True)
    ref = method.kd_reference()[0]  # [n_cls, 77, Dt], computed once per class list
    kd = 1.0 - F.cosine_similarity(learn, ref, dim=-1, eps=1e-7).mean()
    # Image: VisionTransformer_COMMA(image, shared_ctx, compound_prompts_image).
    visual = clip.visual
    y = visual.conv1(images)
    y = y.reshape(y.shape[0], y.shape[1], -1).permute(0, 2, 1)  # [B, g*g, Dv]
    cls = visual.class_embedding.view(1, 1, -1).expand(y.shape[0], -1, -1)
    y = torch.cat([cls, y], dim=1) + visual.positional_embedding
    y = torch.cat([y, v0.unsqueeze(0).expand(y.shape[0], -1, -1)], dim=1)
    y = visual.ln_pre(y).permute(1, 0, 2)  # LND
    for i, block in enumerate(visual.transformer.resblocks):
        if 1 <= i <= len(slots):
            y = torch.cat([y[: y.shape[0] - n_ctx], slots[i - 1].unsqueeze(1).expand(-1, y.shape[1], -1)], dim=0)
        y = _official_block(block, y, None)
    image = visual.ln_post(y.permute(1, 0, 2)[:, 0]) @ visual.proj  # [B, E]
    return cosine_logits(clip, image, text), kd


def _method(n_cls: int):
    torch.manual_seed(0)
    bb = backbone("vitb16")
    method = build("comma", bb, classnames(n_cls), template="a photo of a {}.").to(bb.device).train()
    assert method.config.kd_positions == "all" and method.config.kd_layers == 1
    method.kd_reference()  # once per class list, in both variants
    return method


def _inputs(method):
    gen = torch.Generator().manual_seed(2)
    size = method.backbone.image_size
    images = torch.randn(BATCH, 3, size, size, generator=gen).to(method.ctx.device)  # [B, 3, S, S]
    labels = torch.arange(BATCH, device=images.device) % len(method.classnames)
    return images, labels


def _step(method, images, labels, official: bool) -> torch.Tensor:
    if official:
        logits, kd = official_forward(method, images)
    else:
        out = method(images)
        logits, kd = out.logits, out.extras["kd"]
    loss = F.cross_entropy(logits.float(), labels) + method.config.kd_weight * kd
    method.zero_grad(set_to_none=True)
    loss.backward()
    return loss.detach()


_CHECKED: set[int] = set()


def _check_same_function(method, images, labels) -> None:
    """Same loss and same gradients (the golden fixtures' tolerances) before anything is timed."""
    grads = []
    losses = []
    for official in (True, False):
        losses.append(_step(method, images, labels, official))
        grads.append({n: p.grad.clone() for n, p in method.named_parameters() if p.grad is not None})
    torch.testing.assert_close(losses[1], losses[0], rtol=0, atol=1e-5)
    assert grads[0].keys() == grads[1].keys() and {"ctx", "deep_text"} <= grads[0].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=1e-4, atol=1e-6, msg=name)


def _case(n_cls: int, rounds: int):
    group = f"comma train step, kd_positions all: ViT-B/16 @ 32 px, {n_cls} cls, batch {BATCH}"
    return pytest.param(n_cls, rounds, marks=pytest.mark.benchmark(group=group))


CASES = [_case(6, 10), _case(50, 5)]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("n_cls", "rounds"), CASES)
def test_comma_step(measure, n_cls, rounds, variant):
    method = _method(n_cls)
    images, labels = _inputs(method)
    if n_cls not in _CHECKED:
        _check_same_function(method, images, labels)
        _CHECKED.add(n_cls)
    official = variant == VARIANTS[0]
    measure(
        lambda: _step(method, images, labels, official),
        variant=variant,
        baseline=official,
        rounds=rounds,
        backbone=method.backbone.name,
        n_classes=n_cls,
        batch=BATCH,
        positions=77,
        prompt_depth=method.config.prompt_depth,
    )
