"""What a `--pretrained` value names: random init, a local weights file, or a tag. The one place that decides.

The backbone loader, sweep validation and the sweep planner all need the answer before anything is loaded; each had
its own copy of the rule and they disagreed (`random` and `.ckpt` were accepted by the loader and refused by the
other two). This module imports neither torch nor open_clip, so that sweep validation stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

NO_WEIGHTS = ("none", "random", "")  # random init (tests, architecture checks); case-insensitive
WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")  # state dicts and OpenAI TorchScript archives

Kind = Literal["none", "file", "tag"]


def pretrained_kind(value: str | None) -> Kind:
    """Random init ("none"), a path ("file": a weights suffix or a folder separator) or a name to look up ("tag")."""
    tag = (value or "").strip()
    if tag.lower() in NO_WEIGHTS:
        return "none"
    if Path(tag).suffix in WEIGHT_SUFFIXES or os.sep in tag or "/" in tag:
        return "file"
    return "tag"


def unknown_tag(model: str, tag: str, tags: Sequence[str]) -> str | None:
    """The one-line problem with `tag` for `model` given its valid tags, or None when it is fine.

    Files are not opened here (the run that loads them says when one is missing): only a tag can be unknown.
    """
    if pretrained_kind(tag) != "tag" or tag in tags:
        return None
    valid = ", ".join([*tags, "none", "<path to a weights file>"])
    return f"unknown pretrained tag {tag!r} for {model}; valid tags: {valid}"
