"""Fidelity: our methods on open_clip reproduce the official implementations' outputs (tests/golden, SOURCE.md).

The fixtures were produced by running the official CoOp/CoCoOp/MaPLe/COMMA code in fp32 on CPU, with every CLIP
weight, method parameter and input regenerated from its name by a keyed rule. We rebuild the same model, fill the
same values into our parameters (canonical names map onto ours), run one train-mode forward + backward, and compare
against the tolerances of SOURCE.md §7. Never loosen a tolerance here: localise a mismatch instead (fill, token
ids, vision prompts, image features, text features, logits, loss, grads).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from comma_bench.methods import build
from tests.golden.keyed import images, keyed, load_fixture, projections, sha256

FIXTURES = {
    "coop_ctx4": ("coop", {"n_ctx": 4, "ctx_init": "a photo of a", "csc": False, "class_token_position": "end"}),
    "coop_ctx16": ("coop", {"n_ctx": 16, "ctx_init": "", "csc": False, "class_token_position": "end"}),
    "cocoop": ("cocoop", {"n_ctx": 4, "ctx_init": "a photo of a"}),
    "maple": ("maple", {"n_ctx": 2, "ctx_init": "a photo of a", "prompt_depth": 9}),
    "comma": (
        "comma",
        {
            "n_ctx": 2,
            "ctx_init": "a photo of a",
            "prompt_depth": 9,
            "kd_weight": 1.0,
            "kd_layers": 1,
            "generator": "faithful",
        },
    ),
}
TEMPLATE = "a photo of a {}, a type of pet."  # OxfordPets: zero-shot and COMMA's KD template (methods.md §9)


def canonical_tensor(method: torch.nn.Module, canonical: str) -> tuple[torch.nn.Parameter, int | None]:
    """Our parameter (and slice index) behind a canonical fixture name: names match ours except COMMA's deep_text."""
    params = dict(method.named_parameters())
    if canonical in params:
        return params[canonical], None
    stem, _, idx = canonical.rpartition(".")
    if stem in params and idx.isdigit():
        return params[stem], int(idx)
    raise KeyError(f"no parameter for canonical name {canonical!r}; have {sorted(params)[:8]}...")


def as_np(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def test_clip_fill_is_bit_exact(golden_backbone):
    table = {row["key"]: row["sha256"] for row in load_fixture("clip_zeroshot")["state_dict"]}
    ours = {k: sha256(v) for k, v in golden_backbone.model.state_dict().items()}
    assert ours == table


def test_zero_shot_clip_matches_official(golden_backbone):
    """The prompted core with no prompts reproduces the official CLIP's features (SOURCE.md §7 step 2)."""
    from comma_bench.clip import encode_image, encode_text, token_embeddings

    fx = load_fixture("clip_zeroshot")
    zs = fx["zeroshot"]
    model = golden_backbone.model
    x = images(fx)
    assert sha256(x) == fx["inputs"]["images"]["sha256"]
    with torch.no_grad():
        img = encode_image(model, x)
        np.testing.assert_allclose(img.norm(dim=-1).numpy(), as_np(zs["image_norm"]), rtol=1e-5)
        np.testing.assert_allclose(F.normalize(img, dim=-1).numpy(), as_np(zs["image_features"]), atol=1e-5)
        for ref in zs["templates"].values():
            tokens = golden_backbone.tokenize(ref["prompts"])
            ids = [row[: row.index(49407) + 1] for row in tokens.tolist()]
            assert ids == ref["token_ids"]
            txt = encode_text(model, token_embeddings(model, tokens), tokens.argmax(-1)).features
            np.testing.assert_allclose(F.normalize(txt, dim=-1).numpy(), as_np(ref["text_features"]), atol=1e-5)
            logits = model.logit_scale.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).t()
            np.testing.assert_allclose(logits.numpy(), as_np(ref["logits"]), atol=1e-5)


@pytest.fixture(scope="module", params=list(FIXTURES))
def golden_run(request, golden_backbone):
    """Build, fill, run one train-mode forward + backward of one fixture's method."""
    name = request.param
    fx = load_fixture(name)
    method_name, cfg = FIXTURES[name]
    method = build(
        method_name, golden_backbone, fx["inputs"]["classnames"], template=TEMPLATE, kd_template=TEMPLATE, **cfg
    )
    method.train()
    official_init = {}
    with torch.no_grad():
        for row in fx["params"]:
            param, idx = canonical_tensor(method, row["canonical"])
            target = param if idx is None else param[idx]
            if "official_init" in row:
                official_init[row["canonical"]] = (sha256(target), target.reshape(-1)[:8].tolist())
            assert list(target.shape) == row["shape"], row["canonical"]
            value = keyed(row["fill_name"], row["shape"], row["scale"], row["offset"])
            assert sha256(value) == row["sha256"]
            target.copy_(value)
    x = images(fx)
    labels = torch.tensor(fx["inputs"]["labels"])
    out = method(x)
    ce = F.cross_entropy(out.logits, labels)
    total = ce + sum(out.losses.values(), torch.zeros(()))
    total.backward()
    return name, fx, method, out, ce, total, official_init


