"""Hand-crafted prompt templates, keyed by CoOp's dataset NAME (CoOp/MaPLe `CUSTOM_TEMPLATES`).

Two dictionaries, because the official repositories disagree on exactly one entry:

- `ZSCLIP_TEMPLATES` is `CUSTOM_TEMPLATES` of CoOp's / MaPLe's `trainers/zsclip.py`: the zero-shot "CLIP" rows of
  every published table use it, one template per dataset, no ensembling.
- `COMMA_KD_TEMPLATES` is the dictionary in COMMA's `trainers/comma.py`, used to build the frozen text features its
  knowledge-preservation loss compares against. It differs from the zsclip one only for DescribableTextures.

Class names are formatted in with underscores replaced by spaces; that replacement belongs to whoever builds the
prompts, so the templates here keep the `{}` placeholder and nothing else.
"""

from __future__ import annotations

from types import MappingProxyType

ZSCLIP_TEMPLATES: MappingProxyType[str, str] = MappingProxyType(
    {
        "OxfordPets": "a photo of a {}, a type of pet.",
        "OxfordFlowers": "a photo of a {}, a type of flower.",
        "FGVCAircraft": "a photo of a {}, a type of aircraft.",
        "DescribableTextures": "{} texture.",
        "EuroSAT": "a centered satellite photo of {}.",
        "StanfordCars": "a photo of a {}.",
        "Food101": "a photo of {}, a type of food.",
        "SUN397": "a photo of a {}.",
        "Caltech101": "a photo of a {}.",
        "UCF101": "a photo of a person doing {}.",
        "ImageNet": "a photo of a {}.",
        "ImageNetSketch": "a photo of a {}.",
        "ImageNetV2": "a photo of a {}.",
        "ImageNetA": "a photo of a {}.",
        "ImageNetR": "a photo of a {}.",
    }
)

# COMMA's own table: identical to the zsclip one except DescribableTextures (CoOp/MaPLe `CUSTOM_TEMPLATES`).
COMMA_KD_TEMPLATES: MappingProxyType[str, str] = MappingProxyType(
    {**ZSCLIP_TEMPLATES, "DescribableTextures": "a photo of a {}, a type of texture."}
)


def format_prompt(template: str, classname: str) -> str:
    """The prompt the official code builds: underscores in the class name become spaces, then `template.format`."""
    return template.format(classname.replace("_", " "))
