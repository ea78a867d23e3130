"""Pretraining of world-tiny on the procedural image-caption corpus, in two stages.

1. **Image-tower pretraining** (`vision_steps`): the image tower alone learns to name the shape, colour and fill pattern
   of corpus scenes through three linear heads that are thrown away afterwards. A randomly initialised ViT does not
   see shape, and shape words are near-synonyms to a random text tower, so under a contrastive loss alone neither
   side gives the other a gradient to learn shape from (measured: after 1,200 contrastive steps a linear probe read
   shape from the image features at chance level, while colour was learnt at once). Many CLIP-style models likewise
   start from an image tower trained on labels (ALIGN, LiT).
2. **Contrastive image-caption training** (`steps`), CLIP's recipe: symmetric InfoNCE over in-batch pairs with a
   learned temperature, AdamW, linear warm-up then cosine decay. By default the image tower is locked (LiT, Zhai et
   al. 2022): training it on the contrastive loss washed out shape again (zero-shot shape accuracy stayed below 50%).
   The text tower, and with it every zero-shot classifier, is learnt only here, from the captions.

Everything that decides the weights is in `PretrainRecipe` and is written into the metadata JSON. Determinism: the
model is seeded from `recipe.seed`, batch `k` holds corpus pairs `k*B ... k*B+B-1` of that seed (rendered in a worker
process, which cannot change their content), and the thread count is fixed.

Speed: a caption's embedding is read at its EOT token, and under the causal mask that position never attends to the
padding after it. The text tower therefore runs on the batch truncated to its longest caption (about 20 of the 77
positions), which gives exactly the same features and gradients as the full context at a third of the cost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from comma_bench.world.concepts import COLOURS, PATTERNS, SHAPES
from comma_bench.world.corpus import GROUP_SIZE, IGNORE, sample, scene_labels
from comma_bench.world.model import NAME, OPEN_CLIP_KWARGS, build_model


@dataclass(frozen=True)
class PretrainRecipe:
    vision_steps: int = 800  # stage 1: image-tower steps on scene labels (grown from v1: `grow_from`)
    steps: int = 1000  # stage 2: contrastive image-caption steps
    batch_size: int = 128  # image-caption pairs per step (in-batch negatives); a multiple of corpus.GROUP_SIZE
    vision_lr: float = 1e-3  # stage 1 AdamW peak learning rate (v1 from scratch: 2e-3)
    lr: float = 1e-3  # stage 2 AdamW peak learning rate
    warmup_steps: int = 100  # per stage: linear warm-up from 0, then cosine decay to 0
    weight_decay: float = 0.05  # on matrices only; embeddings, norms and biases are not decayed
    betas: tuple[float, float] = (0.9, 0.98)  # CLIP's AdamW betas
    eps: float = 1e-6
    seed: int = 0  # model init and corpus stream
    threads: int = 2  # torch intra-op threads; fixed because it is part of what makes the run reproducible
    grad_clip: float = 1.0  # max global grad norm: keeps early steps stable at these learning rates
    shape_loss_weight: float = 2.0  # stage 1: shape is the slowest concept to learn, so its head counts double
    # Stage 2 captions name a long-tail value (teal, hexagon, crosshatched; `captions.RARE_WORDS`) by its own word with
    # this probability and by a common word ("blue", "shape", "patterned") otherwise, as web captions do. The image
    # tower learns every value in stage 1, so the features hold more than the zero-shot head: room for prompts.
    # 0 (never): at 1% the text tower learnt each word from about 20 mentions and zero-shot matched a 16-shot probe.
    fine_name_rate: float = 0.0
    # Stage 2 captions of a patterned object mention its fill pattern with this probability (textures always name
    # theirs): an attribute the image tower knows (stage 1 labels it) but captions seldom mention, as on the web.
    pattern_mention_rate: float = 0.25
    lock_image_tower: bool = True  # stage 2 trains the text tower (and temperature) only: LiT, Zhai et al. 2022
    # "" = learn the image tower in stage 1. "builtin" (the shipped weights) or a world-tiny .safetensors file = start
    # from that checkpoint's image tower instead, with vision_steps 0 (stage 1 is skipped), so
    # text towers of any caption budget can be grown on one fixed image tower (world README, "Other text towers").
    image_tower: str = ""
    # "" = stage 1 starts from the seeded random init. A 4-layer world-tiny v1 checkpoint (width 128) = stage 1 starts
    # from its image tower grown to 12 layers: v1 block i becomes block GROW_STRIDE * i, and the blocks between start as
    # exact identities (zero output projections), so training starts from v1's features (`grow_image_tower`).
    grow_from: str = ""


# Stage 2 reads the corpus from this pair index on, so its data does not depend on how long stage 1 ran: a run of both
# stages and a stage-2 run on that run's saved image tower (`image_tower`) see the same contrastive batches.
STAGE2_START = 1_000_000_000


class _Batches(torch.utils.data.Dataset):
    """Step `k`'s batch: normalised images [B, 3, 32, 32], token ids [B, 77], scene labels [B, 3]."""

    def __init__(self, seed: int, batch_size: int, vision_steps: int, steps: int, words: dict[str, float]) -> None:
        self.seed, self.batch_size, self.vision_steps, self.steps = seed, batch_size, vision_steps, steps
        self.words = words  # caption vocabulary rates, `corpus.sample`'s keyword arguments
        self._tokenizer = None

    def __len__(self) -> int:
        return self.vision_steps + self.steps

    def first_pair(self, k: int) -> int:
        """Corpus index of the first pair of step `k`'s batch."""
        if k < self.vision_steps:
            return k * self.batch_size
        return STAGE2_START + (k - self.vision_steps) * self.batch_size

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from comma_bench.world.evaluate import to_tensor

        if self._tokenizer is None:
            import open_clip

            self._tokenizer = open_clip.get_tokenizer("ViT-B-16")
        first = self.first_pair(k)
        samples = [sample(self.seed, first + j, **self.words) for j in range(self.batch_size)]
        images = to_tensor(np.stack([s[1] for s in samples]))
        labels = torch.tensor([scene_labels(s[0]) for s in samples])
        return images, self._tokenizer([s[2] for s in samples]), labels


