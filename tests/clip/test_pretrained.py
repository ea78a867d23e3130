"""`--pretrained` values are classified in one place (comma_bench.clip.pretrained), and every consumer agrees.

Before, the backbone loader accepted `random` and `.ckpt` files while sweep validation and the sweep planner refused
them; these tests pin the loader, the validator and the planner to the same rule.
"""

from __future__ import annotations

import pytest

from comma_bench.clip.pretrained import pretrained_kind, unknown_tag
from comma_bench.sweep.plan import expand
from comma_bench.sweep.spec import load_sweep
from tests.sweep.conftest import SMALL, write_sweep


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("none", "none"),
        ("Random", "none"),
        ("", "none"),
        ("openai", "tag"),
        ("builtin", "tag"),
        ("weights.ckpt", "file"),
        ("weights.safetensors", "file"),
        ("dir/weights", "file"),
        ("laion2b_s34b_b88k", "tag"),
    ],
)
def test_kinds(value: str, kind: str) -> None:
    assert pretrained_kind(value) == kind


def test_unknown_tag_message_lists_valid_ones() -> None:
    assert unknown_tag("world-tiny", "builtin", ["builtin"]) is None
    assert unknown_tag("world-tiny", "w.ckpt", ["builtin"]) is None  # a file: checked when loaded
    msg = unknown_tag("world-tiny", "laion", ["builtin"])
    assert msg == "unknown pretrained tag 'laion' for world-tiny; valid tags: builtin, none, <path to a weights file>"


@pytest.mark.parametrize("value", ["random", "none", "weights/world.ckpt", "w.ckpt"])
def test_sweep_validation_and_planning_accept_what_the_loader_accepts(value: str, tmp_path) -> None:
    path = write_sweep(tmp_path, SMALL.replace("pretrained: builtin", f"pretrained: {value}"))
    runs = expand(load_sweep(path), device="cpu")
    assert {r.config.backbone.pretrained for r in runs} == {value}


def test_loader_takes_random_as_random_init() -> None:
    from comma_bench.clip import load_backbone

    bb = load_backbone("test-tiny", "random")
    assert bb.cache_id() is None and bb.pretrained == "random"
