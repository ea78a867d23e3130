"""The prompted-CLIP core: backbone loading, prompt assembly and the prompted text/image forward.

No method logic lives here; methods (comma_bench.methods, baselines) build on these pieces. The names below are
imported on first use, so that torch-free helpers of this package (`pretrained`: what a `--pretrained` value is)
can be imported by sweep validation without importing torch and open_clip.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Backbone": "comma_bench.clip.backbone",
    "load_backbone": "comma_bench.clip.backbone",
    "TextOutput": "comma_bench.clip.prompted",
    "cosine_logits": "comma_bench.clip.prompted",
    "encode_image": "comma_bench.clip.prompted",
    "encode_text": "comma_bench.clip.prompted",
    "token_embeddings": "comma_bench.clip.prompted",
    "ModelSpec": "comma_bench.clip.zoo",
    "list_builtin_models": "comma_bench.clip.zoo",
    "register_model": "comma_bench.clip.zoo",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'comma_bench.clip' has no attribute {name!r}")
