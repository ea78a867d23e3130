"""Transforms of Dassl (as CoOp, MaPLe and COMMA configure them) and the ImageDataset wrapper."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode

from comma_bench.data import Datum, ImageDataset, build_transform
from comma_bench.data.transforms import CLIP_MEAN, CLIP_STD
from comma_bench.errors import UserError


def test_pipeline_composition() -> None:
    train = build_transform(True, 224, CLIP_MEAN, CLIP_STD).transforms
    assert [type(t).__name__ for t in train] == ["RandomResizedCrop", "RandomHorizontalFlip", "ToTensor", "Normalize"]
    assert train[0].size == (224, 224) and train[0].scale == (0.08, 1.0)
    assert train[0].ratio == pytest.approx((3 / 4, 4 / 3)) and train[0].interpolation == InterpolationMode.BICUBIC
    assert train[1].p == 0.5
    test = build_transform(False, 224, CLIP_MEAN, CLIP_STD).transforms
    assert [type(t).__name__ for t in test] == ["Resize", "CenterCrop", "ToTensor", "Normalize"]
    assert test[0].size == 224 and test[0].interpolation == InterpolationMode.BICUBIC  # int: shorter side
    assert test[1].size == (224, 224)
    assert list(test[3].mean) == list(CLIP_MEAN) and list(test[3].std) == list(CLIP_STD)


def test_test_transform_shape_and_normalisation() -> None:
    img = Image.new("RGB", (40, 20), (255, 128, 0))  # non-square: shorter side 20 -> 16, then centre crop 16x16
    out = build_transform(False, 16, CLIP_MEAN, CLIP_STD)(img)
    assert out.shape == (3, 16, 16) and out.dtype == torch.float32
    want = [(v / 255 - m) / s for v, m, s in zip((255, 128, 0), CLIP_MEAN, CLIP_STD)]
    assert torch.allclose(out.mean(dim=(1, 2)), torch.tensor(want), atol=1e-4)


def test_test_transform_resizes_shorter_side_then_crops_centre() -> None:
    img = Image.new("RGB", (30, 10), (0, 0, 0))
    for x in range(10, 20):  # a white band in the middle third survives the centre crop; the sides do not
        for y in range(10):
            img.putpixel((x, y), (255, 255, 255))
    out = build_transform(False, 10, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))(img)
    assert out.shape == (3, 10, 10)
    assert out[:, :, 2:8].min() > 0.95  # the whole crop is (nearly) the white band


def test_train_transform_is_random_but_seedable() -> None:
    img = Image.new("RGB", (32, 24))
    img.putdata([(x * 8 % 256, y * 10 % 256, (x + y) % 256) for y in range(24) for x in range(32)])
    tf = build_transform(True, 12, CLIP_MEAN, CLIP_STD)
    torch.manual_seed(0)
    a = tf(img)
    torch.manual_seed(0)
    b = tf(img)
    c = tf(img)
    assert a.shape == (3, 12, 12) and torch.equal(a, b) and not torch.equal(a, c)


def test_image_dataset_with_tree(coop_tree) -> None:
    from comma_bench.data import load_dataset

    root, _ = coop_tree
    splits = load_dataset("dtd", root, shots=0)
    ds = ImageDataset(splits.train, splits.load_image, build_transform(False, 8, CLIP_MEAN, CLIP_STD))
    assert len(ds) == len(splits.train)
    for i, item in enumerate(splits.train):
        x, y = ds[i]
        assert x.shape == (3, 8, 8) and y == item.label
    loader = torch.utils.data.DataLoader(ds, batch_size=4)
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 3, 8, 8) and yb.tolist() == [d.label for d in splits.train[:4]]


def test_default_loader_converts_to_rgb(tmp_path: Path) -> None:
    path = tmp_path / "gray.png"
    Image.new("L", (5, 7), 77).save(path)
    x, y = ImageDataset([Datum(str(path), 3, "c")])[0]
    assert x.shape == (3, 7, 5) and y == 3 and torch.allclose(x, torch.full((3, 7, 5), 77 / 255))


@pytest.mark.parametrize("content", [b"", b"not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 40])
def test_corrupt_image_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    with pytest.raises(UserError, match=r"broken\.jpg: not a readable image") as err:
        ImageDataset([Datum(str(path), 0, "c")], transform=build_transform(False, 8))[0]
    assert "\n" not in str(err.value)


def test_truncated_jpeg_names_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(good, quality=95)
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(UserError, match=r"cut\.jpg: not a readable image"):
        ImageDataset([Datum(str(bad), 0, "c")])[0]


def test_missing_image_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"gone\.jpg: image file does not exist"):
        ImageDataset([Datum(str(tmp_path / "gone.jpg"), 0, "c")])[0]
