"""The pretraining recipe: exact truncated text encoding, determinism, and the files `world pretrain` writes."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from comma_bench.cli import main
from comma_bench.world.model import build_model
from comma_bench.world.pretrain import PretrainRecipe, encode_text_truncated, sha256_of, train


def test_truncated_text_encoding_equals_the_full_context():
    import open_clip

    torch.manual_seed(0)
    model = build_model().eval()
    tokens = open_clip.get_tokenizer("ViT-B-16")(
        ["a red star.", "two small blue dotted crosses on a white background."]
    )
    with torch.no_grad():
        full = model.encode_text(tokens)
        cut = encode_text_truncated(model, tokens)
    torch.testing.assert_close(cut, full, rtol=1e-5, atol=1e-5)


def test_same_seed_gives_identical_weights_and_the_loss_moves():
    recipe = PretrainRecipe(vision_steps=2, steps=2, batch_size=8, warmup_steps=1, threads=1)
    a, log_a = train(recipe, progress=False, log_every=1, workers=0)
    b, log_b = train(recipe, progress=False, log_every=1, workers=0)
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name
    assert log_a["loss_curves"] == log_b["loss_curves"]
    assert [len(c) for c in log_a["loss_curves"].values()] == [2, 2]  # both stages ran
    torch.manual_seed(recipe.seed)
    init = build_model()  # the same initial weights the run started from: training changed them
    assert not torch.equal(init.visual.conv1.weight, a.visual.conv1.weight)
    assert not torch.equal(init.token_embedding.weight, a.token_embedding.weight)


@pytest.mark.slow
def test_cli_pretrain_writes_fp16_weights_and_metadata(tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    argv = ["world", "pretrain", "--out", str(out), "--vision-steps", "1", "--steps", "2", "--batch-size", "8"]
    assert main([*argv, "--eval-per-class", "1", "--no-progress"]) == 0
    sd = load_file(str(out))
    assert all(v.dtype == torch.float16 for v in sd.values() if v.is_floating_point())
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["sha256"] == sha256_of(out) and meta["recipe"]["steps"] == 2 and meta["recipe"]["seed"] == 0
    assert meta["recipe"]["vision_steps"] == 1 and "--vision-steps 1 --steps 2" in meta["command"]
    assert set(meta["zero_shot_accuracy"]) >= {"world/shapes", "world/objects-sketch"}
    assert set(meta["zero_shot_accuracy"]["world/shapes"]) == {"base", "new", "all"}


def test_cli_pretrain_rejects_bad_arguments(tmp_path, capsys):
    assert main(["world", "pretrain", "--out", str(tmp_path / "w.pt")]) == 2
    assert "expected a .safetensors file name" in capsys.readouterr().err
    assert main(["world", "pretrain", "--out", str(tmp_path / "w.safetensors"), "--steps", "-1"]) == 2
    assert "--steps: expected 0 or a positive integer, got -1" in capsys.readouterr().err
    argv = ["world", "pretrain", "--out", str(tmp_path / "w.safetensors"), "--steps", "0", "--vision-steps", "0"]
    assert main(argv) == 2
    assert "nothing to train" in capsys.readouterr().err
    assert main(["world", "pretrain", "--out", str(tmp_path / "w.safetensors"), "--fine-name-rate", "1.5"]) == 2
    assert "--fine-name-rate: expected a probability between 0 and 1, got 1.5" in capsys.readouterr().err
    assert main(["world", "pretrain", "--out", str(tmp_path / "w.safetensors"), "--batch-size", "6"]) == 2
    assert "multiple of 4" in capsys.readouterr().err


def test_locked_image_tower_is_untouched_by_the_contrastive_stage():
    """LiT: stage 2 trains the text tower and temperature only; the image tower leaves it as stage 1 ended, rounded to
    its fp16 storage (so stage 2 aligns the text tower to the image features that ship)."""
    common = dict(vision_steps=2, batch_size=8, warmup_steps=1, threads=1)
    vision_only, _ = train(PretrainRecipe(steps=0, **common), progress=False, workers=0)
    both, _ = train(PretrainRecipe(steps=2, **common), progress=False, workers=0)
    for (name, a), (_, b) in zip(vision_only.visual.state_dict().items(), both.visual.state_dict().items()):
        assert torch.equal(a.half().float(), b), name
    assert not torch.equal(vision_only.visual.conv1.weight, both.visual.conv1.weight)  # it was rounded
    assert not torch.equal(vision_only.token_embedding.weight, both.token_embedding.weight)
    flags = {n: p.requires_grad for n, p in build_model().visual.named_parameters()}  # the fixed sin-cos table: False
    assert {n: p.requires_grad for n, p in both.visual.named_parameters()} == flags  # the lock is released again
    unlocked, _ = train(PretrainRecipe(steps=2, lock_image_tower=False, **common), progress=False, workers=0)
    assert not torch.equal(unlocked.visual.conv1.weight, both.visual.conv1.weight)


def test_stage_two_from_the_shipped_image_tower_keeps_it_and_grows_a_new_text_tower():
    """image_tower="builtin": stage 1 is skipped, the shipped image tower is copied and stays bit-identical."""
    from comma_bench.world.model import WEIGHTS

    recipe = PretrainRecipe(vision_steps=0, steps=2, batch_size=8, warmup_steps=1, threads=1, image_tower="builtin")
    model, log = train(recipe, progress=False, workers=0)
    shipped = load_file(str(WEIGHTS))
    for name, value in model.visual.state_dict().items():
        assert torch.equal(value, shipped["visual." + name].float()), name
    torch.manual_seed(recipe.seed)
    init = build_model()  # the seeded init the text tower started from: stage 2 trained it
    assert not torch.equal(model.token_embedding.weight, init.token_embedding.weight)
    assert not torch.equal(model.token_embedding.weight, shipped["token_embedding.weight"].float())
    assert [len(c) for c in log["loss_curves"].values()] == [0, 2]  # stage 2 only (logged at its first and last step)
    with pytest.raises(ValueError, match="vision_steps must be 0"):
        train(PretrainRecipe(vision_steps=1, steps=1, batch_size=8, image_tower="builtin"), progress=False, workers=0)


def test_cli_pretrain_image_tower_errors_name_the_file(tmp_path, capsys):
    out = str(tmp_path / "w.safetensors")
    missing = tmp_path / "nope.safetensors"
    assert main(["world", "pretrain", "--out", out, "--image-tower", str(missing), "--steps", "1"]) == 2
    assert f"image_tower {str(missing)!r}: no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    assert main(["world", "pretrain", "--out", out, "--image-tower", str(junk), "--steps", "1"]) == 2
    assert "not a readable safetensors file" in capsys.readouterr().err
    other = tmp_path / "other.safetensors"
    from safetensors.torch import save_file

    save_file({"visual.conv1.weight": torch.zeros(1)}, str(other))
    assert main(["world", "pretrain", "--out", out, "--image-tower", str(other), "--steps", "1"]) == 2
    assert "do not match the world-tiny image tower" in capsys.readouterr().err
    argv = ["world", "pretrain", "--out", out, "--image-tower", "builtin", "--vision-steps", "5"]
    assert main(argv) == 2
    assert "--vision-steps 5: with --image-tower stage 1 is skipped" in capsys.readouterr().err
    assert not (tmp_path / "w.safetensors").exists()  # nothing was written by a failed command


def test_saved_weights_are_byte_identical_every_time(tmp_path):
    """The sha256 in the metadata JSON identifies the weights, so saving the same tensors must give the same bytes."""
    from comma_bench.world.pretrain import save_weights

    torch.manual_seed(0)
    model = build_model()
    digests = set()
    for i in range(6):  # with two metadata keys in hash order, six saves all agreeing would have odds 1 in 32
        save_weights(model, tmp_path / f"w{i}.safetensors")
        digests.add(sha256_of(tmp_path / f"w{i}.safetensors"))
    assert len(digests) == 1


def test_both_stages_equal_stage_one_then_stage_two_on_its_saved_tower(tmp_path):
    """The shipped recipe can be rerun in one command or in two (stage 1 alone, then `image_tower=` its file): stage 2
    reads its own part of the corpus and starts from the fp16-rounded tower either way, so the weights are identical."""
    from comma_bench.world.pretrain import save_weights

    common = dict(batch_size=8, warmup_steps=1, threads=1)
    both, _ = train(PretrainRecipe(vision_steps=2, steps=2, **common), progress=False, workers=0)
    tower, _ = train(PretrainRecipe(vision_steps=2, steps=0, **common), progress=False, workers=0)
    save_weights(tower, tmp_path / "tower.safetensors")
    recipe = PretrainRecipe(vision_steps=0, steps=2, image_tower=str(tmp_path / "tower.safetensors"), **common)
    second, _ = train(recipe, progress=False, workers=0)
    for (name, a), (_, b) in zip(both.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name


def test_fine_name_rate_changes_captions_not_images():
    from comma_bench.world import corpus
    from comma_bench.world.captions import RARE_WORDS

    rare = set(RARE_WORDS)
    never, always = [], []
    for i in range(600):
        scene, image, caption = corpus.sample(0, i, fine_rate=0.0)
        _, image_1, caption_1 = corpus.sample(0, i, fine_rate=1.0)
        assert (image == image_1).all()  # the caption design never changes a pixel
        never.append(caption)
        always.append(caption_1)
    words = lambda caps: {w.strip(".,") for c in caps for w in c.split()}
    assert not words(never) & rare  # rate 0: long-tail values are always named by a common word
    assert words(always) >= rare  # rate 1: every long-tail word occurs in 600 captions
    assert sum(a != b for a, b in zip(never, always)) > 100


def _shallow_tower_file(tmp_path, layers: int = 4, width: int | None = None):
    """A randomly initialised world-tiny of `layers` layers (v1's depth by default), saved like a checkpoint."""
    import copy

    from open_clip.model import CLIP

    from comma_bench.world.model import OPEN_CLIP_KWARGS
    from comma_bench.world.pretrain import save_weights

    kwargs = copy.deepcopy(OPEN_CLIP_KWARGS)
    kwargs["vision_cfg"]["layers"] = layers
    if width:
        kwargs["vision_cfg"]["width"] = width
    torch.manual_seed(1)
    shallow = CLIP(**kwargs).eval()
    path = tmp_path / f"v1-{layers}-{width}.safetensors"
    save_weights(shallow, path)
    shallow.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})  # the fp16 values as stored
    return shallow, path


