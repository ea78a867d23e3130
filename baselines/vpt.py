"""VPT-deep: deep learnable prompts in the image tower only, frozen hand-crafted text (MaPLe's `VPT` baseline).

Reference code: muzairkhattak/multimodal-prompt-learning `trainers/vpt.py` with the `VisionTransformer` prompt slots
of its `clip/model.py`; defaults from `configs/trainers/VPT/vit_b16_c2_ep5_batch4_4.yaml` (deep visual prompt
tuning after Jia et al., ECCV'22, applied to CLIP's image tower):

- vision: `vision.shallow` [n_ctx, Dv] appended after the positional embedding, `vision.deep[i]` replacing the last
  n_ctx tokens before vision block i+1 for i < prompt_depth-1; fp32, N(0, 0.02^2);
- text: nothing is learned. The class text features are frozen CLIP's on `"a photo of a {class}."` for every
  dataset (the official `FixedEmbeddings` hard-codes that prefix; it does not use the dataset's template).

With ViT-B/16 and the defaults: 8x768 + 11x8x768 = 73,728 parameters. The official loader always runs CLIP in fp32
(`load_clip_to_cpu` returns `model.float()`) whatever PREC says; here the run's precision setting decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from comma_bench.clip.prompted import cosine_logits
from comma_bench.methods import MethodOutput, MethodSpec, PromptMethod, register_method
from comma_bench.methods.checks import check_depth
from comma_bench.methods.prompting import VisionPromptSlots, encode_prompted_image, handcrafted_text_features


@dataclass(frozen=True)
class VPTConfig:
    n_ctx: int = 8  # N_CTX_VISION: learnable vision tokens per prompted block
    prompt_depth: int = 12  # PROMPT_DEPTH_VISION: the input plus blocks 1..prompt_depth-1 of the image tower
    text_template: str = "a photo of a {}."  # the official FixedEmbeddings prompt, the same for every dataset

    def __post_init__(self) -> None:
        if self.n_ctx < 1:
            raise ValueError(f"n_ctx must be >= 1, got {self.n_ctx}")
        if "{}" not in self.text_template:
            raise ValueError(f"text_template must contain '{{}}' for the class name, got {self.text_template!r}")


class VPT(PromptMethod):
    """Learnable vision prompt slots; frozen text features of one hand-crafted prompt per class."""

    name = "vpt"

    @classmethod
    def check(cls, config: VPTConfig, backbone) -> None:
        check_depth("prompt_depth", config.prompt_depth, backbone, towers=("vision",))

    def __init__(self, backbone, classnames, *, template, config: VPTConfig | None = None, **texts):
        super().__init__(backbone, classnames, template=template, **texts)
        self.config = config = config or VPTConfig()
        self.vision = VisionPromptSlots(backbone, config.n_ctx, config.prompt_depth)
        self.set_classes(classnames)

    def set_classes(self, classnames, template=None, **texts) -> None:
        super().set_classes(classnames, template, **texts)
        feats = handcrafted_text_features(self.backbone, self.classnames, self.config.text_template)  # [n_cls, E]
        self.register_buffer("text_features", feats, persistent=False)

    def forward(self, images: torch.Tensor) -> MethodOutput:
        shallow, deep_vision = self.vision()
        image_features = encode_prompted_image(self.clip, images, shallow, deep_vision)  # [B, E]
        logits = cosine_logits(self.clip, image_features, self.text_features)  # [B, n_cls]
        return MethodOutput(
            logits=logits,
            extras={
                "image_features": image_features,
                "text_features": self.text_features,
                "vision_prompts": [shallow, *deep_vision],
            },
        )


SPEC = register_method(
    MethodSpec(
        name="vpt",
        cls=VPT,
        config_cls=VPTConfig,
        default_optim={"lr": 0.0025, "epochs": 5, "batch_size": 4},
        paper="Jia et al., Visual Prompt Tuning (ECCV'22), deep variant on CLIP as the MaPLe repository runs it",
        source="muzairkhattak/multimodal-prompt-learning configs/trainers/VPT/vit_b16_c2_ep5_batch4_4.yaml",
        arxiv="2203.12119",
    )
)
