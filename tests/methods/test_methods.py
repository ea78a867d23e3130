"""Method invariants: parameter counts of the official code, which tensors get gradients, COMMA's two modes and
KD loss, MaPLe's coupling, CoCoOp's per-image independence and batching, IVLP's and VPT-deep's prompt slots, and a
sweep over the registry that names no method."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from comma_bench.clip import load_backbone
from comma_bench.engine.checkpoint import load_prompt_weights, save_prompt_weights
from comma_bench.errors import UserError
from comma_bench.methods import build, get_method_spec, list_methods
from comma_bench.methods.checks import SettingError, TowerDepths
from tests.methods.test_golden import FIXTURES

CLASSES = ["abyssinian", "american_bulldog", "beagle", "bengal", "birman", "bombay"]
PETS = "a photo of a {}, a type of pet."


@pytest.fixture(scope="module")
def vitb16():
    torch.manual_seed(0)
    return load_backbone("ViT-B-16", "none")


@pytest.mark.parametrize(
    ("name", "config", "expected"),
    [
        ("zeroshot", {}, 0),
        ("coop", {"ctx_init": "a photo of a"}, 2_048),
        ("coop", {"ctx_init": "", "n_ctx": 16}, 8_192),
        ("cocoop", {}, 35_360),
        ("maple", {}, 3_555_072),
        ("comma", {}, 5_934_336),
        # IVLP: ctx 2x512 + 11 deep text 2x512 + vision input 2x768 + 11 deep vision 2x768 (independentVL.py)
        ("ivlp", {}, 2 * 512 * 12 + 2 * 768 * 12),
        ("ivlp", {"text_depth": 1, "vision_depth": 3, "n_ctx_vision": 4}, 2 * 512 + 4 * 768 * 3),
        # Deep language prompting (IVLP/vit_b16_c2_ep5_batch4_4ctx_language_only): ctx 4x512 + 11 deep text 4x512
        ("ivlp", {"n_ctx_text": 4, "n_ctx_vision": 0, "vision_depth": 0}, 4 * 512 * 12),
        # VPT-deep: vision input 8x768 + 11 deep vision 8x768; the text side learns nothing (vpt.py)
        ("vpt", {}, 8 * 768 * 12),
    ],
)
def test_trainable_parameter_counts_equal_the_official_code(vitb16, name, config, expected):
    method = build(name, vitb16, CLASSES, template=PETS, **config)
    assert method.num_trainable() == expected
    assert not any(p.requires_grad for p in vitb16.model.parameters())


def test_comma_parameter_breakdown(vitb16):
    m = build("comma", vitb16, CLASSES, template=PETS)
    assert m.ctx.numel() == 1_024 and sum(p.numel() for p in m.proj.parameters()) == 393_984
    assert m.deep_text.shape == (8, 2, 512)
    assert [sum(p.numel() for p in g.parameters()) for g in m.generator] == [691_392] * 8


def _one_step(method, images, labels, lr=0.1):
    opt = torch.optim.SGD(method.trainable_parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    method.train()
    out = method(images)
    loss = F.cross_entropy(out.logits, labels) + sum(out.losses.values(), torch.zeros(()))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return out


@pytest.fixture()
def batch():
    g = torch.Generator().manual_seed(5)
    return torch.randn(4, 3, 32, 32, generator=g), torch.tensor([0, 3, 1, 5])


def test_comma_faithful_generator_gets_no_gradient(golden_backbone, batch):
    torch.manual_seed(1)
    m = build("comma", golden_backbone, CLASSES, template=PETS, kd_template=PETS, prompt_depth=4)
    gen_before = {k: v.clone() for k, v in m.generator.state_dict().items()}
    _one_step(m, *batch)
    assert all(p.grad is None for p in m.generator.parameters())
    for p in (m.ctx, m.proj.weight, m.proj.bias, m.deep_text):
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert all(torch.equal(v, m.generator.state_dict()[k]) for k, v in gen_before.items())  # never moves


def test_comma_trained_generator_gets_gradient(golden_backbone, batch):
    torch.manual_seed(1)
    m = build("comma", golden_backbone, CLASSES, template=PETS, kd_template=PETS, generator="trained", prompt_depth=4)
    _one_step(m, *batch)
    missing = [n for n, p in m.generator.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []


def test_comma_trained_mode_sends_vision_gradient_into_text_prompts(golden_backbone, batch):
    """ctx / deep text prompts get gradient through the generator only in trained mode (README: COMMA's two modes)."""
    grads = {}
    for mode in ("faithful", "trained"):
        torch.manual_seed(1)
        m = build("comma", golden_backbone, CLASSES, template=PETS, kd=False, generator=mode, prompt_depth=4)
        m.train()
        feats = m.encode_prompted_image(batch[0], *m.vision_prompts())
        feats.sum().backward()  # image branch only
        grads[mode] = m.deep_text.grad
    assert grads["faithful"] is None
    assert grads["trained"] is not None and grads["trained"][:2].abs().sum() > 0  # the slots feeding AT_1, AT_2


def _block_outputs(model, blocks):
    seen = {}
    handles = [
        model.transformer.resblocks[b].register_forward_hook(lambda mod, args, out, b=b: seen.__setitem__(b, out))
        for b in blocks
    ]
    return seen, handles


@pytest.mark.parametrize("kd_layers", [1, 2])
def test_comma_kd_loss_matches_an_independent_computation(golden_backbone, kd_layers):
    """L_kd = mean over the last K distinct blocks of 1 - mean cos over all (class, 77 positions)."""
    torch.manual_seed(2)
    m = build("comma", golden_backbone, CLASSES, template=PETS, kd_template=PETS, kd_layers=kd_layers, prompt_depth=3)
    m.train()
    model = golden_backbone.model
    blocks = list(range(12 - kd_layers, 12))
    assert list(m.kd_blocks) == blocks  # distinct blocks, not one block repeated
    m.kd_reference()  # computed once per class list; done before hooking so the hooks see the learnable pass only
    seen, handles = _block_outputs(model, blocks)
    try:
        with torch.no_grad():
            out = m(torch.zeros(1, 3, 32, 32))
            learn = {b: seen[b].clone() for b in blocks}
            tokens = golden_backbone.tokenize([PETS.format(c.replace("_", " ")) for c in CLASSES])
            model.encode_text(tokens)  # plain open_clip forward over the hand-crafted prompts
            ref = {b: seen[b].clone() for b in blocks}
    finally:
        for h in handles:
            h.remove()
    assert learn[blocks[0]].shape == (6, 77, 512)
    terms = [1 - F.cosine_similarity(learn[b], ref[b], dim=-1, eps=1e-7).mean() for b in blocks]
    expected = torch.stack(terms).mean()
    assert torch.allclose(out.extras["kd"], expected, atol=1e-6)
    assert torch.allclose(out.losses["kd"], expected, atol=1e-6)  # kd_weight 1.0
    assert len(set(round(float(t), 6) for t in terms)) == kd_layers  # distinct blocks give distinct terms


def test_comma_kd_switches(golden_backbone, batch):
    torch.manual_seed(2)
    off = build("comma", golden_backbone, CLASSES, template=PETS, kd=False, prompt_depth=2)
    off.train()
    assert off(batch[0]).losses == {}
    weighted = build("comma", golden_backbone, CLASSES, template=PETS, kd_weight=2.5, prompt_depth=2)
    weighted.train()
    out = weighted(batch[0])
    assert torch.allclose(out.losses["kd"], 2.5 * out.extras["kd"])
    prompt = build("comma", golden_backbone, CLASSES, template=PETS, kd_positions="prompt", prompt_depth=2)
    prompt.train()
    cos = prompt(batch[0]).extras["kd_cos_per_token"]
    assert cos.shape[-1] == int(prompt.prompts.eot.max()) + 1  # truncated pass
    weighted.eval()
    assert weighted(batch[0]).losses == {}  # inference never computes KD


def test_comma_without_correlation_ignores_the_previous_vision_prompt(golden_backbone):
    torch.manual_seed(3)
    m = build("comma", golden_backbone, CLASSES, template=PETS, correlation=False, prompt_depth=4)
    v0, slots = m.vision_prompts()
    with torch.no_grad():
        m.proj.weight.mul_(3.0)  # changes proj(ctx) and so every query
    v0b, slots_b = m.vision_prompts()
    assert not torch.equal(v0, v0b)
    assert all(torch.equal(a, b) for a, b in zip(slots, slots_b))
    corr = build("comma", golden_backbone, CLASSES, template=PETS, prompt_depth=4)
    _, c1 = corr.vision_prompts()
    with torch.no_grad():
        corr.proj.weight.mul_(3.0)
    _, c2 = corr.vision_prompts()
    assert not torch.equal(c1[0], c2[0])


def test_maple_coupling_layers_start_identical(vitb16):
    m = build("maple", vitb16, CLASSES, template=PETS)
    first = m.coupling[0].state_dict()
    for layer in m.coupling[1:]:
        assert all(torch.equal(first[k], v) for k, v in layer.state_dict().items())
    assert len(m.coupling) == 8 and len(m.deep_text) == 8


def test_maple_vision_prompts_occupy_last_tokens_of_blocks_1_to_j_minus_1(golden_backbone, batch):
    torch.manual_seed(4)
    m = build("maple", golden_backbone, CLASSES, template=PETS, prompt_depth=9)
    blocks = golden_backbone.model.visual.transformer.resblocks
    seen = {}
    handles = [
        blk.register_forward_pre_hook(lambda mod, args, i=i: seen.__setitem__(i, args[0].detach()))
        for i, blk in enumerate(blocks)
    ]
    try:
        with torch.no_grad():
            m(batch[0])
            expected = [layer(p) for layer, p in zip(m.coupling, m.deep_text)]
    finally:
        for h in handles:
            h.remove()
    for i in range(1, 9):
        assert torch.equal(seen[i][:, -2:], expected[i - 1].expand(4, -1, -1)), i
    assert not torch.equal(seen[9][:, -2:], seen[8][:, -2:])  # block 9+ carries the previous outputs forward


def test_cocoop_logits_of_image_i_depend_only_on_image_i(tiny_backbone):
    torch.manual_seed(5)
    m = build("cocoop", tiny_backbone, CLASSES, template=PETS)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        a = m(x).logits
        y = x.clone()
        y[2] = torch.randn(3, 32, 32)
        b = m(y).logits
    assert torch.equal(a[:2], b[:2]) or torch.allclose(a[:2], b[:2], atol=1e-6)
    assert not torch.allclose(a[2], b[2])


def test_cocoop_batched_equals_the_official_per_image_loop(tiny_backbone):
    from comma_bench.clip import encode_text

    torch.manual_seed(7)
    m = build("cocoop", tiny_backbone, CLASSES, template=PETS, text_chunk=7)  # chunk smaller than n_cls
    x = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        out = m(x)
        img = out.extras["image_features"]
        loop = []
        for i in range(5):  # the official loop: one image's prompts at a time
            ctx_i = m.ctx + m.meta_net(img[i : i + 1])  # [n_ctx, D]
            feats = encode_text(tiny_backbone.model, m.prompts.assemble(ctx_i), m.prompts.eot).features
            loop.append(tiny_backbone.model.logit_scale.exp() * img[i] @ F.normalize(feats, dim=-1).t())
    assert torch.allclose(out.logits, torch.stack(loop), atol=1e-5)


@pytest.mark.parametrize(
    ("name", "settings", "expected"),
    [
        ("comma", {}, {}),
        ("comma", {"n_ctx": 2, "prompt_depth": 9, "kd_weight": 1.0}, {}),  # the defaults written out: no deviation
        ("comma", {"generator": "trained", "kd_weight": 0.5}, {"generator": "trained", "kd_weight": 0.5}),
        ("ivlp", {"vision_depth": 0, "n_ctx_vision": 0, "n_ctx_text": 4}, {"n_ctx_text": 4, "n_ctx_vision": 0,
                                                                             "vision_depth": 0}),
        ("zeroshot", {}, {}),
    ],
)  # fmt: skip
def test_setting_deviations_are_the_resolved_settings_off_the_official_defaults(name, settings, expected):
    from comma_bench.config.resolve import resolved_config
    from comma_bench.config.schema import RunConfig
    from comma_bench.methods import setting_deviations

    resolved = resolved_config(RunConfig(method=name, dataset="world/shapes", method_config=settings), "cpu")
    assert setting_deviations(name, resolved["method_config"]) == expected


def test_unknown_setting_lists_valid_settings(tiny_backbone):
    with pytest.raises(UserError, match=r"no setting 'depth'.*prompt_depth"):
        build("maple", tiny_backbone, CLASSES, template=PETS, depth=3)
    with pytest.raises(UserError, match="maple: prompt_depth=9 must be between 1 and 2, the number of layers of test-"):
        build("maple", tiny_backbone, CLASSES, template=PETS, prompt_depth=9)
    with pytest.raises(UserError, match="unknown method 'kgcoop'"):
        build("kgcoop", tiny_backbone, CLASSES)


# Methods with no golden fixture of their own, and why. Every other registered method must appear in
# tests/methods/test_golden.py FIXTURES (outputs of the official code on the keyed-filled backbone).
GOLDEN_EXEMPT = {
    "zeroshot": "no prompt parameters: frozen CLIP on the template, checked against the official CLIP's features by "
    "test_golden.py::test_zero_shot_clip_matches_official (fixture clip_zeroshot)",
    "ivlp": "no official outputs were generated for it (tests/golden/SOURCE.md covers CoOp, CoCoOp, MaPLe, COMMA); "
    "its parameter count and gradients are checked from first principles below",
    "vpt": "no official outputs were generated for it (tests/golden/SOURCE.md covers CoOp, CoCoOp, MaPLe, COMMA); "
    "its parameter count, frozen text side and gradients are checked from first principles below",
}


def test_every_method_has_a_golden_fixture_or_a_documented_exemption():
    golden = {method for method, _ in FIXTURES.values()}
    registered = set(list_methods())
    assert registered - golden - set(GOLDEN_EXEMPT) == set()
    assert set(GOLDEN_EXEMPT) <= registered  # no stale exemption
    assert golden.isdisjoint(GOLDEN_EXEMPT)  # an exemption never hides a fixture
    assert all(len(reason) > 40 for reason in GOLDEN_EXEMPT.values())


@pytest.mark.parametrize("name", list_methods())
def test_every_method_forward_backward_and_state_dict_round_trip(name, golden_backbone, tmp_path, batch):
    """Every registered method with its official defaults on the ViT-B/16-shaped golden backbone (12 + 12 layers,
    so every default depth fits): gradients reach exactly the trainable parameters, never CLIP."""
    torch.manual_seed(9)
    backbone = golden_backbone
    m = build(name, backbone, CLASSES, template=PETS, kd_template=PETS)
    clip_before = {k: v.clone() for k, v in backbone.model.state_dict().items()}
    images, labels = batch
    if get_method_spec(name).trains:
        assert m.num_trainable() > 0
        out = _one_step(m, images, labels)
        trainable = {n for n, p in m.named_parameters() if p.requires_grad}
        with_grad = {n for n, p in m.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
        assert with_grad == trainable - m.gradient_free_parameters()
        assert m.gradient_free_parameters() <= trainable
    else:
        out = m(images)
        assert m.num_trainable() == 0
    assert all(p.grad is None for p in backbone.model.parameters())
    assert out.logits.shape == (4, len(CLASSES))
    assert torch.isfinite(out.logits).all()
    assert all(torch.equal(v, backbone.model.state_dict()[k]) for k, v in clip_before.items())
    assert not any(k.startswith(("visual.", "transformer.", "token_embedding")) for k in m.state_dict())
    path = tmp_path / f"{name}.safetensors"
    save_prompt_weights(m, path)
    torch.manual_seed(10)
    fresh = build(name, backbone, CLASSES, template=PETS, kd_template=PETS)
    load_prompt_weights(fresh, path)
    m.eval()
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(m(images).logits, fresh(images).logits)
    # evaluation on another class list (novel classes) keeps the learned prompts
    fresh.set_classes(["siamese", "sphynx"], PETS, kd_template=PETS)
    with torch.no_grad():
        assert fresh(images).logits.shape == (4, 2)


def _pre_block_inputs(blocks, run):
    """The input of every block while `run()` executes: {block index: [N, L, D]}."""
    seen = {}
    handles = [
        blk.register_forward_pre_hook(lambda mod, args, i=i: seen.__setitem__(i, args[0].detach()))
        for i, blk in enumerate(blocks)
    ]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    return seen


def test_ivlp_prompts_are_independent_per_tower_with_their_own_depths(golden_backbone, batch):
    torch.manual_seed(12)
    m = build("ivlp", golden_backbone, CLASSES, template=PETS, text_depth=4, vision_depth=7, n_ctx_vision=3)
    assert len(m.deep_text) == 3 and [tuple(p.shape) for p in m.deep_text] == [(2, 512)] * 3
    assert tuple(m.vision.shallow.shape) == (3, 768) and len(m.vision.deep) == 6
    assert not any("proj" in n or "coupling" in n for n, _ in m.named_parameters())  # no V-L coupling
    vision_in = _pre_block_inputs(golden_backbone.model.visual.transformer.resblocks, lambda: m(batch[0]))
    for i in range(1, 7):  # deep vision prompt i-1 occupies the last 3 tokens before vision block i
        assert torch.equal(vision_in[i][:, -3:], m.vision.deep[i - 1].detach().expand(4, -1, -1)), i
    assert not torch.equal(vision_in[7][:, -3:], vision_in[6][:, -3:])  # block 7+ carries outputs forward
    text_in = _pre_block_inputs(golden_backbone.model.transformer.resblocks, lambda: m(batch[0]))
    for i in range(1, 4):  # deep text prompt i-1 at positions 1..2 before text block i
        assert torch.equal(text_in[i][:, 1:3], m.deep_text[i - 1].detach().expand(len(CLASSES), -1, -1)), i
    # Independence: the image features do not move with any text prompt, nor the text features with vision ones.
    m.train()
    out = m(batch[0])
    text_params, vision_params = [m.ctx, *m.deep_text], list(m.vision.parameters())
    from_image = torch.autograd.grad(
        out.extras["image_features"].sum(), text_params, allow_unused=True, retain_graph=True
    )
    assert all(g is None for g in from_image)
    from_text = torch.autograd.grad(out.extras["text_features"].sum(), vision_params, allow_unused=True)
    assert all(g is None for g in from_text)


def test_ivlp_at_vision_depth_0_is_deep_language_prompting_on_a_plain_image_tower(golden_backbone, batch):
    from comma_bench.clip import encode_image

    torch.manual_seed(14)
    m = build("ivlp", golden_backbone, CLASSES, template=PETS, n_ctx_text=4, n_ctx_vision=0, vision_depth=0)
    assert m.vision is None and not m.image_prompted  # the engine may cache its image features, as CoOp's
    assert {n for n, p in m.named_parameters() if p.requires_grad} == {"ctx"} | {f"deep_text.{i}" for i in range(11)}
    images = batch[0]
    vision_in = _pre_block_inputs(golden_backbone.model.visual.transformer.resblocks, lambda: m(images))
    assert all(x.shape[1] == 5 for x in vision_in.values())  # 4 patches + CLS at 32 px: no token appended anywhere
    out = m(images)
    with torch.no_grad():
        plain = encode_image(golden_backbone.model, images)
    assert torch.equal(out.extras["image_features"], plain) and out.extras["vision_prompts"] == []
    assert torch.equal(m.logits_from_image_features(plain), out.logits)  # the cached-feature path is the forward
    text_in = _pre_block_inputs(golden_backbone.model.transformer.resblocks, lambda: m(images))
    for i in range(1, 12):  # deep text prompt i-1 at positions 1..4 before text block i
        assert torch.equal(text_in[i][:, 1:5], m.deep_text[i - 1].detach().expand(len(CLASSES), -1, -1)), i


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"vision_depth": -1}, "vision_depth must be >= 0 (0: no vision prompt), got -1"),
        ({"n_ctx_vision": 0}, "n_ctx_vision must be >= 1 when vision_depth > 0, got 0"),
        ({"n_ctx_text": 0, "vision_depth": 0}, "n_ctx_text must be >= 1, got 0"),
        ({"vision_depth": 0}, "n_ctx_vision must be 0 when vision_depth is 0 (no vision prompt is made), got 2"),
    ],
)
def test_ivlp_settings_that_cannot_run_are_one_line_errors(config, message):
    from comma_bench.methods import make_config

    with pytest.raises(UserError, match=f"^method 'ivlp': {re.escape(message)}$"):
        make_config("ivlp", config)