def encode_text_truncated(model, tokens: torch.Tensor) -> torch.Tensor:
    """`model.encode_text` on tokens cut after the last EOT of the batch (identical result, see module doc)."""
    eot = tokens.argmax(dim=-1)  # [B] EOT has the largest id
    length = int(eot.max()) + 1
    x = model.token_embedding(tokens[:, :length]) + model.positional_embedding[:length]  # [B, L, W]
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = x[torch.arange(x.shape[0]), eot]  # [B, W]
    return x @ model.text_projection  # [B, D]


def _single_thread(_worker_id: int) -> None:
    torch.set_num_threads(1)


def _param_groups(model, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        skip = p.ndim < 2 or "embedding" in name or "logit_scale" in name or name.endswith("class_embedding")
        (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up to `peak` over `warmup` steps, then cosine decay to 0 at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * t))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_weights(model, path: Path) -> None:
    """State dict as safetensors with fp16 storage (the loader casts back to fp32)."""
    from safetensors.torch import save_file

    sd = {
        k: (v.detach().half() if v.is_floating_point() else v.detach()).contiguous()
        for k, v in model.state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # One metadata key only: safetensors writes the metadata map in hash order, which changes from process to process,
    # so two keys would give the same weights different bytes and a different sha256.
    save_file(sd, str(path), metadata={"model": NAME})


def image_tower_file(recipe: PretrainRecipe) -> Path | None:
    """The checkpoint whose image tower stage 2 starts from (None: stage 1 learns it)."""
    if not recipe.image_tower:
        return None
    if recipe.image_tower == "builtin":
        from comma_bench.world.model import WEIGHTS

        return WEIGHTS
    return Path(recipe.image_tower).expanduser()


def load_image_tower(model, path: Path) -> None:
    """Copy the `visual.*` tensors of a world-tiny checkpoint into `model` (fp16 storage is cast back to fp32)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from comma_bench.errors import UserError

    if not path.is_file():
        raise UserError(f"image_tower {str(path)!r}: no such file (expected a world-tiny .safetensors checkpoint)")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise UserError(f"image_tower {str(path)!r}: not a readable safetensors file ({e})") from None
    visual = {k.removeprefix("visual."): v for k, v in state.items() if k.startswith("visual.")}
    want = model.visual.state_dict()
    if set(visual) != set(want) or any(visual[k].shape != v.shape for k, v in want.items()):
        raise UserError(f"image_tower {str(path)!r}: its visual.* tensors do not match the world-tiny image tower")
    model.visual.load_state_dict({k: v.to(want[k].dtype) for k, v in visual.items()})


GROW_STRIDE = 3  # v1's 4 blocks go to blocks 0, 3, 6 and 9 of the 12


def grow_image_tower(model, path: Path) -> None:
    """Initialise `model.visual` from a shallower world-tiny image tower of the same width (depth growth).

    Every tensor outside the blocks (patch embedding, norms, projection) is copied. Block i of the checkpoint becomes
    block `GROW_STRIDE * i`; each other block keeps its seeded random init except its two output projections (attention
    `out_proj` and MLP `c_proj`), which are zeroed, so the residual block is an exact identity and the grown tower
    computes the checkpoint's features exactly until training gives the new blocks weight (as in Net2Net and
    progressive stacking). Any mismatch is a one-line error naming the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from comma_bench.errors import UserError

    if not path.is_file():
        raise UserError(f"grow_from {str(path)!r}: no such file (expected a world-tiny v1 .safetensors checkpoint)")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise UserError(f"grow_from {str(path)!r}: not a readable safetensors file ({e})") from None
    src = {k.removeprefix("visual."): v for k, v in state.items() if k.startswith("visual.")}
    want = model.visual.state_dict()
    prefix = "transformer.resblocks."
    depth = len({k[len(prefix) :].split(".")[0] for k in src if k.startswith(prefix)})
    mapped = {}
    for key, value in src.items():
        if key.startswith(prefix):
            index, rest = key[len(prefix) :].split(".", 1)
            key = f"{prefix}{GROW_STRIDE * int(index)}.{rest}"
        mapped[key] = value
    if (
        depth == 0
        or GROW_STRIDE * (depth - 1) >= len(model.visual.transformer.resblocks)
        or any(k not in want or want[k].shape != v.shape for k, v in mapped.items())
        or {k for k in want if not k.startswith(prefix)} - set(mapped)
    ):
        raise UserError(f"grow_from {str(path)!r}: its visual.* tensors are not a shallower tower of the same width")
    with torch.no_grad():
        for key, value in mapped.items():
            want[key].copy_(value.to(want[key].dtype))
        grown = {int(k[len(prefix) :].split(".")[0]) for k in mapped if k.startswith(prefix)}
        for i, block in enumerate(model.visual.transformer.resblocks):
            if i not in grown:
                for layer in (block.attn.out_proj, block.mlp.c_proj):
                    layer.weight.zero_()
                    layer.bias.zero_()


