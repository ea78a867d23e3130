"""Image transforms and the torch `Dataset` over a list of `Datum`, as every Dassl-based method uses them.

Dassl, as the official configs set it: train = RandomResizedCrop(size, scale=(0.08, 1), bicubic) ->
RandomHorizontalFlip(0.5) -> ToTensor -> Normalize; test = Resize(size, bicubic) on the shorter side ->
CenterCrop(size) -> ToTensor -> Normalize. One view per image. torchvision's v1 transforms are used because they
are what Dassl calls, so crops and resampling match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

from comma_bench.data.datum import Datum
from comma_bench.data.images import open_rgb

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP normalisation, the default of every config
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def build_transform(
    train: bool,
    image_size: int,
    mean: Sequence[float] = CLIP_MEAN,
    std: Sequence[float] = CLIP_STD,
) -> T.Compose:
    """The train or test transform for square inputs of `image_size` pixels (PIL RGB image -> tensor [3, S, S])."""
    normalize = T.Normalize(mean=list(mean), std=list(std))
    if train:
        return T.Compose(
            [
                T.RandomResizedCrop(image_size, scale=(0.08, 1.0), interpolation=InterpolationMode.BICUBIC),
                T.RandomHorizontalFlip(p=0.5),
                T.ToTensor(),
                normalize,
            ]
        )
    return T.Compose(
        [
            T.Resize(image_size, interpolation=InterpolationMode.BICUBIC),  # an int resizes the shorter side
            T.CenterCrop(image_size),
            T.ToTensor(),
            normalize,
        ]
    )


def _default_loader(item: Datum) -> Image.Image:
    return open_rgb(item.impath)


class ImageDataset(torch.utils.data.Dataset):
    """`(image tensor [3, H, W], label)` for each `Datum` of a split.

    Args:
        items: the split (e.g. `DatasetSplits.train`).
        loader: `Datum -> PIL RGB image`; pass `DatasetSplits.load_image` so built-in datasets render their images.
            Default: open the file with PIL and convert to RGB.
        transform: a `build_transform(...)` pipeline (or any callable on a PIL image).
    """

    def __init__(
        self,
        items: Sequence[Datum],
        loader: Callable[[Datum], Image.Image] | None = None,
        transform: Callable[[Image.Image], torch.Tensor] | None = None,
    ) -> None:
        self.items = list(items)
        self.loader = loader or _default_loader
        self.transform = transform or T.ToTensor()

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        item = self.items[index]
        image = self.transform(self.loader(item))  # [3, H, W]
        return image, item.label
