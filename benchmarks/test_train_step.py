"""Cost of one training step per method, relative to a zero-shot forward on the same batch.

A step is what `comma_bench.engine.loop.fit` does per batch: forward, cross-entropy + the method's extra losses,
`zero_grad`, backward, SGD (momentum 0.9, weight decay 5e-4). The baseline is zero-shot CLIP's forward on the same
4 images (its class text features are computed once when the method is built, as in evaluation). Backbones:
`test-tiny` (2 layers, depth-2 prompts) and `golden-vitb16-32` (ViT-B/16 widths, full ViT-B/16 text tower, 32 px
images so the vision tower is cheap; official prompt depths). 10 classes, batch 4.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.conftest import backbone
from benchmarks.synthetic import classnames
from comma_bench.methods import build

N_CLASSES, BATCH = 10, 4
METHODS = ("zeroshot", "coop", "cocoop", "maple", "comma")
# Method settings per backbone: the tiny tower has 2 layers, so deep prompts go at most 2 deep there.
SETTINGS = {"tiny": {"maple": {"prompt_depth": 2}, "comma": {"prompt_depth": 2}}, "vitb16": {}}
ROUNDS = {"tiny": 30, "vitb16": 5}

BACKBONE_CASES = [
    pytest.param("tiny", marks=pytest.mark.benchmark(group="train step: test-tiny, 10 cls, batch 4")),
    pytest.param("vitb16", marks=pytest.mark.benchmark(group="train step: ViT-B/16 @ 32 px, 10 cls, batch 4")),
]


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("key", BACKBONE_CASES)
def test_train_step(measure, key, name):
    bb = backbone(key)
    torch.manual_seed(0)
    cfg = SETTINGS[key].get(name, {})
    method = build(name, bb, classnames(N_CLASSES), template="a photo of a {}.", **cfg).to(bb.device)
    gen = torch.Generator().manual_seed(2)
    images = torch.randn(BATCH, 3, bb.image_size, bb.image_size, generator=gen).to(bb.device)  # [B, 3, S, S]
    labels = torch.arange(BATCH, device=bb.device) % N_CLASSES  # [B]

    if name == "zeroshot":
        method.eval()

        @torch.no_grad()
        def run():
            return method(images).logits

        variant = "zeroshot forward (baseline)"
    else:
        method.train()
        optimizer = torch.optim.SGD(method.trainable_parameters(), lr=1e-4, momentum=0.9, weight_decay=5e-4)

        def run():
            out = method(images)
            loss = F.cross_entropy(out.logits.float(), labels)
            loss = loss + sum((v.float() for v in out.losses.values()), torch.zeros((), device=loss.device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return loss.detach()

        variant = f"{name} step (fwd+bwd+SGD)"
        assert torch.isfinite(run()), f"{name}: the benchmarked step must compute a finite loss"

    measure(
        run,
        variant=variant,
        baseline=name == "zeroshot",
        rounds=ROUNDS[key],
        backbone=bb.name,
        method=name,
        method_config=cfg,
        n_classes=N_CLASSES,
        batch=BATCH,
        image_size=bb.image_size,
        trainable_params=method.num_trainable(),
    )