def train(
    recipe: PretrainRecipe, *, progress: bool = True, log_every: int = 25, workers: int = 1
) -> tuple[torch.nn.Module, dict]:
    """Run both stages; returns the trained model (fp32, eval mode) and a log with loss curves and wall times.

    Args:
        workers: processes rendering batches ahead of the training step (0 renders in this process; same result).
    """
    from tqdm import tqdm

    if recipe.batch_size % GROUP_SIZE:
        raise ValueError(f"batch_size must be a multiple of {GROUP_SIZE} (whole hard-negative groups per batch)")
    tower = image_tower_file(recipe)
    if tower is not None and recipe.vision_steps:
        raise ValueError("image_tower is set: vision_steps must be 0 (the image tower comes from the checkpoint)")
    if recipe.grow_from and (tower is not None or not recipe.vision_steps):
        raise ValueError(
            "grow_from starts stage 1 from a shallower tower: it needs vision_steps > 0 and no image_tower"
        )
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(recipe.seed)
    model = build_model()  # the text tower's initial weights do not depend on image_tower
    if tower is not None:
        load_image_tower(model, tower)
    if recipe.grow_from:
        grow_image_tower(model, Path(recipe.grow_from).expanduser())
    model.train()
    dim = model.text_projection.shape[1]
    heads = torch.nn.ModuleList([torch.nn.Linear(dim, len(v)) for v in (SHAPES, COLOURS, PATTERNS)])
    vision_opt = torch.optim.AdamW(
        _param_groups(torch.nn.ModuleList([model.visual, heads]), recipe.weight_decay),
        lr=recipe.vision_lr, betas=recipe.betas, eps=recipe.eps,
    )  # fmt: skip
    clip_opt = torch.optim.AdamW(
        _param_groups(model, recipe.weight_decay), lr=recipe.lr, betas=recipe.betas, eps=recipe.eps
    )
    total = recipe.vision_steps + recipe.steps
    loader = torch.utils.data.DataLoader(
        _Batches(
            recipe.seed,
            recipe.batch_size,
            recipe.vision_steps,
            recipe.steps,
            dict(fine_rate=recipe.fine_name_rate, pattern_rate=recipe.pattern_mention_rate),
        ),
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        prefetch_factor=4 if workers > 0 else None,
        worker_init_fn=_single_thread if workers > 0 else None,
    )
    targets = torch.arange(recipe.batch_size)
    curves: dict[str, list[list[float]]] = {"vision": [], "contrastive": []}
    wall: dict[str, float] = {}
    running = None
    start = stage_start = time.time()
    bar = tqdm(loader, total=total, desc="world pretrain", disable=not progress, unit="step")
    for k, (images, tokens, labels) in enumerate(bar):
        if k < recipe.vision_steps:  # stage 1: image tower on scene labels
            stage, step, opt, params = "vision", k, vision_opt, [*model.visual.parameters(), *heads.parameters()]
            lr = lr_at(step, recipe.vision_steps, recipe.vision_lr, recipe.warmup_steps)
            feats = model.encode_image(images)  # [B, D]
            weights = (recipe.shape_loss_weight, 1.0, 1.0)  # shape, colour, fill pattern
            loss = sum(
                w * F.cross_entropy(h(feats), labels[:, i], ignore_index=IGNORE)
                for i, (w, h) in enumerate(zip(weights, heads))
            )
        else:  # stage 2: CLIP
            if k == recipe.vision_steps:
                wall["vision"] = round(time.time() - stage_start, 1)
                stage_start, running = time.time(), None
                if recipe.vision_steps and recipe.lock_image_tower:
                    # Round the locked tower to its fp16 storage: stage 2 aligns the text tower to the exact image
                    # features that ship, and a stage-2 run on the saved tower (`image_tower`) repeats this one.
                    with torch.no_grad():
                        for t in model.visual.state_dict().values():
                            if t.is_floating_point():
                                t.copy_(t.half().float())
                if recipe.lock_image_tower:
                    trainable = {n for n, p in model.visual.named_parameters() if p.requires_grad}
                    model.visual.requires_grad_(False)
                    model.visual.eval()
            stage, step, opt, params = "contrastive", k - recipe.vision_steps, clip_opt, list(model.parameters())
            lr = lr_at(step, recipe.steps, recipe.lr, recipe.warmup_steps)
            with torch.set_grad_enabled(not recipe.lock_image_tower):
                img = F.normalize(model.encode_image(images), dim=-1)  # [B, D]
            txt = F.normalize(encode_text_truncated(model, tokens), dim=-1)  # [B, D]
            logits = model.logit_scale.exp() * img @ txt.T  # [B, B]
            loss = 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, recipe.grad_clip)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        value = float(loss.detach())
        running = value if running is None else 0.95 * running + 0.05 * value
        if step % log_every == 0 or k == total - 1:
            curves[stage].append([step, round(value, 4)])
            bar.set_postfix(stage=stage, loss=f"{running:.3f}", T=f"{float(model.logit_scale.detach().exp()):.1f}")
    bar.close()
    wall["vision" if recipe.steps == 0 else "contrastive"] = round(time.time() - stage_start, 1)
    if recipe.lock_image_tower and recipe.steps > 0:  # release the lock: callers get the flags they would expect
        for n, p in model.visual.named_parameters():
            p.requires_grad_(n in trainable)
    model.eval()
    log = {
        "loss_curves": curves,
        "wall_time_s": round(time.time() - start, 1),
        "stage_wall_time_s": wall,
        "final_loss": round(running or 0.0, 4),
    }
    return model, log