def test_ivlp_without_vision_prompts_runs_on_a_resnet_image_tower():
    from comma_bench.methods import make_config

    resnet = TowerDepths(name="RN50", text_layers=12, vision_layers=0)
    get_method_spec("ivlp").check(
        make_config("ivlp", {"vision_depth": 0, "n_ctx_vision": 0}), resnet
    )  # no error: no vision block
    with pytest.raises(SettingError, match=r"^text_depth=13 must be between 1 and 12"):
        get_method_spec("ivlp").check(
            make_config("ivlp", {"vision_depth": 0, "n_ctx_vision": 0, "text_depth": 13}), resnet
        )


def test_vpt_learns_vision_prompts_only_with_the_fixed_hand_crafted_text(golden_backbone, batch):
    from comma_bench.clip import encode_text, token_embeddings

    torch.manual_seed(13)
    m = build("vpt", golden_backbone, CLASSES, template=PETS)
    assert {n for n, p in m.named_parameters() if p.requires_grad} == {"vision.shallow"} | {
        f"vision.deep.{i}" for i in range(11)
    }
    # The text side is frozen CLIP on "a photo of a {class}." whatever the dataset's template (official vpt.py).
    tokens = golden_backbone.tokenize([f"a photo of a {c.replace('_', ' ')}." for c in CLASSES])
    model = golden_backbone.model
    with torch.no_grad():
        expected = encode_text(model, token_embeddings(model, tokens), tokens.argmax(-1)).features
    assert torch.equal(m.text_features, expected)
    vision_in = _pre_block_inputs(model.visual.transformer.resblocks, lambda: m(batch[0]))
    for i in range(1, 12):
        assert torch.equal(vision_in[i][:, -8:], m.vision.deep[i - 1].detach().expand(4, -1, -1)), i
    m.set_classes(["siamese", "sphynx"], "a {} cat!")
    assert m.text_features.shape[0] == 2


