"""Zero-shot evaluation of a CLIP on the built-in datasets, self-contained.

The pretraining run, the README numbers and the tests measure the shipped model with this module. It uses exactly
the protocol rules of the official CoOp code (base = first ⌈n/2⌉ sorted labels, new = the rest, each classified
among its own classes only) and Dassl's test transform (at 32 px the resize and centre crop are the identity), but
needs nothing beyond the world itself, so it also runs while the rest of the pipeline is being built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from comma_bench.clip.zoo import OPENAI_MEAN, OPENAI_STD
from comma_bench.world.datasets import WorldDataset, items, render_item

SUBSETS = ("base", "new", "all")


@dataclass(frozen=True)
class ZeroShotResult:
    dataset: str  # registry key
    subset: str  # base | new | all
    n_classes: int  # size of the label space classified among
    n_images: int
    accuracy: float  # top-1, percent


def subset_labels(n_classes: int, subset: str) -> list[int]:
    """As the official CoOp code: base = the first ⌈n/2⌉ labels, new = the remaining ⌊n/2⌋."""
    m = math.ceil(n_classes / 2)
    if subset == "base":
        return list(range(m))
    if subset == "new":
        return list(range(m, n_classes))
    if subset == "all":
        return list(range(n_classes))
    raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")


def prompts(ds: WorldDataset, labels: list[int], template: str | None = None) -> list[str]:
    """The hand-crafted prompts of the given labels (underscores become spaces, as in the official code)."""
    template = template or ds.template
    return [template.format(ds.classnames[i].replace("_", " ")) for i in labels]


def to_tensor(pixels: np.ndarray, mean=OPENAI_MEAN, std=OPENAI_STD) -> torch.Tensor:
    """uint8 [..., H, W, 3] -> normalised float [..., 3, H, W] (ToTensor + Normalize)."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).float().div_(255.0)
    x = x.movedim(-1, -3)
    m = torch.tensor(mean).view(3, 1, 1)
    s = torch.tensor(std).view(3, 1, 1)
    return (x - m) / s


@torch.no_grad()
def text_features(model, tokenizer, texts: list[str]) -> torch.Tensor:
    return torch.nn.functional.normalize(model.encode_text(tokenizer(texts)), dim=-1)  # [C, D]


@torch.no_grad()
def image_features(
    model, ds: WorldDataset, *, per_class: int | None = None, batch_size: int = 500, split: str = "test"
):
    """Normalised image features [N, D] and labels [N] of a split (first `per_class` images per class)."""
    data = items(ds, split)
    if per_class is not None:
        data = data[: per_class * len(ds.classnames)]  # labels cycle, so this is the first `per_class` of each class
    feats = []
    for start in range(0, len(data), batch_size):
        x = to_tensor(np.stack([render_item(d.impath) for d in data[start : start + batch_size]]))  # [B, 3, 32, 32]
        feats.append(torch.nn.functional.normalize(model.encode_image(x), dim=-1))  # [B, D]
    return torch.cat(feats), torch.tensor([d.label for d in data])


@torch.no_grad()
def zeroshot_subsets(
    model,
    tokenizer,
    ds: WorldDataset,
    *,
    subsets: tuple[str, ...] = SUBSETS,
    per_class: int | None = None,
) -> dict[str, ZeroShotResult]:
    """Top-1 zero-shot accuracy on the test split of `ds`, for each subset among that subset's classes only.

    Image features are computed once and shared by the subsets.

    Args:
        per_class: evaluate only the first `per_class` test images of each class (fast checks); None = all.
    """
    feats, labels = image_features(model, ds, per_class=per_class)
    all_labels = subset_labels(len(ds.classnames), "all")
    tf = text_features(model, tokenizer, prompts(ds, all_labels))  # [C, D]
    out = {}
    for subset in subsets:
        keep = torch.tensor(subset_labels(len(ds.classnames), subset))  # [k] sorted label ids
        rows = torch.isin(labels, keep)
        logits = feats[rows] @ tf[keep].T  # [n, k]
        pred = keep[logits.argmax(-1)]
        n = int(rows.sum())
        acc = 100.0 * float((pred == labels[rows]).sum()) / max(n, 1)
        out[subset] = ZeroShotResult(ds.key, subset, len(keep), n, acc)
    return out


def zeroshot(
    model, tokenizer, ds: WorldDataset, *, subset: str = "all", per_class: int | None = None
) -> ZeroShotResult:
    """Top-1 zero-shot accuracy of one subset (see `zeroshot_subsets`)."""
    return zeroshot_subsets(model, tokenizer, ds, subsets=(subset,), per_class=per_class)[subset]


@dataclass(frozen=True)
class ProbeResult:
    dataset: str  # registry key
    subset: str  # base | new | all
    shots: int  # train images per class the probe was fitted on
    zero_shot: float  # top-1 of the hand-crafted prompts on the subset's test images, percent
    probe: float  # top-1 of the linear probe on the same test images, percent


def linear_probe(
    model, tokenizer, ds: WorldDataset, *, shots: int = 16, subset: str = "base", steps: int = 300, lr: float = 0.01
) -> ProbeResult:
    """Zero-shot beside a few-shot linear probe on the frozen image features: the room prompt learning has.

    Prompt learning adapts a classifier on (nearly) frozen features, so when a linear probe fitted on the same few
    shots does not beat the zero-shot classifier, neither will CoOp-style methods by much. The probe is a
    multinomial logistic regression on the normalised features of the first `shots` train images of each class of
    the subset, at the model's logit scale, zero-initialised and fitted by full-batch Adam: deterministic, nothing
    is sampled. Both classifiers are scored on the subset's full test split, among the subset's classes only.
    """
    keep = torch.tensor(subset_labels(len(ds.classnames), subset))  # [k] sorted label ids
    index = torch.full((len(ds.classnames),), -1, dtype=torch.long)
    index[keep] = torch.arange(len(keep))  # label id -> position among the subset's classes

    def subset_features(split: str, per_class: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        feats, labels = image_features(model, ds, per_class=per_class, split=split)
        rows = torch.isin(labels, keep)
        return feats[rows], index[labels[rows]]  # [n, D], [n] in 0..k-1

    test_x, test_y = subset_features("test", None)
    train_x, train_y = subset_features("train", shots)
    scale = float(model.logit_scale.detach().exp())
    text = text_features(model, tokenizer, prompts(ds, keep.tolist()))  # [k, D]
    weight = torch.zeros(text.shape[1], len(keep), requires_grad=True)  # [D, k]
    bias = torch.zeros(len(keep), requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(scale * train_x @ weight + bias, train_y).backward()
        opt.step()
    with torch.no_grad():
        zero_shot = 100.0 * int(((test_x @ text.T).argmax(-1) == test_y).sum()) / len(test_y)
        probe = 100.0 * int(((scale * test_x @ weight + bias).argmax(-1) == test_y).sum()) / len(test_y)
    return ProbeResult(ds.key, subset, shots, zero_shot, probe)
