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
    assert main(["world", "pretrain", "--out", str(tmp_path / "w.safetensors"), "--steps", "0"]) == 2
    assert main(["world", "pretrain", "--out", str(tmp_path / "w.safetensors"), "--batch-size", "6"]) == 2
    assert "multiple of 4" in capsys.readouterr().err


def test_locked_image_tower_is_untouched_by_the_contrastive_stage():
    """LiT: stage 2 trains the text tower and temperature only; the image tower leaves it bit-identical."""
    common = dict(vision_steps=2, batch_size=8, warmup_steps=1, threads=1)
    vision_only, _ = train(PretrainRecipe(steps=0, **common), progress=False, workers=0)
    both, _ = train(PretrainRecipe(steps=2, **common), progress=False, workers=0)
    for (name, a), (_, b) in zip(vision_only.visual.state_dict().items(), both.visual.state_dict().items()):
        assert torch.equal(a, b), name
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