@pytest.mark.parametrize(
    ("name", "config", "setting"),
    [
        ("maple", {"prompt_depth": 5}, "prompt_depth"),  # one depth for both towers: the shallower one bounds it
        ("comma", {"prompt_depth": 3, "kd_layers": 13}, "kd_layers"),
        ("ivlp", {"vision_depth": 5}, "vision_depth"),  # each tower bounds its own depth
        ("vpt", {"prompt_depth": 5}, "prompt_depth"),
    ],
)
def test_method_check_names_the_setting_that_does_not_fit(name, config, setting):
    from comma_bench.methods import make_config

    deep_text = TowerDepths(name="lopsided", text_layers=12, vision_layers=4)
    with pytest.raises(SettingError) as err:
        get_method_spec(name).check(make_config(name, config), deep_text)
    assert err.value.setting == setting and err.value.value == config[setting]
    ok = {**config, setting: 4 if setting != "kd_layers" else 12}
    get_method_spec(name).check(make_config(name, ok), deep_text)  # fits: no error
    if name == "ivlp":
        get_method_spec(name).check(make_config(name, {"text_depth": 12, "vision_depth": 4}), deep_text)


@pytest.mark.parametrize("name", ["zeroshot", "coop", "cocoop", "vpt", "ivlp", "maple", "comma"])
def test_vision_prompts_on_a_resnet_image_tower_are_one_line_refused(name):
    """MaPLe, COMMA, IVLP and VPT insert tokens into vision transformer blocks, which a ResNet tower has none of."""
    from comma_bench.methods import make_config

    resnet = TowerDepths(name="RN50", text_layers=12, vision_layers=0)
    prompts_vision = name in ("vpt", "ivlp", "maple", "comma")
    if not prompts_vision:
        get_method_spec(name).check(make_config(name), resnet)  # CoOp, CoCoOp, zero-shot: the image tower is frozen
        return
    with pytest.raises(SettingError, match=r"needs a transformer vision tower, and RN50's is a ResNet: use a ViT"):
        get_method_spec(name).check(make_config(name), resnet)


