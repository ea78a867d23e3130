"""comma-bench: COMMA, CoOp, CoCoOp, MaPLe and zero-shot CLIP on one prompted open_clip core.

The public Python API is re-exported lazily so that `import comma_bench` stays cheap (no torch import until used):

- `comma_bench.clip.load_backbone(model, pretrained)`: a frozen open_clip CLIP plus tokenizer and transforms.
- `comma_bench.data.load_dataset(key, root, shots=..., seed=..., subsample=...)`: CoOp-format or built-in data.
- `comma_bench.methods.build(name, backbone, classnames, ...)`: a prompt-learning module by registry name.
- `comma_bench.evaluate(...)`: top-1 accuracy of a method on a dataset split.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "evaluate"]


def __getattr__(name: str) -> Any:
    if name == "evaluate":
        from comma_bench.engine.evaluate import evaluate

        return evaluate
    raise AttributeError(f"module 'comma_bench' has no attribute {name!r}")