def test_context_init_from_text_matches_official(golden_run):
    name, fx, _, _, _, _, official_init = golden_run
    for row in fx["params"]:
        if "official_init" in row:
            got_sha, got8 = official_init[row["canonical"]]
            assert got_sha == row["official_init"]["sha256"]
            np.testing.assert_array_equal(np.float32(got8), np.float32(row["official_init"]["first8"]))


def test_prompt_tokens_match_official(golden_run):
    name, fx, method, *_ = golden_run
    prompts = method.prompts
    assert prompts.texts == fx["prompts"]["text"]
    ids = [row[: row.index(49407) + 1] for row in prompts.tokens.tolist()]
    assert ids == fx["prompts"]["token_ids"]
    assert prompts.eot.tolist() == fx["prompts"]["eot_index"]


def test_logits_and_losses_match_official(golden_run):
    name, fx, method, out, ce, total, _ = golden_run
    np.testing.assert_allclose(out.logits.detach().numpy(), as_np(fx["logits"]), atol=1e-5)
    assert abs(ce.item() - fx["loss"]["ce"]) <= 1e-5
    assert abs(total.item() - fx["loss"]["total"]) <= 1e-5
    if "kd" in fx["loss"]:
        assert abs(out.extras["kd"].item() - fx["loss"]["kd"]) <= 1e-5
        cos = out.extras["kd_cos_per_token"][0].detach().numpy()  # [n_cls, 77] of the single KD block
        np.testing.assert_allclose(cos, as_np(fx["kd_cos_per_token"]), atol=1e-5)


def test_features_match_official(golden_run):
    name, fx, method, out, *_ = golden_run
    feats = fx["features"]
    img = out.extras["image_features"].detach()
    txt = out.extras["text_features"].detach()
    if name == "cocoop":  # CoCoOp hands back already-normalised image features; the norm is checked via logits
        np.testing.assert_allclose(img.numpy(), as_np(feats["image"]), atol=1e-5)
    else:
        np.testing.assert_allclose(img.norm(dim=-1).numpy(), as_np(feats["image_norm"]), rtol=1e-5)
        np.testing.assert_allclose(F.normalize(img, dim=-1).numpy(), as_np(feats["image"]), atol=1e-5)
    np.testing.assert_allclose(txt.norm(dim=-1).numpy(), as_np(feats["text_norm"]), rtol=1e-5)
    np.testing.assert_allclose(F.normalize(txt, dim=-1).numpy(), as_np(feats["text"]), atol=1e-5)


def test_vision_prompts_match_official(golden_run):
    name, fx, method, out, *_ = golden_run
    assert ("vision_prompts" in fx) == ("vision_prompts" in out.extras)  # only MaPLe and COMMA prompt the image
    if "vision_prompts" not in fx:
        return
    ours = torch.stack([p.detach() for p in out.extras["vision_prompts"]]).numpy()  # [9, 2, 768]
    np.testing.assert_allclose(ours, as_np(fx["vision_prompts"]), atol=1e-5)


def test_gradients_match_official(golden_run):
    name, fx, method, *_ = golden_run
    for canonical, ref in fx["grads"].items():
        param, idx = canonical_tensor(method, canonical)
        grad = param.grad if param.grad is None or idx is None else param.grad[idx]
        if ref["none"]:
            assert grad is None, f"{name}: {canonical} must receive no gradient"
            continue
        assert grad is not None, f"{name}: {canonical} has no gradient"
        g = grad.detach().reshape(-1).to(torch.float32)
        g64 = g.double()
        norm = ref["l2_norm"]
        assert abs(g64.norm().item() - norm) <= 1e-4 * norm, canonical
        proj = (projections(canonical, g.numel()) @ g64).numpy()
        np.testing.assert_allclose(proj, as_np(ref["proj16"]), atol=1e-4 * norm, rtol=0, err_msg=canonical)
        assert abs(g64.sum().item() - ref["sum"]) <= 1e-4 * norm * np.sqrt(g.numel()), canonical
        np.testing.assert_allclose(g[:8].numpy(), as_np(ref["first8"]), atol=1e-4 * norm, rtol=0, err_msg=canonical)