def test_a_loaded_resnet_backbone_reports_no_vision_blocks():
    torch.manual_seed(0)
    rn50 = load_backbone("RN50", "none")
    assert (rn50.vision_layers, rn50.text_layers) == (0, 12)
    with pytest.raises(UserError, match=r"^maple: prompt_depth=9 needs a transformer vision tower, and RN50's is"):
        build("maple", rn50, CLASSES, template=PETS)
    assert build("coop", rn50, CLASSES, template=PETS).num_trainable() == 2_048  # n_ctx 4 x 512


@pytest.mark.parametrize("name", ["coop", "maple", "comma"])
def test_frozen_prompts_compute_text_once_with_identical_logits(name, tiny_backbone, batch, monkeypatch):
    torch.manual_seed(11)
    extra = {"prompt_depth": 2} if name in ("maple", "comma") else {}
    m = build(name, tiny_backbone, CLASSES, template=PETS, **extra)
    m.eval()
    with torch.no_grad():
        plain = [m(x[None]).logits for x in batch[0]]
    calls = []
    original = m.encode_prompted_text if name != "coop" else m._text_features
    monkeypatch.setattr(
        m,
        "encode_prompted_text" if name != "coop" else "_text_features",
        lambda *a, **k: calls.append(1) or original(*a, **k),
    )
    with torch.no_grad(), m.frozen_prompts():
        frozen = [m(x[None]).logits for x in batch[0]]
    assert len(calls) == 1
    assert all(torch.equal(a, b) for a, b in zip(plain, frozen))
    m.train()
    with m.frozen_prompts():  # while gradients are recorded nothing is memoised
        m(batch[0][:1])
        m(batch[0][:1])
    assert len(calls) == 3