def test_grown_image_tower_computes_the_shallow_towers_features_exactly(tmp_path):
    from comma_bench.world.pretrain import GROW_STRIDE, grow_image_tower

    shallow, path = _shallow_tower_file(tmp_path)
    torch.manual_seed(0)
    model = build_model().eval()
    grow_image_tower(model, path)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.encode_image(images), shallow.encode_image(images))
    blocks = model.visual.transformer.resblocks
    for i, block in enumerate(blocks):
        zero = all(not t.any() for t in (block.attn.out_proj.weight, block.mlp.c_proj.weight))
        assert zero == (i % GROW_STRIDE != 0 or i // GROW_STRIDE >= 4), i  # only the 8 new blocks start as identities
    assert torch.equal(blocks[3].mlp.c_fc.weight, shallow.visual.transformer.resblocks[1].mlp.c_fc.weight)


def test_grow_from_refuses_a_tower_that_does_not_fit(tmp_path, capsys):
    from comma_bench.errors import UserError
    from comma_bench.world.pretrain import grow_image_tower

    _, deep = _shallow_tower_file(tmp_path, layers=5)  # block 4 would go to block 12 of 12
    _, wide = _shallow_tower_file(tmp_path, layers=4, width=64)
    for path in (deep, wide, tmp_path / "missing.safetensors"):
        with pytest.raises(UserError, match=f"grow_from {str(path)!r}"):
            grow_image_tower(build_model(), path)
    out = str(tmp_path / "w.safetensors")
    assert (
        main(["world", "pretrain", "--out", out, "--grow-from", str(wide), "--vision-steps", "1", "--steps", "1"]) == 2
    )
    assert "not a shallower tower of the same width" in capsys.readouterr().err
    with pytest.raises(ValueError, match="grow_from"):
        train(PretrainRecipe(vision_steps=0, steps=1, batch_size=8, grow_from=str(deep)), progress=False, workers=0)


def test_pattern_mention_rate_sets_how_often_an_objects_fill_is_named():
    import numpy as np

    from comma_bench.world import corpus
    from comma_bench.world.captions import Words, object_phrase
    from comma_bench.world.concepts import PATTERN_NOUNS

    rng = np.random.default_rng(0)
    objects = [o for _ in range(400) for o in corpus.sample_scene(rng).objects if o.pattern != "plain"]
    for rate, lo, hi in ((0.0, 0.0, 0.0), (0.25, 0.15, 0.35), (1.0, 1.0, 1.0)):
        rng = np.random.default_rng(1)
        phrases = [object_phrase(rng, o, words=Words(rng, pattern_rate=rate)) for o in objects]
        named = [o.pattern in p or PATTERN_NOUNS[o.pattern] in p for o, p in zip(objects, phrases)]
        assert lo <= sum(named) / len(named) <= hi, (rate, sum(named) / len(named))
