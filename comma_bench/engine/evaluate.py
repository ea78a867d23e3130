"""Evaluation: top-1 accuracy (and macro-F1) over a whole test split, as Dassl's classification evaluator.

`evaluate(method, items, ...)` is the public entry point (`comma_bench.evaluate`). Methods are evaluated in eval
mode without gradients; COMMA's KD term is not computed at test time (the official code discards it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext

import torch
from PIL import Image
from tqdm.auto import tqdm

from comma_bench.data.datum import Datum


def autocast_for(device: torch.device, precision: str):
    """bf16 autocast on the device when asked for; fp32 and pure fp16 run without autocast."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return nullcontext()


def classification_metrics(pred: torch.Tensor, target: torch.Tensor, n_classes: int) -> dict[str, float]:
    """Accuracy and macro-F1 in percent (macro over the classes that occur in target or pred, as sklearn)."""
    pred, target = pred.cpu(), target.cpu()
    correct = int((pred == target).sum())
    total = int(target.numel())
    conf = torch.bincount(target * n_classes + pred, minlength=n_classes * n_classes).view(n_classes, n_classes)
    tp = conf.diag().double()
    support = conf.sum(1).double()
    predicted = conf.sum(0).double()
    present = (support + predicted) > 0
    f1 = torch.where(support + predicted > 0, 2 * tp / (support + predicted).clamp(min=1), torch.zeros_like(tp))
    return {
        "accuracy": 100.0 * correct / max(total, 1),
        "macro_f1": 100.0 * float(f1[present].mean()) if bool(present.any()) else 0.0,
        "n_images": total,
        "n_correct": correct,
    }


@contextmanager
def inference(method: torch.nn.Module) -> Iterator[None]:
    """Eval mode with the prompts frozen (class text features computed once), restoring the previous mode."""
    was_training = method.training
    method.eval()
    try:
        with method.frozen_prompts():
            yield
    finally:
        method.train(was_training)


@torch.no_grad()
def predict(
    method: torch.nn.Module,
    loader,
    *,
    device: torch.device,
    precision: str = "fp32",
    progress: bool = False,
    desc: str = "eval",
) -> tuple[torch.Tensor, torch.Tensor]:
    preds, targets = [], []
    with inference(method):
        for images, labels in tqdm(loader, desc=desc, disable=not progress, leave=False):
            with autocast_for(device, precision):
                logits = method(images.to(device, non_blocking=True)).logits  # [B, n_cls]
            preds.append(logits.argmax(dim=-1).cpu())
            targets.append(labels)
    return torch.cat(preds), torch.cat(targets)


@torch.no_grad()
def image_features(model: torch.nn.Module, loader, *, device: torch.device, precision: str = "fp32") -> torch.Tensor:
    """[N, E] frozen, unprompted image features of a whole split, batch by batch (the cacheable part)."""
    from comma_bench.clip.prompted import encode_image

    feats = []
    for images, _ in loader:
        with autocast_for(device, precision):
            feats.append(encode_image(model, images.to(device, non_blocking=True)).float().cpu())
    return torch.cat(feats)


@torch.no_grad()
def predict_from_features(
    method, feats: torch.Tensor, *, batch_size: int, device: torch.device, precision: str = "fp32"
) -> torch.Tensor:
    preds = []
    with inference(method):
        for start in range(0, feats.shape[0], batch_size):
            with autocast_for(device, precision):
                logits = method.logits_from_image_features(feats[start : start + batch_size].to(device))
            preds.append(logits.argmax(dim=-1).cpu())
    return torch.cat(preds)


def evaluate(
    method: torch.nn.Module,
    items: Sequence[Datum],
    *,
    load_image: Callable[[Datum], Image.Image],
    image_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    batch_size: int = 100,
    num_workers: int = 0,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    progress: bool = False,
    source_id: str | None = None,
    backbone_id: dict | None = None,
) -> dict[str, float]:
    """Top-1 accuracy of `method` (whose class list must match the items' labels) on a list of items.

    Args:
        source_id: identifies where the items' pixels come from (dataset key and folder); enables the decoded-image
            cache (`comma_bench.engine.cache`). None: decode every image.
        backbone_id: identifies the frozen weights; with a method whose image tower is unprompted it enables the
            image-feature cache. None: run the image tower.
    """
    from comma_bench.data.transforms import ImageDataset
    from comma_bench.engine import cache

    device = torch.device(device)
    dataset = None
    if source_id is not None:
        dataset = cache.decoded_test_images(items, load_image, image_size, mean, std, source_id=source_id)
    if dataset is None:
        from comma_bench.data.transforms import build_transform

        dataset = ImageDataset(items, load_image, build_transform(False, image_size, mean, std))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, pin_memory=device.type == "cuda"
    )
    target = torch.tensor([d.label for d in items], dtype=torch.long)
    if not getattr(method, "image_prompted", True) and backbone_id is not None and source_id is not None:
        key = {
            "backbone": backbone_id,
            "source": source_id,
            "items": cache.items_digest(items),
            "size": image_size,
            "batch": batch_size,
            "precision": precision,
            "device": device.type,
        }
        feats = cache.cached_image_features(
            key, lambda: image_features(method.clip, loader, device=device, precision=precision)
        )
        pred = predict_from_features(method, feats, batch_size=batch_size, device=device, precision=precision)
    else:
        pred, target = predict(method, loader, device=device, precision=precision, progress=progress)
    return classification_metrics(pred, target, len(method.classnames))
