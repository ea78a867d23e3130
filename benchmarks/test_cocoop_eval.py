"""CoCoOp evaluation: the official per-image loop vs our batched, chunked `instance_text_features`.

Every image has its own class prompts (context + Meta-Net bias), so B images need B x n_cls text sequences.
- **per-image, full-77 (official)**: CoCoOp's `for pts_i, imf_i in zip(prompts, image_features)` loop, one image's
  n_cls prompts through the 77-position text tower at a time.
- **per-image, truncated**: the same loop with exact truncation; against it, the batched variant shows what batching
  alone buys (the two differ only in how many sequences one text-tower call gets).
- **batched, truncated (ours)**: `CoCoOp.logits_from_image_features`, all B x n_cls sequences in chunks of
  `text_chunk` sequences.
Target (the issue): batched >= 5x faster than the official loop. Inputs are unit image features (what evaluation
feeds the method after the frozen image tower, whose cost is the same for every variant and is cached anyway).

A second group measures how `text_chunk` bounds the memory of a 500-class evaluation.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.conftest import backbone
from benchmarks.synthetic import classnames
from comma_bench.clip.prompted import encode_text
from comma_bench.methods import build

VARIANTS = ("per-image, full-77 (official)", "per-image, truncated", "batched, truncated (ours)")
_CHECKED: set[tuple[str, int, int]] = set()  # cases whose equality check has passed in this session


def _method(key: str, n_cls: int, **cfg):
    torch.manual_seed(0)
    bb = backbone(key)
    method = build("cocoop", bb, classnames(n_cls), template="a photo of a {}.", **cfg).to(bb.device)
    return method.eval()


def _image_features(method, batch: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(batch, method.backbone.embed_dim, generator=gen)  # [B, E]
    return F.normalize(feats, dim=-1).to(method.ctx.device)


@torch.no_grad()
def per_image_logits(method, image_features: torch.Tensor, *, full: bool) -> torch.Tensor:
    """The official CoCoOp forward: one text-tower pass per image over that image's n_cls prompts -> [B, n_cls]."""
    feats = F.normalize(image_features, dim=-1)
    bias = method.meta_net(feats.to(method.ctx.dtype))  # [B, Dt]
    ctx = method.ctx.unsqueeze(0) + bias.unsqueeze(1)  # [B, n_ctx, Dt]
    prompts = method.prompts
    scale = method.clip.logit_scale.exp()
    rows = []
    for ctx_i, imf_i in zip(ctx, feats):
        embeds = prompts.assemble(ctx_i)  # [n_cls, 77, Dt]
        length = None if full else prompts.max_len
        text = encode_text(method.clip, embeds, prompts.eot, full_length=full, length=length).features  # [n_cls, E]
        rows.append(scale * imf_i @ F.normalize(text, dim=-1).t())  # [n_cls]
    return torch.stack(rows)  # [B, n_cls]


BACKBONE_LABEL = {"tiny": "test-tiny", "vitb16": "ViT-B/16"}


def _case(key: str, n_cls: int, batch: int, rounds: int, expensive: bool):
    """One size, its own benchmark group. `expensive`: no warm-up rounds or memory warm-up (see memory.py)."""
    group = f"cocoop eval: {BACKBONE_LABEL[key]}, {n_cls} cls x {batch} img"
    return pytest.param(key, n_cls, batch, rounds, expensive, marks=pytest.mark.benchmark(group=group))


# The ViT-B/16 official loop costs seconds per image on 2 cores: 4 images, timed once.
CASES = [_case("tiny", 50, 32, 5, False), _case("tiny", 500, 8, 3, False), _case("vitb16", 50, 4, 1, True)]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("key", "n_cls", "batch", "rounds", "expensive"), CASES)
def test_cocoop_eval(measure, key, n_cls, batch, rounds, expensive, variant):
    method = _method(key, n_cls)
    feats = _image_features(method, batch)

    # Same function: our batched logits equal the official loop's on the first two images (images are independent);
    # checked once per case, the official loop on ViT-B/16 costs seconds per image.
    if (key, n_cls, batch) not in _CHECKED:
        with torch.no_grad():
            official = per_image_logits(method, feats[:2], full=True)
            ours = method.logits_from_image_features(feats[:2])
        torch.testing.assert_close(ours, official, rtol=1e-4, atol=1e-4)
        _CHECKED.add((key, n_cls, batch))

    if variant.startswith("batched"):

        @torch.no_grad()
        def run():
            return method.logits_from_image_features(feats)

    else:
        full = "full-77" in variant

        def run():
            return per_image_logits(method, feats, full=full)

    measure(
        run,
        variant=variant,
        baseline=variant == VARIANTS[0],
        rounds=rounds,
        warmup_rounds=0 if expensive else 1,
        memory_warmup=not expensive,
        backbone=method.backbone.name,
        n_classes=n_cls,
        images=batch,
        text_chunk=method.config.text_chunk,
        sequences=n_cls * batch,
        positions=77 if "full-77" in variant else method.prompts.max_len,
        text_calls=batch if variant.startswith("per-image") else -(-batch // max(1, method.config.text_chunk // n_cls)),
    )


CHUNKS = (500, 4000, 8000)  # 1 image, 8 images, all 16 images of 500 classes per text-tower pass


@pytest.mark.benchmark(group="cocoop eval memory: test-tiny, 500 cls x 16 img, by text_chunk")
@pytest.mark.parametrize("text_chunk", CHUNKS)
def test_cocoop_chunk_bounds_memory(measure, text_chunk):
    n_cls, batch = 500, 16
    method = _method("tiny", n_cls, text_chunk=text_chunk)
    feats = _image_features(method, batch)
    width = method.backbone.text_width

    @torch.no_grad()
    def run():
        return method.logits_from_image_features(feats)

    per_pass = min(batch, max(1, text_chunk // n_cls))
    measure(
        run,
        variant=f"text_chunk={text_chunk} ({per_pass} img/pass)",
        baseline=text_chunk == max(CHUNKS),
        rounds=3,
        backbone=method.backbone.name,
        n_classes=n_cls,
        images=batch,
        text_chunk=text_chunk,
        images_per_pass=per_pass,
        positions=method.prompts.max_len,
        # one [images x classes x 77 x width] fp32 activation if nothing were chunked or truncated
        unchunked_full77_activation_mb=round(batch * n_cls * 77 * width * 4 / 2**20, 1),
        chunk_activation_mb=round(per_pass * n_cls * method.prompts.max_len * width * 4 / 2**20, 1),
    )
