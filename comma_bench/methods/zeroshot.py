"""Zero-shot CLIP: one hand-crafted template per dataset, no ensembling (CoOp/MaPLe `ZeroshotCLIP`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from comma_bench.clip.prompted import cosine_logits, encode_image
from comma_bench.methods.base import MethodOutput, PromptMethod
from comma_bench.methods.prompting import handcrafted_text_features
from comma_bench.methods.registry import MethodSpec, register_method


@dataclass(frozen=True)
class ZeroShotConfig:
    """Zero-shot CLIP has no hyperparameters: the dataset's template is the whole method."""


class ZeroShotCLIP(PromptMethod):
    name = "zeroshot"
    trains = False
    image_prompted = False

    def __init__(self, backbone, classnames, *, template, config: ZeroShotConfig | None = None, **texts):
        super().__init__(backbone, classnames, template=template, **texts)
        self.config = config or ZeroShotConfig()
        self.set_classes(classnames)

    def set_classes(self, classnames, template=None, **texts) -> None:
        super().set_classes(classnames, template, **texts)
        feats = handcrafted_text_features(self.backbone, self.classnames, self.template)  # [n_cls, E]
        self.register_buffer("text_features", F.normalize(feats.float(), dim=-1), persistent=False)

    def logits_from_image_features(self, image_features: torch.Tensor) -> torch.Tensor:
        return cosine_logits(self.clip, image_features, self.text_features.to(image_features.dtype))  # [B, n_cls]

    def forward(self, images: torch.Tensor) -> MethodOutput:
        with torch.no_grad():
            image_features = encode_image(self.clip, images)  # [B, E]
        return MethodOutput(
            logits=self.logits_from_image_features(image_features), extras={"image_features": image_features}
        )


SPEC = register_method(
    MethodSpec(
        name="zeroshot",
        cls=ZeroShotCLIP,
        config_cls=ZeroShotConfig,
        default_optim={"lr": 0.0, "epochs": 0, "batch_size": 32},
        paper="Radford et al., Learning Transferable Visual Models From Natural Language Supervision (ICML'21)",
        source="CoOp trainers/zsclip.py ZeroshotCLIP",
        arxiv="2103.00020",
    )
)
