"""What every method contributes to the shared engine: a module that maps images to logits (plus extra losses).

The training loop (comma_bench.engine) is written once. A method only says how it builds its prompt parameters, how
it turns a batch of images into class logits, and which extra loss terms it adds to the cross-entropy. The frozen
CLIP is *not* a submodule of the method: `state_dict()` and checkpoints therefore hold only the method's own
parameters, and moving or saving a method never copies CLIP's 150M weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from comma_bench.clip.backbone import Backbone
from comma_bench.methods.checks import BackboneShape


@dataclass
class MethodOutput:
    logits: torch.Tensor  # [B, n_cls] exp(logit_scale) * cos(image, class text)
    losses: dict[str, torch.Tensor] = field(default_factory=dict)  # extra terms added to CE, already weighted
    extras: dict[str, Any] = field(default_factory=dict)  # intermediate values (features, prompts) for tests/analysis


class PromptMethod(nn.Module):
    """Base class: holds the frozen backbone by reference and the current class list.

    Subclasses build their prompt parameters in `__init__`, rebuild class-dependent buffers in `set_classes()` and
    implement `forward()`; `check()` rejects settings the backbone cannot take before anything is built.

    Dataset texts: besides the class names and the dataset's zero-shot `template`, a dataset may provide further
    hand-crafted templates (keywords ending in `_template`, e.g. COMMA's `kd_template`). Every method receives them
    as keywords and reads only the ones it uses; the base class stores none of them.
    """

    name: ClassVar[str] = ""
    trains: ClassVar[bool] = True  # the one answer to "does this method train?" (zero-shot CLIP: False)
    image_prompted: bool = True  # False: the image tower runs unprompted, so its features can be cached (per instance)

    def __init__(
        self, backbone: Backbone, classnames: list[str], *, template: str, **dataset_texts: str | None
    ) -> None:
        super().__init__()
        self.backbone = backbone  # a dataclass, not a Module: CLIP stays out of this module's state dict
        self.template = template
        self.classnames = list(classnames)
        self._frozen: dict[str, Any] | None = None  # image-independent outputs memoised during `frozen_prompts()`

    @contextmanager
    def frozen_prompts(self) -> Iterator[None]:
        """Evaluate with the prompts fixed: image-independent outputs (class text features, vision prompts) are
        computed once instead of once per batch. Used by evaluation under no_grad; results are identical."""
        self._frozen = {}
        try:
            yield
        finally:
            self._frozen = None

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()`, reused within `frozen_prompts()` (never while gradients are being recorded)."""
        if self._frozen is None or torch.is_grad_enabled():
            return compute()
        if key not in self._frozen:
            self._frozen[key] = compute()
        return self._frozen[key]

    @property
    def clip(self) -> nn.Module:
        return self.backbone.model

    @classmethod
    def check(cls, config: Any, backbone: BackboneShape) -> None:
        """Raise `SettingError` for a setting of `config` that `backbone` cannot take (default: none depends on it).

        Runs before the method is built, on a loaded backbone or on the depths a sweep reads from a model config.
        """

    def set_classes(self, classnames: list[str], template: str | None = None, **dataset_texts: str | None) -> None:
        """Switch to another class list (novel classes, a target dataset): rebuild class-dependent buffers only."""
        self.classnames = list(classnames)
        if template is not None:
            self.template = template

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def gradient_free_parameters(self) -> set[str]:
        """Names of trainable parameters that receive no gradient by design (default: none).

        The official COMMA code hands its generator to the optimiser but writes its output through `.data`, so the
        generator never gets a gradient (COMMA's faithful mode). Declaring that here lets the registry-wide test
        require a gradient on every other trainable parameter, with no method named in the test.
        """
        return set()

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def logits_from_image_features(self, image_features: torch.Tensor) -> torch.Tensor:
        """[B, E] unnormalised frozen image features -> [B, n_cls] logits (only for `image_prompted = False`)."""
        raise NotImplementedError(f"{self.name} prompts the image tower; its image features cannot be precomputed")

    def forward(self, images: torch.Tensor) -> MethodOutput:  # pragma: no cover - abstract
        raise NotImplementedError
