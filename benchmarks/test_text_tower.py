"""Text tower: exact truncation to max(EOT)+1 positions vs the official full 77-token pass, at 50 and 500 classes.

Both variants run `comma_bench.clip.prompted.encode_text` on the same "a photo of a {name}." prompt embeddings
without gradients (what every evaluation and every frozen text pass does); `full_length=True` is the official
computation. Target (the issue): >= 3x at both class counts.
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.conftest import backbone
from benchmarks.synthetic import classnames
from comma_bench.clip.prompted import encode_text, token_embeddings
from comma_bench.clip.prompts import clean_classname

# (backbone key, classes, timed rounds of the full pass, of the truncated pass, expensive). ViT-B/16 x 500 runs
# 38,500 tokens x 12 blocks per full pass (about a minute on 2 shared cores): it is timed once, both of its variants
# without a warm-up round, and their memory without a warm-up call (see benchmarks/memory.py).
CASES = [
    pytest.param("tiny", 50, 20, 20, False, marks=pytest.mark.benchmark(group="text tower: test-tiny, 50 classes")),
    pytest.param("tiny", 500, 10, 10, False, marks=pytest.mark.benchmark(group="text tower: test-tiny, 500 classes")),
    pytest.param("vitb16", 50, 5, 5, False, marks=pytest.mark.benchmark(group="text tower: ViT-B/16, 50 classes")),
    pytest.param("vitb16", 500, 1, 2, True, marks=pytest.mark.benchmark(group="text tower: ViT-B/16, 500 classes")),
]


def _inputs(key: str, n_cls: int):
    bb = backbone(key)
    tokens = bb.tokenize([f"a photo of a {clean_classname(c)}." for c in classnames(n_cls)])  # [n_cls, 77]
    with torch.no_grad():
        embeds = token_embeddings(bb.model, tokens)  # [n_cls, 77, D]
    return bb, embeds, tokens.argmax(dim=-1)


@pytest.mark.parametrize("variant", ["full-77 (official)", "truncated (ours)"])
@pytest.mark.parametrize(("key", "n_cls", "full_rounds", "trunc_rounds", "expensive"), CASES)
def test_text_tower(measure, key, n_cls, full_rounds, trunc_rounds, expensive, variant):
    bb, embeds, eot = _inputs(key, n_cls)
    full = variant.startswith("full")
    length = int(eot.max()) + 1

    # The two variants must compute the same function. Rows do not interact, so checking 16 classes with the whole
    # batch's truncated length checks exactly the computation the truncated variant times.
    with torch.no_grad():
        ref = encode_text(bb.model, embeds[:16], eot[:16], full_length=True).features
        got = encode_text(bb.model, embeds[:16], eot[:16], length=length).features
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)

    @torch.no_grad()
    def run():
        return encode_text(bb.model, embeds, eot, full_length=full).features  # [n_cls, E]

    measure(
        run,
        variant=variant,
        baseline=full,
        rounds=full_rounds if full else trunc_rounds,
        warmup_rounds=0 if expensive else 1,
        memory_warmup=not expensive,
        backbone=bb.name,
        text_width=bb.text_width,
        text_layers=bb.text_layers,
        n_classes=n_cls,
        positions=77 if full else length,
        tokens=n_cls * (77 if full else length),
        mean_eot_plus_1=round(float(eot.float().mean()) + 1, 2),
    )
