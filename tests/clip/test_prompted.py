"""The prompted core equals plain open_clip when the prompts are empty, truncation is exact, and prompts land
exactly in the intended positions and blocks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from comma_bench.clip import encode_image, encode_text, load_backbone, token_embeddings

PROMPTS = ["a photo of a dog.", "a red circle on the left of a big blue square, drawn with thick lines.", "cat"]


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


@pytest.fixture(scope="module")
def vitb16():
    torch.manual_seed(0)
    return load_backbone("ViT-B-16", "none")


@pytest.mark.parametrize("which", ["tiny", "vitb16"])
def test_no_prompts_equals_open_clip(which, tiny_backbone, request):
    bb = tiny_backbone if which == "tiny" else request.getfixturevalue("vitb16")
    model = bb.model
    tokens = bb.tokenize(PROMPTS)
    images = torch.randn(2, 3, bb.image_size, bb.image_size, generator=torch.Generator().manual_seed(1))
    emb, eot = token_embeddings(model, tokens), tokens.argmax(-1)
    with torch.no_grad():
        ref_t = model.encode_text(tokens)
        full = encode_text(model, emb, eot, full_length=True).features
        short = encode_text(model, emb, eot).features
        assert _max_diff(full, ref_t) <= 1e-6  # same op sequence as open_clip
        assert _max_diff(encode_image(model, images), model.encode_image(images)) <= 1e-6
        # the truncated fast path differs only by fp32 summation order of shorter matmuls
        assert _max_diff(F.normalize(short, dim=-1), F.normalize(ref_t, dim=-1)) <= 1e-6
        assert _max_diff(short, ref_t) <= 1e-5 * float(ref_t.abs().max())


def test_truncated_equals_full_length(golden_backbone):
    model = golden_backbone.model
    tokens = golden_backbone.tokenize(PROMPTS)
    emb = token_embeddings(model, tokens)
    eot = tokens.argmax(-1)
    deep = {1: torch.randn(2, 512), 5: torch.randn(2, 512)}
    with torch.no_grad():
        short = encode_text(model, emb, eot, deep=deep, hidden_layers=(11,))
        full = encode_text(model, emb, eot, deep=deep, hidden_layers=(11,), full_length=True)
    assert short.hidden[11].shape[1] == int(eot.max()) + 1 < 77 == full.hidden[11].shape[1]
    assert _max_diff(short.features, full.features) <= 1e-5 * float(full.features.abs().max())
    # every position up to each EOT is identical under the causal mask
    for i, e in enumerate(eot.tolist()):
        assert _max_diff(short.hidden[11][i, : e + 1], full.hidden[11][i, : e + 1]) <= 1e-4


def _capture_block_inputs(blocks) -> tuple[list, list]:
    seen: list[torch.Tensor] = [None] * len(blocks)
    handles = [
        blk.register_forward_pre_hook(lambda mod, args, i=i: seen.__setitem__(i, args[0].detach().clone()))
        for i, blk in enumerate(blocks)
    ]
    return seen, handles


def test_text_deep_prompts_replace_exactly_positions_and_blocks(tiny_backbone):
    model = tiny_backbone.model
    tokens = tiny_backbone.tokenize(PROMPTS)
    emb = token_embeddings(model, tokens)
    prompt = torch.randn(2, emb.shape[-1])
    seen, handles = _capture_block_inputs(model.transformer.resblocks)
    try:
        with torch.no_grad():
            encode_text(model, emb, tokens.argmax(-1), deep={1: prompt}, full_length=True)
            plain_seen = list(seen)
            encode_text(model, emb, tokens.argmax(-1), full_length=True)
    finally:
        for h in handles:
            h.remove()
    prompted_in, plain_in = plain_seen[1], seen[1]
    assert torch.equal(prompted_in[:, 1:3], prompt.expand(3, -1, -1))  # positions 1..2 hold the prompt
    assert torch.equal(prompted_in[:, 0], plain_in[:, 0])  # SOS untouched
    assert torch.equal(prompted_in[:, 3:], plain_in[:, 3:])  # the rest untouched at this block's input
    assert torch.equal(plain_seen[0], seen[0])  # block 0 is never modified


def test_image_prompts_appended_and_replaced_at_the_end(golden_backbone):
    model = golden_backbone.model
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    shallow = torch.randn(2, 768)
    deep = {1: torch.randn(2, 768), 4: torch.randn(2, 768)}
    seen, handles = _capture_block_inputs(model.visual.transformer.resblocks)
    try:
        with torch.no_grad():
            encode_image(model, images, shallow=shallow, deep=deep)
    finally:
        for h in handles:
            h.remove()
    assert seen[0].shape[1] == 5 + 2  # CLS + 2x2 patches + 2 prompt tokens
    expected0 = model.visual.ln_pre(shallow)  # appended before ln_pre, normalised with the rest
    assert torch.allclose(seen[0][0, -2:], expected0, atol=1e-6)
    for i in (1, 4):
        assert torch.equal(seen[i][:, -2:], deep[i].expand(2, -1, -1))
    for i in (2, 3, 5):
        assert not torch.equal(seen[i][0, -2:], seen[i - 1][0, -2:])  # carried forward, i.e. transformed


def test_deep_vision_prompts_need_appended_tokens(tiny_backbone):
    with pytest.raises(ValueError, match="shallow"):
        encode_image(tiny_backbone.model, torch.zeros(1, 3, 32, 32), deep={1: torch.zeros(2, 64)})


def test_training_pass_projects_attention_inputs_in_one_product(golden_backbone):
    """Under autograd, nn.MultiheadAttention's batch-first transpose made the qkv projection L small batched
    products (`aten::bmm`, twice the time for COMMA's 77-position KD pass); `run_block` stores the attention input
    length-major so that it is one product, with the block's own modules and the same values and gradients."""
    from torch.profiler import ProfilerActivity, profile

    from comma_bench.clip.prompted import run_block

    model = golden_backbone.model
    tokens = golden_backbone.tokenize(PROMPTS)
    emb = token_embeddings(model, tokens).detach().requires_grad_(True)
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    shallow = torch.randn(2, 768, requires_grad=True)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        text = encode_text(model, emb, tokens.argmax(-1), hidden_layers=(11,), full_length=True)
        image = encode_image(model, images, shallow=shallow, deep={1: shallow * 2})
        (text.hidden[11].square().mean() + text.features.sum() + image.sum()).backward()
    assert not [e.key for e in prof.key_averages() if e.key == "aten::bmm"]
    # Same function as calling the block: values and gradients.
    block, mask = model.transformer.resblocks[3], model.attn_mask
    x = torch.randn(3, 77, 512, requires_grad=True)
    ours = run_block(block, x, mask)
    (g_ours,) = torch.autograd.grad(ours.square().sum(), x)
    plain = block(x, attn_mask=mask)
    (g_plain,) = torch.autograd.grad(plain.square().sum(), x)
    torch.testing.assert_close(ours, plain, rtol=0, atol=1e-5)
    torch.testing.assert_close(g_ours, g_plain, rtol=0, atol=1e-5 * float(g_plain.abs().max()))
