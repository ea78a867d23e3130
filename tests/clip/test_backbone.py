"""Backbone loading: frozen models, built-ins, local files, open_clip configs, QuickGELU and offline errors."""

from __future__ import annotations

import json

import open_clip
import pytest
import torch
from safetensors.torch import save_file

from comma_bench.clip import load_backbone
from comma_bench.errors import UserError

TINY_OPEN_CLIP = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def test_builtin_tiny_is_frozen_and_in_eval_mode(tiny_backbone):
    model = tiny_backbone.model
    assert not any(p.requires_grad for p in model.parameters())
    assert not model.training
    assert tiny_backbone.image_size == 32 and tiny_backbone.text_width == 64 and tiny_backbone.embed_dim == 32
    assert tiny_backbone.tokenize(["a dog"]).shape == (1, 77)


def test_unknown_model_lists_valid_names():
    with pytest.raises(UserError, match=r"unknown model 'ViT-Q-99'.*test-tiny.*ViT-B-16"):
        load_backbone("ViT-Q-99", "none")


def test_unknown_tag_names_the_tags():
    with pytest.raises(UserError, match=r"not a tag of 'ViT-B-16'.*openai"):
        load_backbone("ViT-B-16", "nonexistent_tag")


def test_quick_gelu_mismatch_with_openai_tag_is_an_error():
    with pytest.raises(UserError, match="quick_gelu=True"):
        load_backbone("ViT-B-16", "openai", quick_gelu=False)


def test_openai_tag_offline_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(UserError) as info:
        load_backbone("ViT-B-16", "openai", cache_dir=str(tmp_path / "cache"))
    msg = str(info.value)
    assert "'openai'" in msg and "offline" in msg and "--pretrained /path/to/ViT-B-16.safetensors" in msg
    assert "\n" not in msg


def test_local_safetensors_file_for_builtin_and_open_clip_config(tmp_path):
    torch.manual_seed(3)
    ref = load_backbone("test-tiny", "none")
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in ref.model.state_dict().items()}, str(path))
    again = load_backbone("test-tiny", str(path))
    for (k, a), (_, b) in zip(ref.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), k
    # the same weights through an open_clip model config registered from a JSON file
    cfg = tmp_path / "tiny-clip-test.json"
    cfg.write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(cfg)
    viaoc = load_backbone("tiny-clip-test", str(path))
    assert viaoc.quick_gelu is True
    tokens = ref.tokenize(["a red square."])
    with torch.no_grad():
        assert torch.equal(viaoc.model.encode_text(tokens), ref.model.encode_text(tokens))


def test_missing_weights_file_and_wrong_shape(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_backbone("ViT-B-16", str(tmp_path / "missing.safetensors"))
    cfg = tmp_path / "tiny-clip-test2.json"
    cfg.write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(cfg)
    bad = tmp_path / "bad.safetensors"
    save_file({"logit_scale": torch.zeros(())}, str(bad))
    with pytest.raises(UserError, match="does not fit model 'tiny-clip-test2'"):
        load_backbone("tiny-clip-test2", str(bad))


def test_torchscript_archive_needs_opt_in(tmp_path):
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    path = tmp_path / "ViT-B-16.pt"
    scripted.save(str(path))
    with pytest.raises(UserError, match="--allow-torchscript"):
        load_backbone("ViT-B-16", str(path))
