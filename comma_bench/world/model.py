"""`world-tiny`: the tiny CLIP that comma-bench ships pretrained on the built-in world.

Architecture choices, and why:
- Real tokenizer (vocab 49,408, context 77) and QuickGELU, so every prompt method runs on it exactly as on ViT-B/16.
- Twelve layers per tower, as ViT-B/16: every official default (MaPLe and COMMA's prompt depth 9, COMMA's KD on the
  last text block, the prompt-depth ablation's J up to 11) runs on it unchanged.
- Image tower width 128 (4 heads of 32), grown from the 4-layer world-tiny v1 image tower (`pretrain.grow_image_tower`):
  a 12-layer, width-64 tower trained from scratch for the same 3,000 steps gave features a 16-shot linear probe read
  at 36% on world/shapes and 41% on world/patterns (v1's: 56% and 59%), too little to leave room above zero-shot.
- Text tower width 64 (2 heads of 32), joint embedding 96 (v1's, so its image projection is kept): the token
  embedding (49,408 x width) dominates the file; at 64 it is 3.2M parameters (6.3 MB in fp16).
- 32x32 input, patch 8 (16 patches). ViTs learn shape slowly from scratch; in our probes patch 8 learnt shapes as
  fast per step as patch 4 at a quarter of the cost, so the CPU budget buys four times the pretraining steps, and every
  benchmark run and evaluation is correspondingly cheaper.
- Fixed 2-D sin-cos position embeddings and average pooling, the "simple ViT" recipe (Beyer et al., 2022), which
  trains faster from scratch at small scale. open_clip supports both; the prompted core pools without the appended
  prompt tokens, so deep vision prompts work unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comma_bench.clip.zoo import OPENAI_MEAN, OPENAI_STD, ModelSpec, register_model

NAME = "world-tiny"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS = WEIGHTS_DIR / "world-tiny.safetensors"  # shipped weights (fp16 storage; loading casts to fp32)
METADATA = WEIGHTS_DIR / "world-tiny.json"  # recipe, seed, wall time, sha256 and measured zero-shot accuracies

OPEN_CLIP_KWARGS: dict[str, Any] = dict(
    embed_dim=96,
    quick_gelu=True,
    vision_cfg=dict(
        image_size=32, layers=12, width=128, head_width=32, patch_size=8, pos_embed_type="sin_cos_2d", pool_type="avg"
    ),
    text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=12),
)

SPEC = register_model(
    ModelSpec(
        name=NAME,
        open_clip_kwargs=OPEN_CLIP_KWARGS,
        pretrained={"builtin": WEIGHTS},
        mean=OPENAI_MEAN,
        std=OPENAI_STD,
        description="12-layer CLIP (image width 128, patch 8 on 32 px; text width 64) pretrained on the built-in world",
    )
)


def build_model():
    """A randomly initialised world-tiny `open_clip.model.CLIP` (pretraining starts here)."""
    from open_clip.model import CLIP

    return CLIP(**OPEN_CLIP_KWARGS)
