"""Tiny random-init architectures for tests and for the golden fixtures.

`test-tiny` is the smallest CLIP that still runs the real tokenizer (vocab 49,408, context 77) with ViT structure:
2 layers per tower, width 64. `golden-vitb16-32` is ViT-B/16's widths and depths at 32x32 input, the architecture of
`tests/golden/` (shared/golden/README.md §2). Neither has weights: use `--pretrained none`.
"""

from __future__ import annotations

from comma_bench.clip.zoo import ModelSpec, register_model

TEST_TINY = register_model(
    ModelSpec(
        name="test-tiny",
        open_clip_kwargs=dict(
            embed_dim=32,
            quick_gelu=True,
            vision_cfg=dict(image_size=32, layers=2, width=64, head_width=32, patch_size=8),
            text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=2),
        ),
        description="2-layer width-64 CLIP for CPU tests (random init only)",
    )
)

GOLDEN_VITB16_32 = register_model(
    ModelSpec(
        name="golden-vitb16-32",
        open_clip_kwargs=dict(
            embed_dim=512,
            vision_cfg=dict(image_size=32, layers=12, width=768, head_width=64, patch_size=16, mlp_ratio=4.0),
            text_cfg=dict(context_length=77, vocab_size=49408, width=512, heads=8, layers=12, mlp_ratio=4.0),
            quick_gelu=True,
        ),
        description="ViT-B/16 widths and depths at 32x32 input: the architecture of the golden fixtures",
    )
)