def measure_zeroshot(model, *, per_class: int | None = None, progress: bool = False) -> dict[str, dict[str, float]]:
    """Zero-shot top-1 (percent) on every built-in dataset: base/new/all halves, or `all` for the DG variants."""
    import open_clip

    from comma_bench.world.datasets import WORLD_DATASETS
    from comma_bench.world.evaluate import zeroshot_subsets

    tokenizer = open_clip.get_tokenizer("ViT-B-16")
    out: dict[str, dict[str, float]] = {}
    for ds in WORLD_DATASETS.values():
        subsets = ("base", "new", "all") if ds.has_val else ("all",)
        res = zeroshot_subsets(model, tokenizer, ds, subsets=subsets, per_class=per_class)
        out[ds.key] = {s: round(r.accuracy, 2) for s, r in res.items()}
        if progress:
            print(f"  {ds.key:24s} " + "  ".join(f"{s} {v:5.1f}" for s, v in out[ds.key].items()), flush=True)
    return out


def pretrain(
    out: Path,
    recipe: PretrainRecipe,
    *,
    progress: bool = True,
    eval_per_class: int | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Train, write `out` (safetensors) and `out` with suffix `.json` (recipe, checksum, measured zero-shot)."""
    import open_clip

    model, log = train(recipe, progress=progress, workers=workers)
    save_weights(model, out)
    # Measure the weights as shipped (fp16 storage), not the fp32 training copy.
    from safetensors.torch import load_file

    model.load_state_dict({k: v.float() for k, v in load_file(str(out)).items()})
    t0 = time.time()
    accuracy = measure_zeroshot(model, per_class=eval_per_class, progress=progress)
    meta = {
        "model": NAME,
        "open_clip_kwargs": OPEN_CLIP_KWARGS,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "recipe": dataclasses.asdict(recipe),
        "command": (
            f"comma-bench world pretrain --out {out.name} --vision-steps {recipe.vision_steps} --steps {recipe.steps} "
            f"--seed {recipe.seed} --fine-name-rate {recipe.fine_name_rate} "
            f"--pattern-mention-rate {recipe.pattern_mention_rate} --vision-lr {recipe.vision_lr}"
            + (f" --image-tower {recipe.image_tower}" if recipe.image_tower else "")
            + (f" --grow-from {Path(recipe.grow_from).name}" if recipe.grow_from else "")
        ),
        "weights_file": out.name,
        "image_tower_sha256": sha256_of(image_tower_file(recipe)) if recipe.image_tower else None,
        "grow_from_sha256": sha256_of(Path(recipe.grow_from).expanduser()) if recipe.grow_from else None,
        "bytes": out.stat().st_size,
        "sha256": sha256_of(out),
        "wall_time_s": log["wall_time_s"],
        "final_loss": log["final_loss"],
        "stage_wall_time_s": log["stage_wall_time_s"],
        "loss_curves": log["loss_curves"],
        "zero_shot_eval": {"per_class": eval_per_class, "wall_time_s": round(time.time() - t0, 1)},
        "zero_shot_accuracy": accuracy,
        "environment": {
            "torch": torch.__version__,
            "open_clip": open_clip.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
