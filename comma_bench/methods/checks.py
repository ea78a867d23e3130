"""What a method checks about a backbone before it is built: the tower depths its prompts go into.

A method's `check(config, backbone)` (`PromptMethod.check`) is the one place that knows which of its settings
depend on the backbone. It runs in `build()` on a loaded backbone, and in sweep planning on a `BackboneShape` read
from the model config (no weights loaded), so a sweep file with a prompt deeper than its backbone fails when it is
validated, with the same rule that would fail the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from comma_bench.errors import UserError


class BackboneShape(Protocol):
    """What a method may check about a backbone; `Backbone` satisfies it, and so does `TowerDepths`."""

    @property
    def name(self) -> str: ...  # `--model`, named in the error

    @property
    def text_layers(self) -> int | None: ...  # blocks of the text tower; None where unknown

    @property
    def vision_layers(self) -> int | None: ...  # blocks of the image tower; 0 for a ResNet; None where unknown


@dataclass(frozen=True)
class TowerDepths:
    """A backbone's tower depths read from its config, for checks that must not load weights (sweep planning)."""

    name: str  # `--model`
    text_layers: int | None  # text transformer blocks; None where the config does not say
    vision_layers: int | None  # vision transformer blocks; 0 for a ResNet image tower; None where unknown


class SettingError(UserError):
    """A method setting that does not fit the backbone: `<setting>=<value> <what was expected>`.

    The parts are kept so that a sweep can name the key path (`method_config.prompt_depth`) in its own message;
    `backbone_key` is set when no value of the setting could fit and the backbone is what to change.
    """

    def __init__(self, setting: str, value: Any, expected: str, *, backbone_key: bool = False) -> None:
        self.setting, self.value, self.expected, self.backbone_key = setting, value, expected, backbone_key
        super().__init__(f"{setting}={value} {expected}")


def check_depth(setting: str, depth: int, backbone: BackboneShape, *, towers: tuple[str, ...]) -> None:
    """`depth` prompted blocks must fit every tower named in `towers` ("text", "vision"); unknown depths pass.

    A tower with no transformer blocks (a ResNet image tower) takes no prompt at any depth: that is its own message,
    naming what to use instead, rather than "between 1 and 0".
    """
    layers = [getattr(backbone, f"{t}_layers") for t in towers]
    for tower, n in zip(towers, layers, strict=True):
        if n == 0:
            raise SettingError(
                setting,
                depth,
                f"needs a transformer {tower} tower, and {backbone.name}'s is a ResNet: use a ViT model",
                backbone_key=True,
            )
    known = [n for n in layers if n is not None]
    limit = min(known) if known else None
    if depth < 1 or (limit is not None and depth > limit):
        bound = f"between 1 and {limit}, the number of layers of {backbone.name}" if limit is not None else ">= 1"
        raise SettingError(setting, depth, f"must be {bound}")
